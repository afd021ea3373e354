/**
 * β-TCVAE (Chen et al. 2018): reconstruction + KL + (β − 1)·TC, with the total
 * correlation of the aggregate posterior estimated on the minibatch
 * (minibatch-weighted estimator as in disentanglement_lib, constants dropped):
 *   log q(z_j)      ≈ logsumexp_i Σ_l log N(z_jl; μ_il, σ_il²)
 *   log Π_l q(z_jl) ≈ Σ_l logsumexp_i log N(z_jl; μ_il, σ_il²)
 *   TC = mean_j [log q(z_j) − log Π_l q(z_jl)]
 */
import type { Scalar, Tensor2D } from '@tensorflow/tfjs';
import type { Tf } from '../../compute/backend.js';
import { numberParam } from './common.js';
import { num } from './types.js';
import { vaeObjective } from './vae.js';

/** Minibatch estimate of the total correlation of q(z). */
export function totalCorrelation(tf: Tf, z: Tensor2D, mean: Tensor2D, logvar: Tensor2D): Scalar {
  const [B, L] = z.shape;
  // log N(z_j,l; μ_i,l, σ²_i,l) for every pair (j, i): B×B×L
  const zj = tf.reshape(z, [B, 1, L]);
  const mi = tf.reshape(mean, [1, B, L]);
  const lvi = tf.reshape(logvar, [1, B, L]);
  const diff = tf.sub(zj, mi);
  const logDensity = tf.mul(-0.5, tf.add(tf.add(tf.mul(tf.square(diff), tf.exp(tf.neg(lvi))), lvi), Math.log(2 * Math.PI)));
  const logQz = tf.logSumExp(tf.sum(logDensity, 2), 1);
  const logQzProduct = tf.sum(tf.logSumExp(logDensity, 1), 1);
  return tf.mean(tf.sub(logQz, logQzProduct)) as Scalar;
}

export const betaTcvae = vaeObjective({
  id: 'beta_tcvae',
  name: 'β-TCVAE',
  description:
    'VAE with the total correlation of the aggregate posterior weighted by β (Chen et al., NeurIPS 2018), estimated on each minibatch.',
  params: [
    numberParam('beta', 'β', 'Weight of the total correlation (the loss adds (β − 1)·TC to the VAE loss).', {
      default: 6,
      min: 0,
      max: 1000,
      log: true,
      paperValues: { dsprites: 6, shapes3d: 32 },
      grid: [1, 2, 4, 6, 8, 10],
    }),
  ],
  regularizer({ tf, params, z, mean, logvar }) {
    const tc = totalCorrelation(tf, z, mean, logvar);
    return { penalty: tf.mul(num(params, 'beta') - 1, tc) as Scalar, logged: { tc } };
  },
});
