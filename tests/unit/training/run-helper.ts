/** Shared by the short training-run tests: a few steps at small scale must lower the loss. */
import { expect } from 'vitest';
import { DSprites } from '../../../src/core/datasets/dsprites.js';
import { createTrainer } from '../../../src/core/training/trainer.js';

const dsprites = new DSprites();

/**
 * Train `steps` steps (conv, batch 8, latent 4, lr 1e-3) and check that the
 * mean loss of the last 4 steps is below `ratio` × the mean of the first 4,
 * every step finite, with the objective's own terms reported.
 */
export function expectLossFalls(modelId: string, steps: number, ratio: number, terms: string[]): void {
  const tr = createTrainer({ modelId, dataset: dsprites, latent: 4, batch: 8, seed: 5, arch: 'conv', lr: 1e-3 });
  try {
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const r = tr.step();
      expect(r.step).toBe(i);
      for (const t of ['loss', ...terms]) expect(Number.isFinite(r.losses[t]), `${modelId} step ${i} term ${t}`).toBe(true);
      if (tr.variational) expect(r.klPerDim).toHaveLength(4);
      losses.push(r.losses['loss']!);
    }
    const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
    const first = mean(losses.slice(0, 4));
    const last = mean(losses.slice(-4));
    expect(last, `${modelId}: ${losses.map((v) => v.toFixed(3)).join(' ')}`).toBeLessThan(ratio * first);
  } finally {
    tr.dispose();
  }
}
