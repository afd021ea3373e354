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
import { createHash } from 'node:crypto';
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

/** An image's bytes as a short key: SHA-256 (equal keys ⇔ equal bytes, short of a hash collision). */
function imageKey(a: Float32Array, o: number, n: number): string {
  return createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset + o * 4, n * 4)).digest('base64');
}

/** Up to this many floats per image set (n·P) the sample is kept in memory (64 MB each). */
const KEEP_FLOATS = 1 << 24;

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
  // Small samples keep every image (one render each); a large one (a saved dataset's 20,000
  // Shapes3D images would be 2 GB) keeps only the pair sample and renders again for the
  // variances. Both give the same numbers to the bit: the sums run in the same order.
  const keep = n * P <= KEEP_FLOATS;
  const X = new Float32Array((keep ? n : nPairs) * P);
  const Y = new Float32Array((keep ? n : nPairs) * P);
  const x = keep ? X : new Float32Array(P);
  const y = keep ? Y : new Float32Array(P);
  const eps = derived.epsilon;
  const before = derived.clipCounters();
  let maxAbs = 0;
  let sumL2 = 0;
  let sumSq = 0;
  const mX = new Float64Array(P);
  const mY = new Float64Array(P);
  // exact collisions: for every derived image, the set of distinct parent images mapped onto it
  const parentsOf = new Map<string, Set<string>>();
  const parentKeys = new Set<string>();
  const seen = new Set<number>();
  /** Image i of the sample: where it is (kept), or rendered into the scratch images. */
  const image = (i: number): number => {
    if (keep) {
      parent.render(idx[i]!, X, i * P);
      derived.render(idx[i]!, Y, i * P);
      return i * P;
    }
    x.fill(0);
    y.fill(0);
    parent.render(idx[i]!, x, 0);
    derived.render(idx[i]!, y, 0);
    return 0;
  };
  for (let i = 0; i < n; i++) {
    const o = image(i);
    let s = 0;
    for (let j = 0; j < P; j++) {
      const d = y[o + j]! - x[o + j]!;
      const a = Math.abs(d);
      if (a > maxAbs) maxAbs = a;
      s += d * d;
      mX[j]! += x[o + j]!;
      mY[j]! += y[o + j]!;
    }
    sumL2 += Math.sqrt(s);
    sumSq += s;
    if (!seen.has(idx[i]!)) {
      seen.add(idx[i]!);
      const kx = imageKey(x, o, P);
      const ky = imageKey(y, o, P);
      parentKeys.add(kx);
      let set = parentsOf.get(ky);
      if (!set) parentsOf.set(ky, (set = new Set()));
      set.add(kx);
    }
    if (!keep && i < nPairs) {
      X.set(x, i * P);
      Y.set(y, i * P);
    }
  }
  const after = derived.clipCounters();
  const clipped = after.clippedLow + after.clippedHigh - before.clippedLow - before.clippedHigh;
  const boundClipped = after.boundClipped - before.boundClipped;

  // per pixel: the mean over images, then the mean squared deviation; summed image by image
  // (memory order) in the same order as a pixel-by-pixel loop would
  for (let j = 0; j < P; j++) {
    mX[j]! /= n;
    mY[j]! /= n;
  }
  const vX = new Float64Array(P);
  const vY = new Float64Array(P);
  for (let i = 0; i < n; i++) {
    const o = keep ? i * P : image(i);
    for (let j = 0; j < P; j++) {
      vX[j]! += (x[o + j]! - mX[j]!) ** 2;
      vY[j]! += (y[o + j]! - mY[j]!) ** 2;
    }
  }
  const pixVar = (v: Float64Array) => {
    let total = 0;
    for (let j = 0; j < P; j++) total += v[j]! / n;
    return total / P;
  };
  const varX = pixVar(vX);
  const varY = pixVar(vY);
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
