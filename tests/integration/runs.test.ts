import * as fs from 'node:fs';
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
  arch: 'conv',
  latent: 4,
  steps: 24,
  batch: 4,
  lr: 1e-3,
  progressEvery: 2,
  checkpointEvery: 6,
  codesSamples: 64,
  evaluate: [],
};

beforeAll(async () => {
  lab = await Lab.open({ labDir: path.join(tmp.dir, 'lab'), maxConcurrentRuns: 2 });
});
afterAll(async () => {
  await lab.close();
  tmp.cleanup();
});

const launch = async (cfg: Partial<RunConfig>, seed = 7) => (await lab.handlers['runs/launch']({ config: { ...base, ...cfg }, seeds: [seed] }))[0]!;
const finalWeights = (id: string) => {
  const cps = lab.runs.checkpoints(id);
  const dir = path.join(lab.labDir, cps[cps.length - 1]!.path);
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f !== 'meta.json')
      .map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]),
  );
};
const untilStep = async (id: string, step: number) => {
  for (let i = 0; i < 600; i++) {
    if ((lab.runs.summary(id)?.step ?? 0) >= step) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id} never reached step ${step}`);
};

describe('training runs (worker processes)', () => {
  it('a run trains, streams progress, checkpoints and stores codes', async () => {
    const progress: number[] = [];
    const off = lab.events.on('runs/progress', (p) => progress.push(p.step));
    const r = await launch({});
    const done = await lab.supervisor.waitFor(r.id);
    off();
    expect(done.status).toBe('finished');
    expect(done.step).toBe(24);
    expect(done.backend).toBe(lab.info().backend);
    expect(progress.filter((s) => s % 2 === 0).length).toBeGreaterThanOrEqual(12);
    const series = lab.runs.series(r.id, ['loss', 'kl_dim/0', 'reconstruction']);
    expect(series.loss!.map(([s]) => s)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);
    expect(series['kl_dim/0']).toHaveLength(12);
    const detail = lab.runs.detail(r.id)!;
    expect(detail.checkpoints.map((c) => c.step)).toEqual([18, 24]); // the last two are kept
    for (const c of detail.checkpoints) expect(c.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(detail.hasCodes).toBe(true);
    const lat = lab.runViews.latents(done, 1000);
    expect(lat.means).toHaveLength(64);
    expect(lat.means[0]).toHaveLength(4);
    expect(lat.factors[0]).toHaveLength(5);
  });

  it('cancel then resume reaches the same weights as an uninterrupted run', async () => {
    const straight = await launch({}, 11);
    const s1 = await lab.supervisor.waitFor(straight.id);
    expect(s1.status).toBe('finished');

    const r = await launch({}, 11);
    await untilStep(r.id, 8);
    lab.handlers['runs/cancel']({ id: r.id });
    const stopped = await lab.supervisor.waitFor(r.id);
    expect(stopped.status).toBe('cancelled');
    expect(stopped.step).toBeLessThan(24);
    lab.handlers['runs/resume']({ id: r.id });
    const resumed = await lab.supervisor.waitFor(r.id);
    expect(resumed.status).toBe('finished');
    expect(resumed.step).toBe(24);
    expect(finalWeights(r.id)).toEqual(finalWeights(straight.id));
    // the loss series has exactly one point per logged step
    expect(lab.runs.series(r.id, ['loss']).loss!.map(([s]) => s)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);
  });

  it('SIGKILL of a worker: that run is interrupted and resumable, the other run and the store carry on', async () => {
    const victim = await launch({ steps: 400, checkpointEvery: 4 }, 3);
    const other = await launch({ steps: 16 }, 4);
    await untilStep(victim.id, 6);
    const pid = lab.supervisor.workerPid(victim.id)!;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    const v = await lab.supervisor.waitFor(victim.id);
    expect(v.status).toBe('interrupted');
    expect(v.error).toMatch(/killed \(SIGKILL\)/);
    const o = await lab.supervisor.waitFor(other.id);
    expect(o.status).toBe('finished');
    expect(lab.db.pragma('integrity_check', { simple: true })).toBe('ok');
    // resumes from its last checkpoint
    const lastCp = lab.runs.checkpoints(victim.id).at(-1)!.step;
    expect(lastCp).toBeGreaterThanOrEqual(4);
    lab.handlers['runs/resume']({ id: victim.id });
    await untilStep(victim.id, lastCp + 2);
    expect(lab.runs.summary(victim.id)!.status).toBe('running');
    lab.handlers['runs/cancel']({ id: victim.id });
    expect((await lab.supervisor.waitFor(victim.id)).status).toBe('cancelled');
  });

  it('refuses bad configs with typed errors', async () => {
    await expect(launch({ model: 'nope' })).rejects.toMatchObject({ code: 'invalid_payload' });
    await expect(launch({ params: { beta: -3 } })).rejects.toMatchObject({ code: 'invalid_payload' });
    await expect(launch({ datasetId: 'missing' })).rejects.toMatchObject({ code: 'not_found' });
  });
});
