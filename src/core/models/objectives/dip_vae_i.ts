/** DIP-VAE-I (Kumar et al. 2018): KL + λ_od Σ_{i≠j} C_ij² + λ_d Σ (C_ii − 1)², C = Cov[μ], λ_d = factor·λ_od. */
import { covariance, makeDipVae } from './dip_common.js';

export const dipVaeI = makeDipVae({
  id: 'dip_vae_i',
  name: 'DIP-VAE-I',
  description:
    'VAE whose posterior means are pushed to be decorrelated with unit variance across the batch (Kumar et al., ICLR 2018, type I).',
  lambdaDFactor: 10,
  covarianceOf: ({ tf, mean }) => covariance(tf, mean),
});
