/**
 * Perturbations turn a parent ground-truth dataset into a derived one with the
 * same factors, in the same order, and new images:
 *
 *   x'(i) = clip₀¹( x(i) + clip_{±ε}( δ(i) ) )
 *
 * computed on demand and deterministically per image index (random access,
 * nothing stored but small artifacts such as learned weights). A perturbation
 * is one file exporting a `PerturbationEntry` plus one line in `registry.ts`.
 *
 * A derived dataset is fully described by its `PerturbationSpec` (kind,
 * resolved params, seed, parent id, artifact files, and for `compose` its
 * blocks); `restorePerturbation(spec, parent, ctx)` re-creates the same
 * dataset bit for bit.
 */
import { z } from 'zod';
import { Id } from '../../shared/domain.js';
import type { DatasetInfo } from '../../shared/domain.js';
import type { ParamSpec, ParamValues } from '../../shared/params.js';
import type { GroundTruthDataset } from '../datasets/types.js';

export const ParamValuesSchema = z.record(z.string(), z.union([z.number(), z.boolean(), z.string()]));

/** A file written into ctx.artifactDir (path relative to it). */
export const ArtifactRef = z.object({
  file: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a plain file name inside the artifact directory'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
});
export type ArtifactRef = z.infer<typeof ArtifactRef>;

/** One building block inside a `compose` perturbation. */
export const BlockSpec = z.object({
  kind: z.string(),
  params: ParamValuesSchema,
});
export type BlockSpec = z.infer<typeof BlockSpec>;

export const PerturbationSpec = z.object({
  kind: z.string(),
  /** Resolved parameter values (defaults filled in). */
  params: ParamValuesSchema,
  seed: z.number().int(),
  parentId: Id,
  /** Learned weights etc., by role (e.g. { weights: … }). */
  artifacts: z.record(z.string(), ArtifactRef).optional(),
  /** Only for `compose`: the chained blocks, in order, with resolved params. */
  blocks: z.array(BlockSpec).optional(),
});
export type PerturbationSpec = z.infer<typeof PerturbationSpec>;

export interface PerturbationProgress {
  stage: 'sampling' | 'training' | 'evaluating' | 'saving' | 'done';
  step?: number;
  steps?: number;
  /** Learned manipulation: objective = entangledLoss − disentangledLoss. */
  objective?: number;
  entangledLoss?: number;
  disentangledLoss?: number;
  /** Learned manipulation: the variance-structure term L_S (when its weight is above 0). */
  structureLoss?: number;
}

export interface PerturbationContext {
  onProgress?(fraction: number, info: PerturbationProgress): void;
  signal?: AbortSignal;
  /** Where artifact files (learned weights) are written to / read from. */
  artifactDir?: string;
}

/** Running clip counters of a derived dataset (over every render so far). */
export interface ClipCounters {
  images: number;
  pixels: number;
  /** Pixels whose offset exceeded ±ε and was cut to the bound. */
  boundClipped: number;
  /** Pixels where x + δ < 0 (set to 0) or > 1 (set to 1). */
  clippedLow: number;
  clippedHigh: number;
}

export interface DerivedDataset extends GroundTruthDataset {
  readonly parent: GroundTruthDataset;
  readonly spec: PerturbationSpec;
  readonly epsilon: number;
  /**
   * Write the bounded offset of image `index` (δ cut to ±ε, before the [0,1]
   * clip) into out[offset …].
   */
  offset(index: number, out: Float32Array, offset?: number): void;
  /** Counters of clipping seen so far (to [0,1] and to ±ε). */
  clipCounters(): ClipCounters;
  /** Free-form report of how it was made (training curve of a learned one). */
  readonly report?: Record<string, unknown>;
}

/**
 * An offset function: given the image index, its factor classes and the
 * (current) image, write the raw, unbounded offset δ into `delta` (length
 * H·W·C, zero on entry). It must be a pure function of its inputs and of the
 * seed/params it closed over. It may keep scratch buffers (not re-entrant).
 */
export type OffsetFn = (index: number, factors: readonly number[], image: Float32Array, delta: Float32Array) => void;

export interface PerturbationEntry {
  id: string;
  name: string;
  description: string;
  params: ParamSpec[];
  /** Editor building block usable inside `compose`. */
  block?: boolean;
  /** Learns weights (slow; writes an artifact). */
  learned?: boolean;
  /** Takes a list of blocks (`compose`). */
  composite?: boolean;
  /**
   * Its seed only draws noise that is independent from image to image (not a
   * function of the factors): another seed gives an independent replica of
   * the same dataset, which the variance-structure analysis uses to cancel
   * that noise (see analysis/variance.ts).
   */
  resampleable?: boolean;
  /**
   * Build the derived dataset. `params` are already resolved against
   * `params` specs (see `createPerturbation` in registry.ts).
   */
  /**
   * For building blocks: the raw offset function (used by `compose`, which
   * chains blocks under its own ε). `epsilon` is the bound in force.
   */
  buildOffset?(info: DatasetInfo, params: ParamValues, seed: number, epsilon: number): OffsetFn;
  create(
    parent: GroundTruthDataset,
    params: ParamValues,
    seed: number,
    ctx?: PerturbationContext,
    blocks?: BlockSpec[],
  ): Promise<DerivedDataset>;
  /** Re-create from a stored spec (default: create with the spec's params, seed and blocks). */
  restore?(spec: PerturbationSpec, parent: GroundTruthDataset, ctx?: PerturbationContext): Promise<DerivedDataset>;
}

/** The ε parameter every perturbation declares. */
export function epsilonParam(): ParamSpec {
  return {
    key: 'epsilon',
    label: 'ε (max |change| per pixel)',
    description:
      'Bound on the change of every pixel: the offset is cut to [−ε, ε] before the image is clipped to [0, 1]. ' +
      'The paper uses 0.1 on dSprites and 0.175 on Shapes3D.',
    type: 'number',
    default: 0.1,
    min: 0,
    max: 1,
    step: 0.005,
    paperValues: { dsprites: 0.1, shapes3d: 0.175 },
  };
}
