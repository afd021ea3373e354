/** DIP-VAE regulariser pieces (Kumar et al. 2018; disentanglement_lib conventions). */
import type { Scalar, Tensor2D } from '@tensorflow/tfjs';
import type { Tf } from '../../compute/backend.js';
import { numberParam } from './common.js';
import type { ObjectiveDef } from './types.js';
import { num } from './types.js';
import type { RegularizerContext } from './vae.js';
import { vaeObjective } from './vae.js';

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

/**
 * A DIP-VAE method: the VAE core plus the DIP regulariser on the covariance
 * that `covarianceOf` picks (type I: Cov[μ]; type II: Cov[μ] + E[diag σ²]).
 */
export function makeDipVae(opts: {
  id: string;
  name: string;
  description: string;
  /** Default of λ_d / λ_od. */
  lambdaDFactor: number;
  covarianceOf(ctx: RegularizerContext): Tensor2D;
}): ObjectiveDef {
  return vaeObjective({
    id: opts.id,
    name: opts.name,
    description: opts.description,
    params: [
      numberParam('lambda_od', 'λ_od', 'Weight of the squared off-diagonal covariances.', {
        default: 10,
        min: 0,
        max: 1000,
        log: true,
        grid: [1, 2, 5, 10, 20, 50],
      }),
      numberParam('lambda_d_factor', 'λ_d / λ_od', 'Weight of the diagonal term relative to λ_od.', { default: opts.lambdaDFactor, min: 0, max: 1000 }),
    ],
    regularizer(ctx) {
      const lambdaOd = num(ctx.params, 'lambda_od');
      const dip = dipRegularizer(ctx.tf, opts.covarianceOf(ctx), lambdaOd, lambdaOd * num(ctx.params, 'lambda_d_factor'));
      return { penalty: dip, logged: { dip } };
    },
  });
}
