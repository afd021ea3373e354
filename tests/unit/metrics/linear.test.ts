import { describe, expect, it } from 'vitest';
import { computeExplicitness } from '../../../src/core/metrics/explicitness.js';
import { fitBinarySquaredHinge, fitLinearSvm, fitLogistic, linearSvmPredict, logisticProba } from '../../../src/core/metrics/linear.js';
import { avgTopTwoGap, sapScoreMatrix } from '../../../src/core/metrics/sap.js';
import { Rng } from '../../../src/core/util/rng.js';
import { codesFrom, completeGrid } from './helpers.js';

describe('linear SVM (squared hinge, penalised bias)', () => {
  it('balanced weights on ±1 data give w = 20/21, b = 0 (derived by hand)', () => {
    // 300 points at x = +1 (class 1), 700 at x = −1 (class 0), C = 0.01, balanced: w1 = 1000/600, w0 = 1000/1400,
    // so each side carries total cost 5. f(w,b) = ½(w²+b²) + 5(1−w−b)² + 5(1−w+b)² → b = 0, w = 20(1−w) → w = 20/21.
    const n = 1000;
    const X = Float64Array.from({ length: n }, (_, i) => (i < 300 ? 1 : -1));
    const y = Array.from({ length: n }, (_, i) => (i < 300 ? 1 : 0));
    const m = fitLinearSvm(X, y, n, 1, { C: 0.01, balanced: true });
    expect(m.W[0]).toBeCloseTo(20 / 21, 10);
    expect(m.W[1]).toBeCloseTo(0, 10);
    // without balancing the majority pulls the bias: f = ½(w²+b²) + 3(1−w−b)² + 7(1−w+b)²
    // ∂w: w = 6(1−w−b) + 14(1−w+b) → 21w − 8b = 20; ∂b: b = 6(1−w−b) − 14(1−w+b) → −8w + 21b = −8
    // → w = (20·21 − 8·8)/377 = 356/377, b = (−8·21 + 8·20)/377 = −8/377 (both margins stay below 1)
    const u = fitLinearSvm(X, y, n, 1, { C: 0.01 });
    expect(u.W[0]).toBeCloseTo(356 / 377, 10);
    expect(u.W[1]).toBeCloseTo(-8 / 377, 10);
  });

  it('reaches a stationary point of the primal on random data', () => {
    const rng = new Rng(3);
    const n = 200, d = 2;
    const X = new Float64Array(n * d).map(() => rng.normal());
    const ys = Float64Array.from({ length: n }, (_, i) => (X[i * d]! + 0.3 * X[i * d + 1]! + 0.5 * rng.normal() > 0 ? 1 : -1));
    const cost = new Float64Array(n).fill(0.7);
    const { w } = fitBinarySquaredHinge(X, ys, cost, n, d);
    const g = Array.from(w);
    for (let i = 0; i < n; i++) {
      const xi = [X[i * d]!, X[i * d + 1]!, 1];
      const m = 1 - ys[i]! * (w[0]! * xi[0]! + w[1]! * xi[1]! + w[2]!);
      if (m > 0) for (let j = 0; j < 3; j++) g[j]! -= 2 * cost[i]! * ys[i]! * m * xi[j]!;
    }
    for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-8);
  });

  it('one-vs-rest predicts the class of the highest score', () => {
    const x = Float64Array.from([-2, -1.9, -2.1, 0, 0.1, -0.1, 2, 2.1, 1.9]);
    const y = [0, 0, 0, 1, 1, 1, 2, 2, 2];
    const m = fitLinearSvm(x, y, 9, 1, { C: 10 });
    const p = linearSvmPredict(m, Float64Array.from([-3, 3]), 2);
    expect(Array.from(p)).toEqual([0, 2]);
  });
});

describe('logistic regression (L2, C = 1)', () => {
  it('binary: gradient of Σ loss + w²/(2C) vanishes (intercept unpenalised)', () => {
    const rng = new Rng(5);
    const n = 300, d = 2;
    const X = new Float64Array(n * d).map(() => rng.normal());
    const y = Array.from({ length: n }, (_, i) => (X[i * d]! - X[i * d + 1]! + rng.normal() > 0.3 ? 1 : 0));
    const m = fitLogistic(X, y, n, d, { C: 1, gtol: 1e-10 });
    expect(m.binary).toBe(true);
    const g = [m.W[0]!, m.W[1]!, 0];
    for (let i = 0; i < n; i++) {
      const z = m.b[0]! + m.W[0]! * X[i * d]! + m.W[1]! * X[i * d + 1]!;
      const e = 1 / (1 + Math.exp(-z)) - y[i]!;
      g[0]! += e * X[i * d]!;
      g[1]! += e * X[i * d + 1]!;
      g[2]! += e;
    }
    for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-6);
  });

  it('multinomial: probabilities sum to 1 and the penalised gradient vanishes', () => {
    const rng = new Rng(6);
    const n = 300, d = 2, K = 3;
    const X = new Float64Array(n * d).map(() => rng.normal());
    const y = Array.from({ length: n }, (_, i) => (X[i * d]! > 0.5 ? 2 : X[i * d + 1]! > 0 ? 1 : 0));
    const m = fitLogistic(X, y, n, d, { C: 1, gtol: 1e-10 });
    const p = logisticProba(m, X, n);
    const g = new Float64Array(K * (d + 1));
    for (let k = 0; k < K; k++) for (let j = 0; j < d; j++) g[k * d + j] = m.W[k * d + j]!;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += p[i * K + k]!;
      expect(s).toBeCloseTo(1, 12);
      for (let k = 0; k < K; k++) {
        const e = p[i * K + k]! - (y[i] === k ? 1 : 0);
        for (let j = 0; j < d; j++) g[k * d + j]! += e * X[i * d + j]!;
        g[K * d + k]! += e;
      }
    }
    for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-6);
    // the default stops once the mean-scaled gradient is below 1e-5 (sklearn stops at 1e-4)
    const loose = fitLogistic(X, y, n, d, { C: 1 });
    expect(loose.converged).toBe(true);
  });
});

describe('SAP', () => {
  it('one code per binary factor: accuracy 1 on its own factor, exactly ½ on the others → SAP ½', () => {
    const { factors, n } = completeGrid([2, 2, 2], 100);
    const codes = codesFrom(factors, n, 3, 3, ([a, b, c]) => [2 * a! - 1, 2 * b! - 1, 2 * c! - 1]);
    const data = { codes, factors, n };
    const m = sapScoreMatrix(data, data, 3, 3, 0.01);
    for (let d = 0; d < 3; d++) for (let k = 0; k < 3; k++) expect(m[d * 3 + k]).toBeCloseTo(d === k ? 1 : 0.5, 12);
    expect(avgTopTwoGap(m, 3, 3)).toBeCloseTo(0.5, 12);
  });
  it('two codes carrying the same factor leave no gap for it', () => {
    const { factors, n } = completeGrid([2, 2], 100);
    const codes = codesFrom(factors, n, 2, 3, ([a, b]) => [a!, 3 * a! + 1, b!]);
    const data = { codes, factors, n };
    const m = sapScoreMatrix(data, data, 3, 2, 0.01);
    // factor 0: codes 0 and 1 both perfect → gap 0; factor 1: code 2 perfect, the others ½ → gap ½
    expect(avgTopTwoGap(m, 3, 2)).toBeCloseTo(0.25, 12);
  });
  it('gap of a given matrix', () => {
    expect(avgTopTwoGap([0.9, 0.2, 0.5, 0.6, 0.1, 0.6], 3, 2)).toBeCloseTo(((0.9 - 0.5) + 0) / 2, 14);
  });
});

describe('Explicitness', () => {
  it('codes that separate each binary factor give AUC 1', () => {
    const { factors, n } = completeGrid([2, 2], 50);
    const codes = codesFrom(factors, n, 2, 2, ([a, b]) => [a! * 3 - 1, b!]);
    const d = { codes, factors, n };
    const r = computeExplicitness(d, d, 2, 2);
    expect(r.train).toBeCloseTo(1, 12);
    expect(r.test).toBeCloseTo(1, 12);
  });
  it('a code that tells class 0 from {1, 2} only: macro AUC (1 + ¾ + ¾)/3', () => {
    // classes balanced; class 1 vs rest: positives all score high, negatives are class 0 (low) and class 2 (tied high):
    // AUC = ½·1 + ½·½ = ¾; same for class 2; class 0 is perfectly ranked.
    const { factors, n } = completeGrid([3], 60);
    const codes = codesFrom(factors, n, 1, 1, ([a]) => [a === 0 ? 0 : 1]);
    const d = { codes, factors, n };
    const r = computeExplicitness(d, d, 1, 1);
    expect(r.perFactorTrain[0]).toBeCloseTo((1 + 0.75 + 0.75) / 3, 12);
  });
});
