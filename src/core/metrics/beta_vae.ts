/**
 * BetaVAE score (Higgins et al. 2017), disentanglement_lib `beta_vae.py`:
 * each point draws a factor k uniformly and two batches whose rows pairwise
 * share factor k; feature = mean over the batch of |z₁ − z₂| per code,
 * label k; a logistic regression (scikit-learn default: multinomial, L2,
 * C = 1) is fitted on the training points; accuracy on them and on fresh
 * evaluation points.
 */
import type { Rng } from '../util/rng.js';
import { batchSizeSpec, numVotesEvalSpec, numVotesTrainSpec } from './factor_vae.js';
import { inverseRegSpec } from './explicitness.js';
import { fitLogistic, logisticPredict } from './linear.js';
import type { GroundTruthSampler } from './sampler.js';
import { pairedBatches } from './sampler.js';
import type { MetricEntry } from './types.js';
import { num } from './types.js';

async function points(s: GroundTruthSampler, rng: Rng, count: number, batch: number): Promise<{ X: Float64Array; y: Int32Array }> {
  const K = s.factorSizes.length;
  const D = s.numCodes;
  const X = new Float64Array(count * D);
  const y = new Int32Array(count);
  for (let t = 0; t < count; t++) {
    const k = rng.int(K);
    const [z1, z2] = await pairedBatches(s, batch, k, rng);
    for (let i = 0; i < batch; i++) for (let d = 0; d < D; d++) X[t * D + d]! += Math.abs(z1[i * D + d]! - z2[i * D + d]!);
    for (let d = 0; d < D; d++) X[t * D + d]! /= batch;
    y[t] = k;
  }
  return { X, y };
}

export interface BetaVaeResult {
  trainAccuracy: number;
  evalAccuracy: number;
  converged: boolean;
}

export async function computeBetaVae(s: GroundTruthSampler, rng: Rng, o: { batchSize?: number; numTrain?: number; numEval?: number; C?: number } = {}): Promise<BetaVaeResult> {
  const batch = o.batchSize ?? 64;
  const nTr = o.numTrain ?? 10000;
  const nEv = o.numEval ?? 5000;
  const D = s.numCodes;
  const tr = await points(s, rng, nTr, batch);
  const model = fitLogistic(tr.X, tr.y, nTr, D, { C: o.C ?? 1 });
  const acc = (X: Float64Array, y: Int32Array, n: number) => {
    const p = logisticPredict(model, X, n);
    let hit = 0;
    for (let i = 0; i < n; i++) if (p[i] === y[i]) hit++;
    return hit / n;
  };
  const ev = await points(s, rng, nEv, batch);
  return { trainAccuracy: acc(tr.X, tr.y, nTr), evalAccuracy: acc(ev.X, ev.y, nEv), converged: model.converged };
}

export const betaVae: MetricEntry = {
  id: 'beta_vae',
  name: 'BetaVAE score',
  description: 'Accuracy of a linear classifier that names the shared factor of paired batches from their mean absolute code difference.',
  estimator: 'features mean |z1 − z2| over paired batches sharing one factor, multinomial logistic regression (L2, C, L-BFGS to convergence); train and eval accuracy',
  settings: [batchSizeSpec, numVotesTrainSpec, numVotesEvalSpec, inverseRegSpec(1, 'logistic regression')],
  uses: ['sampler'],
  async compute(ctx, s) {
    const r = await computeBetaVae(ctx.sampler, ctx.rng, { batchSize: num(s, 'batch_size'), numTrain: num(s, 'num_train'), numEval: num(s, 'num_eval'), C: num(s, 'c') });
    return {
      scores: { train_accuracy: r.trainAccuracy, eval_accuracy: r.evalAccuracy },
      primary: 'eval_accuracy',
      samples: { points_train: num(s, 'num_train'), points_eval: num(s, 'num_eval'), batch: num(s, 'batch_size') },
      notes: r.converged ? [] : ['logistic regression stopped at its iteration limit before the gradient tolerance'],
    };
  },
};
