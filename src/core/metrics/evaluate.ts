/**
 * Score codes against ground-truth factors given as arrays: the entry point
 * for `dlab eval`, the trainer's evaluation step (with its own sampler) and
 * the tests.
 *
 * Rows are shuffled with the seed and split into a training pool (default
 * 10,000 rows, or two thirds of the rows when fewer than 15,000) and a
 * disjoint test pool (default 5,000, or the remaining third). Factor columns
 * are re-coded to dense classes 0…n−1 (sorted by value). The FactorVAE and
 * BetaVAE scores sample batches from all rows through an ArrayTableSampler
 * (or the sampler given). Each metric gets its own generator
 * (seed, metric id), so a score does not depend on which other metrics ran.
 */
import { resolveParams } from '../../shared/params.js';
import { Rng } from '../util/rng.js';
import { getMetric, METRIC_IDS } from './registry.js';
import type { GroundTruthSampler } from './sampler.js';
import { ArrayTableSampler } from './sampler.js';
import { denseLabels, takeRows } from './stats.js';
import type { CodeArray } from './stats.js';
import type { MetricContext, MetricScore } from './types.js';

export interface EvaluateArraysInput {
  /** N×K factor values (integers). */
  factors: Int32Array;
  /** N×D codes. */
  codes: CodeArray;
  /** Columns; inferred from N when one of them is omitted. */
  numFactors?: number;
  numCodes?: number;
  /** Posterior log-variances (N×D), when known (active units). */
  logVariances?: CodeArray;
  nTrain?: number;
  nTest?: number;
  /** Metric ids (default: all). */
  metrics?: readonly string[];
  /** Per-metric settings overrides, validated against the registry. */
  settings?: Record<string, Record<string, unknown>>;
  seed?: number;
  codesAreMeans?: boolean;
  /** Sampler for FactorVAE/BetaVAE (default: an ArrayTableSampler over all rows). */
  sampler?: GroundTruthSampler;
  /** Called as each metric finishes. */
  onMetric?: (score: MetricScore) => void;
}

export interface EvaluateArraysResult {
  rows: number;
  numFactors: number;
  numCodes: number;
  factorSizes: number[];
  nTrain: number;
  nTest: number;
  seed: number;
  codesAreMeans: boolean;
  sampler: string;
  scores: MetricScore[];
}

export class EvaluationInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationInputError';
  }
}

/** Default split sizes for N rows: 10,000/5,000, or 2/3 and 1/3 of the rows. */
export function defaultSplit(rows: number): { nTrain: number; nTest: number } {
  if (rows >= 15000) return { nTrain: 10000, nTest: 5000 };
  const nTest = Math.floor(rows / 3);
  return { nTrain: rows - nTest, nTest };
}

export function validateArrays(factors: ArrayLike<number>, codes: ArrayLike<number>, rows: number, K: number, D: number): void {
  if (rows < 2) throw new EvaluationInputError(`need at least 2 rows, got ${rows}`);
  if (factors.length !== rows * K) throw new EvaluationInputError(`factors have ${factors.length} values, expected ${rows}×${K}`);
  if (codes.length !== rows * D) throw new EvaluationInputError(`codes have ${codes.length} values, expected ${rows}×${D}`);
  for (let i = 0; i < codes.length; i++) {
    if (!Number.isFinite(codes[i]!)) {
      throw new EvaluationInputError(`codes contain ${codes[i]} at row ${Math.floor(i / D)}, column ${i % D}`);
    }
  }
  for (let i = 0; i < factors.length; i++) {
    if (!Number.isInteger(factors[i]!)) throw new EvaluationInputError(`factors must be integers: ${factors[i]} at row ${Math.floor(i / K)}, column ${i % K}`);
  }
}

export async function evaluateArrays(input: EvaluateArraysInput): Promise<EvaluateArraysResult> {
  const seed = input.seed ?? 0;
  const codesAreMeans = input.codesAreMeans ?? true;
  let K = input.numFactors;
  let D = input.numCodes;
  let rows: number;
  if (K === undefined && D === undefined) throw new EvaluationInputError('give numFactors or numCodes');
  const perRow = (len: number, r: number, what: string) => {
    const c = len / Math.max(1, r);
    if (!Number.isInteger(c) || c < 1) throw new EvaluationInputError(`${what} have ${len} values, not a whole number (≥ 1) of columns for ${r} rows`);
    return c;
  };
  if (K !== undefined) {
    if (!Number.isInteger(K) || K < 1) throw new EvaluationInputError('need at least one factor');
    rows = perRow(input.factors.length, K, 'factors');
    D ??= perRow(input.codes.length, rows, 'codes');
  } else {
    if (!Number.isInteger(D) || D! < 1) throw new EvaluationInputError('need at least one code');
    rows = perRow(input.codes.length, D!, 'codes');
    K = perRow(input.factors.length, rows, 'factors');
  }
  const numCodes = D!;
  validateArrays(input.factors, input.codes, rows, K, numCodes);
  if (input.logVariances && input.logVariances.length !== rows * numCodes) {
    throw new EvaluationInputError(`log-variances have ${input.logVariances.length} values, expected ${rows}×${numCodes}`);
  }

  // dense classes per factor
  const factors = new Int32Array(rows * K);
  const factorSizes: number[] = [];
  for (let k = 0; k < K; k++) {
    const col = new Array<number>(rows);
    for (let i = 0; i < rows; i++) col[i] = input.factors[i * K + k]!;
    const { classes, values } = denseLabels(col);
    for (let i = 0; i < rows; i++) factors[i * K + k] = classes[i]!;
    factorSizes.push(values.length);
  }

  const def = defaultSplit(rows);
  const nTrain = Math.min(input.nTrain ?? def.nTrain, rows - 1);
  const nTest = Math.min(input.nTest ?? def.nTest, rows - nTrain);
  if (nTrain < 2) throw new EvaluationInputError(`training split must hold at least 2 rows, got ${nTrain}`);
  if (nTest < 1) throw new EvaluationInputError(`no rows left for the test split (${rows} rows, ${nTrain} for training)`);
  const perm = Int32Array.from({ length: rows }, (_, i) => i);
  new Rng(seed).fork('split').shuffle(perm);
  const trainRows = perm.subarray(0, nTrain);
  const testRows = perm.subarray(nTrain, nTrain + nTest);
  const train = { n: nTrain, factors: takeRows(factors, K, trainRows), codes: takeRows(input.codes, numCodes, trainRows) };
  const test = { n: nTest, factors: takeRows(factors, K, testRows), codes: takeRows(input.codes, numCodes, testRows) };
  const trainLogVariances = input.logVariances ? takeRows(input.logVariances, numCodes, trainRows) : undefined;

  const ids = input.metrics ?? METRIC_IDS;
  const entries = ids.map((id) => getMetric(id));
  for (const id of Object.keys(input.settings ?? {})) getMetric(id);
  const needsSampler = entries.some((e) => e.uses.includes('sampler'));
  const sampler = input.sampler ?? (needsSampler ? new ArrayTableSampler(factors, input.codes, rows, K, numCodes, { codesAreMeans }) : null);

  const scores: MetricScore[] = [];
  for (const entry of entries) {
    const given = input.settings?.[entry.id] ?? {};
    const settings = resolveParams(entry.settings, given);
    const ctx: MetricContext = {
      factorSizes,
      numCodes,
      train,
      test,
      sampler: sampler!,
      codesAreMeans,
      rng: new Rng(seed).fork(entry.id),
      ...(trainLogVariances ? { trainLogVariances } : {}),
    };
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const cpu = () => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1e6; };
    let score: MetricScore;
    try {
      const out = await entry.compute(ctx, settings);
      score = {
        metric: entry.id,
        name: entry.name,
        primary: out.primary,
        value: out.scores[out.primary] ?? null,
        scores: out.scores,
        ...(out.details ? { details: out.details } : {}),
        provenance: {
          metric: entry.id,
          estimator: entry.estimator,
          settings,
          samples: out.samples,
          ...(typeof settings.num_bins === 'number' ? { bins: settings.num_bins } : {}),
          seed,
          codesAreMeans,
          ...(entry.uses.includes('sampler') && sampler ? { sampler: sampler.description } : {}),
          notes: out.notes ?? [],
        },
        seconds: (performance.now() - t0) / 1000,
        cpuSeconds: cpu(),
      };
    } catch (e) {
      score = {
        metric: entry.id,
        name: entry.name,
        primary: '',
        value: null,
        scores: {},
        provenance: { metric: entry.id, estimator: entry.estimator, settings, samples: {}, seed, codesAreMeans, notes: [] },
        seconds: (performance.now() - t0) / 1000,
        cpuSeconds: cpu(),
        error: e instanceof Error ? e.message : String(e),
      };
    }
    scores.push(score);
    input.onMetric?.(score);
  }
  return {
    rows,
    numFactors: K,
    numCodes,
    factorSizes,
    nTrain,
    nTest,
    seed,
    codesAreMeans,
    sampler: sampler?.description ?? 'none',
    scores,
  };
}
