/**
 * Mutual Information Gap (Chen et al. 2018), disentanglement_lib `mig.py`:
 * codes discretised into equal-width bins, MI (nats) of every code with every
 * factor, per factor (top1 − top2)/H(factor), mean over factors.
 */
import type { ParamSpec } from '../../shared/params.js';
import { discreteEntropy, discretizedMutualInfo, intColumn } from './stats.js';
import type { MetricEntry } from './types.js';
import { num } from './types.js';

export interface MigResult {
  mig: number;
  /** Per factor gap/entropy (NaN for a constant factor, left out of the mean). */
  perFactor: number[];
  /** MI matrix codes × factors (row-major, D×K), nats. */
  mi: Float64Array;
  entropies: number[];
}

/** MIG from an MI matrix (D×K) and factor entropies. */
export function migFromMatrix(mi: Float64Array, entropies: readonly number[], numCodes: number): { mig: number; perFactor: number[] } {
  const K = entropies.length;
  const perFactor: number[] = [];
  let sum = 0;
  let used = 0;
  for (let k = 0; k < K; k++) {
    let top1 = -Infinity;
    let top2 = -Infinity;
    for (let d = 0; d < numCodes; d++) {
      const v = mi[d * K + k]!;
      if (v > top1) {
        top2 = top1;
        top1 = v;
      } else if (v > top2) top2 = v;
    }
    if (numCodes < 2) top2 = 0;
    const h = entropies[k]!;
    const g = h > 0 ? (top1 - top2) / h : NaN;
    perFactor.push(g);
    if (h > 0) {
      sum += g;
      used++;
    }
  }
  return { mig: used ? sum / used : NaN, perFactor };
}

export function computeMig(codes: Float64Array | Float32Array, factors: Int32Array, n: number, numCodes: number, numFactors: number, bins = 20): MigResult {
  const mi = discretizedMutualInfo(codes, factors, n, numCodes, numFactors, bins);
  const entropies: number[] = [];
  for (let k = 0; k < numFactors; k++) entropies.push(discreteEntropy(intColumn(factors, n, numFactors, k)));
  const { mig, perFactor } = migFromMatrix(mi, entropies, numCodes);
  return { mig, perFactor, mi, entropies };
}

export const numTrainSpec = (def = 10000): ParamSpec => ({
  key: 'num_train',
  label: 'Training points',
  description: 'Points used to fit/estimate (disentanglement_lib study: 10,000). Capped by the rows available.',
  type: 'integer',
  default: def,
  min: 2,
  max: 1_000_000,
});

export const numTestSpec = (def = 5000): ParamSpec => ({
  key: 'num_test',
  label: 'Test points',
  description: 'Held-out points for the test score (disentanglement_lib study: 5,000). Capped by the rows available.',
  type: 'integer',
  default: def,
  min: 1,
  max: 1_000_000,
});

export const numBinsSpec: ParamSpec = {
  key: 'num_bins',
  label: 'Histogram bins',
  description: 'Equal-width bins per code between its minimum and maximum (disentanglement_lib: 20).',
  type: 'integer',
  default: 20,
  min: 2,
  max: 1000,
};

export const mig: MetricEntry = {
  id: 'mig',
  name: 'MIG',
  description: 'Mutual Information Gap: per factor, the gap between the two codes most informative about it, over its entropy; mean over factors.',
  estimator: 'histogram discretisation (equal-width bins per code), sklearn mutual_info_score (nats), (top1 − top2)/H(factor), mean over non-constant factors',
  settings: [numTrainSpec(), numBinsSpec],
  uses: ['train'],
  async compute(ctx, s) {
    const n = Math.min(num(s, 'num_train'), ctx.train.n);
    const K = ctx.factorSizes.length;
    const D = ctx.numCodes;
    const r = computeMig(ctx.train.codes.subarray(0, n * D), ctx.train.factors.subarray(0, n * K), n, D, K, num(s, 'num_bins'));
    const notes: string[] = [];
    r.perFactor.forEach((g, k) => { if (Number.isNaN(g)) notes.push(`factor ${k} is constant in the sample: left out of the mean`); });
    if (D < 2) notes.push('one code only: the second-best MI is taken as 0');
    return {
      scores: { mig: r.mig },
      primary: 'mig',
      samples: { train: n },
      details: { mi: Array.from(r.mi), mi_shape: [D, K], per_factor: r.perFactor, factor_entropies: r.entropies },
      notes,
    };
  },
};
