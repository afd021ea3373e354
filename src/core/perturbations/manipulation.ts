/**
 * Learned manipulation (the paper's "manipulated" data), our design:
 *
 *   x' = clip₀¹( x + ε·m_ψ(w) ),   m_ψ(w) = up( tanh( W₂ᵀ tanh(W₁ᵀ e(w) + b₁) + b₂ ) )
 *
 * GENERATOR. e(w) encodes the factor classes (non-cyclic: 2c/(n−1) − 1 ∈
 * [−1, 1]; cyclic: cos and sin of 2πc/n, so the offset is continuous across
 * the wrap). One tanh hidden layer (default 32 units) maps it to a low-resolution
 * offset (default 16×16×C) with a tanh output, bilinearly upsampled to H×W×C.
 * tanh keeps ‖m‖∞ ≤ 1 and bilinear interpolation of values in [−1, 1] stays
 * in [−1, 1], so the ε bound holds by construction. The low resolution keeps
 * the offset smooth, the model tiny (~10⁴ weights) and training fast.
 *
 * REFERENCES. Two stand-ins for a VAE decoder read a noisy factor code, as a
 * VAE decoder reads z = μ + σ·ξ:
 *   disentangled: c = w̃ + σ⊙ξ          entangled: c = R·w̃ + σ⊙ξ
 * with w̃ ∈ [−1, 1]^K the normalised factor classes, R a fixed seeded random
 * rotation (the best of 8 Haar draws by distance from any signed permutation;
 * ≈1.8 for K = 5) and ξ ~ N(0, I), the same draws for both references. Each
 * reference is an ADDITIVE decoder D(c) = A·φ(c), φ(c) = [1, c_j, RBF_b(c_j)]
 * (each code coordinate enters through its own 1-D feature expansion, no
 * cross terms), fitted in closed form by ridge regression to the
 * average-pooled (resolution×resolution) images x'. Why this pair:
 *   - the additive decoder is the smallest model with an axis preference like
 *     the VAE's factorised posterior: a linear decoder with isotropic noise
 *     would be rotation invariant and the two references could not be told
 *     apart; the per-coordinate nonlinearity (RBFs) makes "which directions
 *     are the code axes" matter;
 *   - by default σ is the same on every coordinate (code_noise = 0.3, on the
 *     [−1, 1] code scale). Unequal noise (noise_spread > 0: σ_j =
 *     σ·(1 + spread·(j/(K−1) − ½))) gives the factors' order a meaning it
 *     does not have — a VAE gives its least noise to its most useful latent.
 *     On dSprites, spread 1 makes the entangled reference win on the
 *     UNPERTURBED data already (J = −0.0012), with spread 0 the disentangled
 *     one wins there (J = +0.0011), as it should for a dataset VAEs
 *     disentangle;
 *   - data whose variation is additive along the rotated coordinates R·w̃ is
 *     explained well by the entangled reference and badly by the
 *     disentangled one — "variance structure that does not line up with the
 *     factor axes", which is what should mislead a VAE while every factor
 *     stays recoverable (the parent image is still there, changed by ≤ ε);
 *   - closed-form fits keep the references optimal for the current data (no
 *     inner loop, no alternating instability) and give the gradient for free:
 *     for L(Y) = min_A ‖Y − ΦA‖² + λ‖A‖², ∂L/∂Y = 2(Y − ΦA*) (envelope theorem).
 *
 * OBJECTIVE, minimised over ψ with Adam on a seeded sample of grid points
 * (fresh code noise every step):
 *   J(ψ) = L_ent(x') − L_dis(x'),  L = (‖Y − ΦA*‖² + λN‖A*‖²)/(N·p) per pooled pixel.
 * J < 0 means the entangled reference reconstructs x' better than the
 * disentangled one. Through the [0, 1] clip we pass the gradient where
 * descent would move the pixel back into range (zero otherwise), so offsets
 * on clipped binary pixels can still change sign.
 *
 * The trained weights (float32) are written as a JSON artifact; the derived
 * dataset applies them per image index, so re-creating it from the spec and
 * the artifact gives identical bytes. Without an artifact directory, restore
 * retrains (training is deterministic for a given seed).
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ParamValues } from '../../shared/params.js';
import { cholesky, choleskySolveInPlace, mat, nearestSignedPermutation } from '../analysis/linalg.js';
import type { Mat } from '../analysis/linalg.js';
import { factorsOf, renderBatch, sampleIndices } from '../datasets/grid.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import { imageSize } from '../datasets/types.js';
import { Rng } from '../util/rng.js';
import { OffsetDataset, specHash } from './derived.js';
import type { DerivedDataset, PerturbationContext, PerturbationEntry, PerturbationSpec } from './types.js';
import { epsilonParam } from './types.js';

export interface ManipulationWeights {
  format: 'dlab-manipulation';
  version: 1;
  imageShape: [number, number, number];
  /** Generator output grid (rows, cols); channels = imageShape[2]. */
  low: [number, number];
  factorSizes: number[];
  cyclic: boolean[];
  inputDim: number;
  hidden: number;
  /** inputDim×hidden, row-major. */
  w1: Float32Array;
  b1: Float32Array;
  /** hidden×(low rows·cols·C), row-major. */
  w2: Float32Array;
  b2: Float32Array;
  /** References used in training (kept for the record). */
  mixing: number[][];
  sigma: number[];
}

export interface ManipulationEval {
  objective: number;
  entangledLoss: number;
  disentangledLoss: number;
}

export interface ManipulationReport {
  trainPoints: number;
  steps: number;
  /** Objective on fixed evaluation noise before training (m = 0 at init is not exact; this is the init generator). */
  initial: ManipulationEval;
  /** Same, for the parent images without any offset. */
  unperturbed: ManipulationEval;
  final: ManipulationEval;
  /** Every few steps: step, objective, entangled and disentangled loss (training noise). */
  history: { step: number; objective: number; entangledLoss: number; disentangledLoss: number }[];
  mixingDistanceFromSignedPermutation: number;
  /** Fraction of training pixels clipped to [0, 1] at the end. */
  clippedFraction: number;
  seconds: number;
}

// ---------------------------------------------------------------- encodings

function generatorInputDim(sizes: readonly number[], cyclic: readonly boolean[]): number {
  let d = 0;
  sizes.forEach((n, k) => {
    if (n > 1) d += cyclic[k] ? 2 : 1;
  });
  return d;
}

function encodeGeneratorInput(sizes: readonly number[], cyclic: readonly boolean[], f: ArrayLike<number>, out: Float64Array, o = 0): void {
  let d = o;
  for (let k = 0; k < sizes.length; k++) {
    const n = sizes[k]!;
    if (n <= 1) continue;
    const c = f[k]!;
    if (cyclic[k]) {
      out[d++] = Math.cos((2 * Math.PI * c) / n);
      out[d++] = Math.sin((2 * Math.PI * c) / n);
    } else {
      out[d++] = (2 * c) / (n - 1) - 1;
    }
  }
}

function referenceCode(sizes: readonly number[], f: ArrayLike<number>, out: Float64Array, o = 0): void {
  for (let k = 0; k < sizes.length; k++) {
    const n = sizes[k]!;
    out[o + k] = n > 1 ? (2 * f[k]!) / (n - 1) - 1 : 0;
  }
}

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

// ---------------------------------------------------------------- resampling

/** Bilinear upsampling (align-corners false, clamped) as 4 taps per output pixel. */
interface Upsampler {
  idx: Int32Array; // P·4 source indices (low grid, channel included)
  w: Float64Array; // P·4 weights
}

function makeUpsampler(h: number, w: number, c: number, lh: number, lw: number): Upsampler {
  const P = h * w * c;
  const idx = new Int32Array(P * 4);
  const wt = new Float64Array(P * 4);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(lh - 1, Math.max(0, ((y + 0.5) * lh) / h - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(lh - 1, y0 + 1);
    const ty = sy - y0;
    for (let x = 0; x < w; x++) {
      const sx = Math.min(lw - 1, Math.max(0, ((x + 0.5) * lw) / w - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(lw - 1, x0 + 1);
      const tx = sx - x0;
      for (let k = 0; k < c; k++) {
        const o = ((y * w + x) * c + k) * 4;
        idx[o] = (y0 * lw + x0) * c + k;
        idx[o + 1] = (y0 * lw + x1) * c + k;
        idx[o + 2] = (y1 * lw + x0) * c + k;
        idx[o + 3] = (y1 * lw + x1) * c + k;
        wt[o] = (1 - ty) * (1 - tx);
        wt[o + 1] = (1 - ty) * tx;
        wt[o + 2] = ty * (1 - tx);
        wt[o + 3] = ty * tx;
      }
    }
  }
  return { idx, w: wt };
}

/** Average pooling map: full-res pixel → low cell, with 1/count weights. */
function makePooler(h: number, w: number, c: number, lh: number, lw: number): { cell: Int32Array; inv: Float64Array } {
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

// ---------------------------------------------------------------- generator

/** Low-resolution offset m (before upsampling), values in (−1, 1). */
function generatorLow(wts: ManipulationWeights, input: Float64Array, hiddenBuf: Float64Array, out: Float64Array): void {
  const { inputDim: D, hidden: H, w1, b1, w2, b2 } = wts;
  const p = b2.length;
  for (let j = 0; j < H; j++) {
    let s = b1[j]!;
    for (let d = 0; d < D; d++) s += input[d]! * w1[d * H + j]!;
    hiddenBuf[j] = Math.tanh(s);
  }
  for (let q = 0; q < p; q++) out[q] = b2[q]!;
  for (let j = 0; j < H; j++) {
    const hj = hiddenBuf[j]!;
    const o = j * p;
    for (let q = 0; q < p; q++) out[q]! += hj * w2[o + q]!;
  }
  for (let q = 0; q < p; q++) out[q] = Math.tanh(out[q]!);
}

function checkWeights(wts: ManipulationWeights, parent: GroundTruthDataset): void {
  const sizes = parent.info.factors.map((f) => f.size);
  const cyclic = parent.info.factors.map((f) => f.cyclic);
  const [h, w, c] = parent.info.imageShape;
  const bad = (why: string) => new Error(`manipulation weights do not fit '${parent.info.id}': ${why}`);
  if (wts.format !== 'dlab-manipulation' || wts.version !== 1) throw bad('unknown format');
  if (wts.imageShape.join('x') !== [h, w, c].join('x')) throw bad(`image shape ${wts.imageShape.join('×')}`);
  if (wts.factorSizes.join(',') !== sizes.join(',') || wts.cyclic.join(',') !== cyclic.join(',')) throw bad('factor grid differs');
  const p = wts.low[0] * wts.low[1] * c;
  if (wts.inputDim !== generatorInputDim(sizes, cyclic)) throw bad('input size');
  if (wts.w1.length !== wts.inputDim * wts.hidden || wts.b1.length !== wts.hidden) throw bad('layer 1 shape');
  if (wts.w2.length !== wts.hidden * p || wts.b2.length !== p) throw bad('layer 2 shape');
  for (const a of [wts.w1, wts.b1, wts.w2, wts.b2]) for (const v of a) if (!Number.isFinite(v)) throw bad('non-finite weight');
}

/** The derived dataset for given weights (deterministic per index). */
export function manipulatedDataset(
  parent: GroundTruthDataset,
  spec: PerturbationSpec,
  wts: ManipulationWeights,
  report?: ManipulationReport,
): DerivedDataset {
  checkWeights(wts, parent);
  const eps = Number(spec.params.epsilon);
  const [h, w, c] = parent.info.imageShape;
  const up = makeUpsampler(h, w, c, wts.low[0], wts.low[1]);
  const upW = up.w;
  const upI = up.idx;
  const input = new Float64Array(wts.inputDim);
  const hid = new Float64Array(wts.hidden);
  const low = new Float64Array(wts.b2.length);
  return new OffsetDataset(
    parent,
    spec,
    (_i, f, _x, delta) => {
      encodeGeneratorInput(wts.factorSizes, wts.cyclic, f, input);
      generatorLow(wts, input, hid, low);
      for (let j = 0; j < delta.length; j++) {
        const o = j * 4;
        const m = upW[o]! * low[upI[o]!]! + upW[o + 1]! * low[upI[o + 1]!]! + upW[o + 2]! * low[upI[o + 2]!]! + upW[o + 3]! * low[upI[o + 3]!]!;
        delta[j] = eps * m;
      }
    },
    {
      name: 'learned manipulation',
      what: `learned offset ε·m_ψ(w) (‖m‖∞ ≤ 1) that makes an entangled reference reconstruct better than a disentangled one.`,
      report: report as unknown as Record<string, unknown> | undefined,
    },
  );
}

// ---------------------------------------------------------------- training

export interface TrainOptions {
  epsilon: number;
  trainPoints: number;
  steps: number;
  hidden: number;
  resolution: number;
  learningRate: number;
  codeNoise: number;
  basis: number;
  ridge: number;
  noiseSpread: number;
}

export function optionsFromParams(params: ParamValues): TrainOptions {
  return {
    epsilon: Number(params.epsilon),
    trainPoints: Number(params.train_points),
    steps: Number(params.steps),
    hidden: Number(params.hidden),
    resolution: Number(params.resolution),
    learningRate: Number(params.learning_rate),
    codeNoise: Number(params.code_noise),
    basis: Number(params.basis),
    ridge: Number(params.ridge),
    noiseSpread: Number(params.noise_spread ?? 0),
  };
}

/** Additive feature expansion φ(c) = [1, c_j, RBF_b(c_j)] for N codes of K coordinates. */
function features(codes: Float64Array, N: number, K: number, B: number, out: Float64Array): number {
  const F = 1 + K * (1 + B);
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
function ridgeFit(phi: Float64Array, N: number, F: number, Y: Float64Array, p: number, lambda: number, resid: Float64Array): number {
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

class Adam {
  private m: Float64Array;
  private v: Float64Array;
  private t = 0;
  constructor(
    size: number,
    private lr: number,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }
  step(param: Float64Array, grad: Float64Array): void {
    this.t++;
    const b1 = 0.9;
    const b2 = 0.999;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i]!;
      this.m[i] = b1 * this.m[i]! + (1 - b1) * g;
      this.v[i] = b2 * this.v[i]! + (1 - b2) * g * g;
      param[i]! -= (this.lr * (this.m[i]! / c1)) / (Math.sqrt(this.v[i]! / c2) + 1e-8);
    }
  }
}

function abortError(): Error {
  const e = new Error('manipulation training cancelled');
  e.name = 'AbortError';
  return e;
}

/**
 * Train m_ψ on a seeded sample of grid points. Deterministic for a given
 * (parent, options, seed). Reports progress and honours ctx.signal.
 */
export async function trainManipulation(
  parent: GroundTruthDataset,
  opts: TrainOptions,
  seed: number,
  ctx: PerturbationContext = {},
): Promise<{ weights: ManipulationWeights; report: ManipulationReport }> {
  const t0 = Date.now();
  const info = parent.info;
  const sizes = info.factors.map((f) => f.size);
  const cyclic = info.factors.map((f) => f.cyclic);
  const K = sizes.length;
  const [h, w, c] = info.imageShape;
  const P = imageSize(info);
  const lh = Math.max(1, Math.min(h, Math.round(opts.resolution)));
  const lw = Math.max(1, Math.min(w, Math.round(opts.resolution)));
  const p = lh * lw * c;
  const D = generatorInputDim(sizes, cyclic);
  const H = opts.hidden;
  const N = opts.trainPoints;
  const B = opts.basis;
  const eps = opts.epsilon;

  const root = new Rng(seed).fork('manipulation');
  const pointRng = root.fork('points');
  const initRng = root.fork('init');
  const noiseRng = root.fork('noise');
  const evalRng = root.fork('eval-noise');
  const R = mixingRotation(K, root.fork('mixing'));
  const sigma = Array.from({ length: K }, (_, j) => opts.codeNoise * (K > 1 ? 1 + opts.noiseSpread * (j / (K - 1) - 0.5) : 1));

  const throwIfAborted = () => {
    if (ctx.signal?.aborted) throw abortError();
  };
  ctx.onProgress?.(0, { stage: 'sampling' });
  throwIfAborted();

  // data
  const idx = sampleIndices(sizes, N, pointRng);
  const X = renderBatch(parent, idx);
  const fac = factorsOf(sizes, idx);
  const E = new Float64Array(N * D);
  const Wt = new Float64Array(N * K);
  const WtR = new Float64Array(N * K);
  for (let n = 0; n < N; n++) {
    const f = fac.subarray(n * K, (n + 1) * K);
    encodeGeneratorInput(sizes, cyclic, f, E, n * D);
    referenceCode(sizes, f, Wt, n * K);
    for (let i = 0; i < K; i++) {
      let s = 0;
      for (let j = 0; j < K; j++) s += R.data[i * K + j]! * Wt[n * K + j]!;
      WtR[n * K + i] = s;
    }
  }
  const up = makeUpsampler(h, w, c, lh, lw);
  const pool = makePooler(h, w, c, lh, lw);
  const upW = up.w;
  const upI = up.idx;
  const cell = pool.cell;
  const inv = pool.inv;

  // parameters (glorot-uniform W1, small W2, zero biases)
  const w1 = new Float64Array(D * H);
  const b1 = new Float64Array(H);
  const w2 = new Float64Array(H * p);
  const b2 = new Float64Array(p);
  const l1 = Math.sqrt(6 / (D + H));
  for (let i = 0; i < w1.length; i++) w1[i] = initRng.uniform(-l1, l1);
  const l2 = 0.1 * Math.sqrt(6 / (H + p));
  for (let i = 0; i < w2.length; i++) w2[i] = initRng.uniform(-l2, l2);
  const optim = [new Adam(w1.length, opts.learningRate), new Adam(b1.length, opts.learningRate), new Adam(w2.length, opts.learningRate), new Adam(b2.length, opts.learningRate)];

  // buffers
  const Hh = new Float64Array(N * H);
  const M = new Float64Array(N * p);
  const Y = new Float64Array(N * P); // unclipped x + ε·up(m)
  const Yp = new Float64Array(N * p); // pooled clipped
  const F = 1 + K * (1 + B);
  const phiD = new Float64Array(N * F);
  const phiE = new Float64Array(N * F);
  const codes = new Float64Array(N * K);
  const rD = new Float64Array(N * p);
  const rE = new Float64Array(N * p);
  const gFull = new Float64Array(P);
  const gM = new Float64Array(N * p);
  const gw1 = new Float64Array(w1.length);
  const gb1 = new Float64Array(b1.length);
  const gw2 = new Float64Array(w2.length);
  const gb2 = new Float64Array(b2.length);
  const gH = new Float64Array(H);

  const forward = (): number => {
    let clipped = 0;
    for (let n = 0; n < N; n++) {
      const ho = n * H;
      for (let j = 0; j < H; j++) {
        let s = b1[j]!;
        for (let d = 0; d < D; d++) s += E[n * D + d]! * w1[d * H + j]!;
        Hh[ho + j] = Math.tanh(s);
      }
      const mo = n * p;
      for (let q = 0; q < p; q++) M[mo + q] = b2[q]!;
      for (let j = 0; j < H; j++) {
        const hj = Hh[ho + j]!;
        const o = j * p;
        for (let q = 0; q < p; q++) M[mo + q]! += hj * w2[o + q]!;
      }
      for (let q = 0; q < p; q++) M[mo + q] = Math.tanh(M[mo + q]!);
      Yp.fill(0, mo, mo + p);
      const xo = n * P;
      for (let j = 0; j < P; j++) {
        const o = j * 4;
        const m = upW[o]! * M[mo + upI[o]!]! + upW[o + 1]! * M[mo + upI[o + 1]!]! + upW[o + 2]! * M[mo + upI[o + 2]!]! + upW[o + 3]! * M[mo + upI[o + 3]!]!;
        const y = X[xo + j]! + eps * m;
        Y[xo + j] = y;
        const yc = y < 0 ? 0 : y > 1 ? 1 : y;
        if (yc !== y) clipped++;
        Yp[mo + cell[j]!]! += yc * inv[cell[j]!]!;
      }
    }
    return clipped / (N * P);
  };

  const drawCodes = (rng: Rng) => {
    const xi = new Float64Array(N * K);
    for (let i = 0; i < xi.length; i++) xi[i] = rng.normal();
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) codes[n * K + k] = Wt[n * K + k]! + sigma[k]! * xi[n * K + k]!;
    features(codes, N, K, B, phiD);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) codes[n * K + k] = WtR[n * K + k]! + sigma[k]! * xi[n * K + k]!;
    features(codes, N, K, B, phiE);
  };

  const losses = (): ManipulationEval => {
    const dis = ridgeFit(phiD, N, F, Yp, p, opts.ridge, rD);
    const ent = ridgeFit(phiE, N, F, Yp, p, opts.ridge, rE);
    return { objective: ent - dis, entangledLoss: ent, disentangledLoss: dis };
  };

  // fixed evaluation noise: same draws before and after training
  const evalState = evalRng.state();
  const evaluate = (): ManipulationEval => {
    drawCodes(new Rng(evalState));
    return losses();
  };
  const unperturbed = (() => {
    for (let n = 0; n < N; n++) {
      Yp.fill(0, n * p, (n + 1) * p);
      for (let j = 0; j < P; j++) Yp[n * p + cell[j]!]! += X[n * P + j]! * inv[cell[j]!]!;
    }
    drawCodes(new Rng(evalState));
    return losses();
  })();
  forward();
  const initial = evaluate();

  const history: ManipulationReport['history'] = [];
  const every = Math.max(1, Math.floor(opts.steps / 100));
  let clippedFraction = 0;
  for (let step = 1; step <= opts.steps; step++) {
    throwIfAborted();
    clippedFraction = forward();
    drawCodes(noiseRng);
    const l = losses();
    // ∂J/∂Yp = 2(r_E − r_D)/(N·p); back through pool, clip gate, ε, upsampling, tanh
    const scale = 2 / (N * p);
    gw1.fill(0);
    gb1.fill(0);
    gw2.fill(0);
    gb2.fill(0);
    gM.fill(0);
    for (let n = 0; n < N; n++) {
      const mo = n * p;
      const xo = n * P;
      for (let j = 0; j < P; j++) {
        const q = cell[j]!;
        let g = scale * (rE[mo + q]! - rD[mo + q]!) * inv[q]!;
        const y = Y[xo + j]!;
        if ((y < 0 && g > 0) || (y > 1 && g < 0)) g = 0;
        gFull[j] = eps * g;
      }
      for (let j = 0; j < P; j++) {
        const g = gFull[j]!;
        if (g === 0) continue;
        const o = j * 4;
        gM[mo + upI[o]!]! += upW[o]! * g;
        gM[mo + upI[o + 1]!]! += upW[o + 1]! * g;
        gM[mo + upI[o + 2]!]! += upW[o + 2]! * g;
        gM[mo + upI[o + 3]!]! += upW[o + 3]! * g;
      }
      for (let q = 0; q < p; q++) {
        const m = M[mo + q]!;
        gM[mo + q]! *= 1 - m * m;
        gb2[q]! += gM[mo + q]!;
      }
      const ho = n * H;
      for (let j = 0; j < H; j++) {
        const hj = Hh[ho + j]!;
        const o = j * p;
        let s = 0;
        for (let q = 0; q < p; q++) {
          const g = gM[mo + q]!;
          gw2[o + q]! += hj * g;
          s += g * w2[o + q]!;
        }
        gH[j] = s * (1 - hj * hj);
      }
      for (let j = 0; j < H; j++) {
        gb1[j]! += gH[j]!;
        for (let d = 0; d < D; d++) gw1[d * H + j]! += E[n * D + d]! * gH[j]!;
      }
    }
    optim[0]!.step(w1, gw1);
    optim[1]!.step(b1, gb1);
    optim[2]!.step(w2, gw2);
    optim[3]!.step(b2, gb2);
    if (step % every === 0 || step === opts.steps || step === 1) {
      history.push({ step, objective: l.objective, entangledLoss: l.entangledLoss, disentangledLoss: l.disentangledLoss });
    }
    ctx.onProgress?.(step / opts.steps, { stage: 'training', step, steps: opts.steps, ...l });
    if (step % 5 === 0) await new Promise<void>((r) => setImmediate(r));
  }
  throwIfAborted();

  const weights: ManipulationWeights = {
    format: 'dlab-manipulation',
    version: 1,
    imageShape: [h, w, c],
    low: [lh, lw],
    factorSizes: sizes,
    cyclic,
    inputDim: D,
    hidden: H,
    w1: Float32Array.from(w1),
    b1: Float32Array.from(b1),
    w2: Float32Array.from(w2),
    b2: Float32Array.from(b2),
    mixing: Array.from({ length: K }, (_, i) => Array.from(R.data.subarray(i * K, (i + 1) * K))),
    sigma,
  };
  // evaluate exactly what will be applied (float32 weights)
  w1.set(weights.w1);
  b1.set(weights.b1);
  w2.set(weights.w2);
  b2.set(weights.b2);
  clippedFraction = forward();
  ctx.onProgress?.(1, { stage: 'evaluating' });
  const final = evaluate();
  const report: ManipulationReport = {
    trainPoints: N,
    steps: opts.steps,
    initial,
    unperturbed,
    final,
    history,
    mixingDistanceFromSignedPermutation: K > 1 ? nearestSignedPermutation(R).distance : 0,
    clippedFraction,
    seconds: (Date.now() - t0) / 1000,
  };
  return { weights, report };
}

// ---------------------------------------------------------------- artifacts

export function serializeWeights(wts: ManipulationWeights): string {
  return JSON.stringify({
    ...wts,
    w1: Array.from(wts.w1),
    b1: Array.from(wts.b1),
    w2: Array.from(wts.w2),
    b2: Array.from(wts.b2),
  });
}

export function parseWeights(text: string): ManipulationWeights {
  const o = JSON.parse(text) as Record<string, unknown>;
  const arr = (k: string) => {
    const v = o[k];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new Error(`manipulation weights: '${k}' is not a number array`);
    return Float32Array.from(v as number[]);
  };
  const num = (k: string) => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`manipulation weights: '${k}' is not a count`);
    return v;
  };
  const ints = (k: string, len?: number) => {
    const v = o[k];
    if (!Array.isArray(v) || (len !== undefined && v.length !== len) || !v.every((x) => Number.isInteger(x) && x > 0)) {
      throw new Error(`manipulation weights: '${k}' malformed`);
    }
    return v as number[];
  };
  if (o.format !== 'dlab-manipulation' || o.version !== 1) throw new Error('not a dlab manipulation weights file (format/version)');
  const cyc = o.cyclic;
  if (!Array.isArray(cyc) || !cyc.every((x) => typeof x === 'boolean')) throw new Error("manipulation weights: 'cyclic' malformed");
  return {
    format: 'dlab-manipulation',
    version: 1,
    imageShape: ints('imageShape', 3) as [number, number, number],
    low: ints('low', 2) as [number, number],
    factorSizes: ints('factorSizes'),
    cyclic: cyc as boolean[],
    inputDim: num('inputDim'),
    hidden: num('hidden'),
    w1: arr('w1'),
    b1: arr('b1'),
    w2: arr('w2'),
    b2: arr('b2'),
    mixing: Array.isArray(o.mixing) ? (o.mixing as number[][]) : [],
    sigma: Array.isArray(o.sigma) ? (o.sigma as number[]) : [],
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

// ---------------------------------------------------------------- entry

export const manipulationEntry: PerturbationEntry = {
  id: 'manipulation',
  name: 'Learned manipulation',
  description:
    'The paper\'s manipulation: x\' = x + ε·m_ψ(w) with ‖m_ψ‖∞ ≤ 1, a small generator from the factors trained so that an entangled ' +
    'reference (reading a rotated, noisy factor code) reconstructs the data better and a disentangled one (reading the factors, same noise) worse.',
  learned: true,
  params: [
    epsilonParam(),
    { key: 'train_points', label: 'Training points', description: 'Seeded sample of grid points the generator is trained on.', type: 'integer', default: 256, min: 16, max: 16384 },
    { key: 'steps', label: 'Steps', description: 'Adam steps (full batch, fresh code noise each step).', type: 'integer', default: 1000, min: 1, max: 20000 },
    { key: 'hidden', label: 'Hidden units', description: 'Width of the generator\'s tanh hidden layer.', type: 'integer', default: 32, min: 2, max: 512 },
    { key: 'resolution', label: 'Offset resolution', description: 'The generator outputs a resolution×resolution offset (upsampled bilinearly); the references read images average-pooled to the same grid.', type: 'integer', default: 16, min: 2, max: 128 },
    { key: 'learning_rate', label: 'Learning rate', description: 'Adam step size.', type: 'number', default: 0.01, min: 1e-5, max: 1, log: true },
    { key: 'code_noise', label: 'Code noise σ', description: 'Std of the references\' code noise (codes lie in [−1, 1]).', type: 'number', default: 0.3, min: 0, max: 2, step: 0.05 },
    { key: 'noise_spread', label: 'Noise spread', description: 'Unequal code noise: coordinate j gets σ·(1 + spread·(j/(K−1) − ½)); 0 = the same σ on every coordinate.', type: 'number', default: 0, min: 0, max: 1.9, step: 0.1 },
    { key: 'basis', label: 'Basis per coordinate', description: 'RBF features per code coordinate in the additive reference decoders.', type: 'integer', default: 6, min: 0, max: 32 },
    { key: 'ridge', label: 'Ridge λ', description: 'Ridge penalty of the closed-form reference fits (times the number of points).', type: 'number', default: 0.001, min: 1e-8, max: 10, log: true },
  ],
  async create(parent, params, seed, ctx = {}) {
    const spec: PerturbationSpec = { kind: 'manipulation', params: { ...params }, seed, parentId: parent.info.id };
    const { weights, report } = await trainManipulation(parent, optionsFromParams(params), seed, ctx);
    if (ctx.artifactDir) {
      ctx.onProgress?.(1, { stage: 'saving' });
      const text = serializeWeights(weights);
      const file = `manipulation-${specHash(spec)}.json`;
      await mkdir(ctx.artifactDir, { recursive: true });
      await writeFile(join(ctx.artifactDir, file), text, 'utf8');
      spec.artifacts = { weights: { file, sha256: sha256(text), bytes: Buffer.byteLength(text, 'utf8') } };
    }
    ctx.onProgress?.(1, { stage: 'done', ...report.final });
    return manipulatedDataset(parent, spec, weights, report);
  },
  async restore(spec, parent, ctx = {}) {
    const ref = spec.artifacts?.weights;
    if (!ref) return manipulationEntry.create(parent, spec.params, spec.seed, ctx);
    if (!ctx.artifactDir) throw new Error('restoring a learned manipulation needs ctx.artifactDir (where its weights file is)');
    const text = await readFile(join(ctx.artifactDir, ref.file), 'utf8');
    if (sha256(text) !== ref.sha256) throw new Error(`manipulation weights '${ref.file}' do not match their recorded SHA-256`);
    return manipulatedDataset(parent, spec, parseWeights(text));
  },
};
