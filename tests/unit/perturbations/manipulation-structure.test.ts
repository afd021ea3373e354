/**
 * The variance-structure term of the learned manipulation (structure.ts):
 * its gradient against finite differences, its Gram against one worked out
 * here from the images, and that training with it turns the principal
 * directions of the step Gram away from the factor axes.
 */
import { describe, expect, it } from 'vitest';
import { mat, symmetricEigen } from '../../../src/core/analysis/linalg.js';
import type { GroundTruthDataset } from '../../../src/core/datasets/types.js';
import { indexToFactors } from '../../../src/core/datasets/grid.js';
import type { GeneratorNet } from '../../../src/core/perturbations/manipulation/generator.js';
import { encodeGeneratorInput, generatorInputDim, makeUpsampler } from '../../../src/core/perturbations/manipulation/generator.js';
import { parseWeights, serializeWeights } from '../../../src/core/perturbations/manipulation/artifact.js';
import { StructureTerm } from '../../../src/core/perturbations/manipulation/structure.js';
import { trainManipulation, optionsFromParams } from '../../../src/core/perturbations/manipulation/training.js';
import { Rng } from '../../../src/core/util/rng.js';

/** 8×8 grey images of two factors (a 5-class cyclic one and a 4-class linear one), values in [0.3, 0.7]: nothing clips at ε ≤ 0.1. */
function smooth(): GroundTruthDataset {
  const sizes = [5, 4];
  return {
    info: {
      id: 'smooth',
      name: 'smooth',
      description: '',
      factors: [
        { name: 'a', size: 5, cyclic: true },
        { name: 'b', size: 4, cyclic: false },
      ],
      count: 20,
      imageShape: [8, 8, 1],
      source: 'procedural',
      approximation: false,
      binary: false,
      provenance: 'test',
    },
    render(index, out, o = 0) {
      const [a, b] = indexToFactors(sizes, index);
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) out[o + y * 8 + x] = 0.5 + 0.1 * Math.sin((2 * Math.PI * a!) / 5 + x / 3) + 0.08 * Math.cos(b! * 0.9 + y / 2);
    },
  };
}

const sizes = [5, 4];
const cyclic = [true, false];
const D = generatorInputDim(sizes, cyclic);
const H = 6;
const [lh, lw] = [4, 4];
const p = lh * lw;
const up = makeUpsampler(8, 8, 1, lh, lw);
const dims = (N: number, eps: number) => ({ sizes, cyclic, K: 2, P: 64, p, D, H, N, eps });
const rot = (theta: number) => mat(2, 2, [Math.cos(theta), -Math.sin(theta), Math.sin(theta), Math.cos(theta)]);

function net(seed: number): GeneratorNet {
  const r = new Rng(seed);
  const v = (n: number, s: number) => Float64Array.from({ length: n }, () => s * r.normal());
  return { inputDim: D, hidden: H, w1: v(D * H, 0.8), b1: v(H, 0.3), w2: v(H * p, 0.8), b2: v(p, 0.3) };
}

describe('learned manipulation: the variance-structure term', () => {
  const ds = smooth();
  // every point of the 5×4 grid: a = 0…4 (cyclic), b = 0…3 (b = 3 steps back)
  const idx = Int32Array.from({ length: 20 }, (_, i) => i);

  it('the parent Gram is E_w[<d_k, d_l>] of the step differences, taken as the analysis takes them', () => {
    const term = new StructureTerm(ds, idx, dims(20, 0.1), rot(0.6), up);
    const img = (a: number, b: number) => {
      const out = new Float32Array(64);
      ds.render(a * 4 + b, out);
      return out;
    };
    let g00 = 0;
    let g01 = 0;
    let g11 = 0;
    for (let a = 0; a < 5; a++)
      for (let b = 0; b < 4; b++) {
        const x = img(a, b);
        const da = img((a + 1) % 5, b).map((v, j) => v - x[j]!);
        const db = b === 3 ? x.map((v, j) => v - img(a, 2)[j]!) : img(a, b + 1).map((v, j) => v - x[j]!);
        const dot = (u: Float32Array, w: Float32Array) => u.reduce((s, v, j) => s + v * w[j]!, 0);
        g00 += dot(da, da) / 20;
        g01 += dot(da, db) / 20;
        g11 += dot(db, db) / 20;
      }
    const G = [g00, g01, g01, g11];
    Array.from(term.parentGram).forEach((g, i) => expect(g).toBeCloseTo(G[i]!, 5));
    // the target keeps the spectrum and turns the directions by R
    const e0 = symmetricEigen(mat(2, 2, term.parentGram)).values;
    const et = symmetricEigen(mat(2, 2, term.target)).values;
    expect(et[0]).toBeCloseTo(e0[0]!, 10);
    expect(et[1]).toBeCloseTo(e0[1]!, 10);
  });

  it('its gradient agrees with finite differences of its loss', () => {
    const term = new StructureTerm(ds, idx, dims(20, 0.1), rot(0.6), up);
    const g = net(3);
    const grads = { w1: new Float64Array(D * H), b1: new Float64Array(H), w2: new Float64Array(H * p), b2: new Float64Array(p) };
    term.forward(g);
    term.accumulate(g, grads, 1);
    const rng = new Rng(5);
    for (const k of ['w1', 'b1', 'w2', 'b2'] as const) {
      const param = g[k] as Float64Array;
      for (let t = 0; t < 6; t++) {
        const i = Math.floor(rng.uniform(0, param.length));
        const v = param[i]!;
        param[i] = v + 1e-5;
        const a = term.forward(g).loss;
        param[i] = v - 1e-5;
        const b = term.forward(g).loss;
        param[i] = v;
        const fd = (a - b) / 2e-5;
        expect(Math.abs(grads[k][i]! - fd)).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)) + 1e-9);
      }
    }
  });

  it('training with it turns the Gram of the perturbed steps towards R (its alignment distance grows)', async () => {
    const params = { epsilon: 0.1, train_points: 20, steps: 150, hidden: 8, resolution: 4, learning_rate: 0.03, code_noise: 0.3, noise_spread: 0, basis: 3, ridge: 0.001, structure_weight: 1 };
    const { report } = await trainManipulation(ds, optionsFromParams(params), 4);
    const s = report.structure!;
    expect(s.weight).toBe(1);
    expect(s.final.loss).toBeLessThan(0.5 * s.initial.loss);
    expect(s.final.alignmentDistance).toBeGreaterThan(s.parentAlignmentDistance + 0.2);
    // without the term there is no structure report
    const { report: plain } = await trainManipulation(ds, optionsFromParams({ ...params, steps: 5, structure_weight: 0 }), 4);
    expect(plain.structure).toBeUndefined();
  });

  it('parity inputs: (−1)^c per varying factor and their pairwise products after the smooth encoding; artifacts keep the encoding', () => {
    // shape 3 (linear), orientation 40 (cyclic), a factor of size 1 (left out), x 32 (linear)
    const sz = [3, 40, 1, 32];
    const cy = [false, true, false, false];
    expect(generatorInputDim(sz, cy)).toBe(1 + 2 + 1);
    expect(generatorInputDim(sz, cy, 'parity')).toBe(4 + 3 + 3);
    const out = new Float64Array(10);
    encodeGeneratorInput(sz, cy, [1, 10, 0, 5], out, 0, 'parity');
    const smoothPart = [0, Math.cos(Math.PI / 2), Math.sin(Math.PI / 2), (2 * 5) / 31 - 1];
    Array.from(out.subarray(0, 4)).forEach((v, i) => expect(v).toBeCloseTo(smoothPart[i]!, 12));
    // parities of classes 1, 10, 5: −1, +1, −1; products (shape·orient, shape·x, orient·x): −1, +1, −1
    expect(Array.from(out.subarray(4))).toEqual([-1, 1, -1, -1, 1, -1]);
    const base = { format: 'dlab-manipulation' as const, version: 1 as const, imageShape: [8, 8, 1] as [number, number, number], low: [2, 2] as [number, number], factorSizes: sz, cyclic: cy, inputDim: 10, hidden: 1, w1: new Float32Array(10), b1: new Float32Array(1), w2: new Float32Array(4), b2: new Float32Array(4), mixing: [], sigma: [] };
    expect(parseWeights(serializeWeights({ ...base, encoding: 'parity' })).encoding).toBe('parity');
    // the first artifacts have no encoding field: smooth
    expect(parseWeights(serializeWeights({ ...base, inputDim: 4 })).encoding).toBeUndefined();
    expect(() => parseWeights(serializeWeights({ ...base, encoding: 'fourier' as never }))).toThrow(/encoding/);
  });
});
