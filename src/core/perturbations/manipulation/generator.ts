/**
 * The generator m_ψ(w) = up( tanh( W₂ᵀ tanh(W₁ᵀ e(w) + b₁) + b₂ ) ): the
 * factor encoding e(w), the two-layer tanh net to a low-resolution offset,
 * bilinear upsampling (and its transpose, for training), and the derived
 * dataset that applies trained weights per image. Design: ../manipulation.ts.
 */
import type { GroundTruthDataset } from '../../datasets/types.js';
import { OffsetDataset } from '../derived.js';
import type { DerivedDataset, PerturbationSpec } from '../types.js';
import type { ManipulationReport, ManipulationWeights } from './types.js';

type Floats = Float32Array | Float64Array;

/** The generator's parameters: float32 when applied (the artifact), float64 while training. */
export interface GeneratorNet {
  inputDim: number;
  hidden: number;
  /** inputDim×hidden, row-major. */
  w1: Floats;
  b1: Floats;
  /** hidden×p, row-major (p = low rows·cols·C). */
  w2: Floats;
  b2: Floats;
}

/** Parameter gradients, shaped like the net's parameters. */
export interface GeneratorGrads {
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: Float64Array;
}

// ---------------------------------------------------------------- encoding

/**
 * The generator's input e(w). 'smooth' (the first design): per factor of more
 * than one class 2c/(n−1) − 1, or (cos, sin)(2πc/n) for a cyclic one.
 * 'parity' appends the step parities (−1)^c_k and their pairwise products
 * (−1)^(c_k + c_l). Why: an offset bounded by 1 that is smooth in the classes
 * changes by at most about 2/(n−1) per class step (0.065 for dSprites' x), so
 * it cannot change what one step of a factor does to the image; with the
 * parities it can flip from one class to the next, and the pair products let a
 * step of factor k and a step of factor l change the image the same way (the
 * coupling that turns the principal directions of the step Gram).
 */
export type GeneratorEncoding = 'smooth' | 'parity';

export function generatorInputDim(sizes: readonly number[], cyclic: readonly boolean[], encoding: GeneratorEncoding = 'smooth'): number {
  let d = 0;
  let varying = 0;
  sizes.forEach((n, k) => {
    if (n > 1) {
      d += cyclic[k] ? 2 : 1;
      varying++;
    }
  });
  return encoding === 'parity' ? d + varying + (varying * (varying - 1)) / 2 : d;
}

export function encodeGeneratorInput(sizes: readonly number[], cyclic: readonly boolean[], f: ArrayLike<number>, out: Float64Array, o = 0, encoding: GeneratorEncoding = 'smooth'): void {
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
  if (encoding !== 'parity') return;
  const par: number[] = [];
  for (let k = 0; k < sizes.length; k++) if (sizes[k]! > 1) par.push(f[k]! % 2 === 0 ? 1 : -1);
  for (const v of par) out[d++] = v;
  for (let a = 0; a < par.length; a++) for (let b = a + 1; b < par.length; b++) out[d++] = par[a]! * par[b]!;
}

// ---------------------------------------------------------------- the net

/**
 * Low-resolution offset m (before upsampling), values in (−1, 1), for the
 * input at input[io…], writing the hidden activations to hidden[ho…] and the
 * offset to out[oo…].
 */
export function generatorForward(net: GeneratorNet, input: Float64Array, io: number, hidden: Float64Array, ho: number, out: Float64Array, oo: number): void {
  const { inputDim: D, hidden: H, w1, b1, w2, b2 } = net;
  const p = b2.length;
  for (let j = 0; j < H; j++) {
    let s = b1[j]!;
    for (let d = 0; d < D; d++) s += input[io + d]! * w1[d * H + j]!;
    hidden[ho + j] = Math.tanh(s);
  }
  for (let q = 0; q < p; q++) out[oo + q] = b2[q]!;
  for (let j = 0; j < H; j++) {
    const hj = hidden[ho + j]!;
    const o = j * p;
    for (let q = 0; q < p; q++) out[oo + q]! += hj * w2[o + q]!;
  }
  for (let q = 0; q < p; q++) out[oo + q] = Math.tanh(out[oo + q]!);
}

/**
 * Backward through the net for one sample whose forward pass left `hidden`
 * (at ho) and `low` (at lo). gLow (at lo) holds ∂/∂m and is turned into the
 * gradient before the output tanh in place; parameter gradients accumulate
 * into `grads`; gH is scratch of the hidden width.
 */
export function generatorBackward(
  net: GeneratorNet,
  input: Float64Array,
  io: number,
  hidden: Float64Array,
  ho: number,
  low: Float64Array,
  gLow: Float64Array,
  lo: number,
  gH: Float64Array,
  grads: GeneratorGrads,
): void {
  const { inputDim: D, hidden: H, w2 } = net;
  const { w1: gw1, b1: gb1, w2: gw2, b2: gb2 } = grads;
  const p = net.b2.length;
  for (let q = 0; q < p; q++) {
    const m = low[lo + q]!;
    gLow[lo + q]! *= 1 - m * m;
    gb2[q]! += gLow[lo + q]!;
  }
  for (let j = 0; j < H; j++) {
    const hj = hidden[ho + j]!;
    const o = j * p;
    let s = 0;
    for (let q = 0; q < p; q++) {
      const g = gLow[lo + q]!;
      gw2[o + q]! += hj * g;
      s += g * w2[o + q]!;
    }
    gH[j] = s * (1 - hj * hj);
  }
  for (let j = 0; j < H; j++) {
    gb1[j]! += gH[j]!;
    for (let d = 0; d < D; d++) gw1[d * H + j]! += input[io + d]! * gH[j]!;
  }
}

// ---------------------------------------------------------------- upsampling

/** Bilinear upsampling (align-corners false, clamped) as 4 taps per output pixel. */
export interface Upsampler {
  idx: Int32Array; // P·4 source indices (low grid, channel included)
  w: Float64Array; // P·4 weights
}

export function makeUpsampler(h: number, w: number, c: number, lh: number, lw: number): Upsampler {
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

/** Full-resolution pixel j of the upsampled low-resolution offset low[lo…]. */
export function upsampleAt(up: Upsampler, low: Float64Array, lo: number, j: number): number {
  const { idx, w } = up;
  const o = j * 4;
  return w[o]! * low[lo + idx[o]!]! + w[o + 1]! * low[lo + idx[o + 1]!]! + w[o + 2]! * low[lo + idx[o + 2]!]! + w[o + 3]! * low[lo + idx[o + 3]!]!;
}

/** Transpose of the upsampling: adds the full-resolution gradient g into out[lo…] (low grid). */
export function upsampleTranspose(up: Upsampler, g: Float64Array, out: Float64Array, lo: number): void {
  const { idx, w } = up;
  for (let j = 0; j < g.length; j++) {
    const v = g[j]!;
    if (v === 0) continue;
    const o = j * 4;
    out[lo + idx[o]!]! += w[o]! * v;
    out[lo + idx[o + 1]!]! += w[o + 1]! * v;
    out[lo + idx[o + 2]!]! += w[o + 2]! * v;
    out[lo + idx[o + 3]!]! += w[o + 3]! * v;
  }
}

// ---------------------------------------------------------------- the derived dataset

function checkWeights(wts: ManipulationWeights, parent: GroundTruthDataset): void {
  const sizes = parent.info.factors.map((f) => f.size);
  const cyclic = parent.info.factors.map((f) => f.cyclic);
  const [h, w, c] = parent.info.imageShape;
  const bad = (why: string) => new Error(`manipulation weights do not fit '${parent.info.id}': ${why}`);
  if (wts.format !== 'dlab-manipulation' || wts.version !== 1) throw bad('unknown format');
  if (wts.imageShape.join('x') !== [h, w, c].join('x')) throw bad(`image shape ${wts.imageShape.join('×')}`);
  if (wts.factorSizes.join(',') !== sizes.join(',') || wts.cyclic.join(',') !== cyclic.join(',')) throw bad('factor grid differs');
  const p = wts.low[0] * wts.low[1] * c;
  if (wts.inputDim !== generatorInputDim(sizes, cyclic, wts.encoding ?? 'smooth')) throw bad('input size');
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
  const input = new Float64Array(wts.inputDim);
  const hid = new Float64Array(wts.hidden);
  const low = new Float64Array(wts.b2.length);
  return new OffsetDataset(
    parent,
    spec,
    (_i, f, _x, delta) => {
      encodeGeneratorInput(wts.factorSizes, wts.cyclic, f, input, 0, wts.encoding ?? 'smooth');
      generatorForward(wts, input, 0, hid, 0, low, 0);
      for (let j = 0; j < delta.length; j++) delta[j] = eps * upsampleAt(up, low, 0, j);
    },
    {
      name: 'learned manipulation',
      what: `learned offset ε·m_ψ(w) (‖m‖∞ ≤ 1) that makes an entangled reference reconstruct better than a disentangled one.`,
      report: report as unknown as Record<string, unknown> | undefined,
    },
  );
}
