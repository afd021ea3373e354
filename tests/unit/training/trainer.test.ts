/**
 * Trainer: non-finite detection, determinism,
 * encode/decode shapes, architectures, pair sampling.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DSprites } from '../../../src/core/datasets/dsprites.js';
import { factorsOf, gridStrides } from '../../../src/core/datasets/grid.js';
import type { GroundTruthDataset } from '../../../src/core/datasets/types.js';
import { createDecoder, createEncoder, glorotUniform } from '../../../src/core/models/architectures.js';
import { getTf, initBackend } from '../../../src/core/compute/backend.js';
import { samplePairs } from '../../../src/core/training/pairs.js';
import { NonFiniteError, createTrainer } from '../../../src/core/training/trainer.js';
import { sameBits, weights } from './weights.js';
import { Rng } from '../../../src/core/util/rng.js';

beforeAll(async () => {
  expect((await initBackend({ prefer: 'wasm' })).backend).toBe('wasm');
});
const dsprites = new DSprites();

describe('non-finite detection', () => {
  it('throws NonFiniteError and keeps the last good state', () => {
    let poison = false;
    const bad: GroundTruthDataset = {
      info: dsprites.info,
      render(i, out, o = 0) {
        dsprites.render(i, out, o);
        if (poison) out[o] = Number.NaN;
      },
    };
    const t = createTrainer({ modelId: 'beta_vae', dataset: bad, latent: 3, batch: 2, seed: 3, arch: 'conv' });
    t.step();
    const before = weights(t);
    const m0 = t.main.slots.map((s) => Float32Array.from(s.m));
    poison = true;
    let err: unknown;
    try {
      t.step();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).step).toBe(1);
    expect(t.globalStep).toBe(1);
    expect(t.main.t).toBe(1);
    expect(sameBits(weights(t), before)).toBe(true);
    expect(sameBits(t.main.slots.map((s) => s.m), m0)).toBe(true);
    poison = false;
    expect(t.step().step).toBe(1);
    t.dispose();
  });
});

describe('trainer basics', () => {
  it('same seed → same losses and weights; other seed → different', () => {
    const o = { modelId: 'beta_tcvae', dataset: dsprites, latent: 3, batch: 4, seed: 8, arch: 'conv' as const };
    const a = createTrainer(o);
    const b = createTrainer(o);
    const c = createTrainer({ ...o, seed: 9 });
    const la = [a.step().losses, a.step().losses];
    const lb = [b.step().losses, b.step().losses];
    const lc = [c.step().losses, c.step().losses];
    expect(lb).toEqual(la);
    expect(lc).not.toEqual(la);
    expect(sameBits(weights(a), weights(b))).toBe(true);
    [a, b, c].forEach((t) => t.dispose());
  });

  it('encode, decode and reconstruct have the documented shapes and ranges; memory stays bounded', () => {
    const tf = getTf();
    const t = createTrainer({ modelId: 'beta_vae', dataset: dsprites, latent: 5, batch: 4, seed: 2, arch: 'conv' });
    t.step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) t.step();
    const idx = [0, 1000, 500000];
    const { mean, logvar } = t.encode(idx);
    expect(mean.length).toBe(15);
    expect(logvar!.length).toBe(15);
    const rec = t.reconstruct(idx);
    expect(rec.length).toBe(3 * 64 * 64);
    expect(rec.every((v) => v > 0 && v < 1)).toBe(true);
    expect(t.decode(new Float32Array(10), 2).length).toBe(2 * 4096);
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
    const p = createTrainer({ modelId: 'pcl', dataset: dsprites, latent: 5, batch: 4, seed: 2, arch: 'conv' });
    expect(p.encode([1, 2]).logvar).toBeNull();
    expect(() => p.decode(new Float32Array(5))).toThrow(/no decoder/);
    p.dispose();
  });
});

describe('architectures', () => {
  it('conv and fc nets map 64×64×C to L codes and back, with the disentanglement_lib sizes', () => {
    const tf = getTf();
    for (const C of [1, 3]) {
      const imageShape = [64, 64, C] as const;
      const enc = createEncoder(tf, { arch: 'conv', imageShape, latent: 7, rng: new Rng(1), scope: `arch-c${C}` });
      const dec = createDecoder(tf, { arch: 'conv', imageShape, latent: 7, rng: new Rng(1), scope: `arch-c${C}` });
      // weights counted by hand from the layer list in PAPER.md
      const encCount = 4 * 4 * C * 32 + 32 + (4 * 4 * 32 * 32 + 32) + (2 * 2 * 32 * 64 + 64) + (2 * 2 * 64 * 64 + 64) + (1024 * 256 + 256) + 2 * (256 * 7 + 7);
      const decCount = 7 * 256 + 256 + (256 * 1024 + 1024) + (16 * 64 * 64 + 64) + (16 * 64 * 32 + 32) + (16 * 32 * 32 + 32) + (16 * 32 * C + C);
      const count = (ps: { variable: { size: number } }[]) => ps.reduce((a, p) => a + p.variable.size, 0);
      expect(count(enc.params)).toBe(encCount);
      expect(count(dec.params)).toBe(decCount);
      tf.tidy(() => {
        const out = enc.apply(tf.zeros([2, 64, 64, C]));
        expect(out.mean.shape).toEqual([2, 7]);
        expect(out.logvar!.shape).toEqual([2, 7]);
        expect(dec.apply(out.mean).shape).toEqual([2, 64, 64, C]);
      });
      const fe = createEncoder(tf, { arch: 'fc', imageShape, latent: 7, rng: new Rng(1), scope: `arch-fc${C}`, deterministic: true });
      const fd = createDecoder(tf, { arch: 'fc', imageShape, latent: 7, rng: new Rng(1), scope: `arch-fc${C}` });
      expect(count(fe.params)).toBe(4096 * C * 1200 + 1200 + 1200 * 1200 + 1200 + 1200 * 7 + 7);
      expect(count(fd.params)).toBe(7 * 1200 + 1200 + 2 * (1200 * 1200 + 1200) + 1200 * 4096 * C + 4096 * C);
      tf.tidy(() => {
        const out = fe.apply(tf.zeros([3, 64, 64, C]));
        expect(out.logvar).toBeNull();
        expect(fd.apply(out.mean).shape).toEqual([3, 64, 64, C]);
      });
      [...enc.params, ...dec.params, ...fe.params, ...fd.params].forEach((p) => p.variable.dispose());
    }
  });

  it('Glorot-uniform: bound √(6/(fan_in+fan_out)) with receptive fields, seeded, zero biases', () => {
    const w = glorotUniform([4, 4, 32, 64], new Rng(5));
    const limit = Math.sqrt(6 / (16 * 32 + 16 * 64));
    let max = 0;
    let sq = 0;
    for (const v of w) {
      max = Math.max(max, Math.abs(v));
      sq += v * v;
    }
    expect(max).toBeLessThanOrEqual(limit);
    expect(max).toBeGreaterThan(0.99 * limit);
    // uniform on [−a, a] has variance a²/3
    expect(sq / w.length).toBeCloseTo((limit * limit) / 3, 4);
    expect(Array.from(glorotUniform([3, 5], new Rng(5)))).toEqual(Array.from(glorotUniform([3, 5], new Rng(5))));
    const tf = getTf();
    const enc = createEncoder(tf, { arch: 'fc', imageShape: [64, 64, 1], latent: 2, rng: new Rng(1), scope: 'glorot' });
    for (const p of enc.params.filter((q) => q.name.endsWith('bias'))) expect(p.variable.dataSync().every((v) => v === 0)).toBe(true);
    enc.params.forEach((p) => p.variable.dispose());
  });
});

describe('pairs', () => {
  const sizes = dsprites.info.factors.map((f) => f.size);
  it('k = 1: exactly the chosen factor may change, always inside its range', () => {
    const { first, second } = samplePairs(sizes, 2000, new Rng(1), { rate: 1, k: 1 });
    const f1 = factorsOf(sizes, first);
    const f2 = factorsOf(sizes, second);
    let changed = 0;
    for (let i = 0; i < 2000; i++) {
      let d = 0;
      for (let k = 0; k < sizes.length; k++) {
        const a = f1[i * sizes.length + k]!;
        const b = f2[i * sizes.length + k]!;
        expect(b).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThan(sizes[k]!);
        if (a !== b) d++;
      }
      expect(d).toBeLessThanOrEqual(1);
      changed += d;
    }
    // P(round(Laplace(1)) ≠ 0) = e^{−1/2} ≈ 0.61 before redraws at the edges
    expect(changed / 2000).toBeGreaterThan(0.5);
    expect(changed / 2000).toBeLessThan(0.75);
  });

  it('step sizes follow the Laplace rate; k = −1 changes 1…K factors; deterministic', () => {
    const a = samplePairs(sizes, 3000, new Rng(2), { rate: 0.25, k: -1 });
    const b = samplePairs(sizes, 3000, new Rng(2), { rate: 0.25, k: -1 });
    expect(Array.from(a.second)).toEqual(Array.from(b.second));
    const f1 = factorsOf(sizes, a.first);
    const f2 = factorsOf(sizes, a.second);
    // pos x (32 values) steps: mean |δ| of a rounded Laplace with scale 4, truncated to the range, is well above 1
    let sumAbs = 0;
    let n = 0;
    let maxChanged = 0;
    for (let i = 0; i < 3000; i++) {
      let d = 0;
      for (let k = 0; k < sizes.length; k++) if (f1[i * 5 + k] !== f2[i * 5 + k]) d++;
      maxChanged = Math.max(maxChanged, d);
      const dx = Math.abs(f2[i * 5 + 3]! - f1[i * 5 + 3]!);
      if (dx > 0) {
        sumAbs += dx;
        n++;
      }
    }
    expect(maxChanged).toBe(5);
    expect(sumAbs / n).toBeGreaterThan(2.5);
    expect(sumAbs / n).toBeLessThan(6);
    expect(gridStrides(sizes)[0]).toBe(245760);
    expect(() => samplePairs(sizes, 1, new Rng(1), { rate: 1, k: 6 })).toThrow();
  });
});
