/** Requests of the training room: models, runs and what trained models show. */
import { z } from 'zod';
import { Id, ImageBatch } from '../domain.js';
import { JobInfo } from '../jobs.js';
import { CompareQuery, CompareResult, EvaluationRecord, MetricInfo, MetricSeriesPoint, MetricSettings, ModelInfo, RunConfig, RunDetail, RunPage, RunQuery, RunSummary } from '../runs.js';

export const runRequests = {
  'models/list': {
    summary: 'Every trainable method with its hyperparameters (defaults, ranges, paper values).',
    input: z.object({}).strict(),
    output: z.array(ModelInfo),
  },
  'runs/launch': {
    summary: 'Queue one run per seed with this configuration.',
    input: z
      .object({
        config: RunConfig.omit({ seed: true }),
        seeds: z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1).max(100),
      })
      .strict(),
    output: z.array(RunSummary),
  },
  'runs/list': {
    summary: 'One page of runs (filters, sort; newest first and 100 a page by default) with the total and the counts per status.',
    input: RunQuery,
    output: RunPage,
  },
  'runs/compare': {
    summary: 'Compare: the runs in view grouped by method, dataset and variant with the seed statistics of one metric over the picked runs.',
    input: CompareQuery,
    output: CompareResult,
  },
  'runs/get': {
    summary: 'One run with notes, checkpoints and the names of its series.',
    input: z.object({ id: Id }).strict(),
    output: RunDetail,
  },
  'runs/cancel': { summary: 'Stop a run (checkpoint kept; it can resume).', input: z.object({ id: Id }).strict(), output: RunSummary },
  'runs/pause': { summary: 'Pause a run at a checkpoint.', input: z.object({ id: Id }).strict(), output: RunSummary },
  'runs/resume': {
    summary:
      'Continue a paused, cancelled or interrupted run from its last checkpoint; with `steps`, up to that new total (above its step, at least its total; a finished run continues from its final checkpoint).',
    input: z
      .object({
        id: Id,
        /** The run's new total of training steps (stored as its config's steps); bounded like a run's steps. */
        steps: RunConfig.shape.steps.optional(),
      })
      .strict(),
    output: RunSummary,
  },
  'runs/scalars': {
    summary: 'Scalar series of a run: key → [step, value][] (optionally only after a step).',
    input: z.object({ id: Id, keys: z.array(z.string().max(64)).max(256).optional(), sinceStep: z.number().int().optional() }).strict(),
    output: z.record(z.string(), z.array(z.tuple([z.number(), z.number()]))),
  },
  'runs/metricSeries': {
    summary: 'Metric curves of a run: its periodic scores during training (evalEvery), by metric then step, each with its provenance and cost; one metric, or all.',
    input: z.object({ id: Id, metric: z.string().min(1).max(64).optional() }).strict(),
    output: z.array(MetricSeriesPoint),
  },
  'runs/tag': {
    summary: 'Add or remove a tag.',
    input: z.object({ id: Id, tag: z.string().min(1).max(64), remove: z.boolean().optional() }).strict(),
    output: RunSummary,
  },
  'runs/note': {
    summary: 'Add a note to a run.',
    input: z.object({ id: Id, text: z.string().min(1).max(10_000) }).strict(),
    output: RunDetail,
  },
  'runs/reconstructions': {
    summary: 'Seeded dataset images and their reconstructions by the run’s latest checkpoint.',
    input: z.object({ id: Id, count: z.number().int().min(1).max(64).optional(), seed: z.number().int().min(0).optional() }).strict(),
    output: z.object({ indices: z.array(z.number().int()), originals: ImageBatch, reconstructions: ImageBatch }),
  },
  'runs/traversals': {
    summary: 'Latent traversals: decode the code of one image with each dimension swept over ±range (dimensions ordered by KL).',
    input: z
      .object({
        id: Id,
        index: z.number().int().nonnegative().optional(),
        range: z.number().positive().max(10).optional(),
        steps: z.number().int().min(2).max(15).optional(),
      })
      .strict(),
    output: z.object({ index: z.number().int(), dims: z.array(z.number().int()), kl: z.array(z.number()), steps: z.number().int(), images: ImageBatch }),
  },
  'runs/latents': {
    summary: 'Stored posterior means of a run with their factors (for scatter plots).',
    input: z.object({ id: Id, limit: z.number().int().min(1).max(20_000).optional() }).strict(),
    output: z.object({
      dims: z.number().int(),
      factorNames: z.array(z.string()),
      means: z.array(z.array(z.number())),
      factors: z.array(z.array(z.number().int())),
      /** E_x[σ²] per dimension over the stored sample (a unit is active when < 0.8); null for deterministic models. */
      posteriorVarianceMean: z.array(z.number()).nullable(),
    }),
  },
  'metrics/list': {
    summary: 'Every metric with its estimator and settings (disentanglement_lib study defaults).',
    input: z.object({}).strict(),
    output: z.array(MetricInfo),
  },
  'runs/evaluate': {
    summary: 'Score a run with the metric suite (in a worker process); a job. Scores are stored with their provenance.',
    input: z
      .object({
        id: Id,
        metrics: z.array(z.string().max(64)).min(1).max(32).optional(),
        settings: MetricSettings.optional(),
        seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
        /** Score the checkpoint of this step (default: the latest) on a fresh seeded sample of `points` grid points; stored as that step's point of the metric series. */
        step: z.number().int().min(0).optional(),
        points: z.number().int().min(16).max(100_000).optional(),
      })
      .strict(),
    output: JobInfo,
  },
  'runs/evaluations': {
    summary: 'Stored scores of a run with their provenance (latest per metric last).',
    input: z.object({ id: Id }).strict(),
    output: z.array(EvaluationRecord),
  },
  'runs/evaluations/batch': {
    summary: 'Stored scores of many runs (at most 500) in one request: run id → records (latest per metric last; only the latest with latestOnly).',
    input: z.object({ ids: z.array(Id).min(1).max(500), latestOnly: z.boolean().optional() }).strict(),
    output: z.record(z.string(), z.array(EvaluationRecord)),
  },
} as const;
