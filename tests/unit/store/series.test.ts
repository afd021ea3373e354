import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../../src/core/store/db.js';
import { RunRepository } from '../../../src/core/store/runs.js';
import type { MetricScore } from '../../../src/core/metrics/types.js';
import type { RunConfig } from '../../../src/shared/runs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const open = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dlab-series-'));
  dirs.push(d);
  return openDb(path.join(d, 'lab.sqlite'));
};
const config = { model: 'beta_vae', params: {}, datasetId: 'dsprites', arch: 'fc', latent: 4, steps: 10, batch: 8, seed: 0, lr: 1e-3, progressEvery: 1, checkpointEvery: 5, codesSamples: 0, evaluate: [] } as RunConfig;
const score = (metric: string, value: number, step: number): MetricScore => ({
  metric,
  name: metric,
  primary: metric,
  value,
  scores: { [metric]: value },
  provenance: { metric, estimator: 'e', settings: {}, samples: { train: 10 }, seed: 0, codesAreMeans: true, points: 16, step, notes: [] },
  seconds: 0.1,
  encodeSeconds: 0.2,
  evalSeconds: 0.4,
});

describe('metric series store', () => {
  it('one row per (metric, step): replaced, truncated on resume, apart from the final scores, gone with the run', () => {
    const db = open();
    const runs = new RunRepository(db);
    runs.insert('r1', config);
    runs.metricSeries.add('r1', 4, [score('mig', 0.1, 4), score('dci', 0.2, 4)]);
    runs.metricSeries.add('r1', 8, [score('mig', 0.3, 8)]);
    runs.metricSeries.add('r1', 8, [score('mig', 0.35, 8)]);
    expect(runs.metricSeries.points('r1', 'mig').map((p) => [p.step, p.value])).toEqual([[4, 0.1], [8, 0.35]]);
    expect(runs.metricSeries.points('r1').map((p) => p.metric)).toEqual(['dci', 'mig', 'mig']);
    expect(runs.metricSeries.points('r1', 'mig')[0]).toMatchObject({ provenance: { points: 16, step: 4 }, encodeSeconds: 0.2, evalSeconds: 0.4 });
    expect(runs.metricSeries.metrics('r1')).toEqual(['dci', 'mig']);
    expect(runs.evaluations('r1')).toEqual([]);
    expect(runs.metricSeries.pointsOf(['r1', 'r2'], 'mig')).toMatchObject({ r1: [{ step: 4 }, { step: 8 }], r2: [] });
    runs.metricSeries.truncate('r1', 4);
    expect(runs.metricSeries.points('r1', 'mig').map((p) => p.step)).toEqual([4]);
    db.prepare("DELETE FROM runs WHERE id = 'r1'").run();
    expect(db.prepare('SELECT count(*) AS n FROM metric_series').get()).toEqual({ n: 0 });
    db.close();
  });
});
