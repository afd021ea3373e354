/** Shared shapes of the metrics room: inputs every metric sees, outputs and provenance. */
import type { ParamSpec, ParamValues } from '../../shared/params.js';
import type { Rng } from '../util/rng.js';
import type { GroundTruthSampler } from './sampler.js';
import type { CodeArray } from './stats.js';

/** Rows of (factor classes, codes): factors N×K int32, codes N×D, row-major. */
export interface Split {
  n: number;
  factors: Int32Array;
  codes: CodeArray;
}

export interface MetricContext {
  /** Number of classes of each factor. */
  factorSizes: readonly number[];
  numCodes: number;
  /** Training pool (disjoint from the test pool); a metric uses its first min(num_train, n) rows. */
  train: Split;
  test: Split;
  /** For the metrics that need batches with a factor held fixed. */
  sampler: GroundTruthSampler;
  /** Posterior log-variances of the training pool rows (N×D), when known. */
  trainLogVariances?: CodeArray;
  codesAreMeans: boolean;
  /** A generator for this metric alone. */
  rng: Rng;
}

export interface MetricOutput {
  /** Every score the metric produces (e.g. train and eval accuracy). */
  scores: Record<string, number>;
  /** Key of the headline score in `scores`. */
  primary: string;
  /** Counts actually used. */
  samples: Record<string, number>;
  /** Matrices and per-factor/per-code values behind the scores. */
  details?: Record<string, unknown>;
  /** Anything a reader must know to interpret the value (skipped factors, degenerate cases). */
  notes?: string[];
}

export interface MetricEntry {
  id: string;
  name: string;
  description: string;
  /** One line naming the estimator and its convention. */
  estimator: string;
  settings: ParamSpec[];
  /** Which inputs it reads. */
  uses: ('train' | 'test' | 'sampler' | 'logvar')[];
  compute(ctx: MetricContext, settings: ParamValues): Promise<MetricOutput>;
}

export interface Provenance {
  metric: string;
  estimator: string;
  settings: ParamValues;
  samples: Record<string, number>;
  /** Histogram bins, for the metrics that discretise codes. */
  bins?: number;
  seed: number;
  codesAreMeans: boolean;
  sampler?: string;
  /** Size of the seeded sample of grid points encoded for this score (periodic scores). */
  points?: number;
  /** Training step of the weights that encoded the sample. */
  step?: number;
  notes: string[];
}

export interface MetricScore {
  metric: string;
  name: string;
  primary: string;
  /** scores[primary]; null when the metric failed. */
  value: number | null;
  scores: Record<string, number>;
  details?: Record<string, unknown>;
  provenance: Provenance;
  /** Wall-clock seconds. */
  seconds: number;
  /** CPU seconds of this process (user + system) while the metric ran. */
  cpuSeconds?: number;
  error?: string;
  /** Periodic scores: seconds to encode the fixed sample, and of the whole evaluation at that step. */
  encodeSeconds?: number;
  evalSeconds?: number;
}

export function num(settings: ParamValues, key: string): number {
  const v = settings[key];
  if (typeof v !== 'number') throw new Error(`setting '${key}' must be a number`);
  return v;
}

/** The first num_train / num_test rows of the two pools, as a metric's settings ask (with K factors, D codes). */
export function trainTestRows(ctx: MetricContext, settings: ParamValues) {
  const K = ctx.factorSizes.length;
  const D = ctx.numCodes;
  const nTr = Math.min(num(settings, 'num_train'), ctx.train.n);
  const nTe = Math.min(num(settings, 'num_test'), ctx.test.n);
  return {
    K,
    D,
    train: { codes: ctx.train.codes.subarray(0, nTr * D), factors: ctx.train.factors.subarray(0, nTr * K), n: nTr },
    test: { codes: ctx.test.codes.subarray(0, nTe * D), factors: ctx.test.factors.subarray(0, nTe * K), n: nTe },
  };
}
