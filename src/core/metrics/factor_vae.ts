/**
 * FactorVAE score (Kim & Mnih 2018), disentanglement_lib `factor_vae.py`:
 * global variance (ddof 1) of each code over `num_variance_estimate` samples;
 * codes with std < `prune_threshold` are left out; each vote draws a factor k
 * uniformly and a batch with k fixed, and votes (k, argmin over the kept
 * codes of local variance / global variance); the classifier maps each code
 * to the factor it got most votes for; accuracy = votes the classifier gets
 * right / all votes, on the training votes and on fresh evaluation votes.
 */
import type { ParamSpec } from '../../shared/params.js';
import type { Rng } from '../util/rng.js';
import type { GroundTruthSampler } from './sampler.js';
import { fixedFactorBatch } from './sampler.js';
import { columnVariances } from './stats.js';
import type { MetricEntry } from './types.js';
import { num } from './types.js';

export interface FactorVaeOptions {
  batchSize?: number;
  numTrain?: number;
  numEval?: number;
  numVarianceEstimate?: number;
  pruneThreshold?: number;
}

export interface FactorVaeResult {
  trainAccuracy: number;
  evalAccuracy: number;
  numActiveDims: number;
  globalVariances: number[];
  /** K×D vote counts on the training votes. */
  trainVotes: number[][];
  /** For each code, the factor the majority vote assigns (−1 for pruned codes). */
  classifier: number[];
}

async function votes(s: GroundTruthSampler, rng: Rng, count: number, batch: number, globalVar: Float64Array, active: number[]): Promise<number[][]> {
  const K = s.factorSizes.length;
  const D = s.numCodes;
  const v = Array.from({ length: K }, () => new Array<number>(D).fill(0));
  for (let t = 0; t < count; t++) {
    const k = rng.int(K);
    const z = await fixedFactorBatch(s, batch, k, rng);
    const local = columnVariances(z, batch, D, 1);
    let arg = -1;
    let bestRatio = Infinity;
    for (const d of active) {
      const ratio = local[d]! / globalVar[d]!;
      if (ratio < bestRatio || arg < 0) { bestRatio = ratio; arg = d; }
    }
    v[k]![arg]!++;
  }
  return v;
}

function accuracy(v: number[][], classifier: number[]): number {
  let right = 0, total = 0;
  for (let k = 0; k < v.length; k++) for (let d = 0; d < classifier.length; d++) {
    total += v[k]![d]!;
    if (classifier[d] === k) right += v[k]![d]!;
  }
  return total ? right / total : 0;
}

export async function computeFactorVae(s: GroundTruthSampler, rng: Rng, o: FactorVaeOptions = {}): Promise<FactorVaeResult> {
  const batch = o.batchSize ?? 64;
  const nVar = o.numVarianceEstimate ?? 10000;
  const thr = o.pruneThreshold ?? 0.05;
  const K = s.factorSizes.length;
  const D = s.numCodes;
  const zVar = await s.codesFor(s.sampleFactors(nVar, rng), rng);
  const globalVar = columnVariances(zVar, nVar, D, 1);
  const active: number[] = [];
  for (let d = 0; d < D; d++) if (Math.sqrt(globalVar[d]!) >= thr) active.push(d);
  if (active.length === 0) {
    return { trainAccuracy: 0, evalAccuracy: 0, numActiveDims: 0, globalVariances: Array.from(globalVar), trainVotes: Array.from({ length: K }, () => new Array<number>(D).fill(0)), classifier: new Array<number>(D).fill(-1) };
  }
  const trainVotes = await votes(s, rng, o.numTrain ?? 10000, batch, globalVar, active);
  // majority vote per code (ties → lowest factor index); codes that never won a vote keep factor 0, as np.argmax does
  const classifier: number[] = [];
  for (let d = 0; d < D; d++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (trainVotes[k]![d]! > trainVotes[best]![d]!) best = k;
    classifier.push(active.includes(d) ? best : -1);
  }
  const evalVotes = await votes(s, rng, o.numEval ?? 5000, batch, globalVar, active);
  return {
    trainAccuracy: accuracy(trainVotes, classifier),
    evalAccuracy: accuracy(evalVotes, classifier),
    numActiveDims: active.length,
    globalVariances: Array.from(globalVar),
    trainVotes,
    classifier,
  };
}

export const batchSizeSpec: ParamSpec = { key: 'batch_size', label: 'Batch size', description: 'Observations per vote/point (disentanglement_lib study: 64).', type: 'integer', default: 64, min: 2, max: 10000 };
export const numVotesTrainSpec: ParamSpec = { key: 'num_train', label: 'Training points', description: 'Training votes/points, one batch each (disentanglement_lib study: 10,000).', type: 'integer', default: 10000, min: 1, max: 1_000_000 };
export const numVotesEvalSpec: ParamSpec = { key: 'num_eval', label: 'Evaluation points', description: 'Evaluation votes/points (disentanglement_lib study: 5,000).', type: 'integer', default: 5000, min: 1, max: 1_000_000 };

export const factorVae: MetricEntry = {
  id: 'factor_vae',
  name: 'FactorVAE score',
  description: 'Accuracy of a majority-vote classifier that names the fixed factor of a batch from the code with the smallest normalised variance.',
  estimator: 'global variances (ddof 1), prune std < threshold, votes argmin(local var / global var) over batches with one factor fixed, majority vote per code; train and eval accuracy',
  settings: [
    batchSizeSpec,
    numVotesTrainSpec,
    numVotesEvalSpec,
    { key: 'num_variance_estimate', label: 'Variance samples', description: 'Samples for the global variance of each code (disentanglement_lib study: 10,000).', type: 'integer', default: 10000, min: 2, max: 1_000_000 },
    { key: 'prune_threshold', label: 'Prune threshold', description: 'Codes whose global std is below this are ignored (disentanglement_lib: 0.05).', type: 'number', default: 0.05, min: 0, max: 10 },
  ],
  uses: ['sampler'],
  async compute(ctx, s) {
    const r = await computeFactorVae(ctx.sampler, ctx.rng, {
      batchSize: num(s, 'batch_size'),
      numTrain: num(s, 'num_train'),
      numEval: num(s, 'num_eval'),
      numVarianceEstimate: num(s, 'num_variance_estimate'),
      pruneThreshold: num(s, 'prune_threshold'),
    });
    return {
      scores: { train_accuracy: r.trainAccuracy, eval_accuracy: r.evalAccuracy, num_active_dims: r.numActiveDims },
      primary: 'eval_accuracy',
      samples: { variance_estimate: num(s, 'num_variance_estimate'), votes_train: num(s, 'num_train'), votes_eval: num(s, 'num_eval'), batch: num(s, 'batch_size') },
      details: { global_variances: r.globalVariances, train_votes: r.trainVotes, classifier: r.classifier },
      notes: r.numActiveDims === 0 ? ['every code was pruned: scores are 0'] : [],
    };
  },
};
