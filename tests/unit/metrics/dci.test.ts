import { describe, expect, it } from 'vitest';
import { computeDci, dciCompleteness, dciDisentanglement, disentanglementPerCode } from '../../../src/core/metrics/dci.js';
import { Rng } from '../../../src/core/util/rng.js';
import { codesFrom, completeGrid } from './helpers.js';

describe('DCI from importance matrices', () => {
  it('a diagonal matrix is fully disentangled and complete', () => {
    const R = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    expect(dciDisentanglement(R, 3, 3)).toBeCloseTo(1, 9);
    expect(dciCompleteness(R, 3, 3)).toBeCloseTo(1, 9);
  });
  it('a uniform matrix scores 0', () => {
    const R = new Array(6).fill(0.5);
    expect(dciDisentanglement(R, 2, 3)).toBeCloseTo(0, 12);
    expect(dciCompleteness(R, 2, 3)).toBeCloseTo(0, 12);
  });
  it('one code spread over both factors, the other unused', () => {
    // codes × factors: [[1, 1], [0, 0]]
    const R = [1, 1, 0, 0];
    // code 0: uniform over 2 factors → 1 − 1 = 0, weight 1; code 1 has weight 0
    expect(dciDisentanglement(R, 2, 2)).toBeCloseTo(0, 9);
    // each factor uses code 0 only → 1, weights ½ each
    expect(dciCompleteness(R, 2, 2)).toBeCloseTo(1, 9);
  });
  it('entropies in base K and base D, weighted by importance shares', () => {
    // codes × factors (D = 2, K = 3): rows [2, 1, 1] and [0, 0, 4]
    const R = [2, 1, 1, 0, 0, 4];
    const h3 = (1.5 * Math.log(2)) / Math.log(3); // entropy of (½, ¼, ¼) in base 3
    expect(disentanglementPerCode(R, 2, 3)[0]).toBeCloseTo(1 - h3, 9);
    expect(dciDisentanglement(R, 2, 3)).toBeCloseTo(0.5 * (1 - h3) + 0.5 * 1, 9);
    // factors: columns [2,0], [1,0], [1,4]; column 3 = (1/5, 4/5) in base 2
    const h2 = -(0.2 * Math.log2(0.2) + 0.8 * Math.log2(0.8));
    expect(dciCompleteness(R, 2, 3)).toBeCloseTo((2 / 8) * 1 + (1 / 8) * 1 + (5 / 8) * (1 - h2), 9);
  });
});

describe('DCI end to end', () => {
  it('aligned codes: disentangled, complete, informative; mixed codes: lower', () => {
    const sizes = [4, 5, 3];
    const { factors, n } = completeGrid(sizes, 8); // 480 rows
    const rng = new Rng(4);
    const noise = () => 0.05 * rng.normal();
    const aligned = codesFrom(factors, n, 3, 3, ([a, b, c]) => [a! + noise(), b! + noise(), c! + noise()]);
    const mixed = codesFrom(factors, n, 3, 3, ([a, b, c]) => [a! + b! + noise(), a! - b! + noise(), c! + a! + noise()]);
    const half = n / 2;
    const split = (z: Float64Array) => ({
      train: { codes: z.subarray(0, half * 3), factors: factors.subarray(0, half * 3), n: half },
      test: { codes: z.subarray(half * 3), factors: factors.subarray(half * 3), n: n - half },
    });
    // rows of the grid repeat every 60, so both halves hold every combination 4 times
    const a = split(aligned);
    const ra = computeDci(a.train, a.test, 3, 3, new Rng(1), { nEstimators: 20 });
    expect(ra.disentanglement).toBeGreaterThan(0.9);
    expect(ra.completeness).toBeGreaterThan(0.9);
    expect(ra.informativenessTest).toBeGreaterThan(0.95);
    let total = 0;
    for (const v of ra.importance) total += v;
    expect(total).toBeCloseTo(3, 9); // each factor's importances sum to 1
    const m = split(mixed);
    const rm = computeDci(m.train, m.test, 3, 3, new Rng(1), { nEstimators: 20 });
    expect(rm.disentanglement).toBeLessThan(ra.disentanglement - 0.2);
    // same seed, same numbers
    const again = computeDci(a.train, a.test, 3, 3, new Rng(1), { nEstimators: 20 });
    expect(again.disentanglement).toBe(ra.disentanglement);
  });
});
