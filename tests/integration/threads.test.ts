/**
 * Training on the threaded wasm build: the worker starts it with the thread
 * count the lab asks for, records it with the run, and 20 steps give the same
 * losses on 1 and on 2 threads (XNNPACK splits outputs, not sums, across
 * threads: the results are equal to float tolerance, bit-equal in practice).
 */
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { resolveRunConfig } from '../../src/core/training/config.js';
import { tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

async function train(threads: number) {
  const lab = await Lab.open({ labDir: path.join(tmp.dir, `t${threads}`), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false, threadsPerRun: threads });
  try {
    const cfg = resolveRunConfig({ model: 'beta_vae', params: {}, datasetId: 'dsprites', arch: 'conv', latent: 4, steps: 20, batch: 8, seed: 3, lr: 1e-3, progressEvery: 1, checkpointEvery: 20, codesSamples: 0, evaluate: [], backend: 'wasm' });
    const run = lab.supervisor.launch(cfg);
    for (let i = 0; i < 1800; i++) {
      const s = lab.runs.summary(run.id)!;
      if (['finished', 'failed', 'interrupted'].includes(s.status)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const done = lab.runs.summary(run.id)!;
    const loss = lab.runs.series(run.id, ['loss']).loss ?? [];
    return { status: done.status, error: done.error, backend: done.backend, loss };
  } finally {
    await lab.close();
  }
}

describe('threaded wasm training', () => {
  it('runs on 2 threads (recorded with the run) and gives the losses of 1 thread', async () => {
    const one = await train(1);
    const two = await train(2);
    expect(one.status, one.error ?? '').toBe('finished');
    expect(two.status, two.error ?? '').toBe('finished');
    expect(one.backend).toBe('wasm');
    expect(two.backend).toBe('wasm (2 threads)');
    expect(one.loss).toHaveLength(20);
    expect(two.loss.map(([s]) => s)).toEqual(one.loss.map(([s]) => s));
    // bit-equal in practice (XNNPACK splits outputs, not sums, across threads), so resume is bit-exact across thread counts
    expect(two.loss).toEqual(one.loss);
  }, 300_000);
});
