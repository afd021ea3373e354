/**
 * Open any dataset from what the store knows about it: built-in ones from the
 * registry, imported ones from their cache files, derived ones through the
 * opener the caller passes (the perturbations room's `openDerived`, which
 * re-creates the perturbation from its spec on top of the recursively opened
 * parent) — so datasets/ never imports perturbations/.
 * Pure: the Lab and the training worker both use it (the worker gets the rows
 * in its start message and never touches SQLite).
 */
import * as path from 'node:path';
import { idPath } from '../util/paths.js';
import { openImported } from './importers/index.js';
import { findBuiltin } from './registry.js';
import type { StoredDatasetRow } from './service.js';
import type { GroundTruthDataset } from './types.js';

/** A dataset's folder: `datasets/<id>` for a safe id, checked to stay inside `datasets/`. */
export function datasetDir(labDir: string, id: string): string {
  return idPath(path.join(labDir, 'datasets'), id, 'dataset id');
}

/** Opens a derived dataset from its row, its opened parent and its artifact folder. */
export type DerivedOpener = (row: StoredDatasetRow, parent: GroundTruthDataset, artifactDir: string) => Promise<GroundTruthDataset>;

export interface OpenOptions {
  openDerived?: DerivedOpener;
  /** Datasets opened already (a cache shared across calls). */
  opened?: Map<string, GroundTruthDataset>;
}

export async function openDataset(
  id: string,
  lookup: (id: string) => StoredDatasetRow | undefined,
  labDir: string,
  opts: OpenOptions = {},
  depth = 0,
): Promise<GroundTruthDataset> {
  const opened = (opts.opened ??= new Map());
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
      if (!opts.openDerived) throw new Error(`derived dataset '${id}': no opener for derived datasets was given`);
      const parent = await openDataset(row.parentId, lookup, labDir, opts, depth + 1);
      ds = await opts.openDerived(row, parent, datasetDir(labDir, id));
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
