/**
 * The variance structure a dataset's factors induce in image space, measured
 * before any training, on a seeded sample of grid points of any
 * GroundTruthDataset (original and perturbed alike: the same seed gives the
 * same points for datasets on the same grid).
 *
 * STEP DIFFERENCES. At a grid point w and factor k, d_k(w) is the image change
 * for one class step of factor k, always taken in the direction of increasing
 * class:
 *   - cyclic factor:                 d_k = x(w + e_k mod n_k) − x(w)
 *   - non-cyclic, not at the top:    d_k = x(w + e_k) − x(w)
 *   - non-cyclic, at the top class:  d_k = x(w) − x(w − e_k)   (the step +1 is
 *     replaced by the step −1, taken as the forward difference that ends at w)
 *   - factor of size 1:              d_k = 0.
 * D(w) = [d_1 … d_K] is then a finite-difference Jacobian of the image with
 * respect to the factor classes (pixels × factors).
 *
 * WHAT IS REPORTED (all plain numbers, JSON-able):
 *   - meanSquaredChange[k]  = E_w ‖d_k‖² (sum over pixels); …PerPixel = that / pixels;
 *     zeroStepFraction[k]   = share of points where the step left the image unchanged;
 *   - overlap[k][l]         = E_w cos(d_k, d_l) = E <d_k, d_l>/(‖d_k‖‖d_l‖), over
 *     points where both are nonzero (0 where there are none; diagonal 1 for
 *     factors that ever change the image). absOverlap: the same with |cos|.
 *     offDiagonalOverlap    = sqrt(mean_{k≠l} absOverlap[k][l]²)
 *     (0: the factors always change orthogonal image directions);
 *   - gram[k][l]            = E_w <d_k, d_l>, the mean local Gram matrix
 *     G = E[DᵀD] in units of one class step; gramEigenvalues, and
 *     principalDirections = its unit eigenvectors (columns, factor
 *     coordinates, sorted by eigenvalue);
 *   - alignmentDistance     = ‖V − P*‖_F, V the eigenvector matrix of G and P*
 *     the nearest signed permutation (Hungarian on |V|): 0 when the principal
 *     directions are the factor axes; for a 2×2 rotation by θ ≤ 45° it is
 *     2√2·sin(θ/2);
 *   - localAlignmentDistance = E_w ‖V(w) − P*(w)‖_F with V(w) the eigenvectors
 *     of the local Gram D(w)ᵀD(w) — the dataset-side counterpart of the
 *     decoder's "distance to orthogonality" (geometry.ts).
 *
 * NOISE THAT IS NOT STRUCTURE. A perturbation that adds noise drawn
 * independently for every image (the uniform-noise control) adds to every
 * step difference the difference of two noise images, n(w + e_k) − n(w).
 * Products of two step differences then gain E‖n‖² on and off the diagonal
 * (the shared n(w)), i.e. G + σ²P·(I + 11ᵀ): the principal directions turn
 * towards (1, …, 1)/√K for a reason that has nothing to do with how the
 * factors change the images — and that a decoder, a smooth function of the
 * factors, cannot even represent. So when a `replica` is given (the same
 * dataset with the noise drawn again: another seed of a resampleable
 * perturbation) every product is taken across the two, ½(<d_k, d′_l> +
 * <d′_k, d_l>): the noise terms are independent and cancel in expectation,
 * and what is measured is the Gram of the smooth part E[x | w] (for noise
 * clipped to [0, 1] on binary images, an affine function of the clean image:
 * the same directions). Without a replica (deterministic datasets: the
 * originals, the learned manipulation) the products are taken within one
 * rendering as before, which is the same thing for them. `estimator` says
 * which was used. meanSquaredChange and zeroStepFraction stay the raw change
 * of the image, noise included (what the step does to the pixels); overlap,
 * gram, the directions and both alignment distances use the estimator.
 *
 * WHY THE UNNORMALISED GRAM FOR THE DIRECTIONS. The normalised (cosine) matrix
 * C_kl = <d_k,d_l>/(‖d_k‖‖d_l‖) has a unit diagonal, so for two factors its
 * eigenvectors are (1, ±1)/√2 whenever C₁₂ ≠ 0 and undefined when C₁₂ = 0 —
 * independent of how the structure is actually oriented. The cosines are
 * therefore reported as the unit-free `overlap`, and the principal directions
 * come from G itself. G depends on what "one step" means for each factor (the
 * class grid), as a VAE's view of the data does on its latent scale; near-equal
 * eigenvalues make the directions ill-determined, so the eigenvalues are
 * reported next to the distance.
 */
import { imageSize } from '../datasets/types.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import { factorsToIndex, indexToFactors, sampleIndices } from '../datasets/grid.js';
import { Rng } from '../util/rng.js';
import { mat, nearestSignedPermutation, symmetricEigen, toRows } from './linalg.js';

export interface VarianceStructure {
  dataset: string;
  factors: string[];
  samples: number;
  seed: number;
  pixels: number;
  meanSquaredChange: number[];
  meanSquaredChangePerPixel: number[];
  zeroStepFraction: number[];
  overlap: number[][];
  absOverlap: number[][];
  offDiagonalOverlap: number;
  gram: number[][];
  gramEigenvalues: number[];
  principalDirections: number[][];
  alignmentDistance: number;
  localAlignmentDistance: number;
  /** 'cross-replica' (noise-cancelling, with a replica) or 'single' (products within one rendering). */
  estimator: 'single' | 'cross-replica';
}

export interface VarianceOptions {
  samples?: number;
  seed?: number;
  /** The same dataset with its per-image noise drawn again (same grid): products are taken across the two. */
  replica?: GroundTruthDataset;
}

/**
 * The class one step of factor k goes to from class c, and the sign that makes
 * the difference point towards increasing class: cyclic c + 1 mod n; else c + 1,
 * or at the top class c − 1 with sign −1 (the difference x(w) − x(w − e_k)).
 */
export function stepTarget(n: number, cyclic: boolean, c: number): { to: number; sign: 1 | -1 } {
  if (cyclic) return { to: (c + 1) % n, sign: 1 };
  return c < n - 1 ? { to: c + 1, sign: 1 } : { to: c - 1, sign: -1 };
}

/** Step differences of every factor at one grid point into `D` (K·P, factor-major). */
export function stepDifferences(ds: GroundTruthDataset, index: number, D: Float32Array, center?: Float32Array): void {
  const sizes = ds.info.factors.map((f) => f.size);
  const K = sizes.length;
  const P = imageSize(ds.info);
  const x = center ?? new Float32Array(P);
  ds.render(index, x, 0);
  const f = indexToFactors(sizes, index);
  const g = f.slice();
  for (let k = 0; k < K; k++) {
    const n = sizes[k]!;
    const o = k * P;
    if (n <= 1) {
      D.fill(0, o, o + P);
      continue;
    }
    const c = f[k]!;
    const { to, sign } = stepTarget(n, ds.info.factors[k]!.cyclic, c);
    g[k] = to;
    ds.render(factorsToIndex(sizes, g), D, o);
    g[k] = c;
    // sign +1: x(w') − x(w); sign −1 (top class): x(w) − x(w − e_k)
    for (let j = 0; j < P; j++) D[o + j] = sign * (D[o + j]! - x[j]!);
  }
}

export function varianceStructure(ds: GroundTruthDataset, opts: VarianceOptions = {}): VarianceStructure {
  const samples = opts.samples ?? 500;
  const seed = opts.seed ?? 0;
  const sizes = ds.info.factors.map((f) => f.size);
  const K = sizes.length;
  const P = imageSize(ds.info);
  const idx = sampleIndices(sizes, samples, new Rng(seed).fork('variance-structure'));
  const replica = opts.replica ?? null;
  if (replica && replica.info.factors.map((f) => f.size).join(',') !== sizes.join(',')) throw new Error('the replica has another factor grid');
  const D = new Float32Array(K * P);
  const center = new Float32Array(P);
  // without a replica, the second rendering is the first one
  const D2 = replica ? new Float32Array(K * P) : D;
  const center2 = replica ? new Float32Array(P) : center;
  const sq = new Float64Array(K);
  const zero = new Float64Array(K);
  const cosSum = new Float64Array(K * K);
  const absSum = new Float64Array(K * K);
  const cosCount = new Float64Array(K * K);
  const G = new Float64Array(K * K);
  const local = mat(K, K);
  let localSum = 0;
  for (let s = 0; s < samples; s++) {
    stepDifferences(ds, idx[s]!, D, center);
    if (replica) stepDifferences(replica, idx[s]!, D2, center2);
    for (let a = 0; a < K; a++) {
      for (let b = a; b < K; b++) {
        let dot = 0;
        const oa = a * P;
        const ob = b * P;
        if (replica) for (let j = 0; j < P; j++) dot += 0.5 * (D[oa + j]! * D2[ob + j]! + D2[oa + j]! * D[ob + j]!);
        else for (let j = 0; j < P; j++) dot += D[oa + j]! * D[ob + j]!;
        local.data[a * K + b] = dot;
        local.data[b * K + a] = dot;
      }
    }
    for (let a = 0; a < K; a++) {
      const na = local.data[a * K + a]!;
      // the raw change of the image (noise included) is what meanSquaredChange and zeroStepFraction report
      let raw = na;
      if (replica) {
        raw = 0;
        const oa = a * P;
        for (let j = 0; j < P; j++) raw += D[oa + j]! * D[oa + j]!;
      }
      sq[a]! += raw;
      if (raw === 0) zero[a]!++;
      for (let b = 0; b < K; b++) {
        G[a * K + b]! += local.data[a * K + b]!;
        const nb = local.data[b * K + b]!;
        if (na > 0 && nb > 0) {
          const cos = local.data[a * K + b]! / Math.sqrt(na * nb);
          cosSum[a * K + b]! += cos;
          absSum[a * K + b]! += Math.abs(cos);
          cosCount[a * K + b]!++;
        }
      }
    }
    localSum += nearestSignedPermutation(symmetricEigen(local).vectors).distance;
  }
  const overlap: number[][] = [];
  const absOverlap: number[][] = [];
  let offSq = 0;
  for (let a = 0; a < K; a++) {
    overlap.push([]);
    absOverlap.push([]);
    for (let b = 0; b < K; b++) {
      const c = cosCount[a * K + b]!;
      overlap[a]!.push(c > 0 ? cosSum[a * K + b]! / c : 0);
      absOverlap[a]!.push(c > 0 ? absSum[a * K + b]! / c : 0);
      if (a !== b) offSq += absOverlap[a]![b]! ** 2;
    }
  }
  const gram = mat(K, K);
  for (let i = 0; i < K * K; i++) gram.data[i] = G[i]! / samples;
  const eig = symmetricEigen(gram);
  return {
    dataset: ds.info.id,
    factors: ds.info.factors.map((f) => f.name),
    samples,
    seed,
    pixels: P,
    meanSquaredChange: Array.from(sq, (v) => v / samples),
    meanSquaredChangePerPixel: Array.from(sq, (v) => v / samples / P),
    zeroStepFraction: Array.from(zero, (v) => v / samples),
    overlap,
    absOverlap,
    offDiagonalOverlap: K > 1 ? Math.sqrt(offSq / (K * (K - 1))) : 0,
    gram: toRows(gram),
    gramEigenvalues: Array.from(eig.values),
    principalDirections: toRows(eig.vectors),
    alignmentDistance: nearestSignedPermutation(eig.vectors).distance,
    localAlignmentDistance: localSum / samples,
    estimator: replica ? 'cross-replica' : 'single',
  };
}

/** The same analysis on two datasets over the same grid points (original vs perturbed), for side-by-side charts. */
export function varianceStructurePair(
  original: GroundTruthDataset,
  perturbed: GroundTruthDataset,
  opts: VarianceOptions = {},
): { original: VarianceStructure; perturbed: VarianceStructure } {
  const a = original.info.factors.map((f) => f.size).join(',');
  const b = perturbed.info.factors.map((f) => f.size).join(',');
  if (a !== b) throw new Error(`the two datasets have different factor grids (${a} vs ${b})`);
  return { original: varianceStructure(original, opts), perturbed: varianceStructure(perturbed, opts) };
}
