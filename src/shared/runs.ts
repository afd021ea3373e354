/** Training runs: configuration, records and progress, with schemas. */
import { z } from 'zod';
import { ComputeBackend, Id } from './domain.js';
import { ParamSpec } from './params.js';

export const ParamValues = z.record(z.string().max(64), z.union([z.number(), z.boolean(), z.string().max(200)]));

export const ModelInfo = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  params: z.array(ParamSpec),
  /** Whether the model has a variational posterior (KL terms, log-variances). */
  variational: z.boolean(),
  /** Trains on pairs of observations (SlowVAE, PCL). */
  pairs: z.boolean(),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

export const Arch = z.enum(['conv', 'fc']);
export type Arch = z.infer<typeof Arch>;

/** Per-metric setting overrides, e.g. { factor_vae: { num_train: 500 } } — stored with each score. */
export const MetricSettings = z.record(z.string().max(64), z.record(z.string().max(64), z.union([z.number(), z.boolean(), z.string().max(64)])));
export type MetricSettings = z.infer<typeof MetricSettings>;

export const RunConfig = z.object({
  model: z.string().max(64),
  params: ParamValues,
  datasetId: Id,
  arch: Arch,
  latent: z.number().int().min(1).max(64),
  steps: z.number().int().min(1).max(10_000_000),
  batch: z.number().int().min(2).max(1024),
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  lr: z.number().positive().max(1),
  /** Progress message every N steps. */
  progressEvery: z.number().int().min(1).max(100_000),
  /** Checkpoint every K steps (and at the end). */
  checkpointEvery: z.number().int().min(1).max(10_000_000),
  /** Posterior codes stored after training (for metrics and visualisers). */
  codesSamples: z.number().int().min(0).max(100_000),
  /** Metrics to compute when the run finishes. */
  evaluate: z.array(z.string().max(64)).max(32),
  /** Per-metric setting overrides for that evaluation (e.g. { factor_vae: { num_train: 500 } }); stored with each score. */
  evaluateSettings: MetricSettings.optional(),
  /** Start the backend search here (default: best available). */
  backend: ComputeBackend.optional(),
  experimentId: Id.optional(),
});
export type RunConfig = z.infer<typeof RunConfig>;

export const RunStatus = z.enum(['queued', 'running', 'paused', 'cancelled', 'interrupted', 'finished', 'failed']);
export type RunStatus = z.infer<typeof RunStatus>;
/** Statuses from which a run can continue from its last checkpoint. */
export const RESUMABLE: readonly RunStatus[] = ['paused', 'cancelled', 'interrupted'];

export const RunSummary = z.object({
  id: Id,
  model: z.string(),
  datasetId: Id,
  status: RunStatus,
  step: z.number().int(),
  totalSteps: z.number().int(),
  seed: z.number().int(),
  config: RunConfig,
  backend: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  tags: z.array(z.string()),
  /** Latest values of the main series (loss, steps_per_sec…). */
  latest: z.record(z.string(), z.number()),
  experimentId: z.string().nullable(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const Checkpoint = z.object({ step: z.number().int(), path: z.string(), size: z.number().int(), sha256: z.string(), createdAt: z.string() });
export type Checkpoint = z.infer<typeof Checkpoint>;

export const RunDetail = RunSummary.extend({
  notes: z.array(z.object({ id: z.number().int(), text: z.string(), createdAt: z.string() })),
  checkpoints: z.array(Checkpoint),
  seriesKeys: z.array(z.string()),
  hasCodes: z.boolean(),
});
export type RunDetail = z.infer<typeof RunDetail>;

export const RunProgress = z.object({
  id: Id,
  step: z.number().int(),
  totalSteps: z.number().int(),
  losses: z.record(z.string(), z.number()),
  klPerDim: z.array(z.number()).optional(),
  stepsPerSec: z.number(),
  etaSec: z.number(),
});
export type RunProgress = z.infer<typeof RunProgress>;

export const MetricInfo = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  estimator: z.string(),
  settings: z.array(ParamSpec),
});
export type MetricInfo = z.infer<typeof MetricInfo>;

/** A stored score with how it was computed. */
export const EvaluationRecord = z.object({
  id: z.number().int(),
  metric: z.string(),
  name: z.string(),
  primary: z.string(),
  value: z.number().nullable(),
  scores: z.record(z.string(), z.number()),
  details: z.record(z.string(), z.unknown()).optional(),
  provenance: z.object({
    metric: z.string(),
    estimator: z.string(),
    settings: z.record(z.string(), z.unknown()),
    samples: z.record(z.string(), z.number()),
    bins: z.number().optional(),
    seed: z.number(),
    codesAreMeans: z.boolean(),
    sampler: z.string().optional(),
    notes: z.array(z.string()),
  }),
  seconds: z.number(),
  cpuSeconds: z.number().optional(),
  error: z.string().optional(),
  createdAt: z.string(),
});
export type EvaluationRecord = z.infer<typeof EvaluationRecord>;
