/**
 * FactorVAE (Kim & Mnih 2018), as in disentanglement_lib:
 *   VAE loss  = reconstruction + KL + γ·TC,  TC = mean(D(z)₀ − D(z)₁)
 *   discriminator loss = −½·mean log softmax(D(z))₀ − ½·mean log softmax(D(z̃))₁
 * with z̃ = z with each column independently permuted across the batch, D an
 * MLP (6 × dense 1000, leaky ReLU 0.2, 2 logits; class 0 = real codes) trained
 * by its own Adam (lr 1e-4, β 0.5/0.9) on the codes of the same step.
 */
import type { Scalar, Tensor2D } from '@tensorflow/tfjs';
import type { Tf } from '../../compute/backend.js';
import type { Rng } from '../../util/rng.js';
import { createMlp } from '../architectures.js';
import { numberParam } from './common.js';
import { num } from './types.js';
import { vaeObjective } from './vae.js';

/**
 * Flat gather indices that shuffle each column of a B×L matrix independently
 * across the rows: out[i, l] = z[perm_l(i), l].
 */
export function columnShuffleIndices(B: number, L: number, rng: Rng): Int32Array {
  const idx = new Int32Array(B * L);
  const perm = new Int32Array(B);
  for (let l = 0; l < L; l++) {
    for (let i = 0; i < B; i++) perm[i] = i;
    rng.shuffle(perm);
    for (let i = 0; i < B; i++) idx[i * L + l] = perm[i]! * L + l;
  }
  return idx;
}

export function shuffleCodes(tf: Tf, z: Tensor2D, rng: Rng): Tensor2D {
  const [B, L] = z.shape;
  const idx = tf.tensor1d(columnShuffleIndices(B, L, rng), 'int32');
  return tf.reshape(tf.gather(tf.reshape(z, [B * L]), idx), [B, L]) as Tensor2D;
}

/** TC estimate from discriminator logits of the real codes: mean(logit₀ − logit₁). */
export function discriminatorTc(tf: Tf, logits: Tensor2D): Scalar {
  const [l0, l1] = tf.split(logits, 2, 1) as [Tensor2D, Tensor2D];
  return tf.mean(tf.sub(l0, l1)) as Scalar;
}

/** Discriminator loss: −½ mean log p₀(real) − ½ mean log p₁(shuffled). */
export function discriminatorLoss(tf: Tf, logitsReal: Tensor2D, logitsShuffled: Tensor2D): Scalar {
  const lr = tf.logSoftmax(logitsReal);
  const ls = tf.logSoftmax(logitsShuffled);
  const real = tf.mean(tf.slice(lr, [0, 0], [-1, 1]));
  const fake = tf.mean(tf.slice(ls, [0, 1], [-1, 1]));
  return tf.neg(tf.add(tf.mul(0.5, real), tf.mul(0.5, fake))) as Scalar;
}

export const DISCRIMINATOR_SIZES = [1000, 1000, 1000, 1000, 1000, 1000] as const;

export const factorVae = vaeObjective({
  id: 'factor_vae',
  name: 'FactorVAE',
  description:
    'VAE plus γ times the total correlation of the codes, estimated by a discriminator that tells codes from codes shuffled per dimension across the batch (Kim & Mnih, ICML 2018).',
  params: [
    numberParam('gamma', 'γ', 'Weight of the total correlation estimated by the discriminator.', {
      default: 35,
      min: 0,
      max: 1000,
      log: true,
      paperValues: { dsprites: 35, shapes3d: 7 },
      grid: [10, 20, 30, 40, 50, 100],
    }),
    numberParam('disc_lr', 'Discriminator learning rate', 'Adam learning rate of the discriminator.', {
      default: 1e-4,
      min: 1e-7,
      max: 1,
      log: true,
    }),
    numberParam('disc_beta1', 'Discriminator Adam β₁', 'First-moment decay of the discriminator optimiser.', { default: 0.5, min: 0, max: 0.999999 }),
    numberParam('disc_beta2', 'Discriminator Adam β₂', 'Second-moment decay of the discriminator optimiser.', { default: 0.9, min: 0, max: 0.999999 }),
  ],
  create({ tf, latent, params, rng, scope }) {
    const disc = createMlp(tf, {
      sizes: [latent, ...DISCRIMINATOR_SIZES, 2],
      hidden: 'leaky_relu',
      rng,
      scope: `${scope}/discriminator`,
    });
    return {
      regularizer(ctx) {
        const tc = discriminatorTc(tf, disc.apply(ctx.z));
        return { penalty: tf.mul(num(ctx.params, 'gamma'), tc) as Scalar, logged: { tc } };
      },
      secondPlayer: {
        params: disc.params.map((p) => ({ name: `discriminator/${p.name}`, variable: p.variable })),
        adam: { lr: num(params, 'disc_lr'), beta1: num(params, 'disc_beta1'), beta2: num(params, 'disc_beta2'), epsilon: 1e-8 },
        loss(z, ctx) {
          const shuffled = shuffleCodes(tf, z, ctx.rng);
          const discriminator = discriminatorLoss(tf, disc.apply(z), disc.apply(shuffled));
          return { loss: discriminator, terms: { discriminator } };
        },
      },
    };
  },
});
