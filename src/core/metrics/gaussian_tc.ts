/**
 * Gaussian total correlation of the codes (disentanglement_lib
 * `unsupervised_metrics.gaussian_total_correlation`): with Σ the covariance of
 * the codes (np.cov, ddof 1), TC = ½(Σ_i log Σ_ii − log det Σ) — the KL from
 * N(0, Σ) to the product of its marginals, in nats.
 */
import { numTrainSpec } from './mig.js';
import type { MetricEntry } from './types.js';
import { num } from './types.js';

/** Sample covariance (ddof 1) of an n×D row-major matrix, D×D. */
export function covariance(X: ArrayLike<number>, n: number, D: number): Float64Array {
  const mu = new Float64Array(D);
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) mu[d]! += X[i * D + d]!;
  for (let d = 0; d < D; d++) mu[d]! /= n;
  const C = new Float64Array(D * D);
  const row = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < D; d++) row[d] = X[i * D + d]! - mu[d]!;
    for (let a = 0; a < D; a++) for (let b = 0; b <= a; b++) C[a * D + b]! += row[a]! * row[b]!;
  }
  for (let a = 0; a < D; a++) for (let b = 0; b <= a; b++) { C[a * D + b]! /= n - 1; C[b * D + a] = C[a * D + b]!; }
  return C;
}

/** log det of a symmetric positive definite matrix by Cholesky; −Infinity when not positive definite. */
export function logDetSpd(A: Float64Array, D: number): number {
  const L = new Float64Array(D * D);
  let logdet = 0;
  for (let i = 0; i < D; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * D + j]!;
      for (let k = 0; k < j; k++) s -= L[i * D + k]! * L[j * D + k]!;
      if (i === j) {
        if (!(s > 0)) return -Infinity;
        L[i * D + i] = Math.sqrt(s);
        logdet += Math.log(s);
      } else L[i * D + j] = s / L[j * D + j]!;
    }
  }
  return logdet;
}

/** TC of a Gaussian with covariance Σ (D×D); codes with zero variance must be removed first. */
export function gaussianTcFromCov(cov: Float64Array, D: number): number {
  let s = 0;
  for (let i = 0; i < D; i++) s += Math.log(cov[i * D + i]!);
  const ld = logDetSpd(cov, D);
  return 0.5 * (s - ld);
}

export function computeGaussianTc(X: ArrayLike<number>, n: number, D: number): { tc: number; usedCodes: number[] } {
  const full = covariance(X, n, D);
  const used: number[] = [];
  for (let d = 0; d < D; d++) if (full[d * D + d]! > 0) used.push(d);
  const m = used.length;
  const sub = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) sub[a * m + b] = full[used[a]! * D + used[b]!]!;
  return { tc: m === 0 ? 0 : gaussianTcFromCov(sub, m), usedCodes: used };
}

export const gaussianTc: MetricEntry = {
  id: 'gaussian_tc',
  name: 'Gaussian total correlation',
  description: 'Total correlation of a Gaussian with the codes’ covariance: ½(Σ log Σ_ii − log det Σ), in nats; 0 for uncorrelated codes.',
  estimator: 'np.cov (ddof 1) of the codes, codes with zero variance left out, Cholesky log-determinant; Infinity when the covariance is singular',
  settings: [numTrainSpec()],
  uses: ['train'],
  async compute(ctx, s) {
    const D = ctx.numCodes;
    const n = Math.min(num(s, 'num_train'), ctx.train.n);
    const r = computeGaussianTc(ctx.train.codes.subarray(0, n * D), n, D);
    const notes: string[] = [];
    if (r.usedCodes.length < D) notes.push(`${D - r.usedCodes.length} constant code(s) left out`);
    if (r.tc === Infinity) notes.push('the covariance of the codes is singular (linearly dependent codes): TC is infinite');
    return { scores: { gaussian_tc: r.tc }, primary: 'gaussian_tc', samples: { train: n }, details: { used_codes: r.usedCodes }, notes };
  },
};
