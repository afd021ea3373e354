/**
 * Extending a run's training budget on resume (`runs/resume` with `steps`,
 * `dlab run resume <id> --steps N`): a finished run of N steps trained on to
 * 2N from its final checkpoint stores the new total, continues the periodic
 * metric series without gaps or duplicates, is scored again at the new end,
 * and ends with the weights and curve of a run trained 2N steps straight.
 * Refusals: a total not above the run's step (or below its total), an
 * unknown run, a finished run without steps or without a checkpoint at its
 * final step, a run of a study (its runs share one budget), a bad `steps` in
 * the payload or on the command line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { dispatch } from '../../src/shared/dispatch.js';
import type { RunConfig, RunSummary } from '../../src/shared/runs.js';
import { runDlab } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir();
let lab: Lab;

const N = 8;
const base: Omit<RunConfig, 'seed'> = {
  model: 'beta_vae',
  params: { beta: 4 },
  datasetId: 'dsprites',
  arch: 'fc',
  latent: 4,
  steps: N,
  batch: 8,
  lr: 1e-3,
  progressEvery: 2,
  checkpointEvery: 4,
  // the same 160 points as the periodic sample: the final score equals the last point of the curve
  codesSamples: 160,
  evaluate: ['mig'],
  evalEvery: 4,
  evalMetrics: ['mig'],
  evalSamples: 160,
};

beforeAll(async () => {
  lab = await Lab.open({ labDir: path.join(tmp.dir, 'lab'), maxConcurrentRuns: 1 });
});
afterAll(async () => {
  await lab.close();
  tmp.cleanup();
});

const launch = async (cfg: Partial<RunConfig>, seed = 5) => (await lab.handlers['runs/launch']({ config: { ...base, ...cfg }, seeds: [seed] }))[0]!;
const finalWeights = (id: string) => {
  const dir = path.join(lab.labDir, lab.runs.checkpoints(id).at(-1)!.path);
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f !== 'meta.json')
      .map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]),
  );
};
const resume = async (id: string, steps?: number) => lab.handlers['runs/resume']({ id, ...(steps !== undefined ? { steps } : {}) });

describe('resume with a larger training budget', () => {
  let extended: RunSummary;

  it(`a finished run of ${N} steps resumed with steps ${2 * N}: new total stored, series continued, final evaluation at the new end, same as ${2 * N} steps straight`, async () => {
    const straight = await launch({ steps: 2 * N });
    expect((await lab.supervisor.waitFor(straight.id)).status).toBe('finished');

    const r = await launch({});
    const first = await lab.supervisor.waitFor(r.id);
    expect(first.status).toBe('finished');
    expect(first.step).toBe(N);
    expect(lab.runs.checkpoints(r.id).at(-1)!.step).toBe(N); // the final checkpoint is written at the end
    expect(lab.runs.metricSeries.points(r.id, 'mig').map((p) => p.step)).toEqual([4, 8]);
    expect(lab.runs.evaluations(r.id).map((e) => e.metric)).toEqual(['mig']);

    const progress: { step: number; totalSteps: number }[] = [];
    const off = lab.events.on('runs/progress', (p) => p.id === r.id && progress.push({ step: p.step, totalSteps: p.totalSteps }));
    const queued = await resume(r.id, 2 * N);
    expect(queued.totalSteps).toBe(2 * N);
    expect(queued.config.steps).toBe(2 * N);
    expect(queued.finishedAt).toBeNull();
    const done = await lab.supervisor.waitFor(r.id);
    off();
    extended = done;

    expect(done.status).toBe('finished');
    expect(done.step).toBe(2 * N);
    expect(done.totalSteps).toBe(2 * N);
    expect(done.config.steps).toBe(2 * N);
    expect(done.finishedAt).not.toBeNull();
    expect(Number.isInteger(JSON.parse(lab.runs.row(r.id)!.config_json).steps)).toBe(true);
    const listed = (await lab.handlers['runs/list']({})).runs.find((x) => x.id === r.id)!;
    expect([listed.step, listed.totalSteps, listed.config.steps]).toEqual([2 * N, 2 * N, 2 * N]);
    expect((await lab.handlers['runs/get']({ id: r.id })).totalSteps).toBe(2 * N);
    // progress of the extension only: from the final checkpoint on, against the new total
    expect(progress.map((p) => p.step)).toEqual([10, 12, 14, 16]);
    expect(progress.every((p) => p.totalSteps === 2 * N)).toBe(true);

    // the curve: every evalEvery step up to the new total, once each, with the values of the straight run
    const series = await lab.handlers['runs/metricSeries']({ id: r.id, metric: 'mig' });
    expect(series.map((p) => p.step)).toEqual([4, 8, 12, 16]);
    expect(series.map((p) => p.value)).toEqual(lab.runs.metricSeries.points(straight.id, 'mig').map((p) => p.value));
    expect(lab.runs.series(r.id, ['loss']).loss!.map(([s]) => s)).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
    expect(finalWeights(r.id)).toEqual(finalWeights(straight.id));

    // the final evaluation again at the new end, on codes written at the new end
    const finals = lab.runs.evaluations(r.id);
    expect(finals.map((e) => e.metric)).toEqual(['mig', 'mig']);
    const last = series.at(-1)!;
    expect(finals.at(-1)!.value).toBe(last.value);
    expect(finals.at(-1)!.scores).toEqual(last.scores);
    expect(finals.at(-1)!.value).toBe(lab.runs.evaluations(straight.id).at(-1)!.value);
    expect(lab.runs.detail(r.id)!.hasCodes).toBe(true);
    expect(lab.runs.artifacts(r.id, 'codes').length).toBe(lab.runs.artifacts(straight.id, 'codes').length);
  });

  it('refuses a total not above the step, below the total, an unknown run, a finished run without steps, a bad payload', async () => {
    const id = extended.id;
    await expect(resume(id)).rejects.toThrow(/finished at step 16.*larger total of steps \(above 16/);
    await expect(resume(id, 2 * N)).rejects.toMatchObject({ code: 'invalid_payload', message: expect.stringMatching(/above the run's step 16/) });
    await expect(resume(id, 12)).rejects.toMatchObject({ code: 'invalid_payload' });
    await expect(resume('run-missing', 100)).rejects.toMatchObject({ code: 'not_found' });
    // a stopped run at step 0 of 12: a new total must be at least 12
    lab.runs.insert('run-stopped', { ...base, steps: 12, seed: 1 });
    lab.runs.setStatus('run-stopped', 'cancelled');
    await expect(resume('run-stopped', 6)).rejects.toMatchObject({ code: 'invalid_payload', message: expect.stringMatching(/at least its total 12/) });
    expect(lab.runs.summary('run-stopped')).toMatchObject({ status: 'cancelled', totalSteps: 12 });
    for (const steps of [0, 1.5, 10_000_001, '20']) {
      const reply = await dispatch(lab.handlers, 'runs/resume', { id, steps });
      expect(reply.ok).toBe(false);
      if (!reply.ok) expect(reply.error.code).toBe('invalid_payload');
    }
    const after = lab.runs.summary(id)!;
    expect([after.status, after.step, after.totalSteps]).toEqual(['finished', 16, 16]);
  });

  it("refuses to extend a study's run: the study compares its runs at one budget", async () => {
    lab.db.prepare("INSERT INTO experiments (id, name, created_at) VALUES ('study-one-budget', 'one budget', '2026-01-01')").run();
    lab.runs.insert('run-in-study', { ...base, steps: 12, seed: 2, experimentId: 'study-one-budget' });
    lab.runs.setStatus('run-in-study', 'paused');
    await expect(resume('run-in-study', 24)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/belongs to study study-one-budget, whose runs train 12 steps each: extending one run would mix budgets/),
    });
    expect(lab.runs.summary('run-in-study')).toMatchObject({ status: 'paused', totalSteps: 12, config: { steps: 12 } });
    // resuming it at its own budget stays possible
    expect(['queued', 'running']).toContain((await resume('run-in-study', 12)).status);
    await lab.supervisor.waitFor('run-in-study', 120_000);
    expect(lab.runs.summary('run-in-study')).toMatchObject({ status: 'finished', step: 12, totalSteps: 12 });
  });

  it('refuses a finished run without a checkpoint at its final step', async () => {
    const id = extended.id;
    const cps = lab.runs.checkpoints(id);
    expect(cps.at(-1)!.step).toBe(2 * N);
    fs.rmSync(path.join(lab.labDir, cps.at(-1)!.path), { recursive: true, force: true });
    await expect(resume(id, 4 * N)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/no checkpoint at its final step 16 \(the last kept is at step 12\)/) });
    expect(lab.runs.summary(id)).toMatchObject({ status: 'finished', totalSteps: 2 * N, config: { steps: 2 * N } });
  });

  it('dlab run resume --steps: a bad value is a usage error, an unknown run a one-line failure', () => {
    const labDir = path.join(tmp.dir, 'cli-lab');
    const bad = runDlab(['run', 'resume', 'run-missing', '--steps', '1.5', '--lab-dir', labDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--steps must be an integer/);
    const missing = runDlab(['run', 'resume', 'run-missing', '--steps', '100', '--lab-dir', labDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/no run 'run-missing'/);
  });
});
