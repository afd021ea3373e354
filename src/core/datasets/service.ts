/**
 * The lab's view of datasets: the built-in registry plus what the store holds
 * (imported files and derived datasets). Opening a dataset gives a
 * GroundTruthDataset for sampling and training.
 */
import type { DatasetInfo } from '../../shared/domain.js';
import { LabError } from '../../shared/contract.js';
import type { Db } from '../store/db.js';
import { openDataset, type DerivedOpener } from './open.js';
import { builtinDatasets, findBuiltin } from './registry.js';
import type { GroundTruthDataset } from './types.js';

export interface StoredDatasetRow {
  id: string;
  source: 'imported' | 'derived';
  info: DatasetInfo;
  spec: Record<string, unknown>;
  stats: Record<string, unknown>;
  parentId: string | null;
  createdAt: string;
}

export class DatasetService {
  private cache = new Map<string, GroundTruthDataset>();

  constructor(
    private readonly db: Db,
    private readonly labDir: string,
    /** How derived datasets open (the perturbations room's opener; without one they cannot). */
    private readonly openDerived?: DerivedOpener,
  ) {}

  list(): DatasetInfo[] {
    return [...builtinDatasets.map((d) => d.info), ...this.storedRows().map((r) => r.info)];
  }

  get(id: string): DatasetInfo {
    const builtin = findBuiltin(id);
    if (builtin) return builtin.info;
    const row = this.storedRow(id);
    if (!row) throw new LabError('not_found', `no dataset '${id}'`);
    return row.info;
  }

  async open(id: string): Promise<GroundTruthDataset> {
    this.get(id); // not_found as a typed error
    try {
      return await openDataset(id, (x) => this.storedRow(x), this.labDir, { opened: this.cache, ...(this.openDerived ? { openDerived: this.openDerived } : {}) });
    } catch (e) {
      throw new LabError('internal', `cannot open dataset '${id}': ${(e as Error).message}`);
    }
  }

  /** Forget an opened instance (after delete or re-import). */
  evict(id: string): void {
    // imported caches over the in-memory limit hold a file descriptor
    (this.cache.get(id) as { close?: () => void } | undefined)?.close?.();
    this.cache.delete(id);
  }

  storedRows(): StoredDatasetRow[] {
    const rows = this.db.prepare('SELECT * FROM datasets ORDER BY created_at, id').all() as RawRow[];
    return rows.map(parseRow);
  }

  storedRow(id: string): StoredDatasetRow | undefined {
    const row = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as RawRow | undefined;
    return row ? parseRow(row) : undefined;
  }
}

interface RawRow {
  id: string;
  name: string;
  source: 'imported' | 'derived';
  info_json: string;
  spec_json: string;
  stats_json: string;
  parent_id: string | null;
  created_at: string;
}

function parseRow(r: RawRow): StoredDatasetRow {
  return {
    id: r.id,
    source: r.source,
    info: JSON.parse(r.info_json) as DatasetInfo,
    spec: JSON.parse(r.spec_json) as Record<string, unknown>,
    stats: JSON.parse(r.stats_json) as Record<string, unknown>,
    parentId: r.parent_id,
    createdAt: r.created_at,
  };
}
