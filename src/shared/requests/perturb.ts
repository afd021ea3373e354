/**
 * Requests of the perturbation editor and the dataset analysis:
 *
 * - `perturbations/list`: the registry (names, descriptions, ParamSpecs, flags);
 * - `perturbations/preview`: original | perturbed | amplified difference for a
 *   few images plus the statistics of a small seeded sample — synchronous, for
 *   non-learned kinds; a learned one is previewed from a draft (`draftId`);
 * - `perturbations/train`: a job that trains a learned perturbation; its
 *   result is `{ draftId }` (kept in memory for the session);
 * - `perturbations/save`: a job that stores a derived dataset (from a draft or
 *   from a spec); its result is `{ datasetId }`;
 * - `perturbations/discard`: forget a draft (and its temporary files);
 * - `datasets/analyze`: a job computing the variance structure of a dataset,
 *   side by side with its parent (or `compareTo`); an unsaved perturbation can
 *   be analysed with `draftId` or `perturbation` (then compared with `id`).
 */
import { z } from 'zod';
import { Id, ImageBatch } from '../domain.js';
import { JobInfo } from '../jobs.js';
import { ParamSpec } from '../params.js';

export const PerturbationKind = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_-]*$/, 'a perturbation id such as uniform-noise');
export const PerturbParams = z.record(z.string().max(64), z.union([z.number(), z.boolean(), z.string().max(200)]));
export const Seed = z.number().int().min(0).max(2 ** 32 - 1);
export const DraftId = z.string().regex(/^draft-[0-9a-f]{10}$/, 'a draft id from perturbations/train');
export const PerturbBlock = z.object({ kind: PerturbationKind, params: PerturbParams }).strict();
const Blocks = z.array(PerturbBlock).min(1).max(16);
const MAX_PREVIEW = 32;

/*
 * Statistics sample of a preview. The preview is computed in a worker thread
 * (it never holds up other requests) but answers an editor that waits for
 * it, so its worst case should be a few seconds of CPU. Each sample renders
 * the parent and the perturbed image (64×64×3 for Shapes3D, the largest) and
 * feeds the per-pixel variances and the collision check; measured on one
 * core, Shapes3D with uniform noise: 128 samples ≈ 0.3 s, 1000 ≈ 1.1 s
 * (2000 were 6.4 s before the statistics stopped striding through memory
 * and keying images by their full bytes); a blur block ≈ 2 s at 1000. A
 * composed perturbation renders every block for every sample, so its
 * samples × blocks is capped too (heavy blocks, e.g. 16 wide blurs, can
 * still take tens of seconds: the thread's timeout stops a preview at 2 min).
 * A saved dataset's statistics (perturbations/save) are a job with progress
 * and cancel, and may use many more (memory stays small, see stats.ts).
 */
export const MAX_PREVIEW_STATS_SAMPLES = 1000;
export const MAX_PREVIEW_STATS_WORK = 4000; // statsSamples × max(1, blocks)

export const PerturbationEntryInfo = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  params: z.array(ParamSpec),
  block: z.boolean(),
  learned: z.boolean(),
  composite: z.boolean(),
});
export type PerturbationEntryInfo = z.infer<typeof PerturbationEntryInfo>;

/** perturbationStats (src/core/perturbations/stats.ts) on the wire: NaN becomes null. */
export const PerturbationStatsWire = z.object({
  samples: z.number(),
  seed: z.number(),
  epsilon: z.number(),
  maxAbsDelta: z.number(),
  meanL2Change: z.number(),
  meanSquaredChange: z.number(),
  pixelVarianceParent: z.number(),
  pixelVarianceDerived: z.number(),
  pixelVarianceChange: z.number(),
  clippedPixels: z.number(),
  clippedFraction: z.number(),
  clipped: z.boolean(),
  boundClippedPixels: z.number(),
  boundHolds: z.boolean(),
  preservation: z.object({
    distinctIndices: z.number(),
    distinctParentImages: z.number(),
    distinctDerivedImages: z.number(),
    collisions: z.number(),
    pairSamples: z.number(),
    minDistanceParent: z.number().nullable(),
    minDistanceDerived: z.number().nullable(),
  }),
});
export type PerturbationStatsWire = z.infer<typeof PerturbationStatsWire>;

export const PreviewResult = z.object({
  baseId: Id,
  kind: z.string(),
  /** The identity the saved dataset would get (`<base>.<kind>.<hash>`). */
  datasetId: Id,
  name: z.string(),
  epsilon: z.number(),
  /** Resolved parameters (defaults filled in), and blocks for `compose`. */
  params: PerturbParams,
  blocks: z.array(PerturbBlock).optional(),
  seed: z.number(),
  draftId: DraftId.nullable(),
  indices: z.array(z.number().int()),
  factors: z.array(z.array(z.number().int())),
  originals: ImageBatch,
  perturbed: ImageBatch,
  /** |x' − x| / ε per pixel (ε maps to full white). */
  difference: ImageBatch,
  /** max |x' − x| of each shown image. */
  maxAbsDelta: z.array(z.number()),
  stats: PerturbationStatsWire,
});
export type PreviewResult = z.infer<typeof PreviewResult>;

/** varianceStructure (src/core/analysis/variance.ts) as plain JSON. */
export const VarianceStructureWire = z.object({
  dataset: z.string(),
  factors: z.array(z.string()),
  samples: z.number(),
  seed: z.number(),
  pixels: z.number(),
  meanSquaredChange: z.array(z.number()),
  meanSquaredChangePerPixel: z.array(z.number()),
  zeroStepFraction: z.array(z.number()),
  overlap: z.array(z.array(z.number())),
  absOverlap: z.array(z.array(z.number())),
  offDiagonalOverlap: z.number(),
  gram: z.array(z.array(z.number())),
  gramEigenvalues: z.array(z.number()),
  principalDirections: z.array(z.array(z.number())),
  alignmentDistance: z.number(),
  localAlignmentDistance: z.number(),
  /** 'cross-replica': per-image noise cancelled with a second draw of it; 'single': products within one rendering. */
  estimator: z.enum(['single', 'cross-replica']).optional(),
});
export type VarianceStructureWire = z.infer<typeof VarianceStructureWire>;

/** The `result` of a `datasets/analyze` job. */
export const AnalysisResult = z.object({
  datasetId: z.string(),
  name: z.string(),
  samples: z.number(),
  seed: z.number(),
  analysis: VarianceStructureWire,
  /** The dataset it is compared with (its parent, `compareTo`, or the base of an unsaved perturbation). */
  compareTo: z.object({ datasetId: z.string(), name: z.string(), analysis: VarianceStructureWire }).nullable(),
});
export type AnalysisResult = z.infer<typeof AnalysisResult>;

/** The `result` of a `perturbations/train` job. */
export const TrainResult = z.object({
  draftId: DraftId,
  datasetId: Id,
  report: z.record(z.string(), z.unknown()),
});
export type TrainResult = z.infer<typeof TrainResult>;

export const perturbRequests = {
  'perturbations/list': {
    summary: 'Every perturbation with its parameters (ranges, defaults, paper values) and whether it is a block, learned or composite.',
    input: z.object({}).strict(),
    output: z.array(PerturbationEntryInfo),
  },
  'perturbations/preview': {
    summary: 'Original, perturbed and amplified-difference images for a few samples, with statistics of a small seeded sample.',
    input: z
      .object({
        baseId: Id,
        kind: PerturbationKind,
        params: PerturbParams.optional(),
        seed: Seed.optional(),
        blocks: Blocks.optional(),
        indices: z.array(z.number().int().nonnegative()).min(1).max(MAX_PREVIEW).optional(),
        count: z.number().int().min(1).max(MAX_PREVIEW).optional(),
        sampleSeed: Seed.optional(),
        /** Statistics sample size (default 128, at most MAX_PREVIEW_STATS_SAMPLES). */
        statsSamples: z
          .number()
          .int()
          .min(8)
          .max(MAX_PREVIEW_STATS_SAMPLES, `at most ${MAX_PREVIEW_STATS_SAMPLES} statistics samples in a preview (saving computes them on more)`)
          .optional(),
        /** Preview a trained draft (learned kinds). */
        draftId: DraftId.optional(),
      })
      .strict()
      .refine((v) => v.indices === undefined || v.count === undefined, { message: 'give either indices or count, not both' })
      .refine((v) => (v.statsSamples ?? 128) * Math.max(1, v.blocks?.length ?? 0) <= MAX_PREVIEW_STATS_WORK, {
        path: ['statsSamples'],
        message: `a composed preview renders every block for every statistics sample: statsSamples × blocks may be at most ${MAX_PREVIEW_STATS_WORK}`,
      }),
    output: PreviewResult,
  },
  'perturbations/train': {
    summary: 'Train a learned perturbation as a job (progress, training curve, cancel); its result is { draftId }.',
    input: z.object({ baseId: Id, kind: PerturbationKind, params: PerturbParams.optional(), seed: Seed.optional() }).strict(),
    output: JobInfo,
  },
  'perturbations/save': {
    summary: 'Store a derived dataset (from a draft, or from base/kind/params/seed) as a job; its result is { datasetId }.',
    input: z
      .object({
        name: z.string().trim().min(1).max(200),
        draftId: DraftId.optional(),
        baseId: Id.optional(),
        kind: PerturbationKind.optional(),
        params: PerturbParams.optional(),
        seed: Seed.optional(),
        blocks: Blocks.optional(),
        /** Statistics sample size (default 1000). */
        statsSamples: z.number().int().min(8).max(20000).optional(),
      })
      .strict()
      .refine((v) => (v.draftId !== undefined) !== (v.baseId !== undefined && v.kind !== undefined), {
        message: 'give either draftId or baseId and kind',
      })
      .refine((v) => v.draftId === undefined || (v.baseId === undefined && v.kind === undefined && v.params === undefined && v.seed === undefined && v.blocks === undefined), {
        message: 'a draft already fixes base, kind, params, seed and blocks',
      }),
    output: JobInfo,
  },
  'perturbations/discard': {
    summary: 'Forget a trained draft and delete its temporary files.',
    input: z.object({ draftId: DraftId }).strict(),
    output: z.object({ draftId: DraftId, discarded: z.boolean() }),
  },
  'datasets/analyze': {
    summary: 'Variance structure of a dataset (per-factor change, overlap, alignment) as a job, side by side with its parent or compareTo.',
    input: z
      .object({
        id: Id,
        samples: z.number().int().min(10).max(5000).optional(),
        seed: Seed.optional(),
        compareTo: Id.optional(),
        /** Analyse this trained draft (of dataset `id`) instead, compared with `id`. */
        draftId: DraftId.optional(),
        /** Analyse `id` perturbed by this (non-learned) perturbation, compared with `id`. */
        perturbation: z
          .object({ kind: PerturbationKind, params: PerturbParams.optional(), seed: Seed.optional(), blocks: Blocks.optional() })
          .strict()
          .optional(),
      })
      .strict()
      .refine((v) => [v.compareTo, v.draftId, v.perturbation].filter((x) => x !== undefined).length <= 1, {
        message: 'give at most one of compareTo, draftId, perturbation',
      }),
    output: JobInfo,
  },
} as const;
