/**
 * Table 1's metric during training: studies/results returns, per (method,
 * dataset, variant role) of the study, the seeds' periodic scores at each step
 * as mean and 95 % t interval, computed by the function runs/compare uses and
 * restricted to the study's runs. Expected values by hand: β-VAE on the
 * original data, seeds 0 and 1 score 0.1 and 0.3 at step 100 → mean 0.2,
 * sd √((0.1² + 0.1²)/1) = 0.141421, half width
 * t(0.975, 1)·sd/√2 = 12.706205·0.141421/1.414214 = 1.2706205; one seed at
 * step 200 (0.5) → no interval.
 */
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab } from '../../../src/core/lab.js';
import { cellRunConfig, expandCells } from '../../../src/core/studies/spec.js';
import { resolveRunConfig } from '../../../src/core/training/config.js';
import { StudyResults, type StudySpec } from '../../../src/shared/requests/studies.js';
import { migScore } from '../../helpers/scores.js';
import { tmpDir } from '../../helpers/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

const score = migScore;

const NOISE_ID = 'dsprites.uniform-noise.curves-test';

const spec: StudySpec = {
  name: 'curves',
  // 'tc' first: the study's order of methods, not the alphabet
  methods: [
    { id: 'tc', model: 'beta_tcvae' },
    { id: 'b', model: 'beta_vae', params: { beta: 4 } },
  ],
  datasets: [{ base: 'dsprites', variants: [{ role: 'original' }, { role: 'noise', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 0 }] }],
  seeds: [0, 1],
  training: { arch: 'fc', latent: 2, steps: 200, batch: 8, lr: 1e-3, progressEvery: 100, checkpointEvery: 200, codesSamples: 0 },
  evaluation: { metrics: ['mig'], periodic: { every: 100 } },
};

/** Periodic MIG per (method, role, seed): step → score; absent: none stored. */
const PERIODIC: Record<string, Record<number, number>> = {
  'b|original|0': { 100: 0.1, 200: 0.5 },
  'b|original|1': { 100: 0.3 },
  'b|noise|0': { 100: 0.2 },
  'b|noise|1': { 100: 0.2 },
  // still training: its scores so far count
  'tc|original|0': { 100: 0.6 },
};

describe('studies/results curves', () => {
  it('mean and 95 % t interval over seeds per (method, dataset, variant) and step, from the study’s runs only', async () => {
    const lab = await Lab.open({ labDir: path.join(tmp.dir, 'c'), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
    try {
      const { study } = (await lab.handlers['studies/create']({ spec, start: false })) as { study: { id: string } };
      // the noise variant's derived dataset, as if the study's job had made it
      lab.db
        .prepare(`INSERT INTO datasets (id, name, source, info_json, spec_json, stats_json, parent_id, created_at) VALUES (?, 'noise', 'derived', '{}', '{}', '{}', 'dsprites', ?)`)
        .run(NOISE_ID, new Date().toISOString());
      lab.studies.repo.setDatasetIds(study.id, { dsprites: { noise: NOISE_ID } });
      const stored = lab.studies.repo.get(study.id)!;
      for (const c of expandCells(stored.spec)) {
        const id = `run-${c.method}-${c.variant}-${c.seed}`;
        lab.runs.insert(id, resolveRunConfig(cellRunConfig(stored.spec, c, c.variant === 'noise' ? NOISE_ID : 'dsprites', study.id)));
        const running = c.method === 'tc' && c.seed === 0;
        lab.runs.setStatus(id, running ? 'running' : 'finished', { finished: !running, started: true, backend: 'cpu' });
        if (!running) lab.runs.addEvaluation(id, score(0.05));
        for (const [step, v] of Object.entries(PERIODIC[`${c.method}|${c.variant}|${c.seed}`] ?? {})) lab.runs.metricSeries.add(id, Number(step), [score(v)]);
      }
      // a run outside the study, same model, data and seed: never in the study's curves
      const { experimentId: _, ...outside } = cellRunConfig(stored.spec, expandCells(stored.spec).find((c) => c.method === 'b')!, 'dsprites', study.id);
      lab.runs.insert('run-outside', resolveRunConfig(outside));
      lab.runs.setStatus('run-outside', 'finished', { finished: true, started: true, backend: 'cpu' });
      lab.runs.metricSeries.add('run-outside', 100, [score(0.9)]);

      const r = (await lab.handlers['studies/results']({ id: study.id })) as StudyResults;
      expect(StudyResults.safeParse(r).success).toBe(true);
      const curves = r.curves!;
      expect(curves.map((c) => c.key)).toEqual(['tc|dsprites|original', 'b|dsprites|original', 'b|dsprites|noise']);
      expect(curves.map((c) => [c.method, c.dataset, c.variant])).toEqual([
        ['tc', 'dsprites', 'original'],
        ['b', 'dsprites', 'original'],
        ['b', 'dsprites', 'noise'],
      ]);

      const [tc, orig, noise] = curves;
      expect(tc!.points).toEqual([{ step: 100, n: 1, mean: 0.6, lo: null, hi: null }]);
      expect(orig!.points.map((p) => [p.step, p.n])).toEqual([
        [100, 2],
        [200, 1],
      ]);
      const p100 = orig!.points[0]!;
      expect(p100.mean).toBeCloseTo(0.2, 12);
      expect(p100.hi! - p100.mean).toBeCloseTo(1.2706205, 6);
      expect(p100.lo).toBeCloseTo(0.2 - 1.2706205, 6);
      expect(p100.hi).toBeCloseTo(0.2 + 1.2706205, 6);
      expect(orig!.points[1]).toEqual({ step: 200, n: 1, mean: 0.5, lo: null, hi: null });
      // two equal scores: an interval of width 0
      expect(noise!.points).toHaveLength(1);
      expect(noise!.points[0]!.mean).toBeCloseTo(0.2, 12);
      expect(noise!.points[0]!.lo).toBeCloseTo(0.2, 12);
      expect(noise!.points[0]!.hi).toBeCloseTo(0.2, 12);

      // a metric without periodic scores: no curves (the screen's empty state)
      const dci = (await lab.handlers['studies/results']({ id: study.id, metric: 'dci' })) as StudyResults;
      expect(dci.curves).toBeUndefined();
    } finally {
      await lab.close();
    }
  });
});
