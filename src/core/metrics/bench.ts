/**
 * Timing of the full metric suite on a fixed synthetic problem: 15,000 rows
 * of a 5-factor table with the dSprites sizes [3, 6, 40, 32, 32] (factors
 * drawn uniformly), 10-dimensional codes of which five follow the factors
 * (each mixed a little with the next one, plus noise) and five are noise;
 * 10,000 training and 5,000 test rows, disentanglement_lib study settings.
 */
import { Rng } from '../util/rng.js';
import { evaluateArrays } from './evaluate.js';
import type { EvaluateArraysResult } from './evaluate.js';
import type { MetricScore } from './types.js';

export const BENCH_FACTOR_SIZES = [3, 6, 40, 32, 32];
export const BENCH_CODES = 10;
export const BENCH_ROWS = 15000;

/**
 * disentanglement_lib's single-core times (seconds) for the same sizes, as
 * given to us (not measured here): MIG ≈ 0.1, SAP ≈ 2.5, DCI ≈ 500.
 */
export const DISENTANGLEMENT_LIB_SECONDS: Record<string, number> = { mig: 0.1, sap: 2.5, dci: 500 };

export function benchData(seed = 0): { factors: Int32Array; codes: Float64Array; rows: number } {
  const rng = new Rng(seed).fork('bench-data');
  const K = BENCH_FACTOR_SIZES.length;
  const D = BENCH_CODES;
  const rows = BENCH_ROWS;
  const factors = new Int32Array(rows * K);
  const codes = new Float64Array(rows * D);
  const u = new Float64Array(K);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < K; k++) {
      const s = BENCH_FACTOR_SIZES[k]!;
      const v = rng.int(s);
      factors[i * K + k] = v;
      // standardised uniform factor
      u[k] = s > 1 ? (v - (s - 1) / 2) / Math.sqrt((s * s - 1) / 12) : 0;
    }
    for (let d = 0; d < D; d++) {
      codes[i * D + d] = d < K ? u[d]! + 0.3 * u[(d + 1) % K]! + 0.2 * rng.normal() : rng.normal();
    }
  }
  return { factors, codes, rows };
}

export interface BenchResult {
  seed: number;
  rows: number;
  nTrain: number;
  nTest: number;
  factorSizes: number[];
  numCodes: number;
  metrics: { id: string; seconds: number; cpuSeconds: number; value: number | null; scores: Record<string, number>; error?: string }[];
  totalSeconds: number;
  totalCpuSeconds: number;
  reference: Record<string, number>;
  node: string;
}

export async function runMetricsBench(opts: { seed?: number; metrics?: string[]; onMetric?: (s: MetricScore) => void } = {}): Promise<BenchResult> {
  const seed = opts.seed ?? 0;
  const data = benchData(seed);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r: EvaluateArraysResult = await evaluateArrays({
    factors: data.factors,
    codes: data.codes,
    numFactors: BENCH_FACTOR_SIZES.length,
    numCodes: BENCH_CODES,
    nTrain: 10000,
    nTest: 5000,
    seed,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.onMetric ? { onMetric: opts.onMetric } : {}),
  });
  return {
    seed,
    rows: data.rows,
    nTrain: r.nTrain,
    nTest: r.nTest,
    factorSizes: r.factorSizes,
    numCodes: r.numCodes,
    metrics: r.scores.map((s) => ({ id: s.metric, seconds: s.seconds, cpuSeconds: s.cpuSeconds ?? s.seconds, value: s.value, scores: s.scores, ...(s.error ? { error: s.error } : {}) })),
    totalSeconds: (performance.now() - t0) / 1000,
    totalCpuSeconds: ((c) => (c.user + c.system) / 1e6)(process.cpuUsage(c0)),
    reference: DISENTANGLEMENT_LIB_SECONDS,
    node: process.version,
  };
}
