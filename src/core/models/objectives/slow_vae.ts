/**
 * SlowVAE (Klindt et al., ICLR 2021). Trains on pairs (x_t, x_{t+1}) whose
 * factors change sparsely. Prior: z_t ~ N(0, I); z_{t+1} | z_t Laplace with
 * rate λ around z_t. Following the authors' formulation, with
 * per-sample means over all 2B observations and per-pair means over B pairs:
 *   H_N       = mean_n Σ_l ½(lv + log 2πe)                  (posterior entropy)
 *   CE_N      = mean_n Σ_l ½(μ² + e^{lv}) + log √(2π)       (cross-entropy to N(0, 1))
 *   CE_L      = mean_pairs Σ_l [ce(μ_t − μ_{t+1}, lv_t) + ce(μ_{t+1} − μ_t, lv_{t+1})]
 *   ce(m, lv) = −log(λ/2) + λ σ √(2/π) e^{−m²/(2σ²)} + λ m (2Φ(m/σ) − 1)   (E[−log Laplace] under N(m, σ²))
 *   loss      = 2·reconstruction + γ·(CE_N − H_N) + β·(CE_L − H_N)
 * where reconstruction is the per-observation Bernoulli loss (so 2× is per pair).
 */
import type { Scalar, Tensor2D } from '@tensorflow/tfjs';
import type { Tf } from '../../compute/backend.js';
import { bernoulliReconstruction, gaussianKlPerDim, numberParam, pairParams } from './common.js';
import type { ObjectiveDef } from './types.js';
import { num } from './types.js';

/** E_{X~N(m, σ²)}[−log Laplace(X; 0, rate)] elementwise. */
export function laplaceCrossEntropy(tf: Tf, m: Tensor2D, logvar: Tensor2D, rate: number): Tensor2D {
  const sigma = tf.exp(tf.mul(0.5, logvar));
  const t = tf.div(m, sigma);
  const twoPhiMinus1 = tf.erf(tf.div(t, Math.SQRT2)); // 2Φ(t) − 1
  const a = tf.mul(rate * Math.sqrt(2 / Math.PI), tf.mul(sigma, tf.exp(tf.mul(-0.5, tf.square(t)))));
  const b = tf.mul(rate, tf.mul(m, twoPhiMinus1));
  return tf.add(tf.add(a, b), -Math.log(rate / 2)) as Tensor2D;
}

export interface SlowTerms {
  normalEntropy: Scalar;
  crossEntNormal: Scalar;
  crossEntLaplace: Scalar;
}

/** The three prior terms of SlowVAE; rows 0…B−1 of mean/logvar are x_t, rows B…2B−1 their x_{t+1}. */
export function slowPriorTerms(tf: Tf, mean: Tensor2D, logvar: Tensor2D, rate: number): SlowTerms {
  const N = mean.shape[0];
  const B = N / 2;
  const L = mean.shape[1];
  const normalEntropy = tf.mean(tf.sum(tf.mul(0.5, tf.add(logvar, Math.log(2 * Math.PI * Math.E))), 1)) as Scalar;
  const crossEntNormal = tf.mean(
    tf.sum(tf.add(tf.mul(0.5, tf.add(tf.square(mean), tf.exp(logvar))), 0.5 * Math.log(2 * Math.PI)), 1),
  ) as Scalar;
  const mu0 = tf.slice(mean, [0, 0], [B, L]) as Tensor2D;
  const mu1 = tf.slice(mean, [B, 0], [B, L]) as Tensor2D;
  const lv0 = tf.slice(logvar, [0, 0], [B, L]) as Tensor2D;
  const lv1 = tf.slice(logvar, [B, 0], [B, L]) as Tensor2D;
  const ce = tf.add(laplaceCrossEntropy(tf, tf.sub(mu0, mu1), lv0, rate), laplaceCrossEntropy(tf, tf.sub(mu1, mu0), lv1, rate));
  const crossEntLaplace = tf.mean(tf.sum(ce, 1)) as Scalar;
  return { normalEntropy, crossEntNormal, crossEntLaplace };
}

export const slowVae: ObjectiveDef = {
  id: 'slow_vae',
  name: 'SlowVAE',
  description:
    'VAE on pairs of observations whose factors change sparsely; the prior of the next code given the current one is Laplace, which favours codes that change in few dimensions at a time (Klindt et al., ICLR 2021).',
  params: [
    numberParam('beta', 'β', 'Weight of the Laplace transition prior term.', {
      default: 1,
      min: 0,
      max: 1000,
      paperValues: { dsprites: 1, shapes3d: 1 },
    }),
    numberParam('gamma', 'γ', 'Weight of the KL to the N(0, I) marginal prior.', { default: 10, min: 0, max: 1000 }),
    numberParam('rate_prior', 'Prior rate λ', 'Rate of the Laplace prior of z_{t+1} − z_t.', { default: 6, min: 0.01, max: 1000, log: true }),
    ...pairParams,
  ],
  variational: true,
  pairs: true,
  decoder: true,
  create({ tf }) {
    return {
      extraParams: [],
      loss(out, ctx) {
        if (!out.logits || !out.logvar) throw new Error('slow_vae needs logits and log-variances');
        if (out.mean.shape[0] % 2 !== 0) throw new Error('slow_vae needs an even batch of pairs');
        const reconstruction = bernoulliReconstruction(tf, out.x, out.logits);
        const { normalEntropy, crossEntNormal, crossEntLaplace } = slowPriorTerms(tf, out.mean, out.logvar, num(ctx.params, 'rate_prior'));
        const klNormal = tf.sub(crossEntNormal, normalEntropy) as Scalar;
        const klLaplace = tf.sub(crossEntLaplace, normalEntropy) as Scalar;
        const loss = tf.add(
          tf.add(tf.mul(2, reconstruction), tf.mul(num(ctx.params, 'gamma'), klNormal)),
          tf.mul(num(ctx.params, 'beta'), klLaplace),
        ) as Scalar;
        const klPerDim = gaussianKlPerDim(tf, out.mean, out.logvar);
        return {
          loss,
          terms: { loss, reconstruction, kl: klNormal, kl_laplace: klLaplace, cross_ent_laplace: crossEntLaplace },
          klPerDim,
        };
      },
    };
  },
};
