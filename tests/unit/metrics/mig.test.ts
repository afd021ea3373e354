import { describe, expect, it } from 'vitest';
import { computeMig, migFromMatrix } from '../../../src/core/metrics/mig.js';
import { modularityFromMatrix } from '../../../src/core/metrics/modularity.js';
import { discretizedMutualInfo } from '../../../src/core/metrics/stats.js';
import { Rng } from '../../../src/core/util/rng.js';
import { codesFrom, completeGrid } from './helpers.js';

describe('MIG', () => {
  it('is 1 when each code is a bijection of its own factor and the rest are constant', () => {
    const sizes = [4, 5, 3];
    const { factors, n } = completeGrid(sizes, 3);
    // codes: a non-linear bijection of f0, an affine one of f1 (reversed), f2 twice... no: one code per factor, plus a constant
    const codes = codesFrom(factors, n, 3, 4, ([a, b, c]) => [Math.exp(a!), -2.5 * b! + 1, c! * c!, 7]);
    const r = computeMig(codes, factors, n, 4, 3, 20);
    expect(r.mig).toBeCloseTo(1, 12);
    r.perFactor.forEach((g) => expect(g).toBeCloseTo(1, 12));
    // entropies of a balanced grid: log(size)
    r.entropies.forEach((h, k) => expect(h).toBeCloseTo(Math.log(sizes[k]!), 12));
  });

  it('is 0 when two codes carry the same factor', () => {
    const { factors, n } = completeGrid([4, 5], 2);
    const codes = codesFrom(factors, n, 2, 3, ([a, b]) => [a!, 3 * a!, b!]);
    const r = computeMig(codes, factors, n, 3, 2);
    expect(r.perFactor[0]).toBeCloseTo(0, 12);
    expect(r.perFactor[1]).toBeCloseTo(1, 12);
    expect(r.mig).toBeCloseTo(0.5, 12);
  });

  it('is near 0 for codes independent of the factors', () => {
    const rng = new Rng(11);
    const n = 10000;
    const sizes = [3, 6, 40, 32, 32];
    const factors = new Int32Array(n * 5);
    for (let i = 0; i < n * 5; i++) factors[i] = rng.int(sizes[i % 5]!);
    const codes = new Float64Array(n * 10).map(() => rng.normal());
    const r = computeMig(codes, factors, n, 10, 5);
    expect(r.mig).toBeGreaterThanOrEqual(0);
    expect(r.mig).toBeLessThan(0.02);
  });

  it('gap/entropy from a given MI matrix', () => {
    // 3 codes × 2 factors (row-major): factor 0 column [0.9, 0.3, 0.1], factor 1 column [0.2, 0.2, 0.8]
    const mi = Float64Array.from([0.9, 0.2, 0.3, 0.2, 0.1, 0.8]);
    const r = migFromMatrix(mi, [1.2, 2.0], 3);
    expect(r.perFactor[0]).toBeCloseTo((0.9 - 0.3) / 1.2, 14);
    expect(r.perFactor[1]).toBeCloseTo((0.8 - 0.2) / 2.0, 14);
    expect(r.mig).toBeCloseTo(((0.9 - 0.3) / 1.2 + 0.3) / 2, 14);
  });
});

describe('Modularity', () => {
  it('follows its definition on a given MI matrix', () => {
    // rows (codes) × 3 factors
    const mi = [
      2, 0, 0, // one factor only → 1
      2, 1, 0, // Σm² = 5, max 4 → 1 − 1/(4·2) = 0.875
      1, 1, 1, // 1 − 2/(1·2) = 0
      0, 0, 0, // uninformative → 0
    ];
    const r = modularityFromMatrix(mi, 4, 3);
    expect(r.perCode).toEqual([1, 0.875, 0, 0]);
    expect(r.modularity).toBeCloseTo(1.875 / 4, 14);
  });

  it('a code that is a bijection of two factors scores 1 − (H_small/H_large)²', () => {
    const { factors, n } = completeGrid([4, 5], 2);
    // code 0 = the grid index (20 distinct values, each in its own bin), code 1 = f0
    const codes = codesFrom(factors, n, 2, 2, ([a, b]) => [a! * 5 + b!, a!]);
    const mi = discretizedMutualInfo(codes, factors, n, 2, 2, 20);
    expect(mi[0]).toBeCloseTo(Math.log(4), 12);
    expect(mi[1]).toBeCloseTo(Math.log(5), 12);
    const r = modularityFromMatrix(mi, 2, 2);
    expect(r.perCode[0]).toBeCloseTo(1 - (Math.log(4) / Math.log(5)) ** 2, 12);
    expect(r.perCode[1]).toBeCloseTo(1, 12);
  });
});
