/** Loss pieces shared by the objectives (disentanglement_lib conventions); the VAE core built from them is vae.ts. */
import type { Scalar, Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import type { ParamSpec } from '../../../shared/params.js';
import type { Tf } from '../../compute/backend.js';

/**
 * Bernoulli reconstruction loss: sigmoid cross-entropy of the logits against
 * the observations, summed over pixels, averaged over the batch. Stable form
 * max(l, 0) − l·x + log(1 + e^{−|l|}).
 */
export function bernoulliReconstruction(tf: Tf, x: Tensor4D, logits: Tensor4D): Scalar {
  const ce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
  return tf.div(tf.sum(ce), x.shape[0]) as Scalar;
}

/** KL(N(μ, e^{lv}) ‖ N(0, 1)) per latent dimension, averaged over the batch: ½(μ² + e^{lv} − lv − 1). */
export function gaussianKlPerDim(tf: Tf, mean: Tensor2D, logvar: Tensor2D): Tensor1D {
  const kl = tf.mul(0.5, tf.sub(tf.sub(tf.add(tf.square(mean), tf.exp(logvar)), logvar), 1));
  return tf.mean(kl, 0) as Tensor1D;
}

/** Batch-mean KL summed over the latent dimensions. */
export function gaussianKl(tf: Tf, klPerDim: Tensor1D): Scalar {
  return tf.sum(klPerDim) as Scalar;
}

export function numberParam(
  key: string,
  label: string,
  description: string,
  extra: Omit<ParamSpec, 'key' | 'label' | 'description' | 'type'> & { type?: 'number' | 'integer' },
): ParamSpec {
  return { key, label, description, type: extra.type ?? 'number', ...extra } as ParamSpec;
}

/** Settings of the pair sampler (training/pairs.ts) declared by the pair objectives. */
export const pairParams: ParamSpec[] = [
  numberParam('pair_rate', 'Transition rate', 'Rate λ of the Laplace distribution of each changing factor’s step (in grid units; larger = smaller steps).', {
    default: 1,
    min: 0.01,
    max: 100,
    log: true,
  }),
  numberParam('pair_k', 'Factors changing', 'How many factors change between x_t and x_{t+1}; −1 draws the number uniformly from 1…K each pair.', {
    type: 'integer',
    default: -1,
    min: -1,
    max: 64,
  }),
];
