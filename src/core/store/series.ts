/**
 * Metric series in the store: the periodic scores a run makes during
 * training (`evalEvery`), one row per (run, metric, step) in their own table
 * (schema v6), each with the provenance a final score has. Final scores stay
 * in `evaluations`, untouched by these. Only the main process writes here.
 */
import type { MetricScore } from '../metrics/types.js';
import { nowIso, type Db } from './db.js';

export type SeriesPoint = MetricScore & { id: number; createdAt: string; step: number };

interface SeriesRow {
  id: number;
  metric: string;
  step: number;
  scores_json: string;
  provenance_json: string;
  created_at: string;
}

const toPoint = (r: SeriesRow): SeriesPoint => ({
  ...(JSON.parse(r.scores_json) as Omit<MetricScore, 'provenance'>),
  provenance: JSON.parse(r.provenance_json) as MetricScore['provenance'],
  id: r.id,
  createdAt: r.created_at,
  step: r.step,
});

export class MetricSeriesRepository {
  constructor(private readonly db: Db) {}

  /** The scores of one step's evaluation, in one transaction; a point already stored at that (metric, step) is replaced. */
  add(runId: string, step: number, scores: readonly MetricScore[]): void {
    const ins = this.db.prepare('INSERT OR REPLACE INTO metric_series (run_id, metric, step, scores_json, provenance_json, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    const now = nowIso();
    this.db.transaction(() => {
      for (const score of scores) {
        const { provenance, ...rest } = score;
        ins.run(runId, score.metric, step, JSON.stringify(rest), JSON.stringify(provenance), now);
      }
    })();
  }

  /** Drop the points after a step (a resumed run trains and scores those steps again). */
  truncate(runId: string, afterStep: number): void {
    this.db.prepare('DELETE FROM metric_series WHERE run_id = ? AND step > ?').run(runId, afterStep);
  }

  /** A run's series of one metric (or of all), by metric then step. */
  points(runId: string, metric?: string): SeriesPoint[] {
    const rows = this.db
      .prepare(
        `SELECT id, metric, step, scores_json, provenance_json, created_at FROM metric_series
         WHERE run_id = ? AND (? IS NULL OR metric = ?) ORDER BY metric, step`,
      )
      .all(runId, metric ?? null, metric ?? null) as SeriesRow[];
    return rows.map(toPoint);
  }

  /** The metrics a run has a series of. */
  metrics(runId: string): string[] {
    return (this.db.prepare('SELECT DISTINCT metric FROM metric_series WHERE run_id = ? ORDER BY metric').all(runId) as { metric: string }[]).map((r) => r.metric);
  }

  /** Series of many runs for one metric (exports, Compare), in one query. */
  pointsOf(runIds: readonly string[], metric: string): Record<string, SeriesPoint[]> {
    const out: Record<string, SeriesPoint[]> = Object.fromEntries(runIds.map((id) => [id, []]));
    if (runIds.length === 0) return out;
    const marks = runIds.map(() => '?').join(',');
    const rows = this.db
      .prepare(`SELECT id, run_id, metric, step, scores_json, provenance_json, created_at FROM metric_series WHERE metric = ? AND run_id IN (${marks}) ORDER BY run_id, step`)
      .all(metric, ...runIds) as (SeriesRow & { run_id: string })[];
    for (const r of rows) out[r.run_id]?.push(toPoint(r));
    return out;
  }
}
