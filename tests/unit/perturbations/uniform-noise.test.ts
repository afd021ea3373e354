import { describe, expect, it } from 'vitest';
import { DSprites } from '../../../src/core/datasets/dsprites.js';
import { renderBatch, sampleIndices } from '../../../src/core/datasets/grid.js';
import { Rng } from '../../../src/core/util/rng.js';
import { createPerturbation, perturbations, restorePerturbation } from '../../../src/core/perturbations/registry.js';
import { perturbationStats } from '../../../src/core/perturbations/stats.js';
import { PerturbationSpec } from '../../../src/core/perturbations/types.js';

const ds = new DSprites();
const sizes = ds.info.factors.map((f) => f.size);

describe('registry', () => {
  it('declares ε with the paper values for every perturbation', () => {
    expect(perturbations.map((p) => p.id)).toEqual(
      expect.arrayContaining(['manipulation', 'uniform-noise', 'pattern', 'intensity', 'blur', 'background', 'compose']),
    );
    for (const p of perturbations) {
      const eps = p.params.find((s) => s.key === 'epsilon');
      expect(eps?.paperValues).toEqual({ dsprites: 0.1, shapes3d: 0.175 });
      expect(p.name.length).toBeGreaterThan(0);
      expect(p.description.length).toBeGreaterThan(0);
    }
  });

  it('rejects unknown kinds, unknown params and out-of-range ε', async () => {
    await expect(createPerturbation('nope', ds, {}, 1)).rejects.toThrow(/unknown perturbation/);
    await expect(createPerturbation('uniform-noise', ds, { sigma: 1 }, 1)).rejects.toThrow(/unknown setting/);
    await expect(createPerturbation('uniform-noise', ds, { epsilon: 2 }, 1)).rejects.toThrow(/≤ 1/);
  });
});

describe('uniform noise on dSprites', () => {
  const eps = 0.1;
  const idx = sampleIndices(sizes, 1500, new Rng(11));

  it('keeps every pixel of a large seeded sample within ε of the parent and inside [0, 1]', async () => {
    const d = await createPerturbation('uniform-noise', ds, { epsilon: eps }, 42);
    const X = renderBatch(ds, idx);
    const Y = renderBatch(d, idx);
    let maxAbs = 0;
    let zeros = 0;
    let bg = 0;
    let posSum = 0;
    let pos = 0;
    let outside = 0;
    for (let j = 0; j < X.length; j++) {
      const y = Y[j]!;
      if (!(y >= 0 && y <= 1)) outside++;
      maxAbs = Math.max(maxAbs, Math.abs(y - X[j]!));
      if (X[j] === 0) {
        bg++;
        if (y === 0) zeros++;
        else {
          posSum += y;
          pos++;
        }
      }
    }
    expect(X.length).toBe(1500 * 4096);
    expect(outside).toBe(0);
    expect(maxAbs).toBeLessThanOrEqual(eps);
    expect(maxAbs).toBeGreaterThan(0.0999); // the bound is reached, not just respected
    // background pixels: x' = max(0, u), u ~ U[−ε, ε] → half are clipped to 0, the rest average ε/2
    expect(zeros / bg).toBeCloseTo(0.5, 2);
    expect(posSum / pos).toBeCloseTo(eps / 2, 3);
    expect(d.clipCounters().clippedLow).toBeGreaterThan(0);
  });

  it('keeps factors, labels, count and order; marks the data as derived from the parent', async () => {
    const d = await createPerturbation('uniform-noise', ds, { epsilon: eps }, 42);
    expect(d.info.factors).toEqual(ds.info.factors);
    expect(d.info.count).toBe(ds.info.count);
    expect(d.info.imageShape).toEqual(ds.info.imageShape);
    expect(d.info.source).toBe('derived');
    expect(d.info.parent).toBe('dsprites');
    expect(d.info.id).toMatch(/^dsprites\.uniform-noise\.[0-9a-f]{12}$/);
    // image i of the derived data is image i of the parent, perturbed: the nearest parent among a few is itself
    const a = new Float32Array(4096);
    const p = new Float32Array(4096);
    for (const i of [0, 1000, 500000]) {
      d.render(i, a);
      ds.render(i, p);
      let dist = 0;
      for (let j = 0; j < 4096; j++) dist += (a[j]! - p[j]!) ** 2;
      expect(Math.sqrt(dist)).toBeLessThanOrEqual(eps * 64);
    }
  });

  it('same seed → identical bytes (in any access order); another seed → different noise', async () => {
    const a = await createPerturbation('uniform-noise', ds, { epsilon: eps }, 42);
    const b = await createPerturbation('uniform-noise', ds, { epsilon: eps }, 42);
    const c = await createPerturbation('uniform-noise', ds, { epsilon: eps }, 43);
    const few = Array.from(idx.subarray(0, 50));
    const Ya = renderBatch(a, few);
    const Yb = renderBatch(b, [...few].reverse());
    for (let i = 0; i < few.length; i++) {
      expect(Buffer.from(Ya.buffer, i * 4096 * 4, 4096 * 4).equals(Buffer.from(Yb.buffer, (few.length - 1 - i) * 4096 * 4, 4096 * 4))).toBe(true);
    }
    const Yc = renderBatch(c, few);
    let diff = 0;
    for (let j = 0; j < Ya.length; j++) if (Ya[j] !== Yc[j]) diff++;
    expect(diff / Ya.length).toBeGreaterThan(0.4);
    // a different image index gets different noise too (same parent pixel 0 → different x')
    const u = new Float32Array(4096);
    const v = new Float32Array(4096);
    a.render(0, u);
    a.render(39 * 32 * 32, v); // orientation 39 ≡ 0: identical parent image
    let same = 0;
    for (let j = 0; j < 4096; j++) if (u[j] === v[j]) same++;
    expect(same).toBeLessThan(4096 * 0.6);
  });

  it('re-creates the same dataset from its stored (JSON) spec', async () => {
    const a = await createPerturbation('uniform-noise', ds, { epsilon: eps }, 7);
    const stored = PerturbationSpec.parse(JSON.parse(JSON.stringify(a.spec)));
    const b = await restorePerturbation(stored, ds);
    expect(b.info.id).toBe(a.info.id);
    const few = Array.from(idx.subarray(0, 20));
    expect(Buffer.from(renderBatch(b, few).buffer).equals(Buffer.from(renderBatch(a, few).buffer))).toBe(true);
    await expect(restorePerturbation({ ...stored, parentId: 'other' }, ds)).rejects.toThrow(/parent/);
  });

  it('stats: bound holds, clipping recorded, no collisions, distinct images stay apart', async () => {
    const d = await createPerturbation('uniform-noise', ds, { epsilon: eps }, 3);
    const s = perturbationStats(ds, d, { samples: 400, pairSamples: 120, seed: 1 });
    expect(s.maxAbsDelta).toBeLessThanOrEqual(eps);
    expect(s.boundHolds).toBe(true);
    expect(s.clipped).toBe(true);
    // about half of all pixels are clipped (each background/foreground pixel whose noise points outside)
    expect(s.clippedFraction).toBeCloseTo(0.5, 1);
    // E‖Δ‖² per pixel: half the pixels get u², u ~ U[0, ε] → ε²/3 · 1/2 = ε²/6
    expect(s.meanSquaredChange).toBeCloseTo((eps * eps) / 6, 3);
    expect(s.preservation.collisions).toBe(0);
    expect(s.preservation.minDistanceParent).toBeGreaterThan(0);
    expect(s.preservation.minDistanceDerived).toBeGreaterThan(0);
    expect(s.pixelVarianceChange).not.toBe(0);
  });
});
