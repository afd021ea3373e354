import { describe, expect, it } from 'vitest';
import { erfc, incompleteBeta, incompleteGammaP, logGamma, normalCdf, normalQuantile, studentTCdf, studentTQuantile } from '../../../src/core/util/distributions.js';

describe('normal distribution', () => {
  it('matches tabulated values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 12);
    expect(normalCdf(1)).toBeCloseTo(0.8413447461, 7);
    expect(normalCdf(-1.959963985)).toBeCloseTo(0.025, 7);
    expect(erfc(0)).toBe(1);
    expect(erfc(1)).toBeCloseTo(0.157299207050285, 13);
    expect(erfc(-1)).toBeCloseTo(1.842700792949715, 13);
    expect(erfc(2)).toBeCloseTo(0.004677734981047266, 14);
    expect(erfc(5) / 1.5374597944280349e-12).toBeCloseTo(1, 10);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 7);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306, 6);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1.5)).toBeNaN();
  });
  it('the quantile inverts the CDF', () => {
    for (const p of [1e-6, 0.01, 0.02425, 0.2, 0.5, 0.8, 0.99, 1 - 1e-6]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 7);
  });
});

describe('log Γ and the incomplete beta', () => {
  it('log Γ of integers and of ½', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(11)).toBeCloseTo(Math.log(3628800), 10);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
  });
  it('incomplete gamma: P(1, x) = 1 − e^−x and P(2, x) = 1 − e^−x (1 + x)', () => {
    for (const x of [0.01, 0.5, 1.9, 2.5, 8, 40]) {
      expect(incompleteGammaP(1, x)).toBeCloseTo(1 - Math.exp(-x), 13);
      expect(incompleteGammaP(2, x)).toBeCloseTo(1 - Math.exp(-x) * (1 + x), 13);
    }
    expect(incompleteGammaP(3, 0)).toBe(0);
  });
  it('closed forms: I_x(1,1) = x, I_x(a,1) = x^a, I_x(1,b) = 1 − (1−x)^b', () => {
    for (const x of [0.05, 0.3, 0.7, 0.99]) {
      expect(incompleteBeta(x, 1, 1)).toBeCloseTo(x, 12);
      expect(incompleteBeta(x, 3.5, 1)).toBeCloseTo(x ** 3.5, 12);
      expect(incompleteBeta(x, 1, 2.5)).toBeCloseTo(1 - (1 - x) ** 2.5, 12);
    }
    expect(incompleteBeta(0, 2, 3)).toBe(0);
    expect(incompleteBeta(1, 2, 3)).toBe(1);
  });
});

describe("Student's t", () => {
  it('CDF: Cauchy for ν = 1 and the closed form for ν = 2', () => {
    for (const t of [-7, -1.3, 0, 0.4, 2, 30]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 12);
    }
  });
  it('quantiles: closed forms for ν = 1, 2 and tabulated ones', () => {
    for (const p of [0.6, 0.9, 0.975, 0.995]) {
      expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 7);
      expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 7);
    }
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.776445105, 6);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228138852, 6);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.042272456, 6);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.776445105, 6);
    // non-integer ν lies between its neighbours; very large ν is the normal
    const q = studentTQuantile(0.975, 4.5);
    expect(q).toBeLessThan(2.776445105);
    expect(q).toBeGreaterThan(2.570581836); // ν = 5
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959963985, 5);
  });
});
