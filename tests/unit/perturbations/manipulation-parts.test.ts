import { describe, expect, it } from 'vitest';
import { parseWeights, serializeWeights } from '../../../src/core/perturbations/manipulation/artifact.js';
import type { GeneratorNet } from '../../../src/core/perturbations/manipulation/generator.js';
import { generatorBackward, generatorForward, makeUpsampler, upsampleAt, upsampleTranspose } from '../../../src/core/perturbations/manipulation/generator.js';
import type { ManipulationWeights } from '../../../src/core/perturbations/manipulation/types.js';
import { Rng } from '../../../src/core/util/rng.js';

const rng = new Rng(17);
const randoms = (n: number, s = 1) => Float64Array.from({ length: n }, () => s * rng.normal());

describe('learned manipulation, its parts', () => {
  it('upsampleTranspose is the adjoint of upsampleAt', () => {
    const [h, w, c, lh, lw] = [12, 10, 2, 4, 3];
    const up = makeUpsampler(h, w, c, lh, lw);
    const low = randoms(3 + lh * lw * c);
    const g = randoms(h * w * c);
    let lhs = 0;
    for (let j = 0; j < g.length; j++) lhs += upsampleAt(up, low, 3, j) * g[j]!;
    const back = new Float64Array(low.length);
    upsampleTranspose(up, g, back, 3);
    let rhs = 0;
    for (let q = 0; q < low.length; q++) rhs += low[q]! * back[q]!;
    expect(back.subarray(0, 3).every((v) => v === 0)).toBe(true);
    expect(lhs).toBeCloseTo(rhs, 10);
  });

  it('generatorBackward agrees with finite differences of generatorForward', () => {
    const [D, H, p] = [3, 4, 5];
    const net: GeneratorNet = { inputDim: D, hidden: H, w1: randoms(D * H, 0.7), b1: randoms(H, 0.3), w2: randoms(H * p, 0.7), b2: randoms(p, 0.3) };
    const input = randoms(D);
    const a = randoms(p); // loss = Σ a_q m_q
    const loss = () => {
      const out = new Float64Array(p);
      generatorForward(net, input, 0, new Float64Array(H), 0, out, 0);
      return out.reduce((s, m, q) => s + a[q]! * m, 0);
    };
    const hidden = new Float64Array(H);
    const low = new Float64Array(p);
    generatorForward(net, input, 0, hidden, 0, low, 0);
    const grads = { w1: new Float64Array(D * H), b1: new Float64Array(H), w2: new Float64Array(H * p), b2: new Float64Array(p) };
    generatorBackward(net, input, 0, hidden, 0, low, Float64Array.from(a), 0, new Float64Array(H), grads);
    for (const k of ['w1', 'b1', 'w2', 'b2'] as const) {
      const param = net[k] as Float64Array;
      for (let i = 0; i < param.length; i++) {
        const v = param[i]!;
        param[i] = v + 1e-6;
        const up = loss();
        param[i] = v - 1e-6;
        const down = loss();
        param[i] = v;
        expect(grads[k][i]!).toBeCloseTo((up - down) / 2e-6, 6);
      }
    }
  });

  it('weights survive serialisation exactly (float32 values)', () => {
    const f32 = (n: number) => Float32Array.from(randoms(n));
    const wts: ManipulationWeights = {
      format: 'dlab-manipulation',
      version: 1,
      imageShape: [8, 8, 1],
      low: [2, 2],
      factorSizes: [3, 4],
      cyclic: [false, true],
      inputDim: 3,
      hidden: 2,
      w1: f32(6),
      b1: f32(2),
      w2: f32(8),
      b2: f32(4),
      mixing: [
        [0, 1],
        [-1, 0],
      ],
      sigma: [0.3, 0.3],
    };
    const back = parseWeights(serializeWeights(wts));
    expect(back).toEqual(wts);
    expect(serializeWeights(back)).toBe(serializeWeights(wts));
    expect(() => parseWeights(serializeWeights(wts).replace('"version":1', '"version":2'))).toThrow(/format\/version/);
  });
});
