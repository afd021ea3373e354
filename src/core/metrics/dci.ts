/**
 * DCI (Eastwood & Williams 2018), disentanglement_lib `dci.py`: one
 * gradient-boosted tree classifier per factor on all codes; R = |feature
 * importances| (codes × factors). Disentanglement = Σ_i ρ_i (1 − H_K(R_i·)),
 * ρ_i the code's share of the total importance; completeness = Σ_k ρ_k
 * (1 − H_D(R_·k)); entropies as scipy.stats.entropy of R + 1e-11 in base K
 * (factors) and D (codes); informativeness = mean accuracy over factors on the
 * training and the test points.
 */
import type { ParamSpec } from '../../shared/params.js';
import { fitGbt, gbtPredict, presort } from './gbt.js';
import { numTestSpec, numTrainSpec } from './mig.js';
import { entropyOf, intColumn } from './stats.js';
import type { MetricEntry } from './types.js';
import { num, trainTestRows } from './types.js';

const TINY = 1e-11;

/** Per-code disentanglement 1 − H_K(R_i· + 1e-11) for an importance matrix D×K. */
export function disentanglementPerCode(R: ArrayLike<number>, D: number, K: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < D; i++) {
    const row = new Float64Array(K);
    for (let k = 0; k < K; k++) row[k] = R[i * K + k]! + TINY;
    out.push(K > 1 ? 1 - entropyOf(row, K) : 1);
  }
  return out;
}

export function completenessPerFactor(R: ArrayLike<number>, D: number, K: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < K; k++) {
    const col = new Float64Array(D);
    for (let i = 0; i < D; i++) col[i] = R[i * K + k]! + TINY;
    out.push(D > 1 ? 1 - entropyOf(col, D) : 1);
  }
  return out;
}

export function dciDisentanglement(R: ArrayLike<number>, D: number, K: number): number {
  const per = disentanglementPerCode(R, D, K);
  let total = 0;
  for (let i = 0; i < D * K; i++) total += R[i]!;
  let s = 0;
  for (let i = 0; i < D; i++) {
    let rowSum = 0;
    for (let k = 0; k < K; k++) rowSum += total === 0 ? 1 : R[i * K + k]!;
    s += per[i]! * (rowSum / (total === 0 ? D * K : total));
  }
  return s;
}

export function dciCompleteness(R: ArrayLike<number>, D: number, K: number): number {
  const per = completenessPerFactor(R, D, K);
  let total = 0;
  for (let i = 0; i < D * K; i++) total += R[i]!;
  let s = 0;
  for (let k = 0; k < K; k++) {
    let colSum = 0;
    for (let i = 0; i < D; i++) colSum += total === 0 ? 1 : R[i * K + k]!;
    s += per[k]! * (colSum / (total === 0 ? D * K : total));
  }
  return s;
}

export interface DciResult {
  disentanglement: number;
  completeness: number;
  informativenessTrain: number;
  informativenessTest: number;
  /** D×K row-major. */
  importance: Float64Array;
  perFactorTrain: number[];
  perFactorTest: number[];
}

export function computeDci(
  train: { codes: ArrayLike<number>; factors: Int32Array; n: number },
  test: { codes: ArrayLike<number>; factors: Int32Array; n: number },
  D: number,
  K: number,
  rng: import('../util/rng.js').Rng,
  opts: { nEstimators?: number; learningRate?: number; maxDepth?: number } = {},
): DciResult {
  const data = presort(train.codes, train.n, D);
  const Xte = Float32Array.from({ length: test.n * D }, (_, i) => test.codes[i]!);
  const R = new Float64Array(D * K);
  const perFactorTrain: number[] = [];
  const perFactorTest: number[] = [];
  for (let k = 0; k < K; k++) {
    const ytr = intColumn(train.factors, train.n, K, k);
    const yte = intColumn(test.factors, test.n, K, k);
    const model = fitGbt(data, ytr, rng.fork(`factor${k}`), opts);
    for (let i = 0; i < D; i++) R[i * K + k] = Math.abs(model.featureImportances[i]!);
    let hit = 0;
    for (let i = 0; i < train.n; i++) if (model.trainPredictions[i] === ytr[i]) hit++;
    perFactorTrain.push(hit / train.n);
    const pred = gbtPredict(model, Xte, test.n);
    hit = 0;
    for (let i = 0; i < test.n; i++) if (pred[i] === yte[i]) hit++;
    perFactorTest.push(test.n ? hit / test.n : NaN);
  }
  const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  return {
    disentanglement: dciDisentanglement(R, D, K),
    completeness: dciCompleteness(R, D, K),
    informativenessTrain: avg(perFactorTrain),
    informativenessTest: avg(perFactorTest),
    importance: R,
    perFactorTrain,
    perFactorTest,
  };
}

const gbtSettings: ParamSpec[] = [
  { key: 'n_estimators', label: 'Boosting stages', description: 'Stages of the gradient-boosted classifier (scikit-learn default 100).', type: 'integer', default: 100, min: 1, max: 2000 },
  { key: 'max_depth', label: 'Tree depth', description: 'Depth of each regression tree (scikit-learn default 3).', type: 'integer', default: 3, min: 1, max: 10 },
  { key: 'learning_rate', label: 'Learning rate', description: 'Shrinkage of each tree (scikit-learn default 0.1).', type: 'number', default: 0.1, min: 1e-4, max: 1, log: true },
];

export const dci: MetricEntry = {
  id: 'dci',
  name: 'DCI',
  description: 'Disentanglement, completeness and informativeness from the feature importances of one gradient-boosted tree classifier per factor.',
  estimator: 'GradientBoostingClassifier semantics (multinomial deviance, friedman-MSE trees, Newton leaves, exact presorted split search, float32 features), |importances| codes × factors, entropies base K / base D with +1e-11; informativeness = accuracy',
  settings: [numTrainSpec(), numTestSpec(), ...gbtSettings],
  uses: ['train', 'test'],
  async compute(ctx, s) {
    const { K, D, train, test } = trainTestRows(ctx, s);
    const r = computeDci(
      train,
      test,
      D, K, ctx.rng,
      { nEstimators: num(s, 'n_estimators'), maxDepth: num(s, 'max_depth'), learningRate: num(s, 'learning_rate') },
    );
    return {
      scores: {
        disentanglement: r.disentanglement,
        completeness: r.completeness,
        informativeness_train: r.informativenessTrain,
        informativeness_test: r.informativenessTest,
      },
      primary: 'disentanglement',
      samples: { train: train.n, test: test.n },
      details: { importance: Array.from(r.importance), importance_shape: [D, K], accuracy_train: r.perFactorTrain, accuracy_test: r.perFactorTest },
      notes: [],
    };
  },
};
