/**
 * Runs in the store: records, status, scalar series (written in batches),
 * checkpoints and other artifacts, tags and notes. Only the main process
 * writes here.
 */
import type { Checkpoint, RunConfig, RunDetail, RunFilter, RunPage, RunQuery, RunStatus, RunSummary } from '../../shared/runs.js';
import type { MetricScore } from '../metrics/types.js';
import { ownerGone } from '../util/process.js';
import { nowIso, type Db } from './db.js';
import { MetricSeriesRepository } from './series.js';

interface RunRow {
  id: string;
  experiment_id: string | null;
  model: string;
  dataset_id: string;
  config_json: string;
  status: RunStatus;
  backend: string | null;
  seed: number;
  step: number;
  total_steps: number;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** A runs row with its tags, latest series values and latest scores as JSON (see SUMMARY_COLUMNS). */
interface SummaryRow extends RunRow {
  tags_json: string | null;
  latest_json: string | null;
  scores_json: string | null;
}

/** The run config's training settings Compare shows beside the method's hyperparameters (`CompareRow.train_json`). */
export const COMPARE_TRAINING_KEYS = ['arch', 'latent', 'batch', 'lr', 'steps'] as const;

export interface CompareRow {
  id: string;
  model: string;
  dataset_id: string;
  seed: number;
  status: RunStatus;
  params_json: string | null;
  /** A JSON object of the COMPARE_TRAINING_KEYS. */
  train_json: string;
  score: number | null;
}

/** A run's own columns, for listings of many runs (`RunRepository.brief`). */
export interface BriefRun {
  id: string;
  status: RunStatus;
  model: string;
  datasetId: string;
  seed: number;
  step: number;
  totalSteps: number;
}

/** The page size of `query` when none is asked for. */
export const DEFAULT_PAGE = 100;

/**
 * The columns of a summary, one row per run: tags (sorted), the latest value
 * of every series and the latest primary score per metric, each as JSON.
 */
const SUMMARY_COLUMNS = `r.*,
  (SELECT json_group_array(tag) FROM (SELECT tag FROM tags WHERE run_id = r.id ORDER BY tag)) AS tags_json,
  (SELECT json_group_object(k.key, (SELECT s.value FROM scalars s WHERE s.run_id = r.id AND s.key = k.key ORDER BY s.step DESC LIMIT 1))
     FROM (SELECT DISTINCT key FROM scalars WHERE run_id = r.id) k) AS latest_json,
  (SELECT json_group_object(e.metric, json_extract(e.scores_json, '$.value')) FROM evaluations e
     WHERE e.id IN (SELECT MAX(id) FROM evaluations WHERE run_id = r.id GROUP BY metric)) AS scores_json`;

const STATUS_ORDER = `CASE r.status WHEN 'running' THEN 0 WHEN 'queued' THEN 1 WHEN 'paused' THEN 2 WHEN 'interrupted' THEN 3 WHEN 'failed' THEN 4 WHEN 'cancelled' THEN 5 ELSE 6 END`;

/** The WHERE clause of a filter (parameters in order); '' when nothing filters. */
export function whereOf(f: RunFilter): { sql: string; params: unknown[] } {
  const conds: string[] = [];
  const params: unknown[] = [];
  const inList = (col: string, xs: readonly unknown[] | undefined) => {
    if (!xs) return;
    if (xs.length === 0) conds.push('0');
    else {
      conds.push(`${col} IN (${xs.map(() => '?').join(',')})`);
      params.push(...xs);
    }
  };
  inList('r.status', f.status);
  inList('r.model', f.model);
  inList('r.dataset_id', f.dataset);
  for (const t of f.tags ?? []) {
    conds.push('EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag = ?)');
    params.push(t);
  }
  if (f.study === null) conds.push('r.experiment_id IS NULL');
  else if (f.study !== undefined) {
    conds.push('r.experiment_id = ?');
    params.push(f.study);
  }
  if (f.from) {
    conds.push('r.created_at >= ?');
    params.push(f.from);
  }
  if (f.to) {
    conds.push('r.created_at < ?');
    params.push(f.to);
  }
  for (const word of (f.text ?? '').toLowerCase().split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf('=');
    if (eq > 0 && eq < word.length - 1) {
      // key=value: a hyperparameter (or z= the latent size) equal to the value
      const key = word.slice(0, eq).replace(/["\\]/g, '');
      const value = word.slice(eq + 1);
      const path = key === 'z' ? '$.latent' : `$.params."${key}"`;
      const num = Number(value);
      if (Number.isFinite(num)) {
        conds.push('json_extract(r.config_json, ?) = ?');
        params.push(path, num);
      } else {
        conds.push('lower(CAST(json_extract(r.config_json, ?) AS TEXT)) = ?');
        params.push(path, value);
      }
      continue;
    }
    // LIKE is case-insensitive for ASCII as lower() is, without building a lowered copy of every row
    const like = `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conds.push(
      `((r.id || ' ' || r.model || ' ' || r.dataset_id || ' ' || r.status || ' seed ' || r.seed || ' ' || r.config_json) LIKE ? ESCAPE '\\'
        OR EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag LIKE ? ESCAPE '\\'))`,
    );
    params.push(like, like);
  }
  return { sql: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

function orderOf(q: RunQuery): { sql: string; params: unknown[] } {
  const sort = q.sort ?? 'created';
  const dir = (q.desc ?? (sort === 'created' || sort === 'started' || sort === 'progress' || sort === 'speed' || sort === 'score')) ? 'DESC' : 'ASC';
  const tie = 'r.created_at DESC, r.id DESC';
  switch (sort) {
    case 'created':
      return { sql: `r.created_at ${dir}, r.id ${dir}`, params: [] };
    case 'started':
      return { sql: `COALESCE(r.started_at, r.created_at) ${dir}, r.id ${dir}`, params: [] };
    case 'status':
      return { sql: `${STATUS_ORDER} ${dir}, ${tie}`, params: [] };
    case 'model':
      return { sql: `r.model ${dir}, ${tie}`, params: [] };
    case 'dataset':
      return { sql: `r.dataset_id ${dir}, ${tie}`, params: [] };
    case 'seed':
      return { sql: `r.seed ${dir}, ${tie}`, params: [] };
    case 'progress':
      return { sql: `(CASE WHEN r.total_steps > 0 THEN MIN(1.0, MAX(0.0, r.step * 1.0 / r.total_steps)) ELSE 0 END) ${dir}, ${tie}`, params: [] };
    case 'speed':
      return { sql: `COALESCE((SELECT value FROM scalars WHERE run_id = r.id AND key = 'steps_per_sec' ORDER BY step DESC LIMIT 1), 0) ${dir}, ${tie}`, params: [] };
    case 'score': {
      // runs without a score of the metric come last either way
      const sc = "(SELECT json_extract(e.scores_json, '$.value') FROM evaluations e WHERE e.run_id = r.id AND e.metric = ? ORDER BY e.id DESC LIMIT 1)";
      return { sql: `${sc} IS NULL, ${sc} ${dir}, ${tie}`, params: [q.sortMetric ?? '', q.sortMetric ?? ''] };
    }
  }
}

export interface ScalarPoint {
  key: string;
  step: number;
  value: number;
}

export class RunRepository {
  /** Periodic scores during training (store/series.ts). */
  readonly metricSeries: MetricSeriesRepository;
  constructor(private readonly db: Db) {
    this.metricSeries = new MetricSeriesRepository(db);
  }

  insert(id: string, config: RunConfig): void {
    this.db
      .prepare(
        `INSERT INTO runs (id, experiment_id, model, dataset_id, config_json, status, seed, step, total_steps, created_at)
         VALUES (?, ?, ?, ?, ?, 'queued', ?, 0, ?, ?)`,
      )
      .run(id, config.experimentId ?? null, config.model, config.datasetId, JSON.stringify(config), config.seed, config.steps, nowIso());
  }

  exists(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(id) !== undefined;
  }

  row(id: string): RunRow | undefined {
    return this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
  }

  private toSummary(r: SummaryRow): RunSummary {
    const scores = JSON.parse(r.scores_json ?? '{}') as Record<string, number | null>;
    return {
      id: r.id,
      model: r.model,
      datasetId: r.dataset_id,
      status: r.status,
      step: r.step,
      totalSteps: r.total_steps,
      seed: r.seed,
      config: JSON.parse(r.config_json) as RunConfig,
      backend: r.backend,
      error: r.error,
      createdAt: r.created_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      tags: JSON.parse(r.tags_json ?? '[]') as string[],
      latest: JSON.parse(r.latest_json ?? '{}') as Record<string, number>,
      experimentId: r.experiment_id,
      scores,
    };
  }

  summary(id: string): RunSummary | undefined {
    const r = this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM runs r WHERE r.id = ?`).get(id) as SummaryRow | undefined;
    return r ? this.toSummary(r) : undefined;
  }

  /** Every run, newest first (one query; prefer `query` for screens). */
  list(): RunSummary[] {
    const rows = this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM runs r ORDER BY r.created_at DESC, r.id DESC`).all() as SummaryRow[];
    return rows.map((r) => this.toSummary(r));
  }

  /**
   * One page of runs matching the filters, in the asked order, with the total
   * and the counts per status (of the runs matching every filter but status).
   * The page is one query (tags, latest series values and latest scores come
   * as JSON columns), the counts a second.
   */
  query(q: RunQuery = {}): RunPage {
    const { ids, total, offset, limit, counts } = this.pageIds(q);
    // the summaries (tags, latest values, scores: subqueries per run) only for the page's runs
    const rows = ids.length ? (this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM runs r WHERE r.id IN (${ids.map(() => '?').join(',')})`).all(...ids) as SummaryRow[]) : [];
    const byId = new Map(rows.map((r) => [r.id, r]));
    const page = ids.map((id) => byId.get(id)).filter((r): r is SummaryRow => r !== undefined);
    return { runs: page.map((r) => this.toSummary(r)), total, offset, limit, counts };
  }

  /**
   * The same page as `query` (same filters, order and paging; `limit: null`
   * for every match) with a run's own columns only: no tags, latest values
   * or scores, so a listing of 10,000 runs costs one pass (`dlab runs`).
   */
  brief(q: Omit<RunQuery, 'limit'> & { limit?: number | null } = {}): { runs: BriefRun[]; total: number } {
    const { ids, total } = this.pageIds({ ...q, limit: q.limit === null ? -1 : q.limit });
    if (!ids.length) return { runs: [], total };
    const stmt = this.db.prepare(`SELECT id, status, model, dataset_id AS datasetId, seed, step, total_steps AS totalSteps FROM runs WHERE id IN (SELECT value FROM json_each(?))`);
    const byId = new Map((stmt.all(JSON.stringify(ids)) as BriefRun[]).map((r) => [r.id, r]));
    return { runs: ids.map((id) => byId.get(id)).filter((r): r is BriefRun => r !== undefined), total };
  }

  /** The ids of a page (limit −1: every match), the total and the counts per status. */
  private pageIds(q: RunQuery): { ids: string[]; total: number; offset: number; limit: number; counts: Record<string, number> } {
    const limit = q.limit ?? DEFAULT_PAGE;
    const offset = q.offset ?? 0;
    const order = orderOf(q);
    let ids: string[];
    const counts: Record<string, number> = {};
    let total: number;
    if (q.text?.trim()) {
      // Text matching is the costly part: one scan gives every match's id and status in
      // the page order (without the status filter), hence the counts, the total and the page.
      const w = whereOf({ ...q, status: undefined });
      const matches = this.db.prepare(`SELECT r.id AS id, r.status AS status FROM runs r ${w.sql} ORDER BY ${order.sql}`).raw().all(...w.params, ...order.params) as [string, string][];
      for (const [, st] of matches) counts[st] = (counts[st] ?? 0) + 1;
      const wanted = q.status ? new Set<string>(q.status) : null;
      const inStatus = wanted ? matches.filter(([, st]) => wanted.has(st)) : matches;
      ids = (limit < 0 ? inStatus.slice(offset) : inStatus.slice(offset, offset + limit)).map(([id]) => id);
      total = inStatus.length;
    } else {
      // Cheap filters: the page's ids by the (indexed) order with LIMIT, the counts by GROUP BY.
      const w = whereOf(q);
      ids = (this.db.prepare(`SELECT r.id FROM runs r ${w.sql} ORDER BY ${order.sql} LIMIT ? OFFSET ?`).pluck().all(...w.params, ...order.params, limit, offset) as string[]);
      const cw = whereOf({ ...q, status: undefined });
      for (const c of this.db.prepare(`SELECT r.status AS status, COUNT(*) AS n FROM runs r ${cw.sql} GROUP BY r.status`).all(...cw.params) as { status: string; n: number }[]) counts[c.status] = c.n;
      total = q.status ? q.status.reduce((a, st) => a + (counts[st] ?? 0), 0) : Object.values(counts).reduce((a, b) => a + b, 0);
    }
    return { ids, total, offset, limit, counts };
  }

  /** What Compare aggregates: the runs matching the filter with their training settings (COMPARE_TRAINING_KEYS) and latest score of one metric (one query). */
  compareRows(f: RunFilter, metric: string): CompareRow[] {
    const w = whereOf(f);
    return this.db
      .prepare(
        `SELECT r.id, r.model, r.dataset_id, r.seed, r.status, json_extract(r.config_json, '$.params') AS params_json,
           json_object(${COMPARE_TRAINING_KEYS.map((k) => `'${k}', json_extract(r.config_json, '$.${k}')`).join(', ')}) AS train_json,
           (SELECT json_extract(e.scores_json, '$.value') FROM evaluations e WHERE e.run_id = r.id AND e.metric = ? ORDER BY e.id DESC LIMIT 1) AS score
         FROM runs r ${w.sql} ORDER BY r.created_at DESC, r.id DESC`,
      )
      .all(metric, ...w.params) as CompareRow[];
  }

  /** Metrics with at least one numeric latest score among the runs matching the filter. */
  scoredMetrics(f: RunFilter): string[] {
    const w = whereOf(f);
    return (
      this.db
        .prepare(
          `SELECT DISTINCT e.metric AS metric FROM evaluations e JOIN runs r ON r.id = e.run_id ${w.sql ? w.sql + ' AND' : 'WHERE'}
             json_extract(e.scores_json, '$.value') IS NOT NULL ORDER BY e.metric`,
        )
        .all(...w.params) as { metric: string }[]
    ).map((m) => m.metric);
  }

  /** The stored evaluations of many runs in one query (only the latest per metric when `latestOnly`). */
  evaluationsOf(ids: readonly string[], latestOnly = false): Record<string, (MetricScore & { id: number; createdAt: string })[]> {
    const out: Record<string, (MetricScore & { id: number; createdAt: string })[]> = {};
    if (ids.length === 0) return out;
    for (const id of ids) out[id] = [];
    const marks = ids.map(() => '?').join(',');
    const latest = latestOnly ? `AND id IN (SELECT MAX(id) FROM evaluations WHERE run_id IN (${marks}) GROUP BY run_id, metric)` : '';
    const rows = this.db
      .prepare(`SELECT id, run_id, metric, scores_json, provenance_json, created_at FROM evaluations WHERE run_id IN (${marks}) ${latest} ORDER BY id`)
      .all(...ids, ...(latestOnly ? ids : [])) as { id: number; run_id: string; scores_json: string; provenance_json: string; created_at: string }[];
    for (const r of rows)
      out[r.run_id]?.push({ ...(JSON.parse(r.scores_json) as Omit<MetricScore, 'provenance'>), provenance: JSON.parse(r.provenance_json), id: r.id, createdAt: r.created_at });
    return out;
  }

  detail(id: string): RunDetail | undefined {
    const s = this.summary(id);
    if (!s) return undefined;
    const notes = (this.db.prepare('SELECT id, text, created_at FROM notes WHERE run_id = ? ORDER BY id').all(id) as { id: number; text: string; created_at: string }[]).map(
      (n) => ({ id: n.id, text: n.text, createdAt: n.created_at }),
    );
    const seriesKeys = (this.db.prepare('SELECT DISTINCT key FROM scalars WHERE run_id = ? ORDER BY key').all(id) as { key: string }[]).map((k) => k.key);
    const hasCodes = this.db.prepare("SELECT 1 FROM artifacts WHERE owner_kind = 'run' AND owner_id = ? AND kind = 'codes'").get(id) !== undefined;
    return { ...s, notes, checkpoints: this.checkpoints(id), seriesKeys, hasCodes };
  }

  setStatus(id: string, status: RunStatus, fields: { error?: string | null; backend?: string; started?: boolean; finished?: boolean } = {}): void {
    const sets = ['status = @status'];
    const p: Record<string, unknown> = { id, status };
    if (fields.error !== undefined) {
      sets.push('error = @error');
      p.error = fields.error;
    }
    if (fields.backend !== undefined) {
      sets.push('backend = @backend');
      p.backend = fields.backend;
    }
    if (fields.started) {
      sets.push('started_at = COALESCE(started_at, @now)');
      p.now = nowIso();
    }
    if (fields.finished) {
      sets.push('finished_at = @now');
      p.now = nowIso();
    }
    this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = @id`).run(p);
  }

  /**
   * A new training budget: the run's total steps and its config's `steps`,
   * in one statement; `reopen` clears the finish time (a finished run trained further).
   */
  setTotalSteps(id: string, steps: number, opts: { reopen?: boolean } = {}): void {
    this.db
      .prepare(`UPDATE runs SET total_steps = @steps, config_json = json_set(config_json, '$.steps', CAST(@steps AS INTEGER))${opts.reopen ? ', finished_at = NULL' : ''} WHERE id = @id`)
      .run({ id, steps });
  }

  /** Progress: the step and its scalar points, in one transaction. */
  recordProgress(id: string, step: number, points: ScalarPoint[]): void {
    const ins = this.db.prepare('INSERT OR REPLACE INTO scalars (run_id, key, step, value) VALUES (?, ?, ?, ?)');
    const upd = this.db.prepare('UPDATE runs SET step = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const p of points) if (Number.isFinite(p.value)) ins.run(id, p.key, p.step, p.value);
      upd.run(step, id);
    })();
  }

  /** Drop series points after a step (a resumed run re-does them). */
  truncateSeries(id: string, afterStep: number): void {
    this.db.prepare('DELETE FROM scalars WHERE run_id = ? AND step > ?').run(id, afterStep);
    this.db.prepare('UPDATE runs SET step = ? WHERE id = ?').run(afterStep, id);
  }

  series(id: string, keys?: string[], sinceStep = -1): Record<string, [number, number][]> {
    const rows = this.db
      .prepare('SELECT key, step, value FROM scalars WHERE run_id = ? AND step > ? ORDER BY key, step')
      .all(id, sinceStep) as { key: string; step: number; value: number }[];
    const out: Record<string, [number, number][]> = {};
    for (const r of rows) {
      if (keys && !keys.includes(r.key)) continue;
      (out[r.key] ??= []).push([r.step, r.value]);
    }
    return out;
  }

  addArtifact(runId: string, kind: string, relPath: string, size: number, sha256: string): void {
    this.db
      .prepare("INSERT INTO artifacts (owner_kind, owner_id, kind, path, size, sha256, created_at) VALUES ('run', ?, ?, ?, ?, ?, ?)")
      .run(runId, kind, relPath, size, sha256, nowIso());
  }

  removeArtifacts(runId: string, kind: string, pathPrefix: string): void {
    this.db.prepare("DELETE FROM artifacts WHERE owner_kind = 'run' AND owner_id = ? AND kind = ? AND path LIKE ? || '%'").run(runId, kind, pathPrefix);
  }

  artifacts(runId: string, kind?: string): { kind: string; path: string; size: number; sha256: string; createdAt: string }[] {
    const rows = this.db
      .prepare("SELECT kind, path, size, sha256, created_at FROM artifacts WHERE owner_kind = 'run' AND owner_id = ? ORDER BY id")
      .all(runId) as { kind: string; path: string; size: number; sha256: string; created_at: string }[];
    return rows.filter((r) => !kind || r.kind === kind).map((r) => ({ kind: r.kind, path: r.path, size: r.size, sha256: r.sha256, createdAt: r.created_at }));
  }

  /** Checkpoints grouped by their folder (one entry per step). */
  checkpoints(runId: string): Checkpoint[] {
    const byDir = new Map<string, Checkpoint>();
    for (const a of this.artifacts(runId, 'checkpoint')) {
      const m = /checkpoints\/step-(\d+)\//.exec(a.path);
      if (!m) continue;
      const dir = a.path.slice(0, a.path.indexOf(m[0]) + m[0].length - 1);
      const c = byDir.get(dir) ?? { step: Number(m[1]), path: dir, size: 0, sha256: '', createdAt: a.createdAt };
      c.size += a.size;
      c.sha256 = c.sha256 ? combine(c.sha256, a.sha256) : a.sha256;
      byDir.set(dir, c);
    }
    return [...byDir.values()].sort((a, b) => a.step - b.step);
  }

  addEvaluation(runId: string, score: MetricScore): void {
    const { provenance, ...rest } = score;
    this.db
      .prepare('INSERT INTO evaluations (run_id, metric, scores_json, provenance_json, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(runId, score.metric, JSON.stringify(rest), JSON.stringify(provenance), nowIso());
  }

  /** Every stored evaluation of a run, oldest first (the latest per metric is the current one). */
  evaluations(runId: string): (MetricScore & { id: number; createdAt: string })[] {
    const rows = this.db
      .prepare('SELECT id, metric, scores_json, provenance_json, created_at FROM evaluations WHERE run_id = ? ORDER BY id')
      .all(runId) as { id: number; metric: string; scores_json: string; provenance_json: string; created_at: string }[];
    return rows.map((r) => ({ ...(JSON.parse(r.scores_json) as Omit<MetricScore, 'provenance'>), provenance: JSON.parse(r.provenance_json), id: r.id, createdAt: r.created_at }));
  }

  setTag(runId: string, tag: string, remove = false): void {
    if (remove) this.db.prepare('DELETE FROM tags WHERE run_id = ? AND tag = ?').run(runId, tag);
    else this.db.prepare('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)').run(runId, tag);
  }

  addNote(runId: string, text: string): void {
    this.db.prepare('INSERT INTO notes (run_id, text, created_at) VALUES (?, ?, ?)').run(runId, text, nowIso());
  }

  // ── ownership: a lease, not a bare pid ────────────────────────────────
  //
  // The supervisor that trains a run holds its lease: `owner_id` (one random
  // id per supervisor instance), `lease_until` (ms epoch) renewed on every
  // heartbeat. Another process may take the run only once the lease has
  // expired, or when the owner provably is gone (same host, pid no longer
  // exists). A zombie owner or a pid reused after a reboot no longer pins a
  // run: its lease simply runs out. `owner_pid` is kept for display.

  /** Who holds a run, and until when. */
  owner(id: string): RunOwner | undefined {
    const r = this.db.prepare('SELECT owner_id, owner_pid, lease_until, heartbeat_at, control FROM runs WHERE id = ?').get(id) as OwnerRow | undefined;
    return r ? toOwner(r) : undefined;
  }

  /** Whether another live owner (not `self`) holds an unexpired lease on the run. */
  heldElsewhere(id: string, self: string, now = Date.now()): boolean {
    const o = this.owner(id);
    return !!o && leaseLive(o, now) && o.ownerId !== self;
  }

  /**
   * Take a queued run for this owner; false when another live owner holds it.
   * Compare-and-swap on the owner and lease seen, so two processes never both win.
   */
  claim(id: string, holder: LeaseHolder, now = Date.now()): boolean {
    const seen = this.db.prepare("SELECT owner_id, owner_pid, lease_until, heartbeat_at, control FROM runs WHERE id = ? AND status = 'queued'").get(id) as OwnerRow | undefined;
    if (!seen) return false;
    const o = toOwner(seen);
    if (o.ownerId !== null && o.ownerId !== holder.ownerId && leaseLive(o, now)) return false;
    return (
      this.db
        .prepare(
          `UPDATE runs SET owner_id = @owner, owner_pid = @pid, lease_until = @until, heartbeat_at = @now, control = NULL
           WHERE id = @id AND status = 'queued' AND owner_id IS @seenOwner AND lease_until IS @seenLease`,
        )
        .run({ id, owner: holder.ownerId, pid: holder.pid, until: now + holder.ttlMs, now, seenOwner: o.ownerId, seenLease: o.leaseUntil }).changes === 1
    );
  }

  /**
   * Renew this owner's leases on its runs (the heartbeat). Returns the ids
   * whose lease it no longer holds (another process declared it gone).
   */
  renewLeases(ids: string[], holder: LeaseHolder, now = Date.now()): string[] {
    const upd = this.db.prepare('UPDATE runs SET lease_until = ?, heartbeat_at = ? WHERE id = ? AND owner_id = ?');
    const lost: string[] = [];
    this.db.transaction(() => {
      for (const id of ids) if (upd.run(now + holder.ttlMs, now, id, holder.ownerId).changes === 0) lost.push(id);
    })();
    return lost;
  }

  /**
   * Take back a run that another process marked interrupted while this
   * owner's worker still trains it (the lease lapsed, e.g. the event loop
   * stalled); false when someone else has taken it meanwhile.
   */
  reclaim(id: string, holder: LeaseHolder, now = Date.now()): boolean {
    return (
      this.db
        .prepare(
          `UPDATE runs SET owner_id = @owner, owner_pid = @pid, lease_until = @until, heartbeat_at = @now, status = 'running', error = NULL
           WHERE id = @id AND owner_id IS NULL AND status = 'interrupted'`,
        )
        .run({ id, owner: holder.ownerId, pid: holder.pid, until: now + holder.ttlMs, now }).changes === 1
    );
  }

  /**
   * Runs left 'running' whose owner is gone (lease expired, owner provably
   * dead, no owner at all, or `self` without a worker for it): they become
   * interrupted and resume from their last checkpoint. Runs leased by another
   * live owner (the GUI and a CLI on the same lab) are left alone. Returns
   * the ids it marked.
   */
  markOrphansInterrupted(self: string, now = Date.now(), isActive: (id: string) => boolean = () => false): string[] {
    const rows = this.db.prepare("SELECT id, owner_id, owner_pid, lease_until, heartbeat_at, control FROM runs WHERE status = 'running'").all() as (OwnerRow & { id: string })[];
    const mark = this.db.prepare(
      `UPDATE runs SET status = 'interrupted', error = @error, owner_id = NULL, owner_pid = NULL, lease_until = NULL, heartbeat_at = NULL, control = NULL
       WHERE id = @id AND status = 'running' AND owner_id IS @owner AND lease_until IS @lease`,
    );
    const out: string[] = [];
    for (const r of rows) {
      const o = toOwner(r);
      if (o.ownerId === self ? isActive(r.id) : o.ownerId !== null && leaseLive(o, now)) continue;
      const error =
        o.ownerId === null || o.ownerId === self
          ? 'the process training this run stopped; resume continues from the last checkpoint'
          : `the process training this run (${o.ownerId}) stopped renewing its lease; resume continues from the last checkpoint`;
      if (mark.run({ id: r.id, error, owner: o.ownerId, lease: o.leaseUntil }).changes === 1) out.push(r.id);
    }
    return out;
  }

  /** Ask whichever process owns a running run to pause or cancel it. */
  requestControl(id: string, control: 'paused' | 'cancelled'): void {
    this.db.prepare('UPDATE runs SET control = ? WHERE id = ?').run(control, id);
  }

  /** Pending control requests for runs this owner holds. */
  controlRequests(ownerId: string): { id: string; control: 'paused' | 'cancelled' }[] {
    return this.db.prepare("SELECT id, control FROM runs WHERE owner_id = ? AND control IS NOT NULL AND status = 'running'").all(ownerId) as {
      id: string;
      control: 'paused' | 'cancelled';
    }[];
  }

  /** Give up a run's lease (only this owner's, when given). */
  clearOwner(id: string, ownerId?: string): void {
    const sql = 'UPDATE runs SET owner_id = NULL, owner_pid = NULL, lease_until = NULL, heartbeat_at = NULL, control = NULL WHERE id = ?';
    if (ownerId === undefined) this.db.prepare(sql).run(id);
    else this.db.prepare(sql + ' AND owner_id = ?').run(id, ownerId);
  }
}

/** A process instance holding run leases. */
export interface LeaseHolder {
  /** `${host}:${pid}:${random}` (see util/process.ts newOwnerId). */
  ownerId: string;
  /** For display (and older readers of owner_pid). */
  pid: number;
  /** How long a lease lasts without a heartbeat (ms). */
  ttlMs: number;
}

export interface RunOwner {
  ownerId: string | null;
  pid: number | null;
  /** ms epoch; null when none. */
  leaseUntil: number | null;
  heartbeatAt: number | null;
  control: 'paused' | 'cancelled' | null;
}

interface OwnerRow {
  owner_id: string | null;
  owner_pid: number | null;
  lease_until: number | null;
  heartbeat_at: number | null;
  control: 'paused' | 'cancelled' | null;
}

const toOwner = (r: OwnerRow): RunOwner => ({ ownerId: r.owner_id, pid: r.owner_pid, leaseUntil: r.lease_until, heartbeatAt: r.heartbeat_at, control: r.control });

/** An owner holds its run while its lease is unexpired, unless it is provably gone. */
function leaseLive(o: RunOwner, now: number): boolean {
  return o.ownerId !== null && o.leaseUntil !== null && o.leaseUntil > now && !ownerGone(o.ownerId);
}

/** Order-independent combination of file hashes into one checkpoint fingerprint (XOR of digests). */
function combine(a: string, b: string): string {
  let out = '';
  for (let i = 0; i < 64; i += 8) out += ((parseInt(a.slice(i, i + 8), 16) ^ parseInt(b.slice(i, i + 8), 16)) >>> 0).toString(16).padStart(8, '0');
  return out;
}
