/**
 * Building block `background`: a seeded texture laid into the background,
 * weighted by how dark a pixel is (1 − mean over channels), so sprites on a
 * black background get a textured background and bright objects stay as they
 * are:
 *   δ = gain · ε · strength(w) · (T + 1)/2 · (1 − x̄),   T ∈ [−1, 1].
 */
import { blockEntry, makeStrength, makeTexture, strengthParams, textureParams } from './block.js';
import type { BlockDef } from './block.js';

export const backgroundBlock: BlockDef = {
  id: 'background',
  name: 'Background',
  description: 'A fixed texture added to the dark background (weighted by 1 − brightness), optionally following a factor.',
  params: [
    ...textureParams({ texture: 'smooth-noise', frequency: 6 }),
    {
      key: 'gain',
      label: 'Gain (× ε)',
      description: 'Peak brightness of the background texture in units of ε.',
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
    return (_i, f, x, delta) => {
      const s = gain * strength(f);
      if (s === 0) return;
      for (let p = 0; p < h * w; p++) {
        let mean = 0;
        for (let k = 0; k < c; k++) mean += x[p * c + k]!;
        const dark = 1 - mean / c;
        for (let k = 0; k < c; k++) delta[p * c + k] = s * ((tex[p * c + k]! + 1) / 2) * dark;
      }
    };
  },
};

export const backgroundEntry = blockEntry(backgroundBlock);
