/**
 * Building block `blur`: Gaussian blur whose radius may follow a factor:
 *   σ(w) = σ_min + (σ_max − σ_min) · strength(w),   δ = G_σ * x − x
 * (separable kernel truncated at 3σ, edges clamped, per channel). Cut to ±ε
 * per pixel like every block, so sharp edges soften by at most ε.
 */
import { blockEntry, makeStrength, strengthParams } from './block.js';
import type { BlockDef } from './block.js';

/** Normalised 1-D Gaussian kernel, radius ⌈3σ⌉. */
export function gaussianKernel(sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / s;
  return k;
}

/** Blur an H×W×C image with a separable Gaussian (clamped edges) into `out`. */
export function gaussianBlur(img: Float32Array, h: number, w: number, c: number, sigma: number, out: Float32Array): void {
  if (!(sigma > 0.05)) {
    out.set(img);
    return;
  }
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float64Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = -r; i <= r; i++) {
          const xx = Math.min(w - 1, Math.max(0, x + i));
          s += k[i + r]! * img[(y * w + xx) * c + ch]!;
        }
        tmp[(y * w + x) * c + ch] = s;
      }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = -r; i <= r; i++) {
          const yy = Math.min(h - 1, Math.max(0, y + i));
          s += k[i + r]! * tmp[(yy * w + x) * c + ch]!;
        }
        out[(y * w + x) * c + ch] = s;
      }
}

export const blurBlock: BlockDef = {
  id: 'blur',
  name: 'Blur',
  description: 'Gaussian blur; its radius can follow a factor (σ from σ_min to σ_max with the factor value).',
  params: [
    {
      key: 'sigma_min',
      label: 'σ min (px)',
      description: 'Blur radius (standard deviation in pixels) at strength 0.',
      type: 'number',
      default: 0,
      min: 0,
      max: 8,
      step: 0.1,
    },
    {
      key: 'sigma_max',
      label: 'σ max (px)',
      description: 'Blur radius at full strength (constant strength when no factor is chosen).',
      type: 'number',
      default: 1.5,
      min: 0,
      max: 8,
      step: 0.1,
    },
    ...strengthParams(),
  ],
  build(info, params) {
    const [h, w, c] = info.imageShape;
    const strength = makeStrength(info, params);
    const lo = Number(params.sigma_min);
    const hi = Number(params.sigma_max);
    const blurred = new Float32Array(h * w * c);
    return (_i, f, x, delta) => {
      const sigma = Math.max(0, lo + (hi - lo) * strength(f));
      gaussianBlur(x, h, w, c, sigma, blurred);
      for (let j = 0; j < delta.length; j++) delta[j] = blurred[j]! - x[j]!;
    };
  },
};

export const blurEntry = blockEntry(blurBlock);
