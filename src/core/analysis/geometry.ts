/**
 * Decoder geometry of trained models (Rolinek, Zietlow & Martius, CVPR 2019):
 *
 * - DISTANCE TO ORTHOGONALITY. For the decoder Jacobian J = ∂D(z)/∂z
 *   (pixels × latents) at an encoded point, take the SVD J = UΣVᵀ; V
 *   (latents × latents) holds the directions in latent space that the decoder
 *   maps to orthogonal image directions. Its Frobenius distance from the
 *   nearest signed permutation (Hungarian on |V|, linalg.ts) is 0 exactly
 *   when the latent axes themselves are mapped orthogonally (J has
 *   orthogonal columns), and is averaged over sample points. Published values
 *   on dSprites: β-VAE ≈ 0.76, VAE ≈ 1.08, AE ≈ 1.62 (PAPER.md). Optionally
 *   restricted to a subset of latents (e.g. the active ones: passive latents
 *   have ≈ 0 columns and an arbitrary V block).
 *
 * - POLARISED REGIME. Per latent j over a data sample: std_x μ_j(x), mean μ_j,
 *   RMS μ_j, mean σ_j²(x). Active: std μ_j > 0.5. Passive: not active and
 *   μ ≈ 0 (RMS μ_j < 0.1) and σ² ≈ 1 (|mean σ_j² − 1| < 0.1). Anything else is
 *   "mixed" (thresholds are options; defaults are ours).
 */
import { mat, nearestSignedPermutation, svd } from './linalg.js';

export interface JacobianLike {
  /** Pixels (outputs). */
  rows: number;
  /** Latents (inputs). */
  cols: number;
  /** Row-major rows × cols. */
  data: ArrayLike<number>;
}

export interface OrthogonalityResult {
  /** Distance per sample point. */
  perSample: number[];
  mean: number;
  std: number;
  /** Singular values per sample (descending). */
  singularValues: number[][];
  latents: number[];
}

/** Frobenius distance of V (right singular vectors of J) from the nearest signed permutation. */
export function jacobianDistance(j: JacobianLike, latents?: readonly number[]): { distance: number; singularValues: number[] } {
  const cols = latents ?? Array.from({ length: j.cols }, (_, i) => i);
  const n = cols.length;
  const m = mat(j.rows, n);
  for (let r = 0; r < j.rows; r++) {
    for (let c = 0; c < n; c++) {
      const src = cols[c]!;
      if (src < 0 || src >= j.cols) throw new RangeError(`latent ${src} outside 0…${j.cols - 1}`);
      m.data[r * n + c] = j.data[r * j.cols + src]!;
    }
  }
  const { s, v } = svd(m);
  // for rows < latents the thin V is latents × rows; pad to a square basis is not needed for the distance
  return { distance: nearestSignedPermutation(v).distance, singularValues: Array.from(s) };
}

export function distanceToOrthogonality(jacobians: readonly JacobianLike[], opts: { latents?: readonly number[] } = {}): OrthogonalityResult {
  if (jacobians.length === 0) throw new Error('distanceToOrthogonality needs at least one Jacobian');
  const perSample: number[] = [];
  const singularValues: number[][] = [];
  for (const j of jacobians) {
    const r = jacobianDistance(j, opts.latents);
    perSample.push(r.distance);
    singularValues.push(r.singularValues);
  }
  const mean = perSample.reduce((a, b) => a + b, 0) / perSample.length;
  const std = Math.sqrt(perSample.reduce((a, b) => a + (b - mean) ** 2, 0) / perSample.length);
  const latents = opts.latents ? [...opts.latents] : Array.from({ length: jacobians[0]!.cols }, (_, i) => i);
  return { perSample, mean, std, singularValues, latents };
}

export interface LatentRegime {
  latent: number;
  muMean: number;
  muStd: number;
  muRms: number;
  meanSigma2: number;
  regime: 'active' | 'passive' | 'mixed';
}

export interface PolarisedRegime {
  latents: LatentRegime[];
  active: number[];
  passive: number[];
  mixed: number[];
}

export function polarisedRegime(
  codes: { n: number; d: number; mu: ArrayLike<number>; sigma2?: ArrayLike<number>; logvar?: ArrayLike<number> },
  opts: { activeStd?: number; passiveMuRms?: number; passiveVarTol?: number } = {},
): PolarisedRegime {
  const { n, d, mu } = codes;
  if (mu.length !== n * d) throw new Error(`mu must have n·d = ${n * d} values`);
  const varOf = (i: number): number => {
    if (codes.sigma2) return codes.sigma2[i]!;
    if (codes.logvar) return Math.exp(codes.logvar[i]!);
    throw new Error('polarisedRegime needs sigma2 or logvar');
  };
  const activeStd = opts.activeStd ?? 0.5;
  const passiveMuRms = opts.passiveMuRms ?? 0.1;
  const passiveVarTol = opts.passiveVarTol ?? 0.1;
  const latents: LatentRegime[] = [];
  for (let j = 0; j < d; j++) {
    let m = 0;
    let sq = 0;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const x = mu[i * d + j]!;
      m += x;
      sq += x * x;
      v += varOf(i * d + j);
    }
    m /= n;
    const muStd = Math.sqrt(Math.max(0, sq / n - m * m));
    const muRms = Math.sqrt(sq / n);
    const meanSigma2 = v / n;
    const regime = muStd > activeStd ? 'active' : muRms < passiveMuRms && Math.abs(meanSigma2 - 1) < passiveVarTol ? 'passive' : 'mixed';
    latents.push({ latent: j, muMean: m, muStd, muRms, meanSigma2, regime });
  }
  return {
    latents,
    active: latents.filter((l) => l.regime === 'active').map((l) => l.latent),
    passive: latents.filter((l) => l.regime === 'passive').map((l) => l.latent),
    mixed: latents.filter((l) => l.regime === 'mixed').map((l) => l.latent),
  };
}
