/**
 * Building block `intensity`: brightness or contrast scaling whose amount
 * follows a factor.
 *   scale:    δ = gain · strength(w) · x
 *   contrast: δ = gain · strength(w) · (x − mean(x))   (mean over the image)
 * The result is cut to ±ε per pixel like every block.
 */
import { blockEntry, makeStrength, strengthParams } from './block.js';
import type { BlockDef } from './block.js';

export const intensityBlock: BlockDef = {
  id: 'intensity',
  name: 'Intensity',
  description: 'Brightness (scale) or contrast scaling of the image by a factor-controlled amount.',
  params: [
    {
      key: 'mode',
      label: 'Mode',
      description: 'scale: multiply pixel values; contrast: scale deviations from the image mean.',
      type: 'choice',
      default: 'scale',
      choices: ['scale', 'contrast'],
    },
    {
      key: 'gain',
      label: 'Gain',
      description: 'Relative change at full strength (0.1 = ±10 % of the pixel value or deviation).',
      type: 'number',
      default: 0.1,
      min: -1,
      max: 1,
      step: 0.01,
    },
    ...strengthParams(),
  ],
  build(info, params) {
    const strength = makeStrength(info, params);
    const gain = Number(params.gain);
    const contrast = params.mode === 'contrast';
    return (_i, f, x, delta) => {
      const s = gain * strength(f);
      if (s === 0) return;
      let mean = 0;
      if (contrast) {
        for (let j = 0; j < x.length; j++) mean += x[j]!;
        mean /= x.length;
      }
      for (let j = 0; j < delta.length; j++) delta[j] = s * (x[j]! - mean);
    };
  },
};

export const intensityEntry = blockEntry(intensityBlock);
