/**
 * The scale benchmark of the run screens (`dlab bench ui`): fill a SCRATCH
 * lab (a fresh temporary folder, never the user's lab) with N synthetic but
 * valid runs — rows, series, tags, studies, evaluations — then time what the
 * Runs and Compare screens ask the engine for: `runs/list` pages, filters and
 * sorts, and the Compare aggregate, with the bytes each answer takes (plain
 * JSON and gzip, as the HTTP transport sends it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { RunConfig, RunQuery, RunStatus } from '../../shared/runs.js';
import { openDb, type Db } from '../store/db.js';
import { RunRepository } from '../store/runs.js';
import { Rng } from '../util/rng.js';
import { compareRuns } from './compare.js';

const METHODS: { model: string; params: (r: Rng) => Record<string, number> }[] = [
  { model: 'beta_vae', params: (r) => ({ beta: [1, 2, 4, 6, 8, 16][r.int(6)]! }) },
  { model: 'factor_vae', params: (r) => ({ gamma: [10, 20, 30, 40, 50, 100][r.int(6)]! }) },
  { model: 'beta_tcvae', params: (r) => ({ beta: [1, 2, 4, 6, 8, 10][r.int(6)]! }) },
  { model: 'ae', params: () => ({}) },
  { model: 'slow_vae', params: (r) => ({ gamma: [1, 5, 10][r.int(3)]!, rate: [2, 6][r.int(2)]! }) },
  { model: 'pcl', params: () => ({}) },
];
const DATASETS = ['dsprites', 'shapes3d', 'mpi3d_toy', 'smallnorb'];
/** No queued or running runs: a served scratch lab must not start training them. */
const STATUSES: [RunStatus, number][] = [
  ['finished', 0.8],
  ['failed', 0.06],
  ['cancelled', 0.06],
  ['paused', 0.04],
  ['interrupted', 0.04],
];
const METRICS = ['mig', 'dci', 'sap', 'modularity'];
const TAGS = ['baseline', 'sweep', 'best', 'ablation', 'paper'];

/** Ids of the synthetic runs: `bench-000001`… (newest last). */
export const syntheticRunId = (i: number): string => `bench-${String(i + 1).padStart(6, '0')}`;

/**
 * Insert `n` synthetic runs into a lab's store in one transaction (seeded:
 * the same n and seed give the same runs). Every row is a valid RunConfig
 * and summary; finished runs carry series points and scores of four metrics.
 */
export function fillSyntheticRuns(db: Db, n: number, seed = 1): void {
  const rng = new Rng(seed);
  const t0 = Date.parse('2025-01-01T00:00:00.000Z');
  const run = db.prepare(
    `INSERT INTO runs (id, experiment_id, model, dataset_id, config_json, status, backend, seed, step, total_steps, error, created_at, started_at, finished_at)
     VALUES (?, ?, ?, ?, ?, ?, 'wasm', ?, ?, ?, ?, ?, ?, ?)`,
  );
  const scalar = db.prepare('INSERT OR REPLACE INTO scalars (run_id, key, step, value) VALUES (?, ?, ?, ?)');
  const tag = db.prepare('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)');
  const evaluation = db.prepare('INSERT INTO evaluations (run_id, metric, scores_json, provenance_json, created_at) VALUES (?, ?, ?, ?, ?)');
  const study = db.prepare('INSERT OR IGNORE INTO experiments (id, name, created_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let s = 0; s < 3; s++) study.run(`bench-study-${s}`, `Bench study ${s}`, new Date(t0).toISOString());
    for (let i = 0; i < n; i++) {
      const m = METHODS[rng.int(METHODS.length)]!;
      const datasetId = DATASETS[rng.int(DATASETS.length)]!;
      let u = rng.next();
      let status: RunStatus = 'finished';
      for (const [st, p] of STATUSES) {
        if (u < p) {
          status = st;
          break;
        }
        u -= p;
      }
      const steps = [1000, 5000, 20_000][rng.int(3)]!;
      const runSeed = rng.int(10);
      const config: RunConfig = {
        model: m.model,
        params: m.params(rng),
        datasetId,
        arch: rng.next() < 0.7 ? 'conv' : 'fc',
        latent: 10,
        steps,
        batch: 64,
        seed: runSeed,
        lr: 1e-4,
        progressEvery: 50,
        checkpointEvery: 5000,
        codesSamples: 10_000,
        evaluate: status === 'finished' ? METRICS : [],
      };
      const step = status === 'finished' ? steps : Math.floor(steps * rng.next());
      const created = t0 + i * 60_000;
      const id = syntheticRunId(i);
      const studyId = rng.next() < 0.3 ? `bench-study-${rng.int(3)}` : null;
      run.run(
        id,
        studyId,
        m.model,
        datasetId,
        JSON.stringify(config),
        status,
        runSeed,
        step,
        steps,
        status === 'failed' ? 'synthetic failure' : null,
        new Date(created).toISOString(),
        new Date(created + 1000).toISOString(),
        status === 'finished' || status === 'failed' || status === 'cancelled' ? new Date(created + 50_000).toISOString() : null,
      );
      // a short loss curve and the speed, as a trained run has
      const points = 5;
      for (let k = 1; k <= points; k++) {
        const st = Math.max(1, Math.round((step * k) / points));
        scalar.run(id, 'loss', st, 200 / (1 + k) + rng.next());
        scalar.run(id, 'recon', st, 150 / (1 + k) + rng.next());
        scalar.run(id, 'kl', st, 10 + rng.next());
        scalar.run(id, 'steps_per_sec', st, 20 + 10 * rng.next());
      }
      if (rng.next() < 0.25) tag.run(id, TAGS[rng.int(TAGS.length)]!);
      if (rng.next() < 0.05) tag.run(id, TAGS[rng.int(TAGS.length)]!);
      if (status === 'finished') {
        const quality = rng.next();
        for (const metric of METRICS) {
          const value = Math.min(1, Math.max(0, 0.1 + 0.6 * quality + 0.1 * (rng.next() - 0.5)));
          evaluation.run(
            id,
            metric,
            JSON.stringify({ metric, name: metric.toUpperCase(), primary: metric, value, scores: { [metric]: value }, seconds: 1 }),
            JSON.stringify({ metric, estimator: 'synthetic', settings: {}, samples: { train: 10_000 }, seed: runSeed, codesAreMeans: true, notes: ['synthetic (dlab bench ui)'] }),
            new Date(created + 60_000).toISOString(),
          );
        }
      }
    }
  })();
}

export interface UiBenchTiming {
  name: string;
  /** Median of the repeats (ms). */
  ms: number;
  /** The answer as JSON and gzipped (bytes). */
  bytes: number;
  gzipBytes: number;
  /** Rows in the answer (runs of a page, groups of Compare) and the total matching. */
  rows: number;
  total: number;
}

export interface UiBenchReport {
  runs: number;
  fillSeconds: number;
  dbBytes: number;
  pageSize: number;
  timings: UiBenchTiming[];
  /** The scratch folder when kept, else null (removed). */
  keptAt: string | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function runUiBench(opts: { runs: number; pageSize?: number; repeats?: number; seed?: number; keep?: boolean }): UiBenchReport {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlab-bench-ui-'));
  const file = path.join(dir, 'lab.sqlite');
  const db = openDb(file);
  try {
    const t0 = performance.now();
    fillSyntheticRuns(db, opts.runs, opts.seed ?? 1);
    const fillSeconds = (performance.now() - t0) / 1000;
    db.pragma('wal_checkpoint(TRUNCATE)');
    const repo = new RunRepository(db);
    const pageSize = opts.pageSize ?? 100;
    const repeats = opts.repeats ?? 5;
    const timings: UiBenchTiming[] = [];
    const time = (name: string, fn: () => unknown, count: (r: unknown) => [number, number]) => {
      const ms: number[] = [];
      let out: unknown;
      let text = '';
      for (let i = 0; i < repeats; i++) {
        const t = performance.now();
        out = fn();
        text = JSON.stringify(out);
        ms.push(performance.now() - t);
      }
      const [rows, total] = count(out);
      timings.push({ name, ms: median(ms), bytes: Buffer.byteLength(text), gzipBytes: zlib.gzipSync(text).length, rows, total });
    };
    const page = (name: string, q: RunQuery) =>
      time(name, () => repo.query({ limit: pageSize, ...q }), (r) => {
        const p = r as { runs: unknown[]; total: number };
        return [p.runs.length, p.total];
      });
    const lastOffset = Math.max(0, Math.floor((opts.runs - 1) / pageSize) * pageSize);
    page('runs/list first page (newest first)', {});
    page('runs/list middle page', { offset: Math.floor(lastOffset / 2 / pageSize) * pageSize });
    page('runs/list last page', { offset: lastOffset });
    page('filter status=failed', { status: ['failed'] });
    page('filter text "beta_vae shapes3d"', { text: 'beta_vae shapes3d' });
    page('filter text "beta=4"', { text: 'beta=4' });
    page('filter tag best', { tags: ['best'] });
    page('filter study', { study: 'bench-study-1' });
    page('filter model+dataset+dates', { model: ['factor_vae'], dataset: ['dsprites'], from: '2025-01-02', to: '2025-01-05' });
    page('sort by method', { sort: 'model' });
    page('sort by progress', { sort: 'progress' });
    page('sort by speed', { sort: 'speed' });
    page('sort by MIG', { sort: 'score', sortMetric: 'mig' });
    const datasets = DATASETS.map((id) => ({ id }));
    const cmp = (name: string, q: Parameters<typeof compareRuns>[2]) =>
      time(name, () => compareRuns(repo, datasets, q), (r) => {
        const c = r as { groups: unknown[]; total: number };
        return [c.groups.length, c.total];
      });
    cmp('runs/compare (finished, mig)', { metric: 'mig', expandSmall: 200 });
    cmp('runs/compare (all statuses, dci, one group open)', { metric: 'dci', finishedOnly: false, expand: ['beta_vae|dsprites|original'], expandSmall: 200 });
    return { runs: opts.runs, fillSeconds, dbBytes: fs.statSync(file).size, pageSize, timings, keptAt: opts.keep ? dir : null };
  } finally {
    db.close();
    if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}
