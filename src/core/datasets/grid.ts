/** Factor grids in row-major order: index ↔ factor classes, seeded sampling. */
import type { Rng } from '../util/rng.js';
import type { GroundTruthDataset } from './types.js';
import { imageSize } from './types.js';

export function gridCount(sizes: readonly number[]): number {
  return sizes.reduce((a, b) => a * b, 1);
}

/** Row-major strides: the last factor varies fastest. */
export function gridStrides(sizes: readonly number[]): number[] {
  const strides = new Array<number>(sizes.length);
  let s = 1;
  for (let k = sizes.length - 1; k >= 0; k--) {
    strides[k] = s;
    s *= sizes[k]!;
  }
  return strides;
}

export function indexToFactors(sizes: readonly number[], index: number, out?: number[]): number[] {
  const total = gridCount(sizes);
  if (!Number.isInteger(index) || index < 0 || index >= total) {
    throw new RangeError(`index ${index} outside 0…${total - 1}`);
  }
  const f = out ?? new Array<number>(sizes.length);
  let rest = index;
  for (let k = sizes.length - 1; k >= 0; k--) {
    const n = sizes[k]!;
    f[k] = rest % n;
    rest = Math.floor(rest / n);
  }
  return f;
}

export function factorsToIndex(sizes: readonly number[], factors: readonly number[]): number {
  if (factors.length !== sizes.length) {
    throw new RangeError(`expected ${sizes.length} factor values, got ${factors.length}`);
  }
  let index = 0;
  for (let k = 0; k < sizes.length; k++) {
    const v = factors[k]!;
    const n = sizes[k]!;
    if (!Number.isInteger(v) || v < 0 || v >= n) throw new RangeError(`factor ${k} value ${v} outside 0…${n - 1}`);
    index = index * n + v;
  }
  return index;
}

/** Draw each factor uniformly (the disentanglement_lib convention) and return grid indices. */
export function sampleIndices(sizes: readonly number[], n: number, rng: Rng): Int32Array {
  const out = new Int32Array(n);
  const strides = gridStrides(sizes);
  for (let i = 0; i < n; i++) {
    let idx = 0;
    for (let k = 0; k < sizes.length; k++) idx += rng.int(sizes[k]!) * strides[k]!;
    out[i] = idx;
  }
  return out;
}

/** Render a batch of images (N×H×W×C float32). */
export function renderBatch(ds: GroundTruthDataset, indices: ArrayLike<number>): Float32Array {
  const size = imageSize(ds.info);
  const out = new Float32Array(indices.length * size);
  for (let i = 0; i < indices.length; i++) ds.render(indices[i]!, out, i * size);
  return out;
}

/** Factor classes of a set of indices (N×K int32). */
export function factorsOf(sizes: readonly number[], indices: ArrayLike<number>): Int32Array {
  const K = sizes.length;
  const out = new Int32Array(indices.length * K);
  const tmp = new Array<number>(K);
  for (let i = 0; i < indices.length; i++) {
    indexToFactors(sizes, indices[i]!, tmp);
    for (let k = 0; k < K; k++) out[i * K + k] = tmp[k]!;
  }
  return out;
}
