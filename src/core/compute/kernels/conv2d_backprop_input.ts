/**
 * Conv2DBackpropInput for the wasm backend (replaces the built-in one, a
 * plain loop running at ~1 GMAC/s). It is both the gradient of conv2d with
 * respect to its input and the forward pass of conv2dTranspose (the decoder).
 *
 *   dx[n,ih,iw,ci] = Σ dy[n,oh,ow,co] · W[kh,kw,ci,co]   over oh·sh+kh−pt = ih, ow·sw+kw−pl = iw
 *
 * Sub-pixel decomposition: the rows ih with (ih+pt) mod sh = rh only meet the
 * filter rows kh = rh + j·sh. With q = (ih+pt−rh)/sh,
 *   dx[ih] = Σ_j dy[q − j] · W[rh + j·sh],
 * a stride-1 correlation of dy with the flipped sub-filter. So each of the
 * sh·sw phases is one stride-1 conv2d on dy (explicit zero padding), run by
 * the backend's built-in Conv2D (XNNPACK, SIMD), and the phases are
 * interleaved into dx. No multiply is spent on inserted zeros.
 */
import type { Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BatchMatMul, Conv2D, Conv2DBackpropInput } from '@tensorflow/tfjs';
import { convGeometry } from './conv2d_backprop_filter.js';
import type { WasmBackendLike } from './wasm_util.js';
import { callKernel, captureOriginal, dispose, f32View, reshaped } from './wasm_util.js';

/** Below this many input channels the GEMM + col2im path is faster (XNNPACK is slow with few output channels). */
export const COL2IM_MAX_CHANNELS = 8;

/** Strategy override for tests: 'auto' (default), 'phases' or 'col2im'. */
export const backpropInputStrategy: { mode: 'auto' | 'phases' | 'col2im' } = { mode: 'auto' };

/**
 * dx = col2im(dy[M, Co] × Wᵀ[Co, K]), K = KH·KW·Ci: one GEMM on the built-in
 * BatchMatMul, then a scatter-add of each row into dx.
 */
function viaCol2im(be: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, g: ReturnType<typeof convGeometry>): TensorInfo {
  const { N, H, W, Ci, OH, OW, Co, KH, KW, sh, sw, pt, pl } = g;
  const K = KH * KW * Ci;
  const M = N * OH * OW;
  const Wt = be.makeOutput([1, Co, K], 'float32');
  {
    const w = f32View(be, filter);
    const t = f32View(be, Wt);
    for (let k = 0; k < K; k++) for (let co = 0; co < Co; co++) t[co * K + k] = w[k * Co + co]!;
  }
  const cols = callKernel(BatchMatMul, be, { a: reshaped(dy, [1, M, Co]), b: Wt }, { transposeA: false, transposeB: false });
  dispose(be, Wt);
  const dx = be.makeOutput([N, H, W, Ci], 'float32');
  const out = f32View(be, dx);
  const c = f32View(be, cols);
  out.fill(0);
  let m = 0;
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++, m++) {
        const row = m * K;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh - pt;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw - pl;
            if (iw < 0 || iw >= W) continue;
            const o = ((n * H + ih) * W + iw) * Ci;
            const s = row + (kh * KW + kw) * Ci;
            for (let ci = 0; ci < Ci; ci++) out[o + ci] = out[o + ci]! + c[s + ci]!;
          }
        }
      }
  dispose(be, cols);
  return dx;
}

interface PhaseAxis {
  /** Phase residue. */
  r: number;
  /** Sub-filter length (filter taps r, r+s, …). */
  J: number;
  /** First and last q (dx index = q·s + r − p). */
  q0: number;
  q1: number;
  /** dy rows read: [lo, hi] (may lie outside [0, OH)). */
  lo: number;
  hi: number;
}

function phaseAxis(r: number, K: number, s: number, p: number, inLen: number): PhaseAxis {
  const J = r < K ? Math.ceil((K - r) / s) : 0;
  const q0 = Math.ceil((p - r) / s);
  const q1 = Math.floor((inLen - 1 + p - r) / s);
  return { r, J, q0, q1, lo: q0 - J + 1, hi: q1 };
}

const conv2DBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WasmBackendLike;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropInput (wasm, supplied): only NHWC is supported, got ${dataFormat}`);
  }
  const g = convGeometry(inputShape, filter.shape, strides, pad, dimRoundingMode);
  const { N, H, W, Ci, OH, OW, Co, KH, KW, sh, sw, pt, pl } = g;
  if (dy.shape[1] !== OH || dy.shape[2] !== OW || dy.shape[3] !== Co) {
    throw new Error(`Conv2DBackpropInput: dy shape ${dy.shape} does not match [${N},${OH},${OW},${Co}]`);
  }

  const useCol2im =
    backpropInputStrategy.mode === 'col2im' || (backpropInputStrategy.mode === 'auto' && Ci < COL2IM_MAX_CHANNELS);
  if (useCol2im) return viaCol2im(be, dy, filter, g);

  const dx = be.makeOutput([N, H, W, Ci], 'float32');
  const single = sh === 1 && sw === 1;
  for (let rh = 0; rh < sh; rh++) {
    const ah = phaseAxis(rh, KH, sh, pt, H);
    if (ah.q1 < ah.q0) continue;
    for (let rw = 0; rw < sw; rw++) {
      const aw = phaseAxis(rw, KW, sw, pl, W);
      if (aw.q1 < aw.q0) continue;
      const Qh = ah.q1 - ah.q0 + 1;
      const Qw = aw.q1 - aw.q0 + 1;
      if (ah.J === 0 || aw.J === 0) {
        // No filter tap reaches these positions: they are zero.
        const out = f32View(be, dx);
        for (let n = 0; n < N; n++)
          for (let qh = ah.q0; qh <= ah.q1; qh++) {
            const ih = qh * sh + rh - pt;
            for (let qw = aw.q0; qw <= aw.q1; qw++) {
              const iw = qw * sw + rw - pl;
              const o = ((n * H + ih) * W + iw) * Ci;
              out.fill(0, o, o + Ci);
            }
          }
        continue;
      }
      // Sub-filter, flipped, channels swapped: F[jh,jw,co,ci] = W[rh+(Jh−1−jh)sh, rw+(Jw−1−jw)sw, ci, co].
      const F = be.makeOutput([ah.J, aw.J, Co, Ci], 'float32');
      // dy region: rows lo…hi, cols lo…hi; padding where outside, a cropped copy where inside.
      const cropH0 = Math.max(ah.lo, 0);
      const cropH1 = Math.min(ah.hi, OH - 1);
      const cropW0 = Math.max(aw.lo, 0);
      const cropW1 = Math.min(aw.hi, OW - 1);
      const needCrop = cropH0 > 0 || cropH1 < OH - 1 || cropW0 > 0 || cropW1 < OW - 1;
      const hasRows = cropH1 >= cropH0 && cropW1 >= cropW0;
      let src: TensorInfo = dy;
      let cropped: TensorInfo | null = null;
      if (needCrop && hasRows) {
        cropped = be.makeOutput([N, cropH1 - cropH0 + 1, cropW1 - cropW0 + 1, Co], 'float32');
        src = cropped;
      }
      {
        const w = f32View(be, filter);
        const f = f32View(be, F);
        let d = 0;
        for (let jh = 0; jh < ah.J; jh++) {
          const kh = rh + (ah.J - 1 - jh) * sh;
          for (let jw = 0; jw < aw.J; jw++) {
            const kw = rw + (aw.J - 1 - jw) * sw;
            const base = (kh * KW + kw) * Ci * Co;
            for (let co = 0; co < Co; co++) for (let ci = 0; ci < Ci; ci++) f[d++] = w[base + ci * Co + co]!;
          }
        }
        if (cropped) {
          const a = f32View(be, dy);
          const c = f32View(be, cropped);
          const rowLen = (cropW1 - cropW0 + 1) * Co;
          let o = 0;
          for (let n = 0; n < N; n++)
            for (let h = cropH0; h <= cropH1; h++) {
              const s = ((n * OH + h) * OW + cropW0) * Co;
              c.set(a.subarray(s, s + rowLen), o);
              o += rowLen;
            }
        }
      }
      let phase: TensorInfo;
      if (!hasRows) {
        // Every dy position this phase reads is padding: zero.
        phase = be.makeOutput([N, Qh, Qw, Ci], 'float32');
        f32View(be, phase).fill(0);
      } else {
        const padTop = cropH0 - ah.lo;
        const padBottom = ah.hi - cropH1;
        const padLeft = cropW0 - aw.lo;
        const padRight = aw.hi - cropW1;
        phase = callKernel(Conv2D, be, { x: src, filter: F }, {
          strides: [1, 1],
          pad: [
            [0, 0],
            [padTop, padBottom],
            [padLeft, padRight],
            [0, 0],
          ],
          dataFormat: 'NHWC',
          dilations: [1, 1],
        } as never);
      }
      dispose(be, F);
      if (cropped) dispose(be, cropped);
      if (single) {
        // One phase covers all of dx.
        dispose(be, dx);
        return phase;
      }
      const out = f32View(be, dx);
      const p = f32View(be, phase);
      let s = 0;
      for (let n = 0; n < N; n++)
        for (let qh = ah.q0; qh <= ah.q1; qh++) {
          const ih = qh * sh + rh - pt;
          let o = ((n * H + ih) * W + (aw.q0 * sw + rw - pl)) * Ci;
          const step = sw * Ci;
          if (Ci === 1) {
            for (let qw = 0; qw < Qw; qw++) {
              out[o] = p[s++]!;
              o += step;
            }
          } else {
            for (let qw = 0; qw < Qw; qw++) {
              for (let c = 0; c < Ci; c++) out[o + c] = p[s++]!;
              o += step;
            }
          }
        }
      dispose(be, phase);
    }
  }
  return dx;
};

export function conv2DBackpropInputConfig(): KernelConfig {
  const original = captureOriginal(Conv2DBackpropInput);
  const cfg: KernelConfig = { kernelName: Conv2DBackpropInput, backendName: 'wasm', kernelFunc: conv2DBackpropInput };
  if (original?.setupFunc) cfg.setupFunc = original.setupFunc;
  if (original?.disposeFunc) cfg.disposeFunc = original.disposeFunc;
  return cfg;
}
