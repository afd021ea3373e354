/**
 * Conv2DBackpropFilter for the wasm backend (which has none).
 *
 *   dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·sh+kh−pt, ow·sw+kw−pl, ci] · dy[n,oh,ow,co]
 *
 * This is itself a convolution, with the roles of batch and channels swapped:
 * take X'[ci, h, w, n] = x[n, h, w, ci] as a batch of Ci images with N
 * channels, and F[oh, ow, n, co] = dy[n, oh, ow, co] as a filter dilated by the
 * stride; then conv2d(X', F, stride 1, dilation (sh, sw), padding (pt, pl))
 * gives out[ci, kh, kw, co] = dW[kh, kw, ci, co]. The two re-layouts are
 * plain-TypeScript copies (O(size of x and dy), blocked); the products run
 * on the backend's built-in Conv2D (XNNPACK, SIMD, indirect GEMM with no
 * im2col buffer).
 *
 * `im2colTransposed` + a GEMM is the textbook alternative; it is kept (and
 * tested) as a reference for the geometry.
 */
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BatchMatMul, Conv2D, Conv2DBackpropFilter, backend_util } from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasm_util.js';
import { callKernel, dispose, f32View, reshaped } from './wasm_util.js';

/** Strategy override (tests, benchmarks): 'auto' (default), 'dilated' or 'im2col'. */
export const backpropFilterStrategy: { mode: 'auto' | 'dilated' | 'im2col' } = { mode: 'auto' };

/** colsᵀ [K, M] × dy [M, Co] on the built-in GEMM. */
function viaIm2col(be: WasmBackendLike, x: TensorInfo, dy: TensorInfo, g: ConvGeometry, filterShape: number[]): TensorInfo {
  const K = g.KH * g.KW * g.Ci;
  const M = g.N * g.OH * g.OW;
  const cols = be.makeOutput([1, K, M], 'float32');
  im2colTransposed(f32View(be, x), f32View(be, cols), g);
  const out = callKernel(BatchMatMul, be, { a: cols, b: reshaped(dy, [1, M, g.Co]) }, { transposeA: false, transposeB: false });
  dispose(be, cols);
  return reshaped(out, filterShape);
}

export interface ConvGeometry {
  N: number;
  H: number;
  W: number;
  Ci: number;
  OH: number;
  OW: number;
  Co: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
}

export function convGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  strides: Conv2DBackpropFilterAttrs['strides'],
  pad: Conv2DBackpropFilterAttrs['pad'],
  dimRoundingMode: Conv2DBackpropFilterAttrs['dimRoundingMode'],
): ConvGeometry {
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  return {
    N: info.batchSize,
    H: info.inHeight,
    W: info.inWidth,
    Ci: info.inChannels,
    OH: info.outHeight,
    OW: info.outWidth,
    Co: info.outChannels,
    KH: info.filterHeight,
    KW: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    pt: info.padInfo.top,
    pl: info.padInfo.left,
  };
}

/**
 * Write colsᵀ [KH·KW·Ci, N·OH·OW] of x (NHWC). Per output row (n, oh) the
 * input rows it reads stay in L1; each write is a contiguous run of OW values.
 */
export function im2colTransposed(x: Float32Array, cols: Float32Array, g: ConvGeometry): void {
  const { N, H, W, Ci, OH, OW, KH, KW, sh, sw, pt, pl } = g;
  const M = N * OH * OW;
  const rowStepX = sw * Ci;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const mBase = (n * OH + oh) * OW;
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh + kh - pt;
        const inside = ih >= 0 && ih < H;
        const xRow = (n * H + ih) * W * Ci;
        for (let kw = 0; kw < KW; kw++) {
          // ow range whose iw = ow·sw + kw − pl lies inside [0, W)
          let owLo = 0;
          while (owLo < OW && owLo * sw + kw - pl < 0) owLo++;
          let owHi = OW;
          while (owHi > owLo && (owHi - 1) * sw + kw - pl >= W) owHi--;
          const rBase = (kh * KW + kw) * Ci;
          for (let ci = 0; ci < Ci; ci++) {
            const d = (rBase + ci) * M + mBase;
            if (!inside) {
              cols.fill(0, d, d + OW);
              continue;
            }
            for (let ow = 0; ow < owLo; ow++) cols[d + ow] = 0;
            let s = xRow + (owLo * sw + kw - pl) * Ci + ci;
            for (let ow = owLo; ow < owHi; ow++) {
              cols[d + ow] = x[s]!;
              s += rowStepX;
            }
            for (let ow = owHi; ow < OW; ow++) cols[d + ow] = 0;
          }
        }
      }
    }
  }
}

/**
 * src [A, B, C] (row-major) → dst [C, B, A]: swaps the first and last axes,
 * as a blocked 2-D transpose of each [A, C] slice.
 */
export function swapOuterAxes(src: Float32Array, dst: Float32Array, A: number, B: number, C: number): void {
  const T = 16;
  const srcA = B * C;
  const dstC = B * A;
  for (let b = 0; b < B; b++) {
    const sb = b * C;
    const db = b * A;
    for (let a0 = 0; a0 < A; a0 += T) {
      const a1 = Math.min(a0 + T, A);
      for (let c0 = 0; c0 < C; c0 += T) {
        const c1 = Math.min(c0 + T, C);
        for (let a = a0; a < a1; a++) {
          let s = a * srcA + sb + c0;
          let d = c0 * dstC + db + a;
          for (let c = c0; c < c1; c++) {
            dst[d] = src[s++]!;
            d += dstC;
          }
        }
      }
    }
  }
}

/** Below this many filter taps × input channels the im2col GEMM is faster than the dilated conv. */
export const DILATED_MIN_OUTPUTS = 512;

const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WasmBackendLike;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter (wasm, supplied): only NHWC is supported, got ${dataFormat}`);
  }
  const g = convGeometry(x.shape, filterShape, strides, pad, dimRoundingMode);
  const { N, H, W, Ci, OH, OW, Co, KH, KW, sh, sw, pt, pl } = g;
  const mode = backpropFilterStrategy.mode;
  // The dilated conv pays per output pixel (Ci·KH·KW of them); with few, the GEMM wins.
  if (mode === 'im2col' || (mode === 'auto' && Ci * KH * KW < DILATED_MIN_OUTPUTS)) return viaIm2col(be, x, dy, g, [...filterShape]);
  // Rows/cols of x that any output reads: [0, Hc) × [0, Wc).
  const Hc = Math.min(H, (OH - 1) * sh + KH - pt);
  const Wc = Math.min(W, (OW - 1) * sw + KW - pl);
  const pb = KH + (OH - 1) * sh - Hc - pt;
  const pr = KW + (OW - 1) * sw - Wc - pl;
  if (Hc <= 0 || Wc <= 0 || pb < 0 || pr < 0) {
    throw new Error(`Conv2DBackpropFilter (wasm, supplied): unsupported geometry ${JSON.stringify(g)}`);
  }
  const xT = be.makeOutput([Ci, Hc, Wc, N], 'float32');
  const F = be.makeOutput([OH, OW, N, Co], 'float32');
  {
    const xs = f32View(be, x);
    const xt = f32View(be, xT);
    if (Hc === H && Wc === W) {
      swapOuterAxes(xs, xt, N, H * W, Ci);
    } else {
      // Only the rows/cols the outputs read (simple loop; rare geometries).
      const plane = Hc * Wc;
      for (let n = 0; n < N; n++)
        for (let h = 0; h < Hc; h++)
          for (let w = 0; w < Wc; w++) {
            const s = ((n * H + h) * W + w) * Ci;
            const p = h * Wc + w;
            for (let c = 0; c < Ci; c++) xt[(c * plane + p) * N + n] = xs[s + c]!;
          }
    }
    // F[oh, ow, n, co] = dy[n, oh, ow, co]: swap the first two of [N, OH·OW, Co].
    const d = f32View(be, dy);
    const f = f32View(be, F);
    const P = OH * OW;
    for (let n = 0; n < N; n++)
      for (let p = 0; p < P; p++) {
        const s = (n * P + p) * Co;
        f.set(d.subarray(s, s + Co), (p * N + n) * Co);
      }
  }
  const out = callKernel(Conv2D, be, { x: xT, filter: F }, {
    strides: [1, 1],
    pad: [
      [0, 0],
      [pt, pb],
      [pl, pr],
      [0, 0],
    ],
    dataFormat: 'NHWC',
    dilations: [sh, sw],
  } as never);
  dispose(be, xT, F);
  // out [Ci, KH, KW, Co] → dW [KH, KW, Ci, Co]
  const dW = be.makeOutput([KH, KW, Ci, Co], 'float32');
  {
    const o = f32View(be, out);
    const w = f32View(be, dW);
    const KK = KH * KW;
    for (let ci = 0; ci < Ci; ci++)
      for (let k = 0; k < KK; k++) {
        const s = (ci * KK + k) * Co;
        w.set(o.subarray(s, s + Co), (k * Ci + ci) * Co);
      }
  }
  dispose(be, out);
  return dW;
};

export function conv2DBackpropFilterConfig(): KernelConfig {
  return { kernelName: Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: conv2DBackpropFilter };
}
