/** Checkpoints restore a trainer exactly (weights, both optimisers, step, randomness). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DSprites } from '../../../src/core/datasets/dsprites.js';
import { initBackend } from '../../../src/core/compute/backend.js';
import { createTrainer } from '../../../src/core/training/trainer.js';
import type { Trainer } from '../../../src/core/training/trainer.js';
import { sameBits, weights } from './weights.js';

const root = mkdtempSync(join(tmpdir(), 'dlab-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  expect((await initBackend({ prefer: 'wasm' })).backend).toBe('wasm');
});
const dsprites = new DSprites();

describe('checkpoints', () => {
  it('N steps + save + restore + M steps equals N + M steps, bit for bit (both optimisers)', async () => {
    const opts = { modelId: 'factor_vae', dataset: dsprites, latent: 4, batch: 4, seed: 17, arch: 'conv' as const, lr: 1e-3 };
    const a = createTrainer(opts);
    const lossesA: Record<string, number>[] = [];
    for (let i = 0; i < 3; i++) lossesA.push(a.step().losses);

    const b = createTrainer(opts);
    for (let i = 0; i < 2; i++) b.step();
    const dir = join(root, 'ckpt');
    await b.save(dir);
    b.dispose();
    const c = createTrainer({ ...opts });
    expect(sameBits(weights(c), weights(a))).toBe(false);
    await c.restore(dir);
    expect(c.globalStep).toBe(2);
    const lossesC: Record<string, number>[] = [];
    for (let i = 0; i < 1; i++) lossesC.push(c.step().losses);
    expect(lossesC).toEqual(lossesA.slice(2));
    expect(sameBits(weights(c), weights(a))).toBe(true);
    expect(c.main.t).toBe(a.main.t);
    expect(c.aux!.t).toBe(3);
    const moments = (t: Trainer) => [...t.main.slots, ...t.aux!.slots].flatMap((s) => [s.m, s.v]);
    expect(sameBits(moments(c), moments(a))).toBe(true);
    a.dispose();
    c.dispose();
  });

  it('refuses a checkpoint of another model shape', async () => {
    const a = createTrainer({ modelId: 'beta_vae', dataset: dsprites, latent: 3, batch: 2, seed: 1, arch: 'conv' });
    const dir = join(root, 'ckpt-shape');
    await a.save(dir);
    const b = createTrainer({ modelId: 'beta_vae', dataset: dsprites, latent: 5, batch: 2, seed: 1, arch: 'conv' });
    await expect(b.restore(dir)).rejects.toThrow(/latent 3 ≠ 5/);
    a.dispose();
    b.dispose();
  });
});

