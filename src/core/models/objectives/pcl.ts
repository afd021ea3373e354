/**
 * Permutation-contrastive learning (Hyvärinen & Morioka, AISTATS 2017), the
 * paper's non-variational control. A deterministic encoder h and a logistic
 * classifier
 *   r(x_t, x_{t+1}) = c + Σ_i ψ_i(h_i(x_t), h_i(x_{t+1})),
 *   ψ_i(a, b) = α_i |a − b| + β_i (a − b)² + γ_i (a² + b²)   (our choice of ψ)
 * tell true pairs (label 1) from pairs whose x_{t+1} is replaced by a random
 * sample (label 0; here another pair's x_{t+1}, by a random cyclic shift of
 * the batch). Loss: mean logistic loss over the 2B classified pairs.
 * The |a − b| and (a − b)² terms cover Laplace- and Gaussian-like transitions;
 * the a² + b² term lets the classifier model the marginals.
 */
import type { Scalar, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import type { Tf } from '../../compute/backend.js';
import type { Rng } from '../../util/rng.js';
import { createParams } from '../architectures.js';
import type { ParamInfo } from '../architectures.js';
import { pairParams } from './common.js';
import type { ObjectiveDef } from './types.js';

export interface PclClassifier {
  alpha: Tensor1D;
  beta: Tensor1D;
  gamma: Tensor1D;
  /** Scalar bias, shape [1]. */
  bias: Tensor1D;
}

/** Classifier logits r(a_n, b_n) for codes a, b (B×L each). */
export function pclLogits(tf: Tf, a: Tensor2D, b: Tensor2D, c: PclClassifier): Tensor1D {
  const d = tf.sub(a, b);
  const psi = tf.add(
    tf.add(tf.mul(c.alpha, tf.abs(d)), tf.mul(c.beta, tf.square(d))),
    tf.mul(c.gamma, tf.add(tf.square(a), tf.square(b))),
  );
  return tf.add(tf.sum(psi, 1), c.bias) as Tensor1D;
}

/** Random cyclic shift in 1…B−1: the negative partner of pair n is pair (n + shift) mod B. */
export function negativeShift(B: number, rng: Rng): number {
  if (B < 2) throw new Error('PCL needs at least 2 pairs per batch');
  return 1 + rng.int(B - 1);
}

/** Logistic loss: ½·mean softplus(−r_pos) + ½·mean softplus(r_neg). */
export function pclLoss(tf: Tf, h: Tensor2D, c: PclClassifier, shift: number): { loss: Scalar; accuracy: Scalar } {
  const N = h.shape[0];
  const B = N / 2;
  const L = h.shape[1];
  const a = tf.slice(h, [0, 0], [B, L]) as Tensor2D;
  const b = tf.slice(h, [B, 0], [B, L]) as Tensor2D;
  // rows shifted by `shift`: bNeg[n] = b[(n + shift) mod B]
  const bNeg = tf.concat([tf.slice(b, [shift, 0], [B - shift, L]), tf.slice(b, [0, 0], [shift, L])], 0) as Tensor2D;
  const pos = pclLogits(tf, a, b, c);
  const neg = pclLogits(tf, a, bNeg, c);
  const loss = tf.add(tf.mul(0.5, tf.mean(tf.softplus(tf.neg(pos)))), tf.mul(0.5, tf.mean(tf.softplus(neg)))) as Scalar;
  const accuracy = tf.mul(0.5, tf.add(tf.mean(tf.cast(tf.greater(pos, 0), 'float32')), tf.mean(tf.cast(tf.less(neg, 0), 'float32')))) as Scalar;
  return { loss, accuracy };
}

export const pcl: ObjectiveDef = {
  id: 'pcl',
  name: 'PCL',
  description:
    'Permutation-contrastive learning (Hyvärinen & Morioka, AISTATS 2017): a non-variational encoder trained, with a logistic classifier on its codes, to tell real temporal pairs from pairs with a random second element. The paper’s control that does not rely on the VAE objective.',
  params: [...pairParams],
  variational: false,
  pairs: true,
  decoder: false,
  create({ tf, latent, scope }) {
    const L = latent;
    const params: ParamInfo[] = createParams(tf, `${scope}/pcl`, [
      { name: 'classifier/alpha', shape: [L], init: new Float32Array(L).fill(-1) },
      { name: 'classifier/beta', shape: [L], init: new Float32Array(L) },
      { name: 'classifier/gamma', shape: [L], init: new Float32Array(L) },
      { name: 'classifier/bias', shape: [1], init: new Float32Array(1) },
    ]);
    const [alpha, beta, gamma, bias] = params.map((p) => p.variable as unknown as Tensor1D) as [Tensor1D, Tensor1D, Tensor1D, Tensor1D];
    return {
      extraParams: params,
      loss(out, ctx) {
        if (out.mean.shape[0] % 2 !== 0) throw new Error('pcl needs an even batch of pairs');
        const shift = negativeShift(out.mean.shape[0] / 2, ctx.rng);
        const { loss, accuracy } = pclLoss(tf, out.mean, { alpha, beta, gamma, bias }, shift);
        return { loss, terms: { loss, classification: loss, accuracy } };
      },
    };
  },
};
