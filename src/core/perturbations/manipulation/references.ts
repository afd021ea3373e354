/**
 * The two reference decoders and their closed-form ridge fits: normalised
 * factor codes w̃ and rotated codes R·w̃ (R a seeded rotation far from any
 * signed permutation), the same code noise σ⊙ξ for both, additive features
 * φ(c) = [1, c_j, RBF_b(c_j)], the average pooling the references read
 * through, and the ridge fit whose residual is the gradient (envelope
 * theorem). Design: ../manipulation.ts.
 */
import { cholesky, choleskySolveInPlace, mat, nearestSignedPermutation } from '../../analysis/linalg.js';
import type { Mat } from '../../analysis/linalg.js';
import type { Rng } from '../../util/rng.js';
import type { ManipulationEval } from './types.js';

// ---------------------------------------------------------------- codes

function referenceCode(sizes: readonly number[], f: ArrayLike<number>, out: Float64Array, o = 0): void {
  for (let k = 0; k < sizes.length; k++) {
    const n = sizes[k]!;
    out[o + k] = n > 1 ? (2 * f[k]!) / (n - 1) - 1 : 0;
  }
}

/** Per-coordinate code noise: σ, or σ·(1 + spread·(j/(K−1) − ½)) with a spread. */
export function codeNoise(K: number, sigma: number, spread: number): number[] {
  return Array.from({ length: K }, (_, j) => sigma * (K > 1 ? 1 + spread * (j / (K - 1) - 0.5) : 1));
}

/** The noise-free codes of N training points: w̃ (plain) and R·w̃ (mixed), N×K each. */
export interface ReferenceCodes {
  N: number;
  K: number;
  /** RBF features per code coordinate. */
  B: number;
  plain: Float64Array;
  mixed: Float64Array;
  sigma: readonly number[];
}

export function referenceCodes(sizes: readonly number[], fac: Int32Array, R: Mat, sigma: readonly number[], B: number): ReferenceCodes {
  const K = sizes.length;
  const N = fac.length / K;
  const plain = new Float64Array(N * K);
  const mixed = new Float64Array(N * K);
  for (let n = 0; n < N; n++) {
    referenceCode(sizes, fac.subarray(n * K, (n + 1) * K), plain, n * K);
    for (let i = 0; i < K; i++) {
      let s = 0;
      for (let j = 0; j < K; j++) s += R.data[i * K + j]! * plain[n * K + j]!;
      mixed[n * K + i] = s;
    }
  }
  return { N, K, B, plain, mixed, sigma };
}

/** Number of additive features per point: 1 + K·(1 + B). */
export function featureCount(K: number, B: number): number {
  return 1 + K * (1 + B);
}

/**
 * One draw of code noise ξ ~ N(0, I), shared by both references: features of
 * w̃ + σ⊙ξ into phiD and of R·w̃ + σ⊙ξ into phiE (`codes` is N×K scratch).
 */
export function drawReferenceFeatures(ref: ReferenceCodes, rng: Rng, codes: Float64Array, phiD: Float64Array, phiE: Float64Array): void {
  const { N, K, B, plain, mixed, sigma } = ref;
  const xi = new Float64Array(N * K);
  for (let i = 0; i < xi.length; i++) xi[i] = rng.normal();
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) codes[n * K + k] = plain[n * K + k]! + sigma[k]! * xi[n * K + k]!;
  features(codes, N, K, B, phiD);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) codes[n * K + k] = mixed[n * K + k]! + sigma[k]! * xi[n * K + k]!;
  features(codes, N, K, B, phiE);
}

// ---------------------------------------------------------------- mixing rotation

/** Seeded Haar-random rotation (det +1), the farthest from a signed permutation of 8 draws. */
export function mixingRotation(K: number, rng: Rng): Mat {
  let best: Mat | null = null;
  let bestD = -1;
  for (let t = 0; t < 8; t++) {
    const q = mat(K, K);
    for (let i = 0; i < K * K; i++) q.data[i] = rng.normal();
    // Gram–Schmidt on columns
    for (let j = 0; j < K; j++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let i = 0; i < K; i++) dot += q.data[i * K + j]! * q.data[i * K + p]!;
        for (let i = 0; i < K; i++) q.data[i * K + j]! -= dot * q.data[i * K + p]!;
      }
      let nrm = 0;
      for (let i = 0; i < K; i++) nrm += q.data[i * K + j]! ** 2;
      nrm = Math.sqrt(nrm);
      for (let i = 0; i < K; i++) q.data[i * K + j]! /= nrm;
    }
    if (K > 0 && determinantSign(q) < 0) for (let i = 0; i < K; i++) q.data[i * K]! *= -1;
    const d = K > 1 ? nearestSignedPermutation(q).distance : 0;
    if (d > bestD) {
      bestD = d;
      best = q;
    }
  }
  return best!;
}

function determinantSign(a: Mat): number {
  const n = a.rows;
  const m = Float64Array.from(a.data);
  let sign = 1;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]!) > Math.abs(m[piv * n + c]!)) piv = r;
    if (m[piv * n + c] === 0) return 0;
    if (piv !== c) {
      sign = -sign;
      for (let k = 0; k < n; k++) {
        const t = m[c * n + k]!;
        m[c * n + k] = m[piv * n + k]!;
        m[piv * n + k] = t;
      }
    }
    if (m[c * n + c]! < 0) sign = -sign;
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c]! / m[c * n + c]!;
      for (let k = c; k < n; k++) m[r * n + k]! -= f * m[c * n + k]!;
    }
  }
  return sign;
}

// ---------------------------------------------------------------- pooling

/** Average pooling map: full-res pixel → low cell, with 1/count weights. */
export interface Pooler {
  cell: Int32Array;
  inv: Float64Array;
}

export function makePooler(h: number, w: number, c: number, lh: number, lw: number): Pooler {
  const cell = new Int32Array(h * w * c);
  const count = new Float64Array(lh * lw * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) {
        const q = (Math.floor((y * lh) / h) * lw + Math.floor((x * lw) / w)) * c + k;
        cell[(y * w + x) * c + k] = q;
        count[q]!++;
      }
  const inv = new Float64Array(count.length);
  for (let i = 0; i < count.length; i++) inv[i] = count[i]! > 0 ? 1 / count[i]! : 0;
  return { cell, inv };
}

// ---------------------------------------------------------------- features and fits

/** Additive feature expansion φ(c) = [1, c_j, RBF_b(c_j)] for N codes of K coordinates. */
export function features(codes: Float64Array, N: number, K: number, B: number, out: Float64Array): number {
  const F = featureCount(K, B);
  const width = B > 1 ? 3 / (B - 1) : 1;
  for (let n = 0; n < N; n++) {
    const o = n * F;
    out[o] = 1;
    let d = o + 1;
    for (let k = 0; k < K; k++) {
      const v = codes[n * K + k]!;
      out[d++] = v;
      for (let b = 0; b < B; b++) {
        const t = B > 1 ? -1.5 + (3 * b) / (B - 1) : 0;
        const z = (v - t) / width;
        out[d++] = Math.exp(-0.5 * z * z);
      }
    }
  }
  return F;
}

/**
 * Closed-form ridge fit of Y (N×p) on Φ (N×F): returns the loss
 * (‖Y − ΦA‖² + λN‖A‖²)/(N·p) and writes the residual Y − ΦA into `resid`.
 */
export function ridgeFit(phi: Float64Array, N: number, F: number, Y: Float64Array, p: number, lambda: number, resid: Float64Array): number {
  const G = mat(F, F);
  const gd = G.data;
  for (let n = 0; n < N; n++) {
    const o = n * F;
    for (let i = 0; i < F; i++) {
      const v = phi[o + i]!;
      for (let j = i; j < F; j++) gd[i * F + j]! += v * phi[o + j]!;
    }
  }
  const reg = lambda * N;
  for (let i = 0; i < F; i++) {
    gd[i * F + i]! += reg;
    for (let j = 0; j < i; j++) gd[i * F + j] = gd[j * F + i]!;
  }
  const Bm = mat(F, p);
  const bd = Bm.data;
  for (let n = 0; n < N; n++) {
    const o = n * F;
    const yo = n * p;
    for (let i = 0; i < F; i++) {
      const v = phi[o + i]!;
      const bo = i * p;
      for (let q = 0; q < p; q++) bd[bo + q]! += v * Y[yo + q]!;
    }
  }
  const A = choleskySolveInPlace(cholesky(G), Bm).data;
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const yo = n * p;
    for (let q = 0; q < p; q++) resid[yo + q] = Y[yo + q]!;
    for (let i = 0; i < F; i++) {
      const v = phi[n * F + i]!;
      if (v === 0) continue;
      const ao = i * p;
      for (let q = 0; q < p; q++) resid[yo + q]! -= v * A[ao + q]!;
    }
    for (let q = 0; q < p; q++) loss += resid[yo + q]! ** 2;
  }
  let pen = 0;
  for (let i = 0; i < A.length; i++) pen += A[i]! * A[i]!;
  return (loss + reg * pen) / (N * p);
}

/**
 * Both references fitted to the same pooled images Yp (N×p): J = L_ent −
 * L_dis, residuals into rD (disentangled) and rE (entangled).
 */
export function fitReferences(
  phiD: Float64Array,
  phiE: Float64Array,
  N: number,
  F: number,
  Yp: Float64Array,
  p: number,
  lambda: number,
  rD: Float64Array,
  rE: Float64Array,
): ManipulationEval {
  const dis = ridgeFit(phiD, N, F, Yp, p, lambda, rD);
  const ent = ridgeFit(phiE, N, F, Yp, p, lambda, rE);
  return { objective: ent - dis, entangledLoss: ent, disentangledLoss: dis };
}
