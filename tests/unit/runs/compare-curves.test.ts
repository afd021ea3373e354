/**
 * Compare's metric curves: per (method, dataset, variant) and step, the mean
 * of the seeds' periodic scores and its 95 % t interval. Expected values by
 * hand: scores 0.1, 0.2, 0.3 → mean 0.2, sd 0.1, t(0.975, 2) = 4.302653, half
 * width 4.302653·0.1/√3 = 0.248414; one seed → no interval.
 */
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab } from '../../../src/core/lab.js';
import { resolveRunConfig } from '../../../src/core/training/config.js';
import type { CompareResult } from '../../../src/shared/runs.js';
import { migScore } from '../../helpers/scores.js';
import { tmpDir } from '../../helpers/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

const score = migScore;

describe('runs/compare curves', () => {
  it('mean and 95 % t interval over seeds per group and step', async () => {
    const lab = await Lab.open({ labDir: path.join(tmp.dir, 'c'), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
    try {
      const cfg = resolveRunConfig({ model: 'beta_vae', params: {}, datasetId: 'dsprites', arch: 'fc', latent: 2, steps: 2000, batch: 8, seed: 0, lr: 1e-3, progressEvery: 100, checkpointEvery: 2000, codesSamples: 0, evaluate: [] });
      const at1000 = [0.1, 0.2, 0.3];
      at1000.forEach((v, seed) => {
        const id = `run-curve-${seed}`;
        lab.runs.insert(id, { ...cfg, seed });
        lab.runs.setStatus(id, 'finished', { finished: true, started: true, backend: 'cpu' });
        lab.runs.addEvaluation(id, score(v + 0.05));
        lab.runs.metricSeries.add(id, 1000, [score(v)]);
        if (seed === 0) lab.runs.metricSeries.add(id, 2000, [score(0.4)]);
      });
      const r = (await lab.handlers['runs/compare']({ metric: 'mig' })) as CompareResult;
      expect(r.curves).toHaveLength(1);
      const c = r.curves![0]!;
      expect([c.method, c.base, c.variant]).toEqual(['beta_vae', 'dsprites', 'original']);
      expect(c.points.map((p) => [p.step, p.n])).toEqual([
        [1000, 3],
        [2000, 1],
      ]);
      expect(c.points[0]!.mean).toBeCloseTo(0.2, 12);
      expect(c.points[0]!.lo).toBeCloseTo(0.2 - 0.248414, 5);
      expect(c.points[0]!.hi).toBeCloseTo(0.2 + 0.248414, 5);
      expect(c.points[1]).toEqual({ step: 2000, n: 1, mean: 0.4, lo: null, hi: null });
      // an excluded run leaves the curve
      const r2 = (await lab.handlers['runs/compare']({ metric: 'mig', exclude: ['run-curve-2'] })) as CompareResult;
      expect(r2.curves![0]!.points[0]!.n).toBe(2);
      expect(r2.curves![0]!.points[0]!.mean).toBeCloseTo(0.15, 12);
    } finally {
      await lab.close();
    }
  });
});
