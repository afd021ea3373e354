/** DIP-VAE regulariser pieces (Kumar et al. 2018; disentanglement_lib conventions). */
import type { Scalar, Tensor2D } from '@tensorflow/tfjs';
import type { Tf } from '../../training/backend.js';

/** Cov[μ] over the batch: E[μμᵀ] − E[μ]E[μ]ᵀ (divides by B). */
export function covariance(tf: Tf, mean: Tensor2D): Tensor2D {
  const B = mean.shape[0];
  const m = tf.mean(mean, 0, true);
  const eXX = tf.div(tf.matMul(mean, mean, true, false), B);
  return tf.sub(eXX, tf.matMul(m, m, true, false)) as Tensor2D;
}

/** λ_od Σ_{i≠j} C_ij² + λ_d Σ_i (C_ii − 1)². */
export function dipRegularizer(tf: Tf, cov: Tensor2D, lambdaOd: number, lambdaD: number): Scalar {
  const L = cov.shape[0];
  const eye = tf.eye(L);
  const diag = tf.sum(tf.mul(cov, eye), 1);
  const off = tf.mul(cov, tf.sub(1, eye));
  return tf.add(tf.mul(lambdaOd, tf.sum(tf.square(off))), tf.mul(lambdaD, tf.sum(tf.square(tf.sub(diag, 1))))) as Scalar;
}
