import { describe, expect, it } from 'vitest';
import type { DatasetInfo } from '../../../src/shared/domain.js';
import type { GroundTruthDataset } from '../../../src/core/datasets/types.js';
import { indexToFactors } from '../../../src/core/datasets/grid.js';
import { DSprites } from '../../../src/core/datasets/dsprites.js';
import { varianceStructure, varianceStructurePair } from '../../../src/core/analysis/variance.js';

function tinyDataset(
  id: string,
  factors: { size: number; cyclic: boolean }[],
  pixels: number,
  draw: (f: number[], img: number[]) => void,
): GroundTruthDataset {
  const sizes = factors.map((f) => f.size);
  const info: DatasetInfo = {
    id,
    name: id,
    description: 'test',
    factors: factors.map((f, k) => ({ name: `f${k}`, size: f.size, cyclic: f.cyclic })),
    count: sizes.reduce((a, b) => a * b, 1),
    imageShape: [1, pixels, 1],
    source: 'procedural',
    approximation: false,
    binary: false,
    provenance: 'test',
  };
  return {
    info,
    render(index, out, offset = 0) {
      const img = new Array<number>(pixels).fill(0);
      draw(indexToFactors(sizes, index), img);
      for (let j = 0; j < pixels; j++) out[offset + j] = img[j]!;
    },
  };
}

describe('variance structure on disjoint pixel blocks', () => {
  // f0: 4 classes, non-cyclic, moves pixels 0–1 by 0.125 per step  → ‖d‖² = 2·0.125² = 0.03125
  // f1: 6 classes, cyclic, pixels 2–3 go round a circle of radius 0.25 → ‖d‖² = 0.25²·(2 − 2cos 60°) = 0.0625 at every step, wrap included
  // f2: 3 classes, non-cyclic, pixel 4 by 0.375 per step              → ‖d‖² = 0.140625
  const ds = tinyDataset('blocks', [{ size: 4, cyclic: false }, { size: 6, cyclic: true }, { size: 3, cyclic: false }], 6, (f, img) => {
    img[0] = 0.125 * f[0]!;
    img[1] = 0.125 * f[0]!;
    const a = (2 * Math.PI * f[1]!) / 6;
    img[2] = 0.5 + 0.25 * Math.cos(a);
    img[3] = 0.5 + 0.25 * Math.sin(a);
    img[4] = 0.375 * f[2]!;
    img[5] = 0.5;
  });
  const v = varianceStructure(ds, { samples: 300, seed: 5 });

  it('per-factor mean squared change equals the hand-computed values (every step, boundary and wrap included)', () => {
    expect(v.meanSquaredChange[0]).toBeCloseTo(0.03125, 6);
    expect(v.meanSquaredChange[1]).toBeCloseTo(0.0625, 6);
    expect(v.meanSquaredChange[2]).toBeCloseTo(0.140625, 6);
    expect(v.meanSquaredChangePerPixel[2]).toBeCloseTo(0.140625 / 6, 6);
    expect(v.zeroStepFraction).toEqual([0, 0, 0]);
    expect(v.pixels).toBe(6);
  });

  it('overlap matrix is the identity, Gram is diagonal, principal directions are the axes', () => {
    const I = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
    v.overlap.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(I[i]![j]!, 6)));
    v.absOverlap.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(I[i]![j]!, 6)));
    expect(v.offDiagonalOverlap).toBeCloseTo(0, 6);
    expect(v.gram[0]![1]).toBeCloseTo(0, 7);
    expect(v.gramEigenvalues[0]).toBeCloseTo(0.140625, 6);
    expect(v.alignmentDistance).toBeCloseTo(0, 6);
    expect(v.localAlignmentDistance).toBeCloseTo(0, 6);
  });

  it('a factor of size 1 never changes the image', () => {
    const d = tinyDataset('const', [{ size: 3, cyclic: false }, { size: 1, cyclic: false }], 2, (f, img) => {
      img[0] = 0.25 * f[0]!;
    });
    const r = varianceStructure(d, { samples: 20, seed: 1 });
    expect(r.meanSquaredChange).toEqual([0.0625, 0]);
    expect(r.zeroStepFraction).toEqual([0, 1]);
    expect(r.overlap).toEqual([[1, 0], [0, 0]]);
  });
});

describe('variance structure of a rotated mixture', () => {
  // images u = diag(s)·R(θ)·(w − 2) on two blocks of 2 pixels each: d_a = (s1 c, s1 c, s2 s, s2 s),
  // d_b = (−s1 s, −s1 s, s2 c, s2 c), so G = 2·R(θ)ᵀ diag(s1², s2²) R(θ): eigenvectors are the columns
  // of R(θ)ᵀ, the nearest signed permutation is I (θ < 45°), distance √(4 − 4 cos θ).
  const th = (25 * Math.PI) / 180;
  const c = Math.cos(th);
  const s = Math.sin(th);
  const s1 = 0.1;
  const s2 = 0.04;
  const ds = tinyDataset('rotated', [{ size: 5, cyclic: false }, { size: 5, cyclic: false }], 4, (f, img) => {
    const a = f[0]! - 2;
    const b = f[1]! - 2;
    img[0] = img[1] = 0.5 + s1 * (c * a - s * b);
    img[2] = img[3] = 0.5 + s2 * (s * a + c * b);
  });
  const v = varianceStructure(ds, { samples: 200, seed: 2 });

  it('alignment distance matches the hand value for the rotation', () => {
    const hand = Math.sqrt(4 - 4 * c);
    // √(4 − 4·0.906308) = √0.374769
    expect(hand).toBeCloseTo(0.61218, 4);
    expect(v.alignmentDistance).toBeCloseTo(hand, 4);
    expect(v.localAlignmentDistance).toBeCloseTo(hand, 4);
  });

  it('Gram, eigenvalues and overlap match the hand values', () => {
    const g11 = 2 * (s1 * s1 * c * c + s2 * s2 * s * s);
    const g22 = 2 * (s1 * s1 * s * s + s2 * s2 * c * c);
    const g12 = 2 * (s2 * s2 - s1 * s1) * c * s;
    expect(v.gram[0]![0]).toBeCloseTo(g11, 7);
    expect(v.gram[1]![1]).toBeCloseTo(g22, 7);
    expect(v.gram[0]![1]).toBeCloseTo(g12, 7);
    expect(v.gramEigenvalues[0]).toBeCloseTo(2 * s1 * s1, 7);
    expect(v.gramEigenvalues[1]).toBeCloseTo(2 * s2 * s2, 7);
    const cos = g12 / Math.sqrt(g11 * g22);
    expect(v.overlap[0]![1]).toBeCloseTo(cos, 5);
    expect(v.absOverlap[0]![1]).toBeCloseTo(Math.abs(cos), 5);
    expect(v.offDiagonalOverlap).toBeCloseTo(Math.abs(cos), 5);
  });

  it('θ = 0 gives distance 0 and the pair helper reports both side by side', () => {
    const flat = tinyDataset('rotated', [{ size: 5, cyclic: false }, { size: 5, cyclic: false }], 4, (f, img) => {
      img[0] = img[1] = 0.5 + s1 * (f[0]! - 2);
      img[2] = img[3] = 0.5 + s2 * (f[1]! - 2);
    });
    const pair = varianceStructurePair(flat, ds, { samples: 50, seed: 3 });
    expect(pair.original.alignmentDistance).toBeCloseTo(0, 6);
    expect(pair.perturbed.alignmentDistance).toBeCloseTo(Math.sqrt(4 - 4 * c), 4);
  });
});

describe('variance structure of dSprites', () => {
  it('position steps move a sprite by one pixel: per-step change is twice the sprite edge length', () => {
    const v = varianceStructure(new DSprites(), { samples: 150, seed: 0 });
    expect(v.factors).toEqual(['shape', 'scale', 'orientation', 'pos_x', 'pos_y']);
    // a one-pixel shift of a binary sprite changes 2× its height (x) in pixels; heights are 10–30 px
    expect(v.meanSquaredChange[3]).toBeGreaterThan(15);
    expect(v.meanSquaredChange[3]).toBeLessThan(60);
    // x and y shifts change different edges (they share only corner pixels): far from parallel
    expect(v.absOverlap[3]![4]!).toBeLessThan(0.5);
    // orientation class 39 ≡ 0 for every shape: the wrap step never changes the image
    expect(v.zeroStepFraction[2]).toBeGreaterThan(0);
    for (const row of v.overlap) for (const x of row) expect(Number.isFinite(x)).toBe(true);
  });
});
