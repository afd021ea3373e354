import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { exportStudy } from '../../src/core/studies/exports.js';
import { exportBundle, importBundle } from '../../src/core/export/bundle.js';
import type { StudySpec } from '../../src/shared/requests/studies.js';
import { tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

const spec: StudySpec = {
  name: 'tiny study',
  methods: [
    { id: 'ae', model: 'ae' },
    { id: 'beta_vae', model: 'beta_vae', paramsByDataset: { dsprites: { beta: 4 } } },
  ],
  datasets: [
    {
      base: 'dsprites',
      latent: 3,
      variants: [
        { role: 'original' },
        { role: 'noise', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 0 },
      ],
    },
  ],
  seeds: [0, 1],
  // conv, not fc: the fc architecture's checkpoints (~14M weights with Adam state, ~170 MB) dominate a 20-step run
  training: { arch: 'conv', latent: 3, steps: 20, batch: 8, lr: 1e-3, progressEvery: 5, checkpointEvery: 10, codesSamples: 150 },
  evaluation: { metrics: ['mig'] },
};

const sd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

describe('a tiny study end to end through the Lab', () => {
  it('creates the noise dataset, trains 8 runs, resumes after a restart without duplicates, aggregates, exports and bundles', async () => {
    const labDir = path.join(tmp.dir, 'lab');
    let lab = await Lab.open({ labDir, maxConcurrentRuns: 2 });
    let h = lab.handlers;
    // how many of its runs train at the same moment (concurrency 2: two workers at once)
    const running = new Set<string>();
    let most = 0;
    lab.events.on('runs/status', ({ run }) => {
      if (run.status === 'running') running.add(run.id);
      else running.delete(run.id);
      most = Math.max(most, running.size);
    });
    const { study, job } = await h['studies/create']({ spec, start: true });
    expect(study.counts.cells).toBe(8);
    expect(job).not.toBeNull();

    // let part of it finish, then "crash" (close the Lab: its workers are stopped, their runs interrupted)
    for (let i = 0; i < 1200; i++) {
      if (lab.studies.detail(study.id).counts.evaluated >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = lab.studies.detail(study.id);
    expect(before.counts.evaluated).toBeGreaterThanOrEqual(3);
    expect(most).toBe(2);
    const finishedBefore = before.cells.filter((c) => c.status === 'finished').map((c) => c.runId!);
    await lab.close();

    lab = await Lab.open({ labDir, maxConcurrentRuns: 2 });
    h = lab.handlers;
    const resumed = await h['studies/resume']({ id: study.id });
    const done = await lab.jobs.wait(resumed.job.id);
    expect(done.status, done.error ?? '').toBe('done');
    const detail = await h['studies/get']({ id: study.id });
    expect(detail.counts).toMatchObject({ cells: 8, finished: 8, evaluated: 8, missing: 0, failed: 0 });
    // exactly one run per cell, and the runs finished before the restart are the same runs
    const allRuns = lab.runs.list().filter((r) => r.experimentId === study.id);
    expect(allRuns).toHaveLength(8);
    for (const id of finishedBefore) expect(detail.cells.find((c) => c.runId === id)?.status).toBe('finished');
    for (const r of allRuns) expect(lab.runs.evaluations(r.id).filter((e) => e.metric === 'mig')).toHaveLength(1);
    // the noise dataset was created once, from its spec
    const noiseId = detail.datasetIds.dsprites!.noise!;
    expect(noiseId).toMatch(/^dsprites\.uniform-noise\./);
    expect(lab.datasets.storedRows().filter((d) => d.id === noiseId)).toHaveLength(1);

    // resuming a complete study launches nothing
    const again = await h['studies/resume']({ id: study.id });
    expect((await lab.jobs.wait(again.job.id)).status).toBe('done');
    expect(lab.runs.list().filter((r) => r.experimentId === study.id)).toHaveLength(8);

    // aggregation equals the stored scores, worked out here
    const res = await h['studies/results']({ id: study.id });
    expect(res.metric).toBe('mig');
    expect(res.groups).toHaveLength(4);
    for (const g of res.groups) {
      const cells = detail.cells.filter((c) => c.method === g.method && c.variant === g.variant);
      const vals = cells.map((c) => lab.runs.evaluations(c.runId!).find((e) => e.metric === 'mig')!.value!).filter(Number.isFinite);
      expect(g.n).toBe(vals.length);
      expect(g.mean!).toBeCloseTo(vals.reduce((a, b) => a + b, 0) / vals.length, 12);
      if (vals.length === 2) expect(g.sd!).toBeCloseTo(sd(vals), 12);
    }
    const cmp = res.comparisons.find((c) => c.method === 'beta_vae' && c.contrast === 'original−noise')!;
    const o = res.groups.find((g) => g.method === 'beta_vae' && g.variant === 'original')!;
    const n = res.groups.find((g) => g.method === 'beta_vae' && g.variant === 'noise')!;
    expect(cmp.diff!).toBeCloseTo(o.mean! - n.mean!, 12);
    expect(cmp.verdict).toBe('no_claim');
    expect(cmp.published).toEqual({ a: 0.23, b: 0.14, diff: 0.09 });
    expect(res.published?.note).toBe('transcribed — verify before citing');

    // exports
    const out = exportStudy(lab, study.id, { formats: ['svg', 'pdf', 'png', 'csv', 'json', 'tex', 'html'], dpi: 72, outDir: path.join(tmp.dir, 'export') });
    for (const f of ['report.html', 'table1.tex', 'comparisons.csv', 'mig-bars-dsprites.svg', 'mig-bars-dsprites.pdf', 'mig-bars-dsprites.png', 'results.json', 'loss-dsprites.svg']) {
      expect(out.files).toContain(f);
    }
    const html = fs.readFileSync(path.join(out.dir, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('transcribed — verify before citing');
    expect(html).toContain(study.id);

    // bundle round trip into a fresh lab, twice
    const bundle = exportBundle(lab, { studyId: study.id }, path.join(tmp.dir, 'tiny.dlab.zip'));
    expect(bundle.runs).toBe(8);
    expect(bundle.datasets).toBe(1);
    await lab.close();
    const other = await Lab.open({ labDir: path.join(tmp.dir, 'other'), adoptQueuedRuns: false });
    try {
      const first = await importBundle(other, bundle.path);
      expect(first.runsImported).toHaveLength(8);
      expect(first.datasetsImported).toEqual([noiseId]);
      const second = await importBundle(other, bundle.path);
      expect(second.runsImported).toHaveLength(0);
      expect(second.runsSkipped).toHaveLength(8);
      const res2 = other.studies.results(study.id);
      expect(res2.groups.map((g) => [g.method, g.variant, g.n, g.mean])).toEqual(res.groups.map((g) => [g.method, g.variant, g.n, g.mean]));
      expect(other.studies.detail(study.id).counts.evaluated).toBe(8);
    } finally {
      await other.close();
    }
  }, 180_000);
});
