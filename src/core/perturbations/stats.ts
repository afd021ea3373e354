/**
 * Statistics of a derived dataset against its parent, on a seeded sample of
 * grid points (the same points for both):
 *  - max |Δ| over every sampled pixel, mean L2 norm of the per-image change,
 *    mean squared change per pixel;
 *  - pixel variance: for each pixel, its variance across the sampled images,
 *    averaged over pixels (parent, derived, and the change);
 *  - clipping: how many sampled pixels were clipped to [0, 1] (and to ±ε);
 *  - factor preservation: among sampled images that are distinct in the
 *    parent, how many pairs became identical in the derived data (exact
 *    collisions, expected 0), and the smallest pairwise L2 distance between
 *    distinct parent images before and after, on a (smaller) pair sample.
 */
import type { GroundTruthDataset } from '../datasets/types.js';
import { imageSize } from '../datasets/types.js';
import { sampleIndices } from '../datasets/grid.js';
import { Rng } from '../util/rng.js';
import type { DerivedDataset } from './types.js';

export interface PerturbationStats {
  samples: number;
  seed: number;
  epsilon: number;
  maxAbsDelta: number;
  /** Mean over images of ‖x' − x‖₂. */
  meanL2Change: number;
  /** Mean over images and pixels of (x' − x)². */
  meanSquaredChange: number;
  pixelVarianceParent: number;
  pixelVarianceDerived: number;
  pixelVarianceChange: number;
  /** Pixels set to 0 or 1 by the [0, 1] clip, out of samples·pixels. */
  clippedPixels: number;
  clippedFraction: number;
  clipped: boolean;
  /** Pixels whose offset had to be cut to ±ε. */
  boundClippedPixels: number;
  boundHolds: boolean;
  preservation: {
    /** Distinct grid indices in the sample. */
    distinctIndices: number;
    /** Distinct images among them in the parent / derived data (exact bytes). */
    distinctParentImages: number;
    distinctDerivedImages: number;
    /** Pairs of distinct parent images that became identical (expected 0). */
    collisions: number;
    pairSamples: number;
    /** Smallest L2 distance between parent-distinct images of the pair sample, before and after. */
    minDistanceParent: number;
    minDistanceDerived: number;
  };
}

function imageKey(a: Float32Array, o: number, n: number): string {
  return Buffer.from(a.buffer, a.byteOffset + o * 4, n * 4).toString('base64');
}

export function perturbationStats(
  parent: GroundTruthDataset,
  derived: DerivedDataset,
  opts: { samples?: number; pairSamples?: number; seed?: number } = {},
): PerturbationStats {
  const n = opts.samples ?? 1000;
  const nPairs = Math.min(n, opts.pairSamples ?? 200);
  const seed = opts.seed ?? 0;
  if (parent.info.factors.map((f) => f.size).join(',') !== derived.info.factors.map((f) => f.size).join(',')) {
    throw new Error('derived dataset has a different factor grid from the parent');
  }
  const sizes = parent.info.factors.map((f) => f.size);
  const idx = sampleIndices(sizes, n, new Rng(seed).fork('perturbation-stats'));
  const P = imageSize(parent.info);
  const X = new Float32Array(n * P);
  const Y = new Float32Array(n * P);
  const eps = derived.epsilon;
  const before = derived.clipCounters();
  let maxAbs = 0;
  let sumL2 = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    parent.render(idx[i]!, X, i * P);
    derived.render(idx[i]!, Y, i * P);
    let s = 0;
    for (let j = i * P; j < (i + 1) * P; j++) {
      const d = Y[j]! - X[j]!;
      const a = Math.abs(d);
      if (a > maxAbs) maxAbs = a;
      s += d * d;
    }
    sumL2 += Math.sqrt(s);
    sumSq += s;
  }
  const after = derived.clipCounters();
  const clipped = after.clippedLow + after.clippedHigh - before.clippedLow - before.clippedHigh;
  const boundClipped = after.boundClipped - before.boundClipped;

  const pixVar = (A: Float32Array) => {
    let total = 0;
    for (let j = 0; j < P; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += A[i * P + j]!;
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (A[i * P + j]! - m) ** 2;
      total += v / n;
    }
    return total / P;
  };
  const varX = pixVar(X);
  const varY = pixVar(Y);

  // exact collisions: for every derived image, the set of distinct parent images mapped onto it
  const parentsOf = new Map<string, Set<string>>();
  const parentKeys = new Set<string>();
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (seen.has(idx[i]!)) continue;
    seen.add(idx[i]!);
    const kx = imageKey(X, i * P, P);
    const ky = imageKey(Y, i * P, P);
    parentKeys.add(kx);
    let set = parentsOf.get(ky);
    if (!set) parentsOf.set(ky, (set = new Set()));
    set.add(kx);
  }
  let collisions = 0;
  for (const set of parentsOf.values()) collisions += (set.size * (set.size - 1)) / 2;

  let minX = Infinity;
  let minY = Infinity;
  for (let a = 0; a < nPairs; a++) {
    for (let b = a + 1; b < nPairs; b++) {
      let dx = 0;
      let dy = 0;
      const oa = a * P;
      const ob = b * P;
      for (let j = 0; j < P; j++) {
        const u = X[oa + j]! - X[ob + j]!;
        const v = Y[oa + j]! - Y[ob + j]!;
        dx += u * u;
        dy += v * v;
      }
      if (dx === 0) continue; // same parent image: not a pair of distinct images
      if (dx < minX) minX = dx;
      if (dy < minY) minY = dy;
    }
  }

  return {
    samples: n,
    seed,
    epsilon: eps,
    maxAbsDelta: maxAbs,
    meanL2Change: sumL2 / n,
    meanSquaredChange: sumSq / (n * P),
    pixelVarianceParent: varX,
    pixelVarianceDerived: varY,
    pixelVarianceChange: varY - varX,
    clippedPixels: clipped,
    clippedFraction: clipped / (n * P),
    clipped: clipped > 0,
    boundClippedPixels: boundClipped,
    boundHolds: maxAbs <= eps,
    preservation: {
      distinctIndices: seen.size,
      distinctParentImages: parentKeys.size,
      distinctDerivedImages: parentsOf.size,
      collisions,
      pairSamples: nPairs,
      minDistanceParent: Number.isFinite(minX) ? Math.sqrt(minX) : NaN,
      minDistanceDerived: Number.isFinite(minY) ? Math.sqrt(minY) : NaN,
    },
  };
}
