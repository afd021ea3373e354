/**
 * Explicitness (Ridgeway & Mozer 2018), disentanglement_lib
 * `modularity_explicitness`: codes standardised with the training mean and
 * (population) std; per factor a logistic regression (sklearn default,
 * C = 1) on all codes; ROC-AUC of its class probabilities, one-vs-rest per
 * class, macro-averaged over classes (roc_auc_score on the binarised labels);
 * mean over factors, on the training and the test points.
 */
import type { ParamSpec } from '../../shared/params.js';
import { fitLogistic, logisticProba } from './linear.js';
import { numTestSpec, numTrainSpec } from './mig.js';
import { columnMeans, columnVariances, intColumn, rocAuc } from './stats.js';
import type { MetricEntry } from './types.js';
import { num, trainTestRows } from './types.js';

export const inverseRegSpec = (def: number, what: string): ParamSpec => ({
  key: 'c',
  label: 'C (inverse regularisation)',
  description: `Inverse L2 strength of the ${what} (scikit-learn default 1).`,
  type: 'number',
  default: def,
  min: 1e-6,
  max: 1e6,
  log: true,
});

/** Standardise columns with the given mean/std (a zero std leaves the column centred, unscaled). */
export function standardize(X: ArrayLike<number>, n: number, d: number, mu: Float64Array, sd: Float64Array): Float64Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (X[i * d + j]! - mu[j]!) / (sd[j]! > 0 ? sd[j]! : 1);
  return out;
}

/** Macro ROC-AUC over the classes of `model` present in y with both positives and negatives. */
export function macroAuc(proba: Float64Array, classes: number[], y: ArrayLike<number>, n: number): number {
  const K = classes.length;
  let sum = 0;
  let used = 0;
  for (let c = 0; c < K; c++) {
    const pos = new Uint8Array(n);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      pos[i] = y[i] === classes[c] ? 1 : 0;
      s[i] = proba[i * K + c]!;
    }
    const auc = rocAuc(pos, s);
    if (!Number.isNaN(auc)) { sum += auc; used++; }
  }
  return used ? sum / used : NaN;
}

export interface ExplicitnessResult {
  train: number;
  test: number;
  perFactorTrain: number[];
  perFactorTest: number[];
}

export function computeExplicitness(
  train: { codes: ArrayLike<number>; factors: Int32Array; n: number },
  test: { codes: ArrayLike<number>; factors: Int32Array; n: number },
  numCodes: number,
  numFactors: number,
  C = 1,
): ExplicitnessResult {
  const D = numCodes;
  const mu = columnMeans(train.codes, train.n, D);
  const sd = columnVariances(train.codes, train.n, D, 0).map(Math.sqrt);
  const Xtr = standardize(train.codes, train.n, D, mu, sd);
  const Xte = standardize(test.codes, test.n, D, mu, sd);
  const perFactorTrain: number[] = [];
  const perFactorTest: number[] = [];
  for (let k = 0; k < numFactors; k++) {
    const ytr = intColumn(train.factors, train.n, numFactors, k);
    const yte = intColumn(test.factors, test.n, numFactors, k);
    const model = fitLogistic(Xtr, ytr, train.n, D, { C });
    perFactorTrain.push(macroAuc(logisticProba(model, Xtr, train.n), model.classes, ytr, train.n));
    perFactorTest.push(macroAuc(logisticProba(model, Xte, test.n), model.classes, yte, test.n));
  }
  const avg = (a: number[]) => { const v = a.filter((x) => !Number.isNaN(x)); return v.length ? v.reduce((s, x) => s + x, 0) / v.length : NaN; };
  return { train: avg(perFactorTrain), test: avg(perFactorTest), perFactorTrain, perFactorTest };
}

export const explicitness: MetricEntry = {
  id: 'explicitness',
  name: 'Explicitness',
  description: 'How well a linear classifier reads each factor from the codes: one-vs-rest ROC-AUC of a logistic regression, mean over classes and factors.',
  estimator: 'standardised codes, multinomial logistic regression (L2, C), macro one-vs-rest ROC-AUC per factor, mean over factors; train and test',
  settings: [numTrainSpec(), numTestSpec(), inverseRegSpec(1, 'logistic regression')],
  uses: ['train', 'test'],
  async compute(ctx, s) {
    const { K, D, train, test } = trainTestRows(ctx, s);
    const r = computeExplicitness(
      train,
      test,
      D, K, num(s, 'c'),
    );
    const notes: string[] = [];
    r.perFactorTrain.forEach((v, k) => { if (Number.isNaN(v)) notes.push(`factor ${k}: a single class, no AUC (left out)`); });
    return {
      scores: { explicitness_train: r.train, explicitness_test: r.test },
      primary: 'explicitness_test',
      samples: { train: train.n, test: test.n },
      details: { per_factor_train: r.perFactorTrain, per_factor_test: r.perFactorTest },
      notes,
    };
  },
};
