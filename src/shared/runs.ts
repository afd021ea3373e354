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
  /** Score `evalMetrics` every N steps during training on a fixed seeded sample (0 or absent = off). */
  evalEvery: z.number().int().min(0).max(10_000_000).optional(),
  /** Metrics of the periodic evaluation (default: MIG). */
  evalMetrics: z.array(z.string().max(64)).max(32).optional(),
  /** Per-metric setting overrides of the periodic evaluation. */
  evalSettings: MetricSettings.optional(),
  /** Grid points of the fixed sample the periodic evaluation encodes (default 10,000). */
  evalSamples: z.number().int().min(16).max(100_000).optional(),
  /** Start the backend search here (default: best available). */
  backend: ComputeBackend.optional(),
  /** Compute threads of the training worker (default: the lab's threads per run, see Preferences). */
  threads: z.number().int().min(1).max(64).optional(),
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
  /** For a queued run: its place in the queue of the process that serves this (1 = next to start). */
  queuePosition: z.number().int().positive().optional(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  tags: z.array(z.string()),
  /** Latest values of the main series (loss, steps_per_sec…). */
  latest: z.record(z.string(), z.number()),
  experimentId: z.string().nullable(),
  /** Latest stored score (primary value) per metric; null where the metric failed. Lists and Compare read these. */
  scores: z.record(z.string(), z.number().nullable()).optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const RunSortKey = z.enum(['created', 'started', 'status', 'model', 'dataset', 'seed', 'progress', 'speed', 'score']);
export type RunSortKey = z.infer<typeof RunSortKey>;

/** Filters of a run listing (all optional; every given filter must hold). */
export const RunFilter = z
  .object({
    /** Words that must all occur (id, method, dataset, status, `seed N`, tags, hyperparameters; `key=value` matches a hyperparameter). */
    text: z.string().max(200).optional(),
    status: z.array(RunStatus).max(7).optional(),
    model: z.array(z.string().min(1).max(64)).max(32).optional(),
    dataset: z.array(Id).max(64).optional(),
    /** Runs carrying every one of these tags. */
    tags: z.array(z.string().min(1).max(64)).max(16).optional(),
    /** The study (experiment) id; null: runs outside any study. */
    study: z.string().max(128).nullable().optional(),
    /** Created at or after / before (ISO 8601 strings, compared as text). */
    from: z.string().max(40).optional(),
    to: z.string().max(40).optional(),
  })
  .strict();
export type RunFilter = z.infer<typeof RunFilter>;

export const RunQuery = RunFilter.extend({
  sort: RunSortKey.optional(),
  desc: z.boolean().optional(),
  /** The metric a `score` sort uses. */
  sortMetric: z.string().max(64).optional(),
  offset: z.number().int().min(0).max(10_000_000).optional(),
  limit: z.number().int().min(1).max(500).optional(),
}).strict();
export type RunQuery = z.infer<typeof RunQuery>;

export const RunPage = z.object({
  runs: z.array(RunSummary),
  /** Runs matching the filters (all pages). */
  total: z.number().int(),
  offset: z.number().int(),
  limit: z.number().int(),
  /** Runs per status matching every filter but the status one. */
  counts: z.record(z.string(), z.number().int()),
});
export type RunPage = z.infer<typeof RunPage>;

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
    /** Size of the seeded sample of grid points encoded for this score (periodic scores, step-scored checkpoints). */
    points: z.number().int().optional(),
    /** Training step of the weights that encoded the sample. */
    step: z.number().int().optional(),
    notes: z.array(z.string()),
  }),
  seconds: z.number(),
  cpuSeconds: z.number().optional(),
  error: z.string().optional(),
  createdAt: z.string(),
});
export type EvaluationRecord = z.infer<typeof EvaluationRecord>;

/** One point of a metric's curve during training: a periodic score on the run's fixed sample. */
export const MetricSeriesPoint = EvaluationRecord.extend({
  step: z.number().int(),
  /** Seconds to encode the fixed sample with the weights of that step. */
  encodeSeconds: z.number(),
  /** Seconds of the whole periodic evaluation at that step (encoding + every metric). */
  evalSeconds: z.number(),
});
export type MetricSeriesPoint = z.infer<typeof MetricSeriesPoint>;

export const CompareVariant = z.enum(['original', 'manipulated', 'noise', 'other']);

/** Compare: which runs, which metric, which groups to open. */
export const CompareQuery = z
  .object({
    metric: z.string().max(64).optional(),
    /** Only finished runs (the default). */
    finishedOnly: z.boolean().optional(),
    filter: RunFilter.optional(),
    /** Runs left out of the picked set; every other run in view is picked. */
    exclude: z.array(Id).max(20_000).optional(),
    /** Group keys whose member runs to list. */
    expand: z.array(z.string().max(400)).max(50).optional(),
    /** List the members of every group when the runs in view are at most this many. */
    expandSmall: z.number().int().min(0).max(2000).optional(),
    /** The hyperparameter of the scatter (default: the first numeric one). */
    scatterParam: z.string().max(64).optional(),
  })
  .strict();
export type CompareQuery = z.infer<typeof CompareQuery>;

export const CompareMember = z.object({
  id: Id,
  seed: z.number().int(),
  status: RunStatus,
  params: z.record(z.string(), z.unknown()),
  score: z.number().nullable(),
  picked: z.boolean(),
});
export type CompareMember = z.infer<typeof CompareMember>;

export const CompareGroup = z.object({
  key: z.string(),
  method: z.string(),
  base: z.string(),
  variant: CompareVariant,
  /** Runs in the group / of them picked. */
  runs: z.number().int(),
  picked: z.number().int(),
  /** Seed statistics of the picked runs' scores: N, mean, sample sd (null below 2). */
  n: z.number().int(),
  mean: z.number().nullable(),
  sd: z.number().nullable(),
  /** The picked runs' scores (for box plots). */
  values: z.array(z.number()),
  /** Hyperparameters (the method's and the training settings) whose values differ among the group's picked runs. */
  differing: z.array(z.string()),
  /** Members (only for the expanded groups; at most 2000). */
  members: z.array(CompareMember).optional(),
});
export type CompareGroup = z.infer<typeof CompareGroup>;

export const CompareResult = z.object({
  metric: z.string(),
  /** Metrics with scores among the runs in view. */
  metrics: z.array(z.string()),
  total: z.number().int(),
  picked: z.number().int(),
  /** Hyperparameters (the method's and the training settings arch, latent, batch, lr, steps) of the runs in view / those that differ among the picked / the numeric ones. */
  params: z.array(z.string()),
  differing: z.array(z.string()),
  numericParams: z.array(z.string()),
  groups: z.array(CompareGroup),
  scatterParam: z.string(),
  /** Hyperparameter vs metric, one series per method, labelled by run id (picked runs). */
  scatter: z.array(z.object({ name: z.string(), points: z.array(z.tuple([z.number(), z.number()])), labels: z.array(z.string()) })),
  /**
   * The metric against training steps per group, from the picked runs' periodic scores (evalEvery):
   * at each step the number of seeds scored there, their mean and its 95 % t interval (null below 2 seeds).
   */
  curves: z
    .array(
      z.object({
        key: z.string(),
        method: z.string(),
        base: z.string(),
        variant: CompareVariant,
        points: z.array(z.object({ step: z.number().int(), n: z.number().int(), mean: z.number(), lo: z.number().nullable(), hi: z.number().nullable() })),
      }),
    )
    .optional(),
});
export type CompareResult = z.infer<typeof CompareResult>;
