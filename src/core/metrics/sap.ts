/**
 * SAP score, discrete factors (Kumar et al. 2018), disentanglement_lib
 * `sap_score.py`: for every (code, factor) a LinearSVC(C = 0.01,
 * class_weight='balanced') predicting the factor from that one code, scored
 * by accuracy on the test points; per factor the gap between the best two
 * codes; mean over factors.
 */
import { fitLinearSvm, linearSvmPredict } from './linear.js';
import { inverseRegSpec } from './explicitness.js';
import { numTestSpec, numTrainSpec } from './mig.js';
import { column, intColumn } from './stats.js';
import type { MetricEntry } from './types.js';
import { num, trainTestRows } from './types.js';

/** Mean over columns of (largest − second largest) of a rows×cols matrix. */
export function avgTopTwoGap(m: ArrayLike<number>, rows: number, cols: number): number {
  let sum = 0;
  for (let k = 0; k < cols; k++) {
    let a = -Infinity, b = -Infinity;
    for (let d = 0; d < rows; d++) {
      const v = m[d * cols + k]!;
      if (v > a) { b = a; a = v; } else if (v > b) b = v;
    }
    if (rows < 2) b = 0;
    sum += a - b;
  }
  return sum / cols;
}

export function sapScoreMatrix(
  train: { codes: ArrayLike<number>; factors: Int32Array; n: number },
  test: { codes: ArrayLike<number>; factors: Int32Array; n: number },
  numCodes: number,
  numFactors: number,
  C = 0.01,
): Float64Array {
  const m = new Float64Array(numCodes * numFactors);
  for (let d = 0; d < numCodes; d++) {
    const xtr = column(train.codes, train.n, numCodes, d);
    const xte = column(test.codes, test.n, numCodes, d);
    for (let k = 0; k < numFactors; k++) {
      const ytr = intColumn(train.factors, train.n, numFactors, k);
      const yte = intColumn(test.factors, test.n, numFactors, k);
      const model = fitLinearSvm(xtr, ytr, train.n, 1, { C, balanced: true });
      const pred = linearSvmPredict(model, xte, test.n);
      let hit = 0;
      for (let i = 0; i < test.n; i++) if (pred[i] === yte[i]) hit++;
      m[d * numFactors + k] = hit / test.n;
    }
  }
  return m;
}

export const sap: MetricEntry = {
  id: 'sap',
  name: 'SAP',
  description: 'Separated Attribute Predictability: per factor, the gap in test accuracy between the two single codes that predict it best (linear SVM); mean over factors.',
  estimator: 'per (code, factor) LinearSVC (squared hinge, L2, C, balanced class weights, one-vs-rest) on that code alone, test accuracy; mean top-two gap over factors',
  settings: [numTrainSpec(), numTestSpec(), inverseRegSpec(0.01, 'linear SVM (disentanglement_lib: 0.01)')],
  uses: ['train', 'test'],
  async compute(ctx, s) {
    const { K, D, train, test } = trainTestRows(ctx, s);
    const m = sapScoreMatrix(
      train,
      test,
      D, K, num(s, 'c'),
    );
    return {
      scores: { sap: avgTopTwoGap(m, D, K) },
      primary: 'sap',
      samples: { train: train.n, test: test.n },
      details: { score_matrix: Array.from(m), score_matrix_shape: [D, K] },
      notes: D < 2 ? ['one code only: the second-best accuracy is taken as 0'] : [],
    };
  },
};
