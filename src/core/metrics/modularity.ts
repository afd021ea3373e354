/**
 * Modularity (Ridgeway & Mozer 2018), disentanglement_lib
 * `modularity_explicitness.modularity`: from the MI matrix (codes × factors)
 * of histogram-discretised codes, per code
 * 1 − (Σ_k m² − max m²)/(max m²·(K − 1)), 0 where max m is 0; mean over codes.
 *
 * Equal to a numpy + scikit-learn reference to 1e-12 on the same rows and
 * factor columns (tests/unit/metrics/modularity-reference.test.ts). On codes
 * that carry no information it is not near 0: each MI entry is the plug-in
 * bias ≈ (bins − 1)(k − 1)/2N, so it tends to a value set by the factor sizes
 * (0.68 for dSprites), a constant factor column raises it by (1 − m)/K, and
 * another draw of rows moves it by ≈ 0.015 — compare it only on equal inputs.
 */
import { numBinsSpec, numTrainSpec } from './mig.js';
import { discretizedMutualInfo } from './stats.js';
import type { MetricEntry } from './types.js';
import { num } from './types.js';

/** Per-code modularity and its mean from an MI matrix (D×K, row-major). */
export function modularityFromMatrix(mi: ArrayLike<number>, numCodes: number, numFactors: number): { modularity: number; perCode: number[] } {
  const perCode: number[] = [];
  for (let d = 0; d < numCodes; d++) {
    let sum = 0;
    let max = 0;
    for (let k = 0; k < numFactors; k++) {
      const m2 = mi[d * numFactors + k]! ** 2;
      sum += m2;
      if (m2 > max) max = m2;
    }
    // K = 1 divides 0 by 0 in disentanglement_lib (NaN); we score a single factor as perfectly modular.
    const score = max === 0 ? 0 : numFactors === 1 ? 1 : 1 - (sum - max) / (max * (numFactors - 1));
    perCode.push(score);
  }
  const modularity = perCode.reduce((a, b) => a + b, 0) / Math.max(1, numCodes);
  return { modularity, perCode };
}

export const modularity: MetricEntry = {
  id: 'modularity',
  name: 'Modularity',
  description: 'How much each code depends on one factor only: 1 minus the normalised squared MI with the other factors; mean over codes.',
  estimator: 'MI matrix of histogram-discretised codes (as MIG), per code 1 − (Σm² − max m²)/(max m²·(K−1)), 0 when max m = 0, mean over all codes',
  settings: [numTrainSpec(), numBinsSpec],
  uses: ['train'],
  async compute(ctx, s) {
    const n = Math.min(num(s, 'num_train'), ctx.train.n);
    const K = ctx.factorSizes.length;
    const D = ctx.numCodes;
    const mi = discretizedMutualInfo(ctx.train.codes.subarray(0, n * D), ctx.train.factors.subarray(0, n * K), n, D, K, num(s, 'num_bins'));
    const r = modularityFromMatrix(mi, D, K);
    return {
      scores: { modularity: r.modularity },
      primary: 'modularity',
      samples: { train: n },
      details: { per_code: r.perCode, mi: Array.from(mi), mi_shape: [D, K] },
      notes: K === 1 ? ['one factor: every informative code counts as modular (1)'] : [],
    };
  },
};
