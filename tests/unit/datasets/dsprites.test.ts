import { describe, expect, it } from 'vitest';
import {
  DSprites,
  DSPRITES_SIZES,
  ORIENTATION_VALUES,
  SCALE_VALUES,
  positionToPixel,
  renderSprite,
} from '../../../src/core/datasets/dsprites.js';
import { factorsToIndex, indexToFactors, gridCount, sampleIndices, renderBatch } from '../../../src/core/datasets/grid.js';
import { Rng } from '../../../src/core/util/rng.js';

const ds = new DSprites();
const img = (f: number[]) => {
  const out = new Float32Array(4096);
  ds.render(factorsToIndex(DSPRITES_SIZES, f), out);
  return out;
};
const area = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
const centroid = (a: Float32Array): [number, number] => {
  let sx = 0, sy = 0, n = 0;
  for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) if (a[y * 64 + x]) { sx += x + 0.5; sy += y + 0.5; n++; }
  return [sx / n, sy / n];
};
const key = (a: Float32Array) => {
  // exact fingerprint of a binary image: its set pixels
  const on: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i]) on.push(i);
  return on.join(',');
};

describe('dSprites grid', () => {
  it('has the official count and factor sizes', () => {
    expect(ds.info.count).toBe(737280);
    expect(ds.info.factors.map((f) => f.size)).toEqual([3, 6, 40, 32, 32]);
    expect(ds.info.factors.map((f) => f.name)).toEqual(['shape', 'scale', 'orientation', 'pos_x', 'pos_y']);
    expect(gridCount(DSPRITES_SIZES)).toBe(737280);
    expect(ds.info.imageShape).toEqual([64, 64, 1]);
  });

  it('factor values match the official latents_values', () => {
    expect(SCALE_VALUES).toEqual([0.5, 0.6, 0.7, 0.8, 0.9, 1].map((v, i) => (i === 0 || i === 5 ? v : expect.closeTo(v, 12))));
    expect(ORIENTATION_VALUES[0]).toBe(0);
    expect(ORIENTATION_VALUES[39]).toBeCloseTo(2 * Math.PI, 12);
    expect(ORIENTATION_VALUES[1]).toBeCloseTo((2 * Math.PI) / 39, 12);
  });

  it('index ↔ factors round-trips over the whole grid in row-major order', () => {
    const f = [0, 0, 0, 0, 0];
    let expected = 0;
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 6; b++)
        for (let c = 0; c < 40; c++)
          for (let d = 0; d < 32; d++)
            for (let e = 0; e < 32; e++) {
              indexToFactors(DSPRITES_SIZES, expected, f);
              if (f[0] !== a || f[1] !== b || f[2] !== c || f[3] !== d || f[4] !== e) throw new Error(`mismatch at ${expected}`);
              if (factorsToIndex(DSPRITES_SIZES, [a, b, c, d, e]) !== expected) throw new Error(`inverse mismatch at ${expected}`);
              expected++;
            }
    expect(expected).toBe(737280);
    expect(() => indexToFactors(DSPRITES_SIZES, 737280)).toThrow(RangeError);
    expect(() => factorsToIndex(DSPRITES_SIZES, [3, 0, 0, 0, 0])).toThrow(RangeError);
  });
});

describe('dSprites geometry', () => {
  it('images are binary', () => {
    const a = img([2, 3, 7, 10, 20]);
    expect(a.every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('sprite area grows with scale² (square: side 20·s px exactly)', () => {
    for (let s = 0; s < 6; s++) {
      const a = area(img([0, s, 0, 16, 16]));
      const side = 20 * SCALE_VALUES[s]!;
      expect(a).toBe(side * side);
    }
    for (const shape of [1, 2]) {
      const ref = area(img([shape, 5, 5, 16, 16]));
      for (let s = 0; s < 5; s++) {
        const ratio = area(img([shape, s, 5, 16, 16])) / ref;
        expect(ratio).toBeGreaterThan(SCALE_VALUES[s]! ** 2 * 0.9);
        expect(ratio).toBeLessThan(SCALE_VALUES[s]! ** 2 * 1.1);
      }
    }
    // ellipse: area π·13s·6.5s
    const e = area(img([1, 5, 0, 16, 16]));
    expect(e / (Math.PI * 13 * 6.5)).toBeCloseTo(1, 1);
  });

  it('centroid follows x and y (one pixel per step)', () => {
    for (const shape of [0, 1]) {
      for (const [x, y] of [[0, 0], [5, 31], [31, 12], [16, 16]] as const) {
        const [cx, cy] = centroid(img([shape, 2, 11, x, y]));
        expect(cx).toBeCloseTo(positionToPixel(x), 6);
        expect(cy).toBeCloseTo(positionToPixel(y), 6);
      }
    }
    // heart: not point-symmetric, but a position step is an exact translation
    const [hx0, hy0] = centroid(img([2, 4, 3, 4, 9]));
    const [hx1, hy1] = centroid(img([2, 4, 3, 11, 2]));
    expect(hx1 - hx0).toBeCloseTo(7, 9);
    expect(hy1 - hy0).toBeCloseTo(-7, 9);
  });

  it('squares a quarter turn apart and ellipses a half turn apart are identical', () => {
    const a = new Float32Array(4096), b = new Float32Array(4096);
    for (const theta of [0.1, 0.7, 1.3, 2.9]) {
      renderSprite('square', 0.8, theta, 30.5, 33.5, a);
      renderSprite('square', 0.8, theta + Math.PI / 2, 30.5, 33.5, b);
      expect(key(a)).toBe(key(b));
      renderSprite('ellipse', 0.9, theta, 30.5, 33.5, a);
      renderSprite('ellipse', 0.9, theta + Math.PI, 30.5, 33.5, b);
      expect(key(a)).toBe(key(b));
      renderSprite('ellipse', 0.9, theta + Math.PI / 2, 30.5, 33.5, b);
      expect(key(a)).not.toBe(key(b));
      renderSprite('heart', 0.9, theta, 30.5, 33.5, a);
      renderSprite('heart', 0.9, theta + Math.PI, 30.5, 33.5, b);
      expect(key(a)).not.toBe(key(b));
    }
  });

  it('images coincide only where a symmetry brings two grid orientations within two grid steps', () => {
    // The official orientation grid is linspace(0, 2π, 40): its step 2π/39 does not divide a quarter
    // or half turn, so a square at orientation k and k+10 differs by only 2π/39·10 − π/2 ≈ 2.3°, and
    // a small square can rasterise identically. Rule from the definition: two images of the same
    // position may coincide only when shape and scale are equal and the orientations, reduced modulo
    // the shape's symmetry period, differ by less than two grid steps (measured: up to 1.5 steps for 10-px squares); 0 and 2π always coincide.
    const period = [Math.PI / 2, Math.PI, 2 * Math.PI];
    const step = (2 * Math.PI) / 39;
    const reducedGap = (sh: number, a: number, b: number) => {
      const p = period[sh]!;
      let d = Math.abs((ORIENTATION_VALUES[a]! % p) - (ORIENTATION_VALUES[b]! % p));
      d = Math.min(d, p - d);
      return d < 1e-9 ? 0 : d;
    };
    for (const [x, y] of [[16, 16], [0, 31]] as const) {
      const seen = new Map<string, number[]>();
      let fullTurn = 0;
      let heartCollisions = 0;
      for (let sh = 0; sh < 3; sh++)
        for (let sc = 0; sc < 6; sc++)
          for (let o = 0; o < 40; o++) {
            const k = key(img([sh, sc, o, x, y]));
            const prev = seen.get(k);
            if (!prev) {
              seen.set(k, [sh, sc, o]);
              continue;
            }
            expect([prev[0], prev[1]]).toEqual([sh, sc]);
            expect(reducedGap(sh, prev[2]!, o)).toBeLessThan(2 * step);
            if (prev[2] === 0 && o === 39) fullTurn++;
            if (sh === 2) heartCollisions++;
          }
      expect(fullTurn).toBe(18);
      // hearts have no symmetry: only the full turn coincides
      expect(heartCollisions).toBe(6);
    }
  });

  it('positions give distinct images (translations)', () => {
    const seen = new Set<string>();
    for (let x = 0; x < 32; x++) for (let y = 0; y < 32; y++) seen.add(key(img([2, 0, 17, x, y])));
    expect(seen.size).toBe(1024);
  });

  it('is deterministic, and seeded sampling repeats', () => {
    const i1 = sampleIndices(DSPRITES_SIZES, 50, new Rng(7));
    const i2 = sampleIndices(DSPRITES_SIZES, 50, new Rng(7));
    expect(Array.from(i1)).toEqual(Array.from(i2));
    expect(Array.from(sampleIndices(DSPRITES_SIZES, 50, new Rng(8)))).not.toEqual(Array.from(i1));
    const b1 = renderBatch(ds, i1);
    const b2 = renderBatch(new DSprites(), i2);
    expect(Buffer.from(b1.buffer).equals(Buffer.from(b2.buffer))).toBe(true);
  });
});
