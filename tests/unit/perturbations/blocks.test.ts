import { describe, expect, it } from 'vitest';
import type { DatasetInfo } from '../../../src/shared/domain.js';
import { DSprites, DSPRITES_SIZES } from '../../../src/core/datasets/dsprites.js';
import { factorsToIndex, indexToFactors, renderBatch, sampleIndices } from '../../../src/core/datasets/grid.js';
import type { GroundTruthDataset } from '../../../src/core/datasets/types.js';
import { Rng } from '../../../src/core/util/rng.js';
import { createPerturbation, restorePerturbation } from '../../../src/core/perturbations/registry.js';
import { PerturbationSpec } from '../../../src/core/perturbations/types.js';
import type { BlockSpec } from '../../../src/core/perturbations/types.js';
import { OffsetDataset } from '../../../src/core/perturbations/derived.js';
import { perturbationStats } from '../../../src/core/perturbations/stats.js';

const ds = new DSprites();

function maxAbsChange(a: GroundTruthDataset, b: GroundTruthDataset, idx: ArrayLike<number>) {
  const X = renderBatch(a, idx);
  const Y = renderBatch(b, idx);
  let m = 0;
  let outside = 0;
  for (let j = 0; j < X.length; j++) {
    m = Math.max(m, Math.abs(Y[j]! - X[j]!));
    if (!(Y[j]! >= 0 && Y[j]! <= 1)) outside++;
  }
  return { m, outside };
}

/** A 1×W grey image dataset: pixel j = base + step·f0 (one factor of `size` classes). */
function grey(width: number, size: number, base: number, step: number, extra?: (f: number[], img: Float32Array, o: number) => void): GroundTruthDataset {
  const info: DatasetInfo = {
    id: 'grey',
    name: 'grey',
    description: 'test',
    factors: [{ name: 'k', size, cyclic: false }],
    count: size,
    imageShape: [1, width, 1],
    source: 'procedural',
    approximation: false,
    binary: false,
    provenance: 'test',
  };
  return {
    info,
    render(index, out, o = 0) {
      const f = indexToFactors([size], index);
      for (let j = 0; j < width; j++) out[o + j] = base + step * f[0]!;
      extra?.(f, out, o);
    },
  };
}

describe('building blocks hold the ε bound', () => {
  const idx = sampleIndices(DSPRITES_SIZES, 300, new Rng(21));
  const strong: [string, Record<string, unknown>][] = [
    ['pattern', { gain: 3, texture: 'checker', factor: 1, factor2: 3, combine: 'product' }],
    ['pattern', { gain: 4, texture: 'white-noise' }],
    ['intensity', { gain: -1, mode: 'contrast', factor: 2 }],
    ['blur', { sigma_min: 0.5, sigma_max: 3, factor: 1 }],
    ['background', { gain: 4, texture: 'smooth-noise', factor: 4, centered: true }],
  ];
  for (const [kind, params] of strong) {
    it(`${kind} ${JSON.stringify(params)}: every sampled pixel within ε = 0.05, inside [0, 1], bound active`, async () => {
      const d = await createPerturbation(kind, ds, { ...params, epsilon: 0.05 }, 9);
      const r = maxAbsChange(ds, d, idx);
      expect(r.outside).toBe(0);
      expect(r.m).toBeLessThanOrEqual(0.05);
      expect(r.m).toBeGreaterThan(0.04);
      expect(d.clipCounters().boundClipped).toBeGreaterThan(0);
      expect(d.info.factors).toEqual(ds.info.factors);
    });
  }

  it('rejects a controlling factor the dataset does not have', async () => {
    await expect(createPerturbation('pattern', ds, { factor: 5 }, 1)).rejects.toThrow(/not a factor/);
  });
});

describe('building blocks compute what they say', () => {
  it('pattern: δ = gain·ε·u(factor)·sin(2π f ((x+½)cos a + (y+½)sin a)/W) on the dSprites background', async () => {
    const eps = 0.1;
    const d = await createPerturbation('pattern', ds, { epsilon: eps, gain: 0.8, texture: 'sinusoid', frequency: 3, angle: 0, factor: 1 }, 1);
    const f = [2, 3, 0, 0, 0]; // scale class 3 of 6 → u = 3/5
    const i = factorsToIndex(DSPRITES_SIZES, f);
    const x = new Float32Array(4096);
    const y = new Float32Array(4096);
    ds.render(i, x);
    d.render(i, y);
    let checked = 0;
    for (let py = 0; py < 64; py++)
      for (let px = 0; px < 64; px++) {
        const j = py * 64 + px;
        const want = 0.8 * eps * (3 / 5) * Math.sin((2 * Math.PI * 3 * (px + 0.5)) / 64);
        if (x[j] === 0 && want > 0) {
          expect(y[j]).toBeCloseTo(want, 6);
          checked++;
        }
        if (x[j] === 0 && want <= 0) expect(y[j]).toBe(0); // clipped at 0
      }
    expect(checked).toBeGreaterThan(1000);
    // scale class 0 → strength 0 → unchanged image
    const j0 = factorsToIndex(DSPRITES_SIZES, [2, 0, 0, 0, 0]);
    ds.render(j0, x);
    d.render(j0, y);
    expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer))).toBe(true);
  });

  it('intensity: scale by (1 + gain·u) on grey images; contrast keeps the mean', async () => {
    const g = grey(4, 5, 0.25, 0.125); // classes 0…4 → 0.25 … 0.75
    const d = await createPerturbation('intensity', g, { epsilon: 0.2, gain: 0.2, mode: 'scale', factor: 0 }, 1);
    const out = new Float32Array(4);
    d.render(4, out); // u = 1: 0.75·1.2 = 0.9
    expect(out[0]).toBeCloseTo(0.9, 6);
    d.render(2, out); // u = 0.5: 0.5·1.1 = 0.55
    expect(out[0]).toBeCloseTo(0.55, 6);
    const c = await createPerturbation('intensity', grey(2, 1, 0, 0, (_f, img, o) => {
      img[o] = 0.25;
      img[o + 1] = 0.75;
    }), { epsilon: 0.3, gain: 0.5, mode: 'contrast' }, 1);
    c.render(0, out);
    expect(out[0]).toBeCloseTo(0.25 - 0.125, 6); // mean 0.5, deviation −0.25 × 1.5
    expect(out[1]).toBeCloseTo(0.75 + 0.125, 6);
  });

  it('blur: a single bright pixel keeps k₀² of its value (k₀ the centre tap of the normalised 1-D Gaussian)', async () => {
    const info: DatasetInfo = { ...grey(1, 1, 0, 0).info, imageShape: [9, 9, 1], id: 'dot' };
    const dot: GroundTruthDataset = {
      info,
      render(_i, out, o = 0) {
        out.fill(0, o, o + 81);
        out[o + 40] = 1;
      },
    };
    const sigma = 1;
    const d = await createPerturbation('blur', dot, { epsilon: 1, sigma_min: sigma, sigma_max: sigma }, 1);
    const out = new Float32Array(81);
    d.render(0, out);
    let z = 0;
    for (let i = -3; i <= 3; i++) z += Math.exp(-(i * i) / 2);
    const k0 = 1 / z;
    const k1 = Math.exp(-0.5) / z;
    expect(out[40]).toBeCloseTo(k0 * k0, 6);
    expect(out[41]).toBeCloseTo(k0 * k1, 6);
    expect(out[50]).toBeCloseTo(k1 * k1, 6);
    let sum = 0;
    for (const v of out) sum += v;
    expect(sum).toBeCloseTo(1, 5); // mass preserved away from the edges
  });

  it('background: textured background weighted by darkness, untouched bright pixels', async () => {
    const d = await createPerturbation('background', ds, { epsilon: 0.1, gain: 1, texture: 'sinusoid', frequency: 2, angle: 90 }, 1);
    const i = factorsToIndex(DSPRITES_SIZES, [0, 5, 0, 16, 16]);
    const x = new Float32Array(4096);
    const y = new Float32Array(4096);
    ds.render(i, x);
    d.render(i, y);
    for (let py = 0; py < 64; py += 7)
      for (let px = 0; px < 64; px += 5) {
        const j = py * 64 + px;
        const t = Math.sin((2 * Math.PI * 2 * (py + 0.5)) / 64);
        if (x[j] === 0) expect(y[j]).toBeCloseTo(0.1 * (t + 1) / 2, 6);
        else expect(y[j]).toBe(1);
      }
  });

  it('compose chains blocks in order under one ε and re-creates from its spec', async () => {
    const g = grey(3, 3, 0.5, 0);
    const blocks: BlockSpec[] = [
      { kind: 'pattern', params: { texture: 'checker', frequency: 0.5, angle: 0, gain: 1 } },
      { kind: 'intensity', params: { gain: 0.5 } },
    ];
    const d = await createPerturbation('compose', g, { epsilon: 0.2 }, 4, {}, blocks);
    // checker with frequency ½ over a width of 3: floor(u) + floor(v) is 0 for all three pixels → +1
    // pattern: x₁ = 0.5 + 1·0.2·1 = 0.7; intensity: x₂ = 0.7·1.5 = 1.05; δ = 0.55 → cut to 0.2 → 0.7
    const out = new Float32Array(3);
    d.render(1, out);
    expect(Array.from(out).map((v) => +v.toFixed(6))).toEqual([0.7, 0.7, 0.7]);
    const wide = await createPerturbation('compose', g, { epsilon: 1 }, 4, {}, blocks);
    wide.render(1, out);
    expect(out[0]).toBeCloseTo(1, 6); // 1.05 clipped to 1 by [0, 1]
    const spec = PerturbationSpec.parse(JSON.parse(JSON.stringify(d.spec)));
    expect(spec.blocks?.[1]?.params).toMatchObject({ gain: 0.5, mode: 'scale', factor: -1 });
    const again = await restorePerturbation(spec, g);
    again.render(1, out);
    expect(out[0]).toBeCloseTo(0.7, 6);
    await expect(createPerturbation('compose', g, { epsilon: 0.2 }, 4, {}, [{ kind: 'uniform-noise', params: {} }])).rejects.toThrow(/not a building block/);
    await expect(createPerturbation('compose', g, { epsilon: 0.2 }, 4, {}, [])).rejects.toThrow(/at least one/);
  });
});

describe('perturbation stats on a hand-built case', () => {
  // parent: 4 classes, pixel 0 = 0.125·k, pixel 1 = 0.875
  // derived offsets: pixel 0 gets 0.125 only for k = 0 (so classes 0 and 1 collide), pixel 1 gets +0.25 → 1.125
  // → cut to ε = 0.1875 → 1.0625 → clipped to 1 (Δ = 0.125)
  const parent = grey(2, 4, 0, 0.125, (_f, img, o) => {
    img[o + 1] = 0.875;
  });
  const spec = { kind: 'test', params: { epsilon: 0.1875 }, seed: 0, parentId: 'grey' };
  const derived = new OffsetDataset(parent, spec, (_i, f, _x, delta) => {
    delta[0] = f[0] === 0 ? 0.125 : 0;
    delta[1] = 0.25;
  }, { name: 'test', what: 'test' });

  it('reports max |Δ|, L2 change, clipping, variance change and the collision', () => {
    const s = perturbationStats(parent, derived, { samples: 200, pairSamples: 60, seed: 3 });
    expect(s.maxAbsDelta).toBe(0.125);
    expect(s.clipped).toBe(true);
    expect(s.clippedPixels).toBe(200); // pixel 1 of every image
    expect(s.clippedFraction).toBe(0.5);
    expect(s.boundClippedPixels).toBe(200);
    // per image: class 0 → Δ = (0.125, 0.125), L2 = 0.125√2; other classes → (0, 0.125), L2 = 0.125
    expect(s.meanL2Change).toBeGreaterThan(0.125);
    expect(s.meanL2Change).toBeLessThan(0.125 * Math.SQRT2);
    // derived pixel 0 takes values {0.125, 0.125, 0.25, 0.375}: the variance shrinks; pixel 1 stays constant
    expect(s.pixelVarianceChange).toBeLessThan(0);
    expect(s.preservation.distinctParentImages).toBe(4);
    expect(s.preservation.distinctDerivedImages).toBe(3);
    expect(s.preservation.collisions).toBe(1);
    expect(s.preservation.minDistanceParent).toBe(0.125);
    expect(s.preservation.minDistanceDerived).toBe(0);
  });
});
