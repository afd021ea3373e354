/**
 * The kernels supplied for the wasm backend agree with the cpu backend's own
 * implementations on random inputs (several shapes, strides, paddings, and
 * both strategies of each conv kernel).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs';
import { getTf, initBackend, quietCpuBackend } from '../../../src/core/compute/backend.js';
import { backpropFilterStrategy, im2colTransposed, convGeometry } from '../../../src/core/compute/kernels/conv2d_backprop_filter.js';
import { backpropInputStrategy } from '../../../src/core/compute/kernels/conv2d_backprop_input.js';
import { Rng } from '../../../src/core/util/rng.js';

const tf = () => getTf();

beforeAll(async () => {
  const r = await initBackend({ prefer: 'wasm' });
  expect(r.backend).toBe('wasm');
  await tf().setBackend('cpu');
  quietCpuBackend();
  await tf().setBackend('wasm');
});
afterAll(async () => {
  backpropFilterStrategy.mode = 'auto';
  backpropInputStrategy.mode = 'auto';
  await tf().setBackend('wasm');
});

function randn(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** Evaluate f on a backend, returning the values of its outputs. */
async function on(backend: 'cpu' | 'wasm', f: () => Tensor[]): Promise<Float32Array[]> {
  await tf().setBackend(backend);
  const outs = tf().tidy(f);
  const vals = outs.map((t) => Float32Array.from(t.dataSync() as Float32Array));
  outs.forEach((t) => t.dispose());
  return vals;
}

function expectClose(a: Float32Array, b: Float32Array, label: string): void {
  expect(a.length, label).toBe(b.length);
  let scale = 1e-6;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst / scale, `${label}: max |Δ| ${worst} at scale ${scale}`).toBeLessThan(2e-6 * Math.sqrt(a.length) + 1e-5);
}

type Case = { x: [number, number, number, number]; f: [number, number, number, number]; s: number | [number, number]; pad: 'same' | 'valid' };
const CASES: Case[] = [
  { x: [2, 8, 8, 3], f: [4, 4, 3, 5], s: 2, pad: 'same' },
  { x: [2, 8, 8, 3], f: [4, 4, 3, 5], s: 2, pad: 'valid' },
  { x: [2, 9, 7, 3], f: [3, 3, 3, 4], s: 2, pad: 'same' },
  { x: [2, 9, 7, 3], f: [3, 3, 3, 4], s: 2, pad: 'valid' },
  { x: [1, 6, 6, 2], f: [2, 2, 2, 3], s: 2, pad: 'same' },
  { x: [2, 7, 7, 2], f: [3, 3, 2, 2], s: 1, pad: 'same' },
  { x: [2, 7, 7, 2], f: [3, 3, 2, 2], s: 1, pad: 'valid' },
  { x: [1, 10, 11, 2], f: [5, 4, 2, 3], s: 3, pad: 'valid' },
  { x: [1, 10, 10, 2], f: [2, 3, 2, 3], s: [3, 2], pad: 'same' },
  { x: [2, 5, 5, 1], f: [1, 1, 1, 4], s: 2, pad: 'valid' },
  { x: [3, 16, 16, 1], f: [4, 4, 1, 8], s: 2, pad: 'same' },
  { x: [2, 8, 8, 16], f: [4, 4, 16, 12], s: 2, pad: 'same' },
];

describe('supplied wasm conv kernels', () => {
  const rng = new Rng(20240601);
  for (const [i, c] of CASES.entries()) {
    const xd = randn(c.x.reduce((a, b) => a * b), rng);
    const fd = randn(c.f.reduce((a, b) => a * b), rng);
    const dySeed = rng.nextUint32();
    const compute = () => {
      const x = tf().tensor4d(xd, c.x);
      const f = tf().tensor4d(fd, c.f);
      const y = tf().conv2d(x, f, c.s, c.pad);
      const dy = tf().tensor(randn(y.size, new Rng(dySeed)), y.shape) as typeof y;
      const [gx, gf] = tf().grads((a: Tensor, b: Tensor) => tf().sum(tf().mul(tf().conv2d(a as typeof x, b as typeof f, c.s, c.pad), dy)))([x, f]);
      // conv2dTranspose forward is Conv2DBackpropInput with dy as its input
      const t = tf().conv2dTranspose(dy, f, c.x, c.s, c.pad);
      return [y, gx!, gf!, t];
    };
    for (const fm of ['dilated', 'im2col'] as const) {
      for (const im of ['phases', 'col2im'] as const) {
        it(`case ${i} x${c.x.join('×')} f${c.f.join('×')} s${c.s} ${c.pad} (filter: ${fm}, input: ${im})`, async () => {
          const ref = await on('cpu', compute);
          backpropFilterStrategy.mode = fm;
          backpropInputStrategy.mode = im;
          const got = await on('wasm', compute);
          backpropFilterStrategy.mode = 'auto';
          backpropInputStrategy.mode = 'auto';
          expectClose(got[0]!, ref[0]!, 'conv2d');
          expectClose(got[1]!, ref[1]!, 'dx (Conv2DBackpropInput)');
          expectClose(got[2]!, ref[2]!, 'dW (Conv2DBackpropFilter)');
          expectClose(got[3]!, ref[3]!, 'conv2dTranspose');
        });
      }
    }
  }

  it('im2colTransposed matches the definition on a padded, strided case', () => {
    const g = convGeometry([2, 5, 4, 2], [3, 2, 2, 1], [2, 2], 'same', undefined);
    const x = new Float32Array(2 * 5 * 4 * 2).map((_, i) => i + 1);
    const K = g.KH * g.KW * g.Ci;
    const M = g.N * g.OH * g.OW;
    const cols = new Float32Array(K * M).fill(-1);
    im2colTransposed(x, cols, g);
    for (let kh = 0; kh < g.KH; kh++)
      for (let kw = 0; kw < g.KW; kw++)
        for (let ci = 0; ci < g.Ci; ci++)
          for (let n = 0; n < g.N; n++)
            for (let oh = 0; oh < g.OH; oh++)
              for (let ow = 0; ow < g.OW; ow++) {
                const ih = oh * 2 + kh - g.pt;
                const iw = ow * 2 + kw - g.pl;
                const want = ih >= 0 && ih < 5 && iw >= 0 && iw < 4 ? x[((n * 5 + ih) * 4 + iw) * 2 + ci]! : 0;
                expect(cols[((kh * g.KW + kw) * g.Ci + ci) * M + (n * g.OH + oh) * g.OW + ow]).toBe(want);
              }
  });
});

describe('supplied wasm BatchMatMul (transposed cases) and Sum (leading axes)', () => {
  const rng = new Rng(7);
  const shapes: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[2, 7, 5], [2, 3, 7], true, true],
    [[33, 40], [33, 35], true, false],
  ];
  for (const [a, b, ta, tb] of shapes) {
    it(`matMul ${a.join('×')}${ta ? 'ᵀ' : ''} · ${b.join('×')}${tb ? 'ᵀ' : ''}`, async () => {
      const ad = randn(a.reduce((p, q) => p * q), rng);
      const bd = randn(b.reduce((p, q) => p * q), rng);
      const f = () => [tf().matMul(tf().tensor(ad, a) as never, tf().tensor(bd, b) as never, ta, tb)];
      expectClose((await on('wasm', f))[0]!, (await on('cpu', f))[0]!, 'matMul');
    });
  }
  const sums: [number[], number[], boolean][] = [
    [[4, 3, 5, 6], [0, 1, 2], false],
    [[4, 3, 5, 6], [0], true],
    [[4, 3, 5, 6], [1, 0], false],
    [[4, 3, 5, 6], [1, 2], false],
    [[4, 3, 5, 6], [0, 1, 2, 3], false],
    [[64, 30], [0], false],
  ];
  for (const [shape, axes, keep] of sums) {
    it(`sum over ${axes.join(',')} of ${shape.join('×')}${keep ? ' (keepDims)' : ''}`, async () => {
      const d = randn(shape.reduce((p, q) => p * q), rng);
      const f = () => [tf().sum(tf().tensor(d, shape), axes, keep)];
      const got = await on('wasm', f);
      const ref = await on('cpu', f);
      expectClose(got[0]!, ref[0]!, 'sum');
      await tf().setBackend('wasm');
      expect(tf().sum(tf().tensor(d, shape), axes, keep).shape).toEqual(tf().tidy(() => tf().sum(tf().zeros(shape), axes, keep).shape));
    });
  }
});
