/**
 * Metric curves during training (evalEvery): the periodic scores a run stores,
 * their provenance, resume without gaps or duplicates, and equality with the
 * standard scoring of the checkpoint of the same step.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import type { RunConfig } from '../../src/shared/runs.js';
import { tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir();
let lab: Lab;

const base: Omit<RunConfig, 'seed'> = {
  model: 'beta_vae',
  params: { beta: 4 },
  datasetId: 'dsprites',
  arch: 'fc',
  latent: 4,
  steps: 12,
  batch: 8,
  lr: 1e-3,
  progressEvery: 2,
  checkpointEvery: 4,
  codesSamples: 160,
  evaluate: ['mig'],
  evalEvery: 4,
  evalMetrics: ['mig', 'dci'],
  evalSamples: 160,
  evalSettings: { dci: { num_train: 80, num_test: 40 } },
};

beforeAll(async () => {
  lab = await Lab.open({ labDir: path.join(tmp.dir, 'lab'), maxConcurrentRuns: 1 });
});
afterAll(async () => {
  await lab.close();
  tmp.cleanup();
});

const launch = async (cfg: Partial<RunConfig>, seed = 5) => (await lab.handlers['runs/launch']({ config: { ...base, ...cfg }, seeds: [seed] }))[0]!;
const untilStep = async (id: string, step: number) => {
  for (let i = 0; i < 1200; i++) {
    if ((lab.runs.summary(id)?.step ?? 0) >= step) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${id} never reached step ${step}`);
};
/** What a score is, without when it was stored or how long it took. */
const essence = (s: { metric: string; value: number | null; scores: Record<string, number>; provenance: unknown }) => ({ metric: s.metric, value: s.value, scores: s.scores, provenance: s.provenance });

describe('metric series during training', () => {
  it('stores ⌊steps/N⌋ periodic scores per metric with provenance and cost, plus the final score; live events; equal to scoring the checkpoint of that step', async () => {
    const events: { step: number; values: Record<string, number | null> }[] = [];
    const off = lab.events.on('runs/seriesPoint', (p) => events.push({ step: p.step, values: p.values }));
    const r = await launch({ steps: 10 });
    const done = await lab.supervisor.waitFor(r.id);
    off();
    expect(done.status).toBe('finished');
    const pts = await lab.handlers['runs/metricSeries']({ id: r.id });
    for (const metric of ['mig', 'dci']) {
      const mine = pts.filter((p) => p.metric === metric);
      expect(mine.map((p) => p.step)).toEqual([4, 8]); // ⌊10/4⌋ = 2
      for (const p of mine) {
        expect(p.value).not.toBeNull();
        expect(p.provenance).toMatchObject({ metric, seed: 5, codesAreMeans: true, points: 160, step: p.step });
        expect(p.seconds).toBeGreaterThanOrEqual(0);
        expect(p.encodeSeconds).toBeGreaterThan(0);
        expect(p.evalSeconds).toBeGreaterThanOrEqual(p.encodeSeconds);
      }
    }
    expect(pts.find((p) => p.metric === 'dci')!.provenance.settings).toMatchObject({ num_train: 80, num_test: 40 });
    expect(pts.find((p) => p.metric === 'mig')!.provenance.samples).toEqual({ train: 107 }); // 160 codes: 2/3 train
    expect((await lab.handlers['runs/metricSeries']({ id: r.id, metric: 'mig' })).map((p) => p.step)).toEqual([4, 8]);
    expect(events.map((e) => e.step)).toEqual([4, 8]);
    expect(Object.keys(events[0]!.values).sort()).toEqual(['dci', 'mig']);
    // the final score stays where it was, one per metric
    const finals = lab.runs.evaluations(r.id);
    expect(finals.map((e) => e.metric)).toEqual(['mig']);

    // the checkpoint of step 8 (kept: 8 and 10), scored on demand the periodic way: the same numbers and provenance
    expect(lab.runs.checkpoints(r.id).map((c) => c.step)).toEqual([8, 10]);
    const at8 = pts.filter((p) => p.step === 8).map(essence);
    const job = await lab.handlers['runs/evaluate']({ id: r.id, step: 8 });
    const j = await lab.jobs.wait(job.id);
    expect(j.status).toBe('done');
    const again = lab.runs.metricSeries.points(r.id).filter((p) => p.step === 8);
    expect(again.map(essence)).toEqual(at8);
    expect(lab.runs.metricSeries.points(r.id)).toHaveLength(4); // replaced, not added
    expect(() => lab.supervisor.evaluate(r.id, { metrics: ['mig'], seed: 5, step: 4, points: 160 })).toThrow(/no checkpoint at step 4/);
  });

  it('the point at the last step equals the final (stored-codes) score when the sample is the same', async () => {
    const r = await launch({ steps: 8, evalMetrics: ['mig'] }, 9);
    expect((await lab.supervisor.waitFor(r.id)).status).toBe('finished');
    const last = lab.runs.metricSeries.points(r.id, 'mig').at(-1)!;
    expect(last.step).toBe(8);
    const final = lab.runs.evaluations(r.id).find((e) => e.metric === 'mig')!;
    expect(last.value).toBe(final.value);
    expect(last.scores).toEqual(final.scores);
    const { points: _p, step: _s, ...prov } = last.provenance;
    expect(prov).toEqual(final.provenance);
  });

  it('pause then resume continues the series without gaps or duplicates, with the values of an uninterrupted run', async () => {
    const cfg = { steps: 20, progressEvery: 1, checkpointEvery: 20, evalMetrics: ['mig'], evaluate: [] };
    const straight = await launch(cfg, 13);
    expect((await lab.supervisor.waitFor(straight.id)).status).toBe('finished');

    const r = await launch(cfg, 13);
    await untilStep(r.id, 9);
    lab.handlers['runs/pause']({ id: r.id });
    const paused = await lab.supervisor.waitFor(r.id);
    expect(paused.status).toBe('paused');
    expect(paused.step).toBeLessThan(20);
    const before = lab.runs.metricSeries.points(r.id, 'mig').map((p) => p.step);
    expect(before).toEqual([4, 8, 12, 16].filter((s) => s <= paused.step));
    lab.handlers['runs/resume']({ id: r.id });
    expect((await lab.supervisor.waitFor(r.id)).status).toBe('finished');
    const after = lab.runs.metricSeries.points(r.id, 'mig');
    expect(after.map((p) => p.step)).toEqual([4, 8, 12, 16, 20]);
    expect(after.map((p) => p.value)).toEqual(lab.runs.metricSeries.points(straight.id, 'mig').map((p) => p.value));
  });

  it('a killed worker: points after the last checkpoint are dropped and scored again on resume', async () => {
    const r = await launch({ steps: 400, progressEvery: 1, checkpointEvery: 8, evalMetrics: ['mig'], evaluate: [] }, 21);
    for (let i = 0; i < 2400 && !lab.runs.metricSeries.points(r.id).some((p) => p.step === 12); i++) await new Promise((res) => setTimeout(res, 25));
    process.kill(lab.supervisor.workerPid(r.id)!, 'SIGKILL');
    expect((await lab.supervisor.waitFor(r.id)).status).toBe('interrupted');
    const lastCp = lab.runs.checkpoints(r.id).at(-1)!.step;
    lab.handlers['runs/resume']({ id: r.id });
    expect(lastCp).toBeLessThan(12 + 8);
    await untilStep(r.id, 24);
    lab.handlers['runs/cancel']({ id: r.id });
    const c = await lab.supervisor.waitFor(r.id);
    const steps = lab.runs.metricSeries.points(r.id).map((p) => p.step);
    expect(steps).toEqual(Array.from({ length: Math.floor(c.step / 4) }, (_, i) => 4 * (i + 1)));
  });

  it('refuses unknown periodic metrics and bad settings at launch', async () => {
    await expect(launch({ evalMetrics: ['nope'] })).rejects.toMatchObject({ code: 'invalid_payload' });
    await expect(launch({ evalSettings: { mig: { num_bins: 1 } } })).rejects.toMatchObject({ code: 'invalid_payload' });
  });
});
