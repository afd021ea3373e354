import { describe, expect, it } from 'vitest';
import {
  HUE_VALUES,
  ORIENTATION3D_VALUES,
  SCALE3D_VALUES,
  SHAPES3D_CAMERA,
  SHAPES3D_SIZES,
  Shapes3D,
  shapes3dEntry,
} from '../../../src/core/datasets/shapes3d.js';
import { factorsToIndex, gridCount, indexToFactors } from '../../../src/core/datasets/grid.js';

const ds = new Shapes3D();
const N = 64 * 64;
const img = (f: number[]) => {
  const out = new Float32Array(N * 3);
  ds.render(factorsToIndex(SHAPES3D_SIZES, f), out);
  return out;
};
/** Pixels (0…4095) where any channel differs. */
const changed = (a: Float32Array, b: Float32Array) => {
  const s = new Set<number>();
  for (let p = 0; p < N; p++) {
    if (a[3 * p] !== b[3 * p] || a[3 * p + 1] !== b[3 * p + 1] || a[3 * p + 2] !== b[3 * p + 2]) s.add(p);
  }
  return s;
};
const rows = (s: Set<number>) => [...s].map((p) => Math.floor(p / 64));
const cols = (s: Set<number>) => [...s].map((p) => p % 64);
const subset = (a: Set<number>, b: Set<number>) => [...a].every((p) => b.has(p));
const union = (...sets: Set<number>[]) => new Set(sets.flatMap((s) => [...s]));
/** Pixels the object covers: those that change with the object's hue. */
const objectPixels = (f: number[]) => changed(img(f), img([f[0]!, f[1]!, (f[2]! + 3) % 10, f[3]!, f[4]!, f[5]!]));

/** Independent pinhole projection from the documented camera (x right, y down in pixels). */
function project(p: number[]): [number, number] {
  const c = SHAPES3D_CAMERA.position;
  const t = SHAPES3D_CAMERA.target;
  const f = [t[0] - c[0], t[1] - c[1], t[2] - c[2]];
  const fl = Math.hypot(f[0]!, f[1]!, f[2]!);
  const fw = f.map((v) => v / fl);
  // right = fw × (0,1,0); up = right × fw
  const r0 = [-fw[2]!, 0, fw[0]!];
  const rl = Math.hypot(r0[0]!, r0[2]!);
  const right = r0.map((v) => v / rl);
  const up = [
    right[1]! * fw[2]! - right[2]! * fw[1]!,
    right[2]! * fw[0]! - right[0]! * fw[2]!,
    right[0]! * fw[1]! - right[1]! * fw[0]!,
  ];
  const q = [p[0]! - c[0], p[1]! - c[1], p[2]! - c[2]];
  const d = (a: number[], b: number[]) => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
  const th = Math.tan((SHAPES3D_CAMERA.fovY * Math.PI) / 360);
  const z = d(q, fw);
  return [((d(q, right) / z / th + 1) * 64) / 2, ((1 - d(q, up) / z / th) * 64) / 2];
}

/** Standard RGB → hue in [0, 1). */
function hueOf(r: number, g: number, b: number): number {
  const mx = Math.max(r, g, b);
  const mn = Math.min(r, g, b);
  const d = mx - mn;
  if (d === 0) return 0;
  let h: number;
  if (mx === r) h = ((g - b) / d) % 6;
  else if (mx === g) h = (b - r) / d + 2;
  else h = (r - g) / d + 4;
  h /= 6;
  return h < 0 ? h + 1 : h;
}
const hueDist = (a: number, b: number) => Math.min(Math.abs(a - b), 1 - Math.abs(a - b));

describe('Shapes3D approximation: grid', () => {
  it('has the official factor sizes, order and values, and is labelled an approximation', () => {
    expect(ds.info.count).toBe(480000);
    expect(gridCount(SHAPES3D_SIZES)).toBe(480000);
    expect(ds.info.factors.map((f) => f.name)).toEqual(['floor_hue', 'wall_hue', 'object_hue', 'scale', 'shape', 'orientation']);
    expect(ds.info.factors.map((f) => f.size)).toEqual([10, 10, 10, 8, 4, 15]);
    expect(ds.info.imageShape).toEqual([64, 64, 3]);
    expect(ds.info.approximation).toBe(true);
    expect(ds.info.binary).toBe(false);
    expect(ds.info.provenance).toMatch(/APPROXIMATION/);
    expect(ds.info.factors[4]!.labels).toEqual(['cube', 'cylinder', 'sphere', 'capsule']);
    expect(HUE_VALUES).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map((v) => expect.closeTo(v, 12)));
    expect(SCALE3D_VALUES[0]).toBe(0.75);
    expect(SCALE3D_VALUES[7]).toBeCloseTo(1.25, 12);
    expect(SCALE3D_VALUES[1]! - SCALE3D_VALUES[0]!).toBeCloseTo(0.5 / 7, 12);
    expect(ORIENTATION3D_VALUES[0]).toBe(-30);
    expect(ORIENTATION3D_VALUES[7]).toBeCloseTo(0, 12);
    expect(ORIENTATION3D_VALUES[14]).toBeCloseTo(30, 12);
    expect(shapes3dEntry.info).toBe(ds.info);
    expect(shapes3dEntry.create().info.id).toBe('shapes3d');
  });

  it('index ↔ factors round-trips over the whole grid in row-major order', () => {
    const f = [0, 0, 0, 0, 0, 0];
    let i = 0;
    for (let a = 0; a < 10; a++) for (let b = 0; b < 10; b++) for (let c = 0; c < 10; c++)
      for (let d = 0; d < 8; d++) for (let e = 0; e < 4; e++) for (let g = 0; g < 15; g++) {
        indexToFactors(SHAPES3D_SIZES, i, f);
        if (f[0] !== a || f[1] !== b || f[2] !== c || f[3] !== d || f[4] !== e || f[5] !== g) throw new Error(`mismatch at ${i}`);
        if (factorsToIndex(SHAPES3D_SIZES, [a, b, c, d, e, g]) !== i) throw new Error(`inverse mismatch at ${i}`);
        i++;
      }
    expect(i).toBe(480000);
    // hand-worked: strides 48000, 4800, 480, 60, 15, 1
    expect(factorsToIndex(SHAPES3D_SIZES, [1, 2, 3, 4, 2, 5])).toBe(48000 + 2 * 4800 + 3 * 480 + 4 * 60 + 2 * 15 + 5);
    expect(() => ds.render(480000, new Float32Array(N * 3))).toThrow(RangeError);
  });
});

describe('Shapes3D approximation: what each factor changes', () => {
  const base = [2, 6, 4, 3, 0, 5];
  const [, horizonY] = project([0, 0, -SHAPES3D_CAMERA.wallDistance]);
  const hRow = Math.floor(horizonY);

  it('floor hue changes only pixels below the floor/wall edge, wall hue only pixels above it', () => {
    expect(hRow).toBeGreaterThan(5);
    expect(hRow).toBeLessThan(58);
    const a = img(base);
    const F = changed(a, img([7, ...base.slice(1)]));
    const W = changed(a, img([base[0]!, 1, ...base.slice(2)]));
    expect(F.size).toBeGreaterThan(1000);
    expect(W.size).toBeGreaterThan(1000);
    expect(Math.min(...rows(F))).toBeGreaterThanOrEqual(hRow);
    expect(Math.max(...rows(W))).toBeLessThanOrEqual(hRow);
    // whole bottom row is floor, whole top row is wall
    for (let x = 0; x < 64; x++) {
      expect(F.has(63 * 64 + x)).toBe(true);
      expect(W.has(x)).toBe(true);
    }
    // every pixel shows floor, wall or object
    const O = objectPixels(base);
    expect(union(F, W, O).size).toBe(N);
  });

  it('object hue changes only pixels inside the projected box of the object', () => {
    for (let shape = 0; shape < 4; shape++) for (const sc of [0, 7]) {
      const f = [2, 6, 4, sc, shape, 14];
      const O = objectPixels(f);
      const s = SCALE3D_VALUES[sc]!;
      // every shape fits in [−0.75s, 0.75s] × [0, s] × [−0.75s, 0.75s] (documented dimensions)
      const pts: [number, number][] = [];
      for (const x of [-0.75 * s, 0.75 * s]) for (const y of [0, s]) for (const z of [-0.75 * s, 0.75 * s]) pts.push(project([x, y, z]));
      const xs = pts.map((p) => p[0]);
      const ys = pts.map((p) => p[1]);
      expect(O.size).toBeGreaterThan(30);
      expect(Math.min(...cols(O))).toBeGreaterThanOrEqual(Math.floor(Math.min(...xs)));
      expect(Math.max(...cols(O))).toBeLessThanOrEqual(Math.ceil(Math.max(...xs)));
      expect(Math.min(...rows(O))).toBeGreaterThanOrEqual(Math.floor(Math.min(...ys)));
      expect(Math.max(...rows(O))).toBeLessThanOrEqual(Math.ceil(Math.max(...ys)));
    }
  });

  it('scale, shape and orientation change only pixels the object covers in one of the two images', () => {
    const variants: [number[], number[]][] = [];
    for (let shape = 0; shape < 4; shape++) {
      variants.push([[2, 6, 4, 3, shape, 5], [2, 6, 4, 4, shape, 5]]); // scale
      variants.push([[2, 6, 4, 3, shape, 5], [2, 6, 4, 3, shape, 6]]); // orientation, one step
      variants.push([[2, 6, 4, 3, shape, 0], [2, 6, 4, 3, shape, 14]]); // orientation, full range
      variants.push([[2, 6, 4, 3, shape, 5], [2, 6, 4, 3, (shape + 1) % 4, 5]]); // shape
    }
    for (const [fa, fb] of variants) {
      const d = changed(img(fa), img(fb));
      expect(d.size, `${fa} vs ${fb}`).toBeGreaterThan(0);
      expect(subset(d, union(objectPixels(fa), objectPixels(fb))), `${fa} vs ${fb}`).toBe(true);
    }
  });

  it('the object grows with scale for every shape', () => {
    for (let shape = 0; shape < 4; shape++) {
      const sizes = [0, 1, 2, 3, 4, 5, 6, 7].map((sc) => objectPixels([0, 5, 3, sc, shape, 7]).size);
      for (let i = 1; i < 8; i++) expect(sizes[i]!).toBeGreaterThan(sizes[i - 1]!);
    }
  });

  it('the four shapes have different silhouettes', () => {
    const sil = [0, 1, 2, 3].map((shape) => [...objectPixels([0, 5, 3, 7, shape, 7])].sort((a, b) => a - b).join(','));
    expect(new Set(sil).size).toBe(4);
  });

  it('pure floor, wall and object pixels carry the factor hue', () => {
    for (let h = 0; h < 10; h++) {
      const f = [h, (h + 4) % 10, (h + 7) % 10, 7, 0, 7];
      const a = img(f);
      const px = (p: number) => hueOf(a[3 * p]!, a[3 * p + 1]!, a[3 * p + 2]!);
      expect(hueDist(px(63 * 64 + 32), HUE_VALUES[f[0]!]!)).toBeLessThan(1e-6); // bottom centre: floor
      expect(hueDist(px(0 * 64 + 32), HUE_VALUES[f[1]!]!)).toBeLessThan(1e-6); // top centre: wall
      const O = objectPixels(f);
      // a pixel deep inside the object: all 8 neighbours are object pixels too
      const inner = [...O].find((p) => [-65, -64, -63, -1, 1, 63, 64, 65].every((d) => O.has(p + d)))!;
      expect(inner).toBeDefined();
      expect(hueDist(px(inner), HUE_VALUES[f[2]!]!)).toBeLessThan(1e-6);
    }
  });

  it('pixel values lie in [0, 1] and the image is not flat', () => {
    const a = img([9, 0, 5, 7, 3, 14]);
    let mn = Infinity, mx = -Infinity;
    for (const v of a) { mn = Math.min(mn, v); mx = Math.max(mx, v); }
    expect(mn).toBeGreaterThanOrEqual(0);
    expect(mx).toBeLessThanOrEqual(1);
    expect(mx - mn).toBeGreaterThan(0.5);
  });
});

describe('Shapes3D approximation: determinism and speed', () => {
  it('renders the same image every time, from any instance, at any offset', () => {
    const other = new Shapes3D();
    const a = new Float32Array(2 * N * 3).fill(-1);
    for (const i of [0, 123457, 479999]) {
      ds.render(i, a, 0);
      other.render(i, a, N * 3);
      expect(a.subarray(0, N * 3)).toEqual(a.subarray(N * 3));
    }
  });

  it('renders in well under a few milliseconds per image', () => {
    const out = new Float32Array(N * 3);
    for (let i = 0; i < 50; i++) ds.render(i * 9601, out);
    const t0 = performance.now();
    const n = 500;
    for (let i = 0; i < n; i++) ds.render((i * 7919) % 480000, out);
    const ms = (performance.now() - t0) / n;
    expect(ms).toBeLessThan(5); // ~0.25 ms measured on an idle core
  });
});
