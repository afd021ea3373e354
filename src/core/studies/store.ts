/**
 * Studies in the store: one `experiments` row each (config_json holds the
 * spec and the dataset ids of its variants once created); its runs carry
 * `experiment_id`. No schema change is needed.
 */
import * as crypto from 'node:crypto';
import { StudySpec } from '../../shared/requests/studies.js';
import type { RunConfig, RunStatus } from '../../shared/runs.js';
import { nowIso, type Db } from '../store/db.js';

export interface StoredStudy {
  id: string;
  name: string;
  description: string;
  spec: StudySpec;
  /** base dataset id → variant role → dataset id */
  datasetIds: Record<string, Record<string, string>>;
  createdAt: string;
}

export interface StudyRunRow {
  id: string;
  model: string;
  datasetId: string;
  seed: number;
  status: RunStatus;
  step: number;
  totalSteps: number;
  config: RunConfig;
  createdAt: string;
  ownerPid: number | null;
}

interface ExperimentRow {
  id: string;
  name: string;
  description: string;
  config_json: string;
  created_at: string;
}

export const STUDY_KIND = 'dlab-study';

export function newStudyId(): string {
  return `study-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${crypto.randomBytes(4).toString('hex')}`;
}

function parse(r: ExperimentRow): StoredStudy | undefined {
  let cfg: { kind?: string; spec?: unknown; datasetIds?: Record<string, Record<string, string>> };
  try {
    cfg = JSON.parse(r.config_json) as typeof cfg;
  } catch {
    return undefined;
  }
  if (cfg.kind !== STUDY_KIND) return undefined;
  const spec = StudySpec.safeParse(cfg.spec);
  if (!spec.success) return undefined;
  return { id: r.id, name: r.name, description: r.description, spec: spec.data, datasetIds: cfg.datasetIds ?? {}, createdAt: r.created_at };
}

export class StudyRepository {
  constructor(private readonly db: Db) {}

  insert(id: string, spec: StudySpec, createdAt = nowIso()): StoredStudy {
    const config = { kind: STUDY_KIND, version: 1, spec, datasetIds: {} };
    this.db
      .prepare('INSERT INTO experiments (id, name, description, config_json, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, spec.name, spec.description ?? '', JSON.stringify(config), createdAt);
    return this.get(id)!;
  }

  get(id: string): StoredStudy | undefined {
    const r = this.db.prepare('SELECT * FROM experiments WHERE id = ?').get(id) as ExperimentRow | undefined;
    return r ? parse(r) : undefined;
  }

  list(): StoredStudy[] {
    const rows = this.db.prepare('SELECT * FROM experiments ORDER BY created_at DESC, id DESC').all() as ExperimentRow[];
    return rows.map(parse).filter((s): s is StoredStudy => s !== undefined);
  }

  setDatasetIds(id: string, datasetIds: Record<string, Record<string, string>>): void {
    const s = this.get(id);
    if (!s) throw new Error(`no study '${id}'`);
    const config = { kind: STUDY_KIND, version: 1, spec: s.spec, datasetIds };
    this.db.prepare('UPDATE experiments SET config_json = ? WHERE id = ?').run(JSON.stringify(config), id);
  }

  runs(id: string): StudyRunRow[] {
    const rows = this.db
      .prepare('SELECT id, model, dataset_id, seed, status, step, total_steps, config_json, created_at, owner_pid FROM runs WHERE experiment_id = ? ORDER BY created_at, id')
      .all(id) as {
      id: string;
      model: string;
      dataset_id: string;
      seed: number;
      status: RunStatus;
      step: number;
      total_steps: number;
      config_json: string;
      created_at: string;
      owner_pid: number | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      model: r.model,
      datasetId: r.dataset_id,
      seed: r.seed,
      status: r.status,
      step: r.step,
      totalSteps: r.total_steps,
      config: JSON.parse(r.config_json) as RunConfig,
      createdAt: r.created_at,
      ownerPid: r.owner_pid,
    }));
  }

  /** Metrics of a run with at least one stored evaluation, with their latest provenance settings. */
  evaluatedMetrics(runId: string): Map<string, Record<string, unknown>[]> {
    const rows = this.db.prepare('SELECT metric, provenance_json FROM evaluations WHERE run_id = ? ORDER BY id').all(runId) as { metric: string; provenance_json: string }[];
    const out = new Map<string, Record<string, unknown>[]>();
    for (const r of rows) {
      let settings: Record<string, unknown> = {};
      try {
        settings = ((JSON.parse(r.provenance_json) as { settings?: Record<string, unknown> }).settings ?? {}) as Record<string, unknown>;
      } catch {
        /* a malformed row counts as unsettled */
      }
      const list = out.get(r.metric) ?? [];
      list.push(settings);
      out.set(r.metric, list);
    }
    return out;
  }
}
