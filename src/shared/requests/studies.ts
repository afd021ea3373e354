/**
 * Requests of the studies room: study grids (methods × hyperparameters ×
 * datasets and their perturbed variants × seeds), their execution and
 * resumption, seed aggregation with bootstrap confidence intervals and the
 * comparison with published numbers, figure/table/report export, and portable
 * bundles (zip + manifest with SHA-256 per file).
 *
 * - `studies/presets`: the presets in resources/presets (e.g. zietlow2021).
 * - `studies/create`: store a study (from a spec or a preset) and, unless
 *   `start: false`, run it as a job: derived datasets are created or looked
 *   up, missing runs are queued, finished runs are evaluated.
 * - `studies/resume`: the same job on a stored study: re-launches what is
 *   missing or interrupted, never duplicates a finished run.
 * - `studies/results`: the aggregation (mean, sd, N, bootstrap CIs,
 *   differences and verdicts, published numbers side by side).
 * - `studies/export`: a job writing figures (svg/pdf/png), data (csv/json),
 *   tables (csv/tex) and the HTML report into the lab's exports folder.
 * - `bundles/export` / `bundles/import`: jobs.
 */
import { z } from 'zod';
import { Arch, MetricSettings } from '../runs.js';
import { ABSOLUTE_PATH, Id } from '../domain.js';
import { JobInfo } from '../jobs.js';

const Value = z.union([z.number(), z.boolean(), z.string().max(200)]);
export const StudyParamValues = z.record(z.string().max(64), Value);
const Key = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, _ and -');

export const StudyMethod = z
  .object({
    /** Key of the method inside the study (e.g. beta_vae); usually the model id. */
    id: Key,
    /** Model id from the model registry. */
    model: z.string().min(1).max(64),
    label: z.string().max(100).optional(),
    /** Hyperparameters for every dataset. */
    params: StudyParamValues.optional(),
    /** Per base dataset id, on top of `params` (e.g. the paper's β per dataset). */
    paramsByDataset: z.record(z.string().max(128), StudyParamValues).optional(),
    /** A sweep: the cross product of these values (on top of the above). */
    grid: z.record(z.string().max(64), z.array(Value).min(1).max(20)).optional(),
  })
  .strict();
export type StudyMethod = z.infer<typeof StudyMethod>;

export const StudyVariant = z
  .object({
    /** original | manipulated | noise | … (the comparison uses these roles). */
    role: Key,
    label: z.string().max(100).optional(),
    /** Perturbation id (absent: the base dataset itself). */
    kind: z.string().min(1).max(64).optional(),
    params: StudyParamValues.optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  })
  .strict();
export type StudyVariant = z.infer<typeof StudyVariant>;

export const StudyDataset = z
  .object({
    base: Id,
    label: z.string().max(100).optional(),
    /** Latent size on this dataset (default: the study's training.latent). */
    latent: z.number().int().min(1).max(64).optional(),
    variants: z.array(StudyVariant).min(1).max(16),
  })
  .strict();
export type StudyDataset = z.infer<typeof StudyDataset>;

export const StudyTraining = z
  .object({
    arch: Arch,
    latent: z.number().int().min(1).max(64),
    steps: z.number().int().min(1).max(10_000_000),
    batch: z.number().int().min(2).max(1024),
    lr: z.number().positive().max(1),
    progressEvery: z.number().int().min(1).max(100_000),
    checkpointEvery: z.number().int().min(1).max(10_000_000),
    codesSamples: z.number().int().min(0).max(100_000),
  })
  .strict();
export type StudyTraining = z.infer<typeof StudyTraining>;


export const StudyEvaluation = z
  .object({
    metrics: z.array(z.string().max(64)).min(1).max(32),
    /** Per-metric settings (RunConfig.evaluateSettings: the training worker applies them when it scores the run). */
    settings: MetricSettings.optional(),
    /** Metric seed (default: each run's seed). */
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    /** Metric curves: every run also scores these every N steps during training on a fixed sample (RunConfig.evalEvery…). */
    periodic: z
      .object({
        every: z.number().int().min(1).max(10_000_000),
        /** Default: MIG. */
        metrics: z.array(z.string().max(64)).min(1).max(32).optional(),
        settings: MetricSettings.optional(),
        /** Grid points of the fixed sample (default 10,000). */
        samples: z.number().int().min(16).max(100_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type StudyEvaluation = z.infer<typeof StudyEvaluation>;

export const StudySpec = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(4000).optional(),
    /** Where the spec came from (a preset and its scale). */
    preset: z.object({ id: z.string().max(64), scale: z.string().max(32) }).strict().optional(),
    methods: z.array(StudyMethod).min(1).max(32),
    datasets: z.array(StudyDataset).min(1).max(16),
    seeds: z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1).max(100),
    training: StudyTraining,
    evaluation: StudyEvaluation,
    /** The primary metric of the comparison (default: the first metric). */
    primaryMetric: z.string().max(64).optional(),
    notes: z.array(z.string().max(2000)).max(50).optional(),
  })
  .strict();
export type StudySpec = z.infer<typeof StudySpec>;

export const StudyCounts = z.object({
  cells: z.number().int(),
  missing: z.number().int(),
  queued: z.number().int(),
  running: z.number().int(),
  finished: z.number().int(),
  evaluated: z.number().int(),
  failed: z.number().int(),
  stopped: z.number().int(),
});
export type StudyCounts = z.infer<typeof StudyCounts>;

export const StudySummary = z.object({
  id: Id,
  name: z.string(),
  description: z.string(),
  preset: z.object({ id: z.string(), scale: z.string() }).nullable(),
  createdAt: z.string(),
  counts: StudyCounts,
});
export type StudySummary = z.infer<typeof StudySummary>;

export const StudyCell = z.object({
  key: z.string(),
  method: z.string(),
  model: z.string(),
  params: StudyParamValues,
  dataset: z.string(),
  variant: z.string(),
  /** The (derived) dataset id once known. */
  datasetId: z.string().nullable(),
  seed: z.number().int(),
  runId: z.string().nullable(),
  status: z.string(),
  evaluated: z.boolean(),
});
export type StudyCell = z.infer<typeof StudyCell>;

export const StudyDetail = StudySummary.extend({
  spec: StudySpec,
  /** Base dataset id → variant role → dataset id (derived datasets once created). */
  datasetIds: z.record(z.string(), z.record(z.string(), z.string())),
  cells: z.array(StudyCell),
});
export type StudyDetail = z.infer<typeof StudyDetail>;

const Interval = z.tuple([z.number(), z.number()]).nullable();

export const StudyGroup = z.object({
  method: z.string(),
  dataset: z.string(),
  variant: z.string(),
  n: z.number().int(),
  mean: z.number().nullable(),
  sd: z.number().nullable(),
  ci: Interval,
  values: z.array(z.number()),
  seeds: z.array(z.number().int()),
  runIds: z.array(z.string()),
});
export type StudyGroup = z.infer<typeof StudyGroup>;

export const Verdict = z.enum(['reproduced', 'not_reproduced', 'inconclusive', 'insufficient_data', 'no_claim']);
export type Verdict = z.infer<typeof Verdict>;

export const StudyComparison = z.object({
  method: z.string(),
  dataset: z.string(),
  /** e.g. original−manipulated: mean(a) − mean(b). */
  contrast: z.string(),
  a: z.string(),
  b: z.string(),
  nA: z.number().int(),
  nB: z.number().int(),
  diff: z.number().nullable(),
  ci: Interval,
  /** What the paper claims for this method and contrast. */
  expected: z.enum(['drop', 'no_drop', 'none']),
  verdict: Verdict,
  reason: z.string(),
  published: z.object({ a: z.number(), b: z.number(), diff: z.number() }).nullable(),
});
export type StudyComparison = z.infer<typeof StudyComparison>;

export const PublishedCell = z.object({ method: z.string(), dataset: z.string(), variant: z.string(), mean: z.number(), sd: z.number() });

export const StudyResults = z.object({
  studyId: z.string(),
  name: z.string(),
  metric: z.string(),
  generatedAt: z.string(),
  bootstrap: z.object({ resamples: z.number().int(), seed: z.number().int(), level: z.number() }),
  groups: z.array(StudyGroup),
  comparisons: z.array(StudyComparison),
  published: z.object({ metric: z.string(), source: z.string(), note: z.string(), cells: z.array(PublishedCell) }).nullable(),
  /** Distinct metric settings/sample counts seen (more than one: scores are not comparable as equals). */
  provenance: z.array(z.object({ signature: z.string(), runs: z.number().int() })),
  warnings: z.array(z.string()),
  /**
   * The metric against training steps per (method, dataset, variant), from the
   * study's runs' periodic scores (evaluation.periodic), computed as runs/compare
   * computes its curves: at each step the number of seeds scored there, their
   * mean and its 95 % t interval (null below 2 seeds). Absent when no run has
   * periodic scores of the metric.
   */
  curves: z
    .array(
      z.object({
        key: z.string(),
        method: z.string(),
        dataset: z.string(),
        variant: z.string(),
        points: z.array(z.object({ step: z.number().int(), n: z.number().int(), mean: z.number(), lo: z.number().nullable(), hi: z.number().nullable() })),
      }),
    )
    .optional(),
});
export type StudyResults = z.infer<typeof StudyResults>;
export type StudyCurve = NonNullable<StudyResults['curves']>[number];

export const PresetInfo = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  scales: z.array(z.object({ id: z.string(), description: z.string(), runs: z.number().int() })),
});
export type PresetInfo = z.infer<typeof PresetInfo>;

export const ExportFormat = z.enum(['svg', 'pdf', 'png', 'csv', 'json', 'tex', 'html']);
export type ExportFormat = z.infer<typeof ExportFormat>;

const PresetRequest = z
  .object({
    preset: z.string().min(1).max(64),
    scale: z.string().max(32).optional(),
    name: z.string().trim().min(1).max(200).optional(),
    datasets: z.array(Id).min(1).max(16).optional(),
    methods: z.array(z.string().max(64)).min(1).max(32).optional(),
    /** Number of seeds (the first N of the preset's list, extended 0, 1, 2 … if needed). */
    seeds: z.number().int().min(1).max(100).optional(),
  })
  .strict();

export const studyRequests = {
  'studies/presets': {
    summary: 'Study presets (e.g. the paper’s Table 1 grid) with their scales.',
    input: z.object({}).strict(),
    output: z.array(PresetInfo),
  },
  'studies/create': {
    summary: 'Store a study from a spec or a preset and (unless start is false) run it as a job.',
    input: z
      .object({
        spec: StudySpec.optional(),
        from: PresetRequest.optional(),
        start: z.boolean().optional(),
      })
      .strict()
      .refine((v) => (v.spec === undefined) !== (v.from === undefined), { message: 'give either spec or from' }),
    output: z.object({ study: StudySummary, job: JobInfo.nullable() }),
  },
  'studies/list': { summary: 'Every study, newest first.', input: z.object({}).strict(), output: z.array(StudySummary) },
  'studies/get': { summary: 'A study with its spec and every cell’s run.', input: z.object({ id: Id }).strict(), output: StudyDetail },
  'studies/resume': {
    summary: 'Run what a study still lacks (missing, interrupted, unevaluated); finished runs are never duplicated. A job.',
    input: z.object({ id: Id, retryFailed: z.boolean().optional() }).strict(),
    output: z.object({ study: StudySummary, job: JobInfo }),
  },
  'studies/cancel': {
    summary: 'Pause the study’s queued and running runs (resume continues).',
    input: z.object({ id: Id }).strict(),
    output: StudySummary,
  },
  'studies/results': {
    summary: 'Seed aggregation (mean, sd, N, bootstrap CIs), differences with CIs, verdicts and published numbers.',
    input: z
      .object({
        id: Id,
        metric: z.string().max(64).optional(),
        resamples: z.number().int().min(100).max(100_000).optional(),
        seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
      })
      .strict(),
    output: StudyResults,
  },
  'studies/export': {
    summary: 'Write figures, tables, data and the HTML report of a study into the lab’s exports folder; a job (result: dir, files).',
    input: z
      .object({
        id: Id,
        formats: z.array(ExportFormat).min(1).max(7),
        metric: z.string().max(64).optional(),
        dpi: z.number().int().min(36).max(1200).optional(),
      })
      .strict(),
    output: JobInfo,
  },
  'bundles/export': {
    summary: 'Export a study or a set of runs as a portable zip bundle (manifest with SHA-256 per file); a job (result: path).',
    input: z
      .object({
        studyId: Id.optional(),
        runIds: z.array(Id).min(1).max(10_000).optional(),
        checkpoints: z.boolean().optional(),
        codes: z.boolean().optional(),
      })
      .strict()
      .refine((v) => (v.studyId === undefined) !== (v.runIds === undefined), { message: 'give either studyId or runIds' }),
    output: JobInfo,
  },
  'bundles/import': {
    summary: 'Import a bundle (checked: paths, symlinks, undeclared files, checksums, sizes); atomic and idempotent. A job.',
    input: z.object({ path: z.string().min(1).max(4096).regex(ABSOLUTE_PATH, 'an absolute path (relative paths would resolve against the server’s working directory)') }).strict(),
    output: JobInfo,
  },
} as const;
