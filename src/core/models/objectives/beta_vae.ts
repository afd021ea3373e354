/** β-VAE (Higgins et al. 2017): reconstruction + β·KL. */
import type { Scalar } from '@tensorflow/tfjs';
import { numberParam } from './common.js';
import { num } from './types.js';
import { vaeObjective } from './vae.js';

export const betaVae = vaeObjective({
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
  regularizer: ({ tf, params, kl }) => ({ klTerm: tf.mul(num(params, 'beta'), kl) as Scalar }),
});
