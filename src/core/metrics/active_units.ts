/**
 * Active units, both rules of PAPER.md:
 * - with posterior log-variances: a unit is active when E_x[σ_i²(x)] < 0.8
 *   (the paper's rule; runs with fewer active units than factors are left out
 *   of its robustness analysis);
 * - from the means alone: active when the std of μ_i over the data > 0.5
 *   (Rolinek et al.'s polarised regime; population std).
 */
import { numTrainSpec } from './mig.js';
import { columnVariances } from './stats.js';
import type { MetricEntry } from './types.js';
import { num } from './types.js';

export interface ActiveUnitsResult {
  /** Count by the variance rule, when log-variances were given. */
  byVariance: number | null;
  /** Count by the std-of-means rule. */
  byMeanStd: number;
  meanPosteriorVariance: number[] | null;
  meanStd: number[];
}

export function computeActiveUnits(
  codes: ArrayLike<number>,
  logVariances: ArrayLike<number> | undefined,
  n: number,
  D: number,
  opts: { varianceThreshold?: number; stdThreshold?: number } = {},
): ActiveUnitsResult {
  const vt = opts.varianceThreshold ?? 0.8;
  const st = opts.stdThreshold ?? 0.5;
  const meanStd = Array.from(columnVariances(codes, n, D, 0), Math.sqrt);
  const byMeanStd = meanStd.filter((s) => s > st).length;
  if (!logVariances) return { byVariance: null, byMeanStd, meanPosteriorVariance: null, meanStd };
  const mv = new Array<number>(D).fill(0);
  for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) mv[d]! += Math.exp(logVariances[i * D + d]!);
  for (let d = 0; d < D; d++) mv[d]! /= n;
  return { byVariance: mv.filter((v) => v < vt).length, byMeanStd, meanPosteriorVariance: mv, meanStd };
}

export const activeUnits: MetricEntry = {
  id: 'active_units',
  name: 'Active units',
  description: 'Number of latent units in use: mean posterior variance below 0.8 (with log-variances), or std of the posterior mean over the data above 0.5.',
  estimator: 'E_x[exp(logvar_i)] < variance_threshold when log-variances are given; std_x(μ_i) (ddof 0) > std_threshold always',
  settings: [
    numTrainSpec(),
    { key: 'variance_threshold', label: 'Variance threshold', description: 'A unit is active when its mean posterior variance is below this (paper: 0.8).', type: 'number', default: 0.8, min: 0, max: 10 },
    { key: 'std_threshold', label: 'Std threshold', description: 'From means alone: active when the std of μ over the data exceeds this (Rolinek et al.: 0.5).', type: 'number', default: 0.5, min: 0, max: 10 },
  ],
  uses: ['train', 'logvar'],
  async compute(ctx, s) {
    const D = ctx.numCodes;
    const n = Math.min(num(s, 'num_train'), ctx.train.n);
    const lv = ctx.trainLogVariances?.subarray(0, n * D);
    const r = computeActiveUnits(ctx.train.codes.subarray(0, n * D), lv, n, D, { varianceThreshold: num(s, 'variance_threshold'), stdThreshold: num(s, 'std_threshold') });
    const scores: Record<string, number> = { active_units_std: r.byMeanStd };
    if (r.byVariance !== null) scores.active_units_variance = r.byVariance;
    scores.active_units = r.byVariance ?? r.byMeanStd;
    return {
      scores,
      primary: 'active_units',
      samples: { train: n },
      details: { mean_std: r.meanStd, mean_posterior_variance: r.meanPosteriorVariance },
      notes: r.byVariance === null ? ['no log-variances given: counted by the std-of-means rule'] : ['counted by the posterior-variance rule; the std-of-means count is active_units_std'],
    };
  },
};
