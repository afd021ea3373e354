/**
 * Built-in perturbations. A new perturbation is one file exporting a
 * `PerturbationEntry` plus one line in `entries` below; the UI forms and the
 * CLI read names, descriptions and parameters from here.
 */
import { resolveParams } from '../../shared/params.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import { backgroundEntry } from './background.js';
import { blurEntry } from './blur.js';
import { makeComposeEntry } from './compose.js';
import { intensityEntry } from './intensity.js';
import { manipulationEntry } from './manipulation.js';
import { patternEntry } from './pattern.js';
import type { BlockSpec, DerivedDataset, PerturbationContext, PerturbationEntry, PerturbationSpec } from './types.js';
import { PerturbationSpec as PerturbationSpecSchema } from './types.js';
import { uniformNoiseEntry } from './uniform-noise.js';

const entries: PerturbationEntry[] = [
  manipulationEntry,
  uniformNoiseEntry,
  patternEntry,
  intensityEntry,
  blurEntry,
  backgroundEntry,
];
entries.push(
  makeComposeEntry(
    (kind) => entries.find((e) => e.id === kind),
    () => entries.filter((e) => e.block).map((e) => e.id),
  ),
);

export const perturbations: readonly PerturbationEntry[] = entries;

export function findPerturbation(id: string): PerturbationEntry | undefined {
  return entries.find((e) => e.id === id);
}

function need(kind: string): PerturbationEntry {
  const e = findPerturbation(kind);
  if (!e) throw new Error(`unknown perturbation '${kind}' (known: ${entries.map((x) => x.id).join(', ')})`);
  return e;
}

/**
 * Create a derived dataset: resolves `params` (defaults, ranges) against the
 * entry's declared parameters, then builds it. The result's `.spec` is what to
 * store to re-create it later with `restorePerturbation`.
 */
export async function createPerturbation(
  kind: string,
  parent: GroundTruthDataset,
  params: Record<string, unknown>,
  seed: number,
  ctx: PerturbationContext = {},
  blocks?: BlockSpec[],
): Promise<DerivedDataset> {
  const entry = need(kind);
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  if (blocks && !entry.composite) throw new Error(`'${kind}' does not take blocks`);
  return entry.create(parent, resolveParams(entry.params, params), seed, ctx, blocks);
}

/** Re-create a derived dataset from its stored spec (identical images). */
export async function restorePerturbation(
  spec: PerturbationSpec,
  parent: GroundTruthDataset,
  ctx: PerturbationContext = {},
): Promise<DerivedDataset> {
  const s = PerturbationSpecSchema.parse(spec);
  if (s.parentId !== parent.info.id) throw new Error(`spec is for parent '${s.parentId}', got '${parent.info.id}'`);
  const entry = need(s.kind);
  const params = resolveParams(entry.params, s.params);
  if (entry.restore) return entry.restore({ ...s, params }, parent, ctx);
  return entry.create(parent, params, s.seed, ctx, s.blocks);
}
