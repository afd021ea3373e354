/**
 * Sum for the wasm backend, replacing only reductions over leading axes
 * (e.g. a bias gradient: sum of dy [N, H, W, C] over N, H, W). The built-in
 * kernel first transposes the reduced axes to the end (a slow generic
 * transpose); here the rows are accumulated directly, in float64.
 */
import type { KernelConfig, KernelFunc, SumAttrs, TensorInfo } from '@tensorflow/tfjs';
import { Sum, util } from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasm_util.js';
import { callKernel, captureOriginal, f32View } from './wasm_util.js';

/** Rows-sum: x [outer, inner] → out [inner]. */
export function sumLeading(x: Float32Array, out: Float32Array, outer: number, inner: number): void {
  const acc = new Float64Array(inner);
  for (let r = 0; r < outer; r++) {
    const base = r * inner;
    for (let j = 0; j < inner; j++) acc[j] = acc[j]! + x[base + j]!;
  }
  for (let j = 0; j < inner; j++) out[j] = acc[j]!;
}

const sum: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WasmBackendLike;
  const { x } = inputs as { x: TensorInfo };
  const { axis, keepDims } = attrs as unknown as SumAttrs;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(axis, x.shape).slice().sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return callKernel(Sum, be, { x }, attrs as never);
  const k = axes.length;
  const outer = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const innerShape = x.shape.slice(k);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const outShape = keepDims ? [...new Array<number>(k).fill(1), ...innerShape] : innerShape;
  const out = be.makeOutput(outShape, 'float32');
  sumLeading(f32View(be, x), f32View(be, out), outer, inner);
  return out;
};

export function sumConfig(): KernelConfig {
  const original = captureOriginal(Sum);
  if (!original) throw new Error('wasm backend has no Sum kernel');
  const cfg: KernelConfig = { kernelName: Sum, backendName: 'wasm', kernelFunc: sum };
  if (original.setupFunc) cfg.setupFunc = original.setupFunc;
  if (original.disposeFunc) cfg.disposeFunc = original.disposeFunc;
  return cfg;
}
