/**
 * Building block `pattern`: a fixed seeded texture added to every image with a
 * strength that follows a chosen factor (or a combination of two):
 *   δ(w) = gain · ε · strength(w) · T,   T ∈ [−1, 1]^{H×W×C}.
 * With gain ≤ 1 the ε bound is never active.
 */
import { blockEntry, makeStrength, makeTexture, strengthParams, textureParams } from './block.js';
import type { BlockDef } from './block.js';

export const patternBlock: BlockDef = {
  id: 'pattern',
  name: 'Pattern',
  description: 'An additive texture (sinusoid, checker, smooth or white noise) whose strength follows a chosen factor or a combination of two.',
  params: [
    ...textureParams({ texture: 'sinusoid', frequency: 4 }),
    {
      key: 'gain',
      label: 'Gain (× ε)',
      description: 'Peak amplitude of the pattern in units of ε (values above 1 saturate at the ε bound).',
      type: 'number',
      default: 1,
      min: 0,
      max: 4,
      step: 0.05,
    },
    ...strengthParams(),
  ],
  build(info, params, seed, epsilon) {
    const [h, w, c] = info.imageShape;
    const tex = makeTexture(h, w, c, params, seed);
    const strength = makeStrength(info, params);
    const gain = Number(params.gain) * epsilon;
    return (_i, f, _x, delta) => {
      const s = gain * strength(f);
      if (s === 0) return;
      for (let j = 0; j < delta.length; j++) delta[j] = s * tex[j]!;
    };
  },
};

export const patternEntry = blockEntry(patternBlock);
