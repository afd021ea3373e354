/**
 * Queue positions: with one run training at a time, queued runs are numbered
 * 1, 2, … in the order they will start, in runs/list and runs/get alike.
 */
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab } from '../../../src/core/lab.js';
import { resolveRunConfig } from '../../../src/core/training/config.js';
import type { RunSummary } from '../../../src/shared/runs.js';
import { tmpDir } from '../../helpers/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());
const fakeWorker = path.join(path.dirname(new URL(import.meta.url).pathname), 'fake-worker.mjs');

describe('queue position', () => {
  it('numbers queued runs in start order; the running one has none', async () => {
    const lab = await Lab.open({ labDir: path.join(tmp.dir, 'q'), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false, maxConcurrentRuns: 1, worker: { path: fakeWorker, execArgv: [] } });
    try {
      const cfg = resolveRunConfig({ model: 'beta_vae', params: {}, datasetId: 'dsprites', arch: 'fc', latent: 2, steps: 100_000, batch: 8, seed: 0, lr: 1e-3, progressEvery: 1000, checkpointEvery: 100_000, codesSamples: 0, evaluate: [] });
      const runs: RunSummary[] = [0, 1, 2].map((seed) => lab.supervisor.launch({ ...cfg, seed }));
      const page = (await lab.handlers['runs/list']({})) as { runs: RunSummary[] };
      const pos = Object.fromEntries(page.runs.map((r) => [r.id, r.queuePosition ?? null]));
      expect(pos[runs[0]!.id]).toBeNull(); // started at once
      expect(pos[runs[1]!.id]).toBe(1);
      expect(pos[runs[2]!.id]).toBe(2);
      expect(((await lab.handlers['runs/get']({ id: runs[2]!.id })) as RunSummary).queuePosition).toBe(2);
      lab.supervisor.stop(runs[1]!.id, 'cancelled');
      expect(((await lab.handlers['runs/get']({ id: runs[2]!.id })) as RunSummary).queuePosition).toBe(1);
    } finally {
      await lab.close();
    }
  });
});
