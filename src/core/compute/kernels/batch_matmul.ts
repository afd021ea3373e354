/**
 * BatchMatMul for the wasm backend, replacing only its transposed cases.
 *
 * The built-in kernel is fast (XNNPACK) when neither operand is transposed,
 * but its transposed paths run 10–40× slower — and every matmul gradient is
 * a transposed product. This kernel transposes the operand(s) in memory
 * (blocked copy) and calls the built-in non-transposed kernel.
 */
import type { BatchMatMulAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { BatchMatMul } from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasm_util.js';
import { callKernel, captureOriginal, dispose, f32View, transposeInto } from './wasm_util.js';

function transposedCopy(backend: WasmBackendLike, t: TensorInfo): TensorInfo {
  const rank = t.shape.length;
  const rows = t.shape[rank - 2]!;
  const cols = t.shape[rank - 1]!;
  const batch = t.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([...t.shape.slice(0, -2), cols, rows], 'float32');
  transposeInto(f32View(backend, t), f32View(backend, out), batch, rows, cols);
  return out;
}

/** Below this many rows of A, a transposed B is left to the built-in kernel. */
export const SMALL_ROWS = 16;

const batchMatMul: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WasmBackendLike;
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  // With few rows in A, the built-in transposed product is cheaper than copying a large transposed B.
  const rowsA = transposeA ? a.shape[a.shape.length - 1]! : a.shape[a.shape.length - 2]!;
  const smallTransposedB = transposeB && !transposeA && rowsA < SMALL_ROWS;
  if ((!transposeA && !transposeB) || smallTransposedB || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return callKernel(BatchMatMul, be, { a, b }, attrs as never);
  }
  const a2 = transposeA ? transposedCopy(be, a) : a;
  const b2 = transposeB ? transposedCopy(be, b) : b;
  const out = callKernel(BatchMatMul, be, { a: a2, b: b2 }, { transposeA: false, transposeB: false });
  if (transposeA) dispose(be, a2);
  if (transposeB) dispose(be, b2);
  return out;
};

export function batchMatMulConfig(): KernelConfig {
  const original = captureOriginal(BatchMatMul);
  if (!original) throw new Error('wasm backend has no BatchMatMul kernel');
  const cfg: KernelConfig = { kernelName: BatchMatMul, backendName: 'wasm', kernelFunc: batchMatMul };
  if (original.setupFunc) cfg.setupFunc = original.setupFunc;
  if (original.disposeFunc) cfg.disposeFunc = original.disposeFunc;
  return cfg;
}
