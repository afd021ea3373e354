/**
 * Run listing at scale: filters, sort, paging, totals and counts per status
 * of RunRepository.query, the batched evaluations and the Compare aggregate,
 * on six hand-built runs whose expected answers are worked out by hand.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../src/core/store/db.js';
import { RunRepository } from '../../../src/core/store/runs.js';
import { compareRuns } from '../../../src/core/runs/compare.js';
import type { MetricScore } from '../../../src/core/metrics/types.js';
import type { RunConfig, RunQuery } from '../../../src/shared/runs.js';

let dir = '';
let db: Db;
let runs: RunRepository;

const base: RunConfig = {
  model: 'beta_vae',
  params: { beta: 4 },
  datasetId: 'dsprites',
  arch: 'fc',
  latent: 4,
  steps: 10,
  batch: 4,
  lr: 1e-3,
  seed: 0,
  progressEvery: 1,
  checkpointEvery: 5,
  codesSamples: 0,
  evaluate: [],
};

const score = (metric: string, value: number | null): MetricScore => ({
  metric,
  name: metric.toUpperCase(),
  primary: metric,
  value,
  scores: value === null ? {} : { [metric]: value },
  provenance: { metric, estimator: 'e', settings: {}, samples: {}, seed: 0, codesAreMeans: true, notes: [] },
  seconds: 0,
});

//  id  model       dataset                    params     seed status    created     step  study tags       mig
//  a   beta_vae    dsprites                   beta 4     0    finished  2024-01-01  10    –     best       0.2 then 0.3
//  b   beta_vae    dsprites                   beta 8     1    finished  2024-01-02  10    –     –          0.5
//  c   factor_vae  shapes3d                   gamma 10   0    failed    2024-01-03  3     –     best, x    –
//  d   pcl         dsprites.manipulation.abc  –          2    running   2024-01-04  5     s1    –          –
//  e   beta_vae    dsprites                   beta 4     2    queued    2024-01-05  0     s1    –          null (failed)
//  f   ae          dsprites                   –          0    finished  2024-01-06  10    –     –          0.1
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlab-query-'));
  db = openDb(path.join(dir, 'lab.sqlite'));
  runs = new RunRepository(db);
  db.prepare("INSERT INTO experiments (id, name, created_at) VALUES ('s1', 'study', '2024-01-01')").run();
  const add = (id: string, c: Partial<RunConfig>, status: string, day: number, step: number, study: string | null = null) => {
    runs.insert(id, { ...base, ...c, experimentId: study ?? undefined } as RunConfig);
    db.prepare('UPDATE runs SET status = ?, created_at = ?, step = ?, experiment_id = ? WHERE id = ?').run(status, `2024-01-0${day}T00:00:00.000Z`, step, study, id);
  };
  add('a', { params: { beta: 4 }, seed: 0 }, 'finished', 1, 10);
  add('b', { params: { beta: 8 }, seed: 1 }, 'finished', 2, 10);
  add('c', { model: 'factor_vae', params: { gamma: 10 }, datasetId: 'shapes3d', seed: 0 }, 'failed', 3, 3);
  add('d', { model: 'pcl', params: {}, datasetId: 'dsprites.manipulation.abc', seed: 2 }, 'running', 4, 5, 's1');
  add('e', { params: { beta: 4 }, seed: 2 }, 'queued', 5, 0, 's1');
  add('f', { model: 'ae', params: {}, seed: 0 }, 'finished', 6, 10);
  runs.setTag('a', 'best');
  runs.setTag('c', 'x');
  runs.setTag('c', 'best');
  runs.addEvaluation('a', score('mig', 0.2));
  runs.addEvaluation('a', score('mig', 0.3));
  runs.addEvaluation('a', score('dci', 0.7));
  runs.addEvaluation('b', score('mig', 0.5));
  runs.addEvaluation('e', score('mig', null));
  runs.addEvaluation('f', score('mig', 0.1));
  runs.recordProgress('a', 10, [
    { key: 'loss', step: 1, value: 5 },
    { key: 'loss', step: 2, value: 3 },
    { key: 'steps_per_sec', step: 2, value: 7 },
  ]);
  runs.recordProgress('d', 5, [{ key: 'steps_per_sec', step: 5, value: 9 }]);
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ids = (q: RunQuery) => runs.query(q).runs.map((r) => r.id);

describe('RunRepository.query', () => {
  it('lists newest first with the total and the counts per status', () => {
    const p = runs.query();
    expect(p.runs.map((r) => r.id)).toEqual(['f', 'e', 'd', 'c', 'b', 'a']);
    expect(p.total).toBe(6);
    expect(p.offset).toBe(0);
    expect(p.limit).toBe(100);
    expect(p.counts).toEqual({ finished: 3, failed: 1, running: 1, queued: 1 });
  });

  it('pages with offset and limit; the total stays that of every page', () => {
    const p = runs.query({ offset: 2, limit: 2 });
    expect(p.runs.map((r) => r.id)).toEqual(['d', 'c']);
    expect(p.total).toBe(6);
    expect(ids({ offset: 4, limit: 2 })).toEqual(['b', 'a']);
    expect(ids({ offset: 6, limit: 2 })).toEqual([]);
  });

  it('summaries carry sorted tags, the latest series values and the latest score per metric', () => {
    const a = runs.query({ text: 'best', sort: 'created', desc: false }).runs[0]!;
    expect(a.id).toBe('a');
    expect(a.tags).toEqual(['best']);
    expect(a.latest).toEqual({ loss: 3, steps_per_sec: 7 });
    expect(a.scores).toEqual({ mig: 0.3, dci: 0.7 });
    expect(runs.summary('c')!.tags).toEqual(['best', 'x']);
    expect(runs.summary('e')!.scores).toEqual({ mig: null });
    expect(runs.summary('b')!.latest).toEqual({});
    expect(runs.list().map((r) => r.id)).toEqual(['f', 'e', 'd', 'c', 'b', 'a']);
  });

  it('filters by status; the counts ignore the status filter', () => {
    const p = runs.query({ status: ['finished'] });
    expect(p.runs.map((r) => r.id)).toEqual(['f', 'b', 'a']);
    expect(p.total).toBe(3);
    expect(p.counts).toEqual({ finished: 3, failed: 1, running: 1, queued: 1 });
    expect(runs.query({ status: ['queued', 'running'] }).total).toBe(2);
  });

  it('filters by model, dataset, tags, study and date range', () => {
    const m = runs.query({ model: ['beta_vae'] });
    expect(m.runs.map((r) => r.id)).toEqual(['e', 'b', 'a']);
    expect(m.counts).toEqual({ finished: 2, queued: 1 });
    expect(ids({ dataset: ['shapes3d', 'dsprites.manipulation.abc'] })).toEqual(['d', 'c']);
    expect(ids({ tags: ['best'] })).toEqual(['c', 'a']);
    expect(ids({ tags: ['best', 'x'] })).toEqual(['c']);
    expect(ids({ study: 's1' })).toEqual(['e', 'd']);
    expect(ids({ study: null })).toEqual(['f', 'c', 'b', 'a']);
    expect(ids({ from: '2024-01-02', to: '2024-01-04' })).toEqual(['c', 'b']);
    expect(ids({ model: ['beta_vae'], status: ['finished'], from: '2024-01-02' })).toEqual(['b']);
  });

  it('filters by text: every word, in id, method, dataset, tags; key=value matches a hyperparameter', () => {
    expect(ids({ text: 'beta=4' })).toEqual(['e', 'a']);
    expect(ids({ text: 'beta=8' })).toEqual(['b']);
    expect(ids({ text: 'shapes3d' })).toEqual(['c']);
    expect(ids({ text: 'BEST' })).toEqual(['c', 'a']);
    expect(ids({ text: 'factor' })).toEqual(['c']);
    expect(ids({ text: 'beta_vae queued' })).toEqual(['e']);
    expect(ids({ text: 'z=4 manipulation' })).toEqual(['d']);
    expect(ids({ text: 'nothing-like-this' })).toEqual([]);
    // LIKE's wildcards in a word are literal characters
    expect(ids({ text: '%' })).toEqual([]);
    expect(ids({ text: 'beta%vae' })).toEqual([]);
    expect(ids({ text: 'fac_or' })).toEqual([]);
    expect(ids({ text: 'factor_' })).toEqual(['c']);
    expect(runs.query({ text: 'beta=4' }).total).toBe(2);
  });

  it('sorts by model, seed, status, progress, speed and a metric score (ties: newest first)', () => {
    expect(ids({ sort: 'model' })).toEqual(['f', 'e', 'b', 'a', 'c', 'd']);
    expect(ids({ sort: 'model', desc: true })).toEqual(['d', 'c', 'e', 'b', 'a', 'f']);
    expect(ids({ sort: 'seed' })).toEqual(['f', 'c', 'a', 'b', 'e', 'd']);
    expect(ids({ sort: 'status' })).toEqual(['d', 'e', 'c', 'f', 'b', 'a']);
    expect(ids({ sort: 'progress' })).toEqual(['f', 'b', 'a', 'd', 'c', 'e']);
    expect(ids({ sort: 'speed' })).toEqual(['d', 'a', 'f', 'e', 'c', 'b']);
    expect(ids({ sort: 'score', sortMetric: 'mig' })).toEqual(['b', 'a', 'f', 'e', 'd', 'c']);
    expect(ids({ sort: 'score', sortMetric: 'mig', desc: false })).toEqual(['f', 'a', 'b', 'e', 'd', 'c']);
    expect(ids({ sort: 'created', desc: false })).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(ids({ sort: 'model', offset: 1, limit: 2 })).toEqual(['e', 'b']);
  });
});

describe('RunRepository.brief (the listing of dlab runs)', () => {
  it('gives the page of query, with the run\'s own columns, and every match for limit null', () => {
    const brief = runs.brief({ sort: 'model', limit: null });
    expect(brief.total).toBe(6);
    expect(brief.runs.map((r) => r.id)).toEqual(['f', 'e', 'b', 'a', 'c', 'd']);
    expect(brief.runs.find((r) => r.id === 'c')).toEqual({ id: 'c', status: 'failed', model: 'factor_vae', datasetId: 'shapes3d', seed: 0, step: 3, totalSteps: 10 });
    expect(runs.brief({ text: 'beta=4', limit: null }).runs.map((r) => r.id)).toEqual(['e', 'a']);
    expect(runs.brief({ text: 'best', status: ['finished'], limit: null })).toEqual({ total: 1, runs: [expect.objectContaining({ id: 'a' })] });
    expect(runs.brief({ sort: 'model', offset: 1, limit: 2 })).toEqual({ total: 6, runs: [expect.objectContaining({ id: 'e' }), expect.objectContaining({ id: 'b' })] });
    expect(runs.brief({ sort: 'model', offset: 4, limit: null }).runs.map((r) => r.id)).toEqual(['c', 'd']);
    expect(runs.brief({ text: 'nothing-like-this', limit: null })).toEqual({ total: 0, runs: [] });
  });
});

describe('batched evaluations', () => {
  it('returns every run asked for, all records or the latest per metric', () => {
    const all = runs.evaluationsOf(['a', 'c']);
    expect(all.a!.map((r) => [r.metric, r.value])).toEqual([['mig', 0.2], ['mig', 0.3], ['dci', 0.7]]);
    expect(all.c).toEqual([]);
    const latest = runs.evaluationsOf(['a', 'b'], true);
    expect(latest.a!.map((r) => [r.metric, r.value])).toEqual([['mig', 0.3], ['dci', 0.7]]);
    expect(latest.b!.map((r) => r.value)).toEqual([0.5]);
  });
});

describe('compareRuns', () => {
  const datasets = [{ id: 'dsprites' }, { id: 'shapes3d' }, { id: 'dsprites.manipulation.abc', parent: 'dsprites' }];

  it('groups the finished runs and aggregates the picked scores of the metric', () => {
    const c = compareRuns(runs, datasets, { metric: 'mig' });
    expect(c.metric).toBe('mig');
    expect(c.metrics).toEqual(['dci', 'mig']);
    expect(c.total).toBe(3);
    expect(c.picked).toBe(3);
    expect(c.groups.map((g) => [g.key, g.runs, g.n])).toEqual([
      ['ae|dsprites|original', 1, 1],
      ['beta_vae|dsprites|original', 2, 2],
    ]);
    const bv = c.groups[1]!;
    expect(bv.mean).toBeCloseTo(0.4, 12);
    expect(bv.sd).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(bv.values.sort()).toEqual([0.3, 0.5]);
    expect(bv.members).toBeUndefined();
    // the method's hyperparameters and the training settings (the same for every run here)
    expect(c.params).toEqual(['arch', 'batch', 'beta', 'latent', 'lr', 'steps']);
    expect(c.differing).toEqual(['beta']);
    expect(c.groups.map((g) => g.differing)).toEqual([[], ['beta']]);
    expect(c.scatterParam).toBe('beta');
    expect(c.scatter).toEqual([{ name: 'beta_vae', points: [[8, 0.5], [4, 0.3]], labels: ['b', 'a'] }]);
  });

  it('leaves excluded runs out of the statistics and lists the members of expanded groups', () => {
    const c = compareRuns(runs, datasets, { metric: 'mig', exclude: ['b'], expand: ['beta_vae|dsprites|original'] });
    const bv = c.groups.find((g) => g.method === 'beta_vae')!;
    expect([bv.runs, bv.picked, bv.n, bv.mean, bv.sd]).toEqual([2, 1, 1, 0.3, null]);
    expect(bv.members!.map((m) => [m.id, m.picked, m.score])).toEqual([
      ['b', false, 0.5],
      ['a', true, 0.3],
    ]);
    expect(c.picked).toBe(2);
    expect(c.differing).toEqual(['beta']); // a has beta, f has none
  });

  it('takes every status when asked and reads the variant from the dataset lineage', () => {
    const c = compareRuns(runs, datasets, { metric: 'mig', finishedOnly: false });
    expect(c.total).toBe(6);
    expect(c.groups.map((g) => g.key)).toEqual(['ae|dsprites|original', 'beta_vae|dsprites|original', 'factor_vae|shapes3d|original', 'pcl|dsprites|manipulated']);
    expect(c.groups.find((g) => g.method === 'beta_vae')!.n).toBe(2); // e's score is null
  });

  it('defaults to mig and filters the runs in view', () => {
    expect(compareRuns(runs, datasets, {}).metric).toBe('mig');
    expect(compareRuns(runs, datasets, { filter: { model: ['ae'] } }).groups.map((g) => g.key)).toEqual(['ae|dsprites|original']);
  });
});

describe('compareRuns members of small views', () => {
  it('lists every group’s members when the runs in view are few enough', () => {
    const datasets = [{ id: 'dsprites' }];
    expect(compareRuns(runs, datasets, { expandSmall: 3 }).groups.every((g) => g.members?.length === g.runs)).toBe(true);
    expect(compareRuns(runs, datasets, { expandSmall: 2 }).groups.some((g) => g.members)).toBe(false);
  });
});

describe('compareRuns with training settings that differ', () => {
  //  id  model     params   lr     latent  seed  mig
  //  g   beta_vae  beta 4   1e-3   4       0     0.2
  //  h   beta_vae  beta 4   5e-4   4       1     0.4
  //  k   ae        –        1e-3   8       0     0.1
  let d2 = '';
  let db2: Db;
  let r2: RunRepository;
  const datasets = [{ id: 'dsprites' }];
  beforeAll(() => {
    d2 = fs.mkdtempSync(path.join(os.tmpdir(), 'dlab-compare-'));
    db2 = openDb(path.join(d2, 'lab.sqlite'));
    r2 = new RunRepository(db2);
    const add = (id: string, c: Partial<RunConfig>, mig: number) => {
      r2.insert(id, { ...base, ...c } as RunConfig);
      db2.prepare("UPDATE runs SET status = 'finished', step = 10 WHERE id = ?").run(id);
      r2.addEvaluation(id, score('mig', mig));
    };
    add('g', { params: { beta: 4 }, lr: 1e-3, seed: 0 }, 0.2);
    add('h', { params: { beta: 4 }, lr: 5e-4, seed: 1 }, 0.4);
    add('k', { model: 'ae', params: {}, latent: 8, seed: 0 }, 0.1);
  });
  afterAll(() => {
    db2.close();
    fs.rmSync(d2, { recursive: true, force: true });
  });

  it('shows lr, latent, batch, arch and steps beside the method’s hyperparameters, per run and per group', () => {
    const c = compareRuns(r2, datasets, { metric: 'mig', expandSmall: 10 });
    expect(c.params).toEqual(['arch', 'batch', 'beta', 'latent', 'lr', 'steps']);
    expect(c.differing).toEqual(['beta', 'latent', 'lr']);
    const bv = c.groups.find((g) => g.method === 'beta_vae')!;
    expect(bv.differing).toEqual(['lr']); // the two seeds were trained at different learning rates
    expect(bv.mean).toBeCloseTo(0.3, 12);
    expect(c.groups.find((g) => g.method === 'ae')!.differing).toEqual([]);
    expect(bv.members!.find((m) => m.id === 'g')!.params).toEqual({ arch: 'fc', latent: 4, batch: 4, lr: 1e-3, steps: 10, beta: 4 });
    expect(c.numericParams).toEqual(['batch', 'beta', 'latent', 'lr', 'steps']);
    expect(c.scatterParam).toBe('beta'); // the first numeric one that differs
  });

  it('when no setting differs the scatter defaults to the method’s own hyperparameter, not a training setting', () => {
    const c = compareRuns(r2, datasets, { metric: 'mig', exclude: ['h', 'k'] });
    expect(c.differing).toEqual([]);
    expect(c.scatterParam).toBe('beta');
    expect(compareRuns(r2, datasets, { metric: 'mig', filter: { model: ['ae'] } }).scatterParam).toBe('batch'); // ae has none of its own
  });

  it('a group whose differing run is left out differs in nothing; the scatter defaults to a numeric setting that differs', () => {
    const c = compareRuns(r2, datasets, { metric: 'mig', exclude: ['h'] });
    expect(c.groups.find((g) => g.method === 'beta_vae')!.differing).toEqual([]);
    const noAe = compareRuns(r2, datasets, { metric: 'mig', exclude: ['k'] });
    expect(noAe.differing).toEqual(['lr']);
    expect(noAe.scatterParam).toBe('lr'); // not 'batch', the first numeric one, which is the same for all
    expect(noAe.scatter).toEqual([{ name: 'beta_vae', points: [[5e-4, 0.4], [1e-3, 0.2]], labels: ['h', 'g'] }]);
  });
});
