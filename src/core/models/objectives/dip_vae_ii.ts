/** DIP-VAE-II (Kumar et al. 2018): as type I with C = Cov[μ] + mean diag(σ²), λ_d = factor·λ_od (factor 1). */
import type { Scalar, Tensor2D } from '@tensorflow/tfjs';
import { numberParam, vaeBase } from './common.js';
import { covariance, dipRegularizer } from './dip_common.js';
import type { ObjectiveDef } from './types.js';
import { num } from './types.js';

const latentOf = (m: Tensor2D): number => m.shape[1];

export const dipVaeII: ObjectiveDef = {
  id: 'dip_vae_ii',
  name: 'DIP-VAE-II',
  description:
    'VAE whose aggregate posterior covariance (covariance of the means plus the mean posterior variance) is pushed towards the identity (Kumar et al., ICLR 2018, type II).',
  params: [
    numberParam('lambda_od', 'λ_od', 'Weight of the squared off-diagonal covariances.', {
      default: 10,
      min: 0,
      max: 1000,
      log: true,
      grid: [1, 2, 5, 10, 20, 50],
    }),
    numberParam('lambda_d_factor', 'λ_d / λ_od', 'Weight of the diagonal term relative to λ_od.', { default: 1, min: 0, max: 1000 }),
  ],
  variational: true,
  pairs: false,
  decoder: true,
  create({ tf }) {
    return {
      extraParams: [],
      loss(out, ctx) {
        const { reconstruction, kl, klPerDim } = vaeBase(tf, out);
        const lambdaOd = num(ctx.params, 'lambda_od');
        // diag(mean σ²) as eye · row vector (tf.diag has no gradient)
        const encVar = tf.mul(tf.eye(latentOf(out.mean)), tf.mean(tf.exp(out.logvar!), 0, true)) as Tensor2D;
        const cov = tf.add(covariance(tf, out.mean), encVar) as Tensor2D;
        const dip = dipRegularizer(tf, cov, lambdaOd, lambdaOd * num(ctx.params, 'lambda_d_factor'));
        const loss = tf.add(tf.add(reconstruction, kl), dip) as Scalar;
        const elbo = tf.add(reconstruction, kl) as Scalar;
        return { loss, terms: { loss, reconstruction, kl, elbo, dip }, klPerDim };
      },
    };
  },
};
