/**
 * Training kernels for the wasm backend, supplied through TensorFlow.js's own
 * kernel registry:
 *   - Conv2DBackpropFilter (missing from tfjs-backend-wasm),
 *   - Conv2DBackpropInput (replaces a slow plain loop; also conv2dTranspose),
 *   - BatchMatMul (replaces the slow transposed cases used by every matmul gradient),
 *   - Sum (replaces reductions over leading axes, e.g. bias gradients).
 * Each computes on the wasm heap (typed-array views) and hands the heavy
 * products to the backend's built-in XNNPACK kernels.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { batchMatMulConfig } from './batch_matmul.js';
import { conv2DBackpropFilterConfig } from './conv2d_backprop_filter.js';
import { conv2DBackpropInputConfig } from './conv2d_backprop_input.js';
import { sumConfig } from './sum.js';
import { captureOriginal } from './wasm_util.js';

let registered = false;

/** Names of the kernels this module supplies for backend 'wasm'. */
export const suppliedWasmKernels = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', 'Sum'] as const;

/**
 * Register the supplied kernels for backend 'wasm' (idempotent). Call after
 * importing @tensorflow/tfjs-backend-wasm and before `setBackend('wasm')`.
 */
export function registerWasmTrainingKernels(tf: typeof tfjs): void {
  if (registered) return;
  if (!tf.getKernel('Conv2D', 'wasm')) {
    throw new Error('registerWasmTrainingKernels: @tensorflow/tfjs-backend-wasm is not loaded');
  }
  // Capture the built-ins before replacing any of them.
  captureOriginal('Conv2D');
  captureOriginal('BatchMatMul');
  captureOriginal('Conv2DBackpropInput');
  captureOriginal('Sum');
  const configs = [conv2DBackpropFilterConfig(), conv2DBackpropInputConfig(), batchMatMulConfig(), sumConfig()];
  for (const cfg of configs) {
    if (tf.getKernel(cfg.kernelName, 'wasm')) tf.unregisterKernel(cfg.kernelName, 'wasm');
    tf.registerKernel(cfg);
  }
  registered = true;
}
