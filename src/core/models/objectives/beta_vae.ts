/** β-VAE (Higgins et al. 2017): reconstruction + β·KL. */
import type { Scalar } from '@tensorflow/tfjs';
import { numberParam, vaeBase } from './common.js';
import type { ObjectiveDef } from './types.js';
import { num } from './types.js';

export const betaVae: ObjectiveDef = {
  id: 'beta_vae',
  name: 'β-VAE',
  description: 'VAE with the KL term weighted by β (Higgins et al., ICLR 2017). β = 1 is the plain VAE.',
  params: [
    numberParam('beta', 'β', 'Weight of the KL divergence to the prior.', {
      default: 8,
      min: 0,
      max: 1000,
      log: true,
      paperValues: { dsprites: 8, shapes3d: 32 },
      grid: [1, 2, 4, 6, 8, 16],
    }),
  ],
  variational: true,
  pairs: false,
  decoder: true,
  create({ tf }) {
    return {
      extraParams: [],
      loss(out, ctx) {
        const { reconstruction, kl, klPerDim } = vaeBase(tf, out);
        const loss = tf.add(reconstruction, tf.mul(num(ctx.params, 'beta'), kl)) as Scalar;
        const elbo = tf.add(reconstruction, kl) as Scalar;
        return { loss, terms: { loss, reconstruction, kl, elbo }, klPerDim };
      },
    };
  },
};
