/**
 * The lab's view of datasets: the built-in registry plus what the store holds
 * (imported files and derived datasets). Opening a dataset gives a
 * GroundTruthDataset for sampling and training.
 */
import type { DatasetInfo } from '../../shared/domain.js';
import { LabError } from '../../shared/contract.js';
import type { Db } from '../store/db.js';
import { builtinDatasets, findBuiltin } from './registry.js';
import type { GroundTruthDataset } from './types.js';

/** Opens a stored (imported or derived) dataset from its row. */
export type StoredOpener = (row: StoredDatasetRow, service: DatasetService) => GroundTruthDataset;

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
  private openers = new Map<string, StoredOpener>();
  private cache = new Map<string, GroundTruthDataset>();

  constructor(private readonly db: Db) {}

  /** Rooms that store datasets register how to open them (by `source`). */
  registerOpener(source: 'imported' | 'derived', opener: StoredOpener): void {
    this.openers.set(source, opener);
  }

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

  open(id: string): GroundTruthDataset {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const builtin = findBuiltin(id);
    let ds: GroundTruthDataset;
    if (builtin) ds = builtin.create();
    else {
      const row = this.storedRow(id);
      if (!row) throw new LabError('not_found', `no dataset '${id}'`);
      const opener = this.openers.get(row.source);
      if (!opener) throw new LabError('internal', `this build cannot open ${row.source} datasets`);
      ds = opener(row, this);
    }
    this.cache.set(id, ds);
    return ds;
  }

  /** Forget an opened instance (after delete or re-import). */
  evict(id: string): void {
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
