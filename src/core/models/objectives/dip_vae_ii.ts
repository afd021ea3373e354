/** DIP-VAE-II (Kumar et al. 2018): as type I with C = Cov[μ] + mean diag(σ²), λ_d = factor·λ_od (factor 1). */
import type { Tensor2D } from '@tensorflow/tfjs';
import { covariance, makeDipVae } from './dip_common.js';

export const dipVaeII = makeDipVae({
  id: 'dip_vae_ii',
  name: 'DIP-VAE-II',
  description:
    'VAE whose aggregate posterior covariance (covariance of the means plus the mean posterior variance) is pushed towards the identity (Kumar et al., ICLR 2018, type II).',
  lambdaDFactor: 1,
  covarianceOf: ({ tf, mean, logvar }) => {
    // diag(mean σ²) as eye · row vector (tf.diag has no gradient)
    const encVar = tf.mul(tf.eye(mean.shape[1]), tf.mean(tf.exp(logvar), 0, true)) as Tensor2D;
    return tf.add(covariance(tf, mean), encVar) as Tensor2D;
  },
});
