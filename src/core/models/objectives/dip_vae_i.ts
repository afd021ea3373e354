/** DIP-VAE-I (Kumar et al. 2018): KL + λ_od Σ_{i≠j} C_ij² + λ_d Σ (C_ii − 1)², C = Cov[μ], λ_d = factor·λ_od. */
import type { Scalar } from '@tensorflow/tfjs';
import { numberParam, vaeBase } from './common.js';
import { covariance, dipRegularizer } from './dip_common.js';
import type { ObjectiveDef } from './types.js';
import { num } from './types.js';

export const dipVaeI: ObjectiveDef = {
  id: 'dip_vae_i',
  name: 'DIP-VAE-I',
  description:
    'VAE whose posterior means are pushed to be decorrelated with unit variance across the batch (Kumar et al., ICLR 2018, type I).',
  params: [
    numberParam('lambda_od', 'λ_od', 'Weight of the squared off-diagonal covariances.', {
      default: 10,
      min: 0,
      max: 1000,
      log: true,
      grid: [1, 2, 5, 10, 20, 50],
    }),
    numberParam('lambda_d_factor', 'λ_d / λ_od', 'Weight of the diagonal term relative to λ_od.', { default: 10, min: 0, max: 1000 }),
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
        const dip = dipRegularizer(tf, covariance(tf, out.mean), lambdaOd, lambdaOd * num(ctx.params, 'lambda_d_factor'));
        const loss = tf.add(tf.add(reconstruction, kl), dip) as Scalar;
        const elbo = tf.add(reconstruction, kl) as Scalar;
        return { loss, terms: { loss, reconstruction, kl, elbo, dip }, klPerDim };
      },
    };
  },
};
