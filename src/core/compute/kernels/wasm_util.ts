/**
 * Helpers for kernels that run on the wasm backend's own memory: typed-array
 * views of tensors in the wasm heap, outputs allocated there, and calls into
 * the backend's built-in kernels (XNNPACK-backed conv2d and matmul).
 *
 * A view of the heap is invalidated when the heap grows, which any
 * allocation can cause: allocate first, then take views.
 */
import type { DataId, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { getKernel } from '@tensorflow/tfjs';

/** The part of tfjs-backend-wasm's BackendWasm that the kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32' | 'int32' | 'bool'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

export function f32View(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${t.dtype}`);
  return backend.typedArrayFromHeap(t) as Float32Array;
}

export function dispose(backend: WasmBackendLike, ...ts: TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
}

/** A tensor info sharing `t`'s data under another shape (the callee must not dispose it). */
export function reshaped(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/**
 * The built-in kernels of the wasm backend, captured before the project
 * overrides any of them (so an override can fall back to the original).
 */
const originals = new Map<string, KernelConfig>();

export function captureOriginal(kernelName: string): KernelConfig | undefined {
  const have = originals.get(kernelName);
  if (have) return have;
  const k = getKernel(kernelName, 'wasm');
  if (k) originals.set(kernelName, k);
  return k;
}

export function originalKernel(kernelName: string): KernelFunc {
  const k = originals.get(kernelName) ?? captureOriginal(kernelName);
  if (!k) throw new Error(`wasm backend has no built-in kernel '${kernelName}'`);
  return k.kernelFunc;
}

export function callKernel(
  kernelName: string,
  backend: WasmBackendLike,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap,
): TensorInfo {
  const out = originalKernel(kernelName)({ inputs, backend: backend as never, attrs });
  if (Array.isArray(out)) throw new Error(`kernel ${kernelName} returned several outputs`);
  return out;
}

/**
 * Batched transpose of the last two axes: src [batch, rows, cols] → dst
 * [batch, cols, rows], blocked for cache locality.
 */
export function transposeInto(src: Float32Array, dst: Float32Array, batch: number, rows: number, cols: number): void {
  const B = 32;
  const plane = rows * cols;
  for (let b = 0; b < batch; b++) {
    const base = b * plane;
    for (let r0 = 0; r0 < rows; r0 += B) {
      const r1 = Math.min(r0 + B, rows);
      for (let c0 = 0; c0 < cols; c0 += B) {
        const c1 = Math.min(c0 + B, cols);
        for (let r = r0; r < r1; r++) {
          let s = base + r * cols + c0;
          let d = base + c0 * rows + r;
          for (let c = c0; c < c1; c++) {
            dst[d] = src[s++]!;
            d += rows;
          }
        }
      }
    }
  }
}

/** Normalise a stride attribute. */
export function pair(v: number | [number, number] | number[]): [number, number] {
  if (typeof v === 'number') return [v, v];
  return [v[0]!, v[1] ?? v[0]!];
}
