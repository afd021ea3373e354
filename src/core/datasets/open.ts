/**
 * Open any dataset from what the store knows about it: built-in ones from the
 * registry, imported ones from their cache files, derived ones by re-creating
 * the perturbation from its spec on top of the (recursively opened) parent.
 * Pure: the Lab and the training worker both use it (the worker gets the rows
 * in its start message and never touches SQLite).
 */
import * as path from 'node:path';
import { idPath } from '../util/paths.js';
import { restorePerturbation } from '../perturbations/registry.js';
import type { PerturbationSpec } from '../perturbations/types.js';
import { openImported } from './importers/index.js';
import { findBuiltin } from './registry.js';
import type { StoredDatasetRow } from './service.js';
import type { GroundTruthDataset } from './types.js';

/** A dataset's folder: `datasets/<id>` for a safe id, checked to stay inside `datasets/`. */
export function datasetDir(labDir: string, id: string): string {
  return idPath(path.join(labDir, 'datasets'), id, 'dataset id');
}

export async function openDataset(
  id: string,
  lookup: (id: string) => StoredDatasetRow | undefined,
  labDir: string,
  opened: Map<string, GroundTruthDataset> = new Map(),
  depth = 0,
): Promise<GroundTruthDataset> {
  const hit = opened.get(id);
  if (hit) return hit;
  if (depth > 16) throw new Error(`dataset '${id}': derivation chain too deep`);
  let ds: GroundTruthDataset;
  const builtin = findBuiltin(id);
  if (builtin) ds = builtin.create();
  else {
    const row = lookup(id);
    if (!row) throw new Error(`no dataset '${id}'`);
    if (row.source === 'imported') ds = openImported(datasetDir(labDir, id));
    else {
      if (!row.parentId) throw new Error(`derived dataset '${id}' has no parent`);
      const parent = await openDataset(row.parentId, lookup, labDir, opened, depth + 1);
      const derived = await restorePerturbation(row.spec as unknown as PerturbationSpec, parent, { artifactDir: datasetDir(labDir, id) });
      // The stored info (id, name) is the derived dataset's identity.
      ds = { info: row.info, render: (i, out, off) => derived.render(i, out, off) };
    }
  }
  opened.set(id, ds);
  return ds;
}

/** The rows of a dataset and all its ancestors (what a worker needs to open it). */
export function lineage(id: string, lookup: (id: string) => StoredDatasetRow | undefined): StoredDatasetRow[] {
  const rows: StoredDatasetRow[] = [];
  let cur: string | null = id;
  while (cur && !findBuiltin(cur)) {
    const row = lookup(cur);
    if (!row) throw new Error(`no dataset '${cur}'`);
    rows.push(row);
    cur = row.parentId;
    if (rows.length > 16) throw new Error(`dataset '${id}': derivation chain too deep`);
  }
  return rows;
}
