/**
 * Score a trained run the standard way: the stored posterior means of a
 * seeded dataset sample give the train/test pools; the metrics that need
 * batches with a factor held fixed (FactorVAE, BetaVAE) encode fresh
 * observations of the ground-truth dataset through the run's encoder, drawing
 * factors uniformly as disentanglement_lib does. Also the decoder geometry of
 * Rolinek et al. 2019, stored like a metric.
 */
import { polarisedRegime, distanceToOrthogonality, type JacobianLike } from '../analysis/geometry.js';
import { factorsToIndex, renderBatch } from '../datasets/grid.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import { evaluateArrays } from '../metrics/evaluate.js';
import { encoderSampler } from '../metrics/sampler.js';
import type { MetricScore } from '../metrics/types.js';
import { Rng } from '../util/rng.js';
import { encodeCodes, type StoredCodes } from '../training/codes.js';
import type { RunTrainer } from '../training/run-trainer.js';

export interface EvaluateRunOptions {
  metrics: string[];
  /** Per-metric setting overrides, e.g. { factor_vae: { num_train: 1000 } }. */
  settings?: Record<string, Record<string, unknown>>;
  seed: number;
  /** Points for the decoder geometry (0 = skip). */
  geometryPoints?: number;
  onMetric?(score: MetricScore): void;
}

export const GEOMETRY_ID = 'decoder_geometry';

function encodeFactorsWith(trainer: RunTrainer, dataset: GroundTruthDataset) {
  const sizes = dataset.info.factors.map((f) => f.size);
  const K = sizes.length;
  const L = trainer.latent;
  return async (factors: Int32Array): Promise<Float64Array> => {
    const n = factors.length / K;
    const out = new Float64Array(n * L);
    const chunk = 512;
    const row = new Array<number>(K);
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      const idx = new Int32Array(m);
      for (let i = 0; i < m; i++) {
        for (let k = 0; k < K; k++) row[k] = factors[(s + i) * K + k]!;
        idx[i] = factorsToIndex(sizes, row);
      }
      const { mean } = trainer.encode(renderBatch(dataset, idx), m);
      out.set(mean, s * L);
      await new Promise((r) => setImmediate(r));
    }
    return out;
  };
}

/** Decoder geometry at encoded points: Jacobian of the decoder logits by central differences. */
export function decoderGeometry(trainer: RunTrainer, codes: StoredCodes, points: number, seed: number): MetricScore {
  const t0 = performance.now();
  const L = codes.dims;
  const regime = polarisedRegime(
    codes.logvars ? { n: codes.n, d: L, mu: codes.means, logvar: codes.logvars } : { n: codes.n, d: L, mu: codes.means, sigma2: new Float64Array(codes.n * L).fill(1) },
  );
  const latents = regime.active.length >= 2 ? regime.active : Array.from({ length: L }, (_, j) => j);
  const rng = new Rng(seed).fork('geometry');
  const h = 1e-3;
  const jacobians: JacobianLike[] = [];
  for (let p = 0; p < points; p++) {
    const i = rng.int(codes.n);
    const z0 = codes.means.subarray(i * L, (i + 1) * L);
    const z = new Float32Array(2 * L * L);
    for (let j = 0; j < L; j++) {
      for (let c = 0; c < L; c++) {
        z[(2 * j) * L + c] = z0[c]!;
        z[(2 * j + 1) * L + c] = z0[c]!;
      }
      z[2 * j * L + j]! += h;
      z[(2 * j + 1) * L + j]! -= h;
    }
    const out = trainer.decodeLogits(z, 2 * L);
    const P = out.length / (2 * L);
    const data = new Float64Array(P * L);
    for (let j = 0; j < L; j++) {
      for (let r = 0; r < P; r++) data[r * L + j] = (out[2 * j * P + r]! - out[(2 * j + 1) * P + r]!) / (2 * h);
    }
    jacobians.push({ rows: P, cols: L, data });
  }
  const orth = distanceToOrthogonality(jacobians, { latents });
  const meanSv = latents.map((_, c) => orth.singularValues.reduce((a, s) => a + (s[c] ?? 0), 0) / orth.singularValues.length);
  return {
    metric: GEOMETRY_ID,
    name: 'Decoder geometry (distance to orthogonality)',
    primary: 'distance',
    value: orth.mean,
    scores: { distance: orth.mean, distance_std: orth.std, active_latents: regime.active.length, passive_latents: regime.passive.length },
    details: { perSample: orth.perSample, meanSingularValues: meanSv, latents: orth.latents, regimes: regime.latents },
    provenance: {
      metric: GEOMETRY_ID,
      estimator:
        'Rolinek et al. 2019: SVD J = UΣVᵀ of the decoder-logit Jacobian (central differences, h = 1e-3; exact inside a ReLU region) at encoded points; Frobenius distance of V to the nearest signed permutation (Hungarian), over the active latents (std μ > 0.5) when ≥ 2 are active, else all',
      settings: { points, h },
      samples: { points, codes: codes.n },
      seed,
      codesAreMeans: true,
      notes: regime.active.length >= 2 ? [] : ['fewer than two active latents: all latents used'],
    },
    seconds: (performance.now() - t0) / 1000,
  };
}

export async function evaluateRun(trainer: RunTrainer, dataset: GroundTruthDataset, codes: StoredCodes, opts: EvaluateRunOptions): Promise<MetricScore[]> {
  const sizes = dataset.info.factors.map((f) => f.size);
  const metricIds = opts.metrics.filter((m) => m !== GEOMETRY_ID);
  const scores: MetricScore[] = [];
  if (metricIds.length > 0) {
    const sampler = encoderSampler(
      { factorSizes: sizes, numCodes: trainer.latent, encodeFactors: encodeFactorsWith(trainer, dataset) },
      `observations of ${dataset.info.id} encoded by the run (posterior means)`,
    );
    const res = await evaluateArrays({
      factors: codes.factors,
      codes: codes.means,
      numFactors: sizes.length,
      ...(codes.logvars ? { logVariances: codes.logvars } : {}),
      metrics: metricIds,
      ...(opts.settings ? { settings: opts.settings } : {}),
      seed: opts.seed,
      codesAreMeans: true,
      sampler,
      ...(opts.onMetric ? { onMetric: opts.onMetric } : {}),
    });
    scores.push(...res.scores);
  }
  if (opts.metrics.includes(GEOMETRY_ID) && trainer.hasDecoder && (opts.geometryPoints ?? 20) > 0) {
    const g = decoderGeometry(trainer, codes, opts.geometryPoints ?? 20, opts.seed);
    scores.push(g);
    opts.onMetric?.(g);
  }
  return scores;
}

export interface SampleEvaluation {
  /** Training step of the weights scored. */
  step: number;
  scores: MetricScore[];
  /** Seconds to encode the fixed sample. */
  encodeSeconds: number;
  /** Seconds of the whole evaluation (encoding + every metric). */
  evalSeconds: number;
}

/**
 * Score the trainer's current weights on a fixed seeded sample of `points`
 * grid points (the sample `writeCodes` stores for that size and seed),
 * through `evaluateRun` — the standard scoring. The periodic evaluation during
 * training and the scoring of a checkpoint at a chosen step both come here, so
 * a series point equals the score of its step's checkpoint.
 */
export async function evaluateSample(
  trainer: RunTrainer,
  dataset: GroundTruthDataset,
  opts: Omit<EvaluateRunOptions, 'onMetric'> & { points: number },
): Promise<SampleEvaluation> {
  const t0 = performance.now();
  const step = trainer.step;
  const codes = await encodeCodes(trainer, dataset, opts.points, opts.seed);
  const encodeSeconds = (performance.now() - t0) / 1000;
  const { points, ...rest } = opts;
  const raw = await evaluateRun(trainer, dataset, codes, rest);
  const evalSeconds = (performance.now() - t0) / 1000;
  const scores = raw.map((s) => ({ ...s, provenance: { ...s.provenance, points, step }, encodeSeconds, evalSeconds }));
  return { step, scores, encodeSeconds, evalSeconds };
}
