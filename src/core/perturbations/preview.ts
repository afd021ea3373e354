/**
 * The pure, heavy part of the perturbation room — preview images, the
 * statistics of a seeded sample, the variance structure — computed from
 * plain descriptions of the datasets, so a worker thread can do it
 * (src/core/thread-tasks.ts): a dataset is its id plus the store rows of it
 * and its ancestors (what `openDataset` needs, no SQLite), a perturbation is
 * either what to create or a spec to restore (a trained draft: its spec and
 * the folder of its weights).
 *
 * The thread keeps the last few opened datasets (keyed by their rows, so a
 * re-imported or deleted dataset is never served stale).
 */
import { LabError } from '../../shared/contract.js';
import type { PerturbationStatsWire } from '../../shared/requests/perturb.js';
import { varianceStructure, type VarianceStructure } from '../analysis/variance.js';
import { openDataset } from '../datasets/open.js';
import { factorsOf, renderBatch, sampleIndices } from '../datasets/grid.js';
import type { StoredDatasetRow } from '../datasets/service.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import { toImageBatch } from '../images.js';
import { Rng } from '../util/rng.js';
import type { ImageBatch } from '../../shared/domain.js';
import { openDerived } from './open.js';
import { createPerturbation, findPerturbation, restorePerturbation } from './registry.js';
import { perturbationStats, type PerturbationStats } from './stats.js';
import type { BlockSpec, DerivedDataset, PerturbationSpec } from './types.js';

/** A dataset the store knows: its id and the rows of it and its ancestors (none for a built-in one). */
export interface DatasetSource {
  labDir: string;
  id: string;
  rows: StoredDatasetRow[];
}

/** A perturbation of a source: created from kind/params/seed(/blocks), or restored from a spec (+ its artifact folder). */
export type DerivedSource =
  | { create: { kind: string; params?: Record<string, number | boolean | string>; seed?: number; blocks?: BlockSpec[] } }
  | { restore: { spec: PerturbationSpec; artifactDir?: string } };

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

export function statsToWire(s: PerturbationStats): PerturbationStatsWire {
  return {
    ...s,
    preservation: {
      ...s.preservation,
      minDistanceParent: finiteOrNull(s.preservation.minDistanceParent),
      minDistanceDerived: finiteOrNull(s.preservation.minDistanceDerived),
    },
  };
}

// ------------------------------------------------------------ opening

const CACHED = 4;
const opened = new Map<string, GroundTruthDataset>();

/** Open a stored or built-in dataset (kept for the next request of this thread). */
export async function openSource(src: DatasetSource): Promise<GroundTruthDataset> {
  const key = JSON.stringify([src.labDir, src.id, src.rows]);
  const hit = opened.get(key);
  if (hit) {
    opened.delete(key);
    opened.set(key, hit);
    return hit;
  }
  const rows = new Map(src.rows.map((r) => [r.id, r]));
  let ds: GroundTruthDataset;
  try {
    ds = await openDataset(src.id, (id) => rows.get(id), src.labDir, { openDerived });
  } catch (e) {
    throw new LabError('internal', `cannot open dataset '${src.id}': ${(e as Error).message}`);
  }
  opened.set(key, ds);
  while (opened.size > CACHED) {
    const [oldest, old] = opened.entries().next().value as [string, GroundTruthDataset];
    opened.delete(oldest);
    // imported caches over the in-memory limit hold a file descriptor
    (old as { close?: () => void }).close?.();
  }
  return ds;
}

/** Build the perturbation on its parent; a mistake in kind/params/blocks is invalid_payload. */
export async function buildDerived(parent: GroundTruthDataset, src: DerivedSource): Promise<DerivedDataset> {
  try {
    if ('restore' in src) return await restorePerturbation(src.restore.spec, parent, src.restore.artifactDir ? { artifactDir: src.restore.artifactDir } : {});
    const c = src.create;
    return await createPerturbation(c.kind, parent, c.params ?? {}, c.seed ?? 0, {}, c.blocks);
  } catch (e) {
    if (e instanceof LabError) throw e;
    throw new LabError('invalid_payload', (e as Error)?.message ?? String(e));
  }
}

// ------------------------------------------------------------ preview

export interface PreviewInput {
  base: DatasetSource;
  derived: DerivedSource;
  /** Images to show, or a seeded sample of `count`. */
  indices?: number[];
  count?: number;
  sampleSeed?: number;
  statsSamples?: number;
}

/** What the preview computes; the service adds the identity (datasetId, draftId). */
export interface PreviewImages {
  spec: PerturbationSpec;
  name: string;
  epsilon: number;
  indices: number[];
  factors: number[][];
  originals: ImageBatch;
  perturbed: ImageBatch;
  difference: ImageBatch;
  maxAbsDelta: number[];
  stats: PerturbationStatsWire;
}

/** original | perturbed | |Δ|/ε of a few images, and the statistics of a small seeded sample. */
export function previewImages(parent: GroundTruthDataset, derived: DerivedDataset, opts: Omit<PreviewInput, 'base' | 'derived'>): PreviewImages {
  const sizes = parent.info.factors.map((f) => f.size);
  let indices: number[];
  if (opts.indices) {
    const bad = opts.indices.find((i) => i >= parent.info.count);
    if (bad !== undefined) throw new LabError('invalid_payload', `index ${bad} outside 0…${parent.info.count - 1}`);
    indices = opts.indices;
  } else {
    indices = Array.from(sampleIndices(sizes, opts.count ?? 8, new Rng(opts.sampleSeed ?? 0)));
  }
  const X = renderBatch(parent, indices);
  const Y = renderBatch(derived, indices);
  const eps = derived.epsilon;
  const P = X.length / indices.length;
  const D = new Float32Array(X.length);
  const maxAbs: number[] = [];
  for (let i = 0; i < indices.length; i++) {
    let m = 0;
    for (let j = i * P; j < (i + 1) * P; j++) {
      const a = Math.abs(Y[j]! - X[j]!);
      if (a > m) m = a;
      D[j] = eps > 0 ? a / eps : 0;
    }
    maxAbs.push(m);
  }
  const stats = perturbationStats(parent, derived, { samples: opts.statsSamples ?? 128, pairSamples: 64, seed: opts.sampleSeed ?? 0 });
  const K = sizes.length;
  const f = factorsOf(sizes, indices);
  const shape = parent.info.imageShape;
  return {
    spec: derived.spec,
    name: derived.info.name,
    epsilon: eps,
    indices,
    factors: indices.map((_, i) => Array.from(f.subarray(i * K, (i + 1) * K))),
    originals: toImageBatch(X, indices.length, shape),
    perturbed: toImageBatch(Y, indices.length, shape),
    difference: toImageBatch(D, indices.length, shape),
    maxAbsDelta: maxAbs,
    stats: statsToWire(stats),
  };
}

export async function preview(input: PreviewInput): Promise<PreviewImages> {
  const parent = await openSource(input.base);
  const derived = await buildDerived(parent, input.derived);
  return previewImages(parent, derived, input);
}

// ------------------------------------------------------------ statistics, variance

export async function stats(input: { base: DatasetSource; derived: DerivedSource; samples: number; pairSamples: number; seed: number }): Promise<PerturbationStatsWire> {
  const parent = await openSource(input.base);
  const derived = await buildDerived(parent, input.derived);
  return statsToWire(perturbationStats(parent, derived, { samples: input.samples, pairSamples: input.pairSamples, seed: input.seed }));
}

/** The variance structure of a dataset, or of a perturbation of it. */
export async function variance(input: { base: DatasetSource; derived?: DerivedSource; samples: number; seed: number }): Promise<VarianceStructure> {
  const parent = await openSource(input.base);
  const derived = input.derived ? await buildDerived(parent, input.derived) : null;
  const ds = derived ?? parent;
  const replica = await noiseReplica(input.base, derived?.spec ?? null, parent);
  return varianceStructure(ds, { samples: input.samples, seed: input.seed, ...(replica ? { replica } : {}) });
}

/** The seed a noise replica is drawn with: another stream than the dataset's own. */
export const REPLICA_SEED_OFFSET = 0x5eed;

/**
 * The same dataset with its per-image noise drawn again, for a perturbation
 * whose seed only draws such noise (`resampleable`): the analysis cancels
 * that noise with it. Null for everything else (deterministic datasets).
 */
async function noiseReplica(base: DatasetSource, spec: PerturbationSpec | null, opened: GroundTruthDataset): Promise<GroundTruthDataset | null> {
  let parent = opened;
  if (!spec) {
    // a stored derived dataset: its spec and parent from its row
    const row = base.rows.find((r) => r.id === base.id);
    if (!row || row.source !== 'derived' || !row.parentId) return null;
    spec = row.spec as unknown as PerturbationSpec;
    parent = await openSource({ ...base, id: row.parentId });
  }
  if (!findPerturbation(spec.kind)?.resampleable) return null;
  return restorePerturbation({ ...spec, seed: spec.seed + REPLICA_SEED_OFFSET }, parent);
}
