/**
 * AnnealedVAE (Burgess et al. 2018): reconstruction + γ·|KL − C|, with the
 * capacity C = min(c_max, c_max·step/iteration_threshold) (disentanglement_lib:
 * step is the global step before the update).
 */
import type { Scalar } from '@tensorflow/tfjs';
import { numberParam } from './common.js';
import { num } from './types.js';
import { vaeObjective } from './vae.js';

/** The capacity schedule. */
export function annealedCapacity(step: number, cMax: number, iterationThreshold: number): number {
  return Math.min(cMax, (cMax * step) / iterationThreshold);
}

export const annealedVae = vaeObjective({
  id: 'annealed_vae',
  name: 'AnnealedVAE',
  description:
    'VAE whose KL is pulled towards a capacity C that grows linearly to c_max over iteration_threshold steps, with weight γ (Burgess et al. 2018).',
  params: [
    numberParam('gamma', 'γ', 'Weight of |KL − C|.', { default: 1000, min: 0, max: 100000, log: true }),
    numberParam('c_max', 'c_max', 'Final capacity (nats).', { default: 25, min: 0, max: 1000, grid: [5, 10, 25, 50, 75, 100] }),
    numberParam('iteration_threshold', 'Annealing steps', 'Steps over which C grows from 0 to c_max.', {
      type: 'integer',
      default: 100000,
      min: 1,
      max: 10000000,
    }),
  ],
  regularizer({ tf, step, params, kl }) {
    const capacity = tf.scalar(annealedCapacity(step, num(params, 'c_max'), num(params, 'iteration_threshold')));
    const penalty = tf.mul(num(params, 'gamma'), tf.abs(tf.sub(kl, capacity))) as Scalar;
    return { klTerm: penalty, logged: { capacity, capacity_penalty: penalty } };
  },
});
