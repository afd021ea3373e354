import { describe, expect, it } from 'vitest';
import { discreteEntropy, entropyOf, histogramDiscretize, mutualInfo, rocAuc } from '../../../src/core/metrics/stats.js';

describe('mutual information and entropy (nats)', () => {
  it('identical binary labels share log 2', () => {
    expect(mutualInfo([0, 0, 1, 1], [0, 0, 1, 1])).toBeCloseTo(Math.log(2), 14);
    // label values do not matter, only the partition
    expect(mutualInfo([5, 5, -3, -3], [1, 1, 0, 0])).toBeCloseTo(Math.log(2), 14);
  });
  it('independent labels share nothing', () => {
    expect(mutualInfo([0, 0, 1, 1], [0, 1, 0, 1])).toBe(0);
    expect(mutualInfo([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
  });
  it('a 2×2 table worked out by hand', () => {
    // a = [0,0,0,1], b = [0,0,1,1]: cells (0,0)=2, (0,1)=1, (1,1)=1; margins a: 3/4, 1/4; b: 1/2, 1/2
    const expected = 0.5 * Math.log(0.5 / (0.75 * 0.5)) + 0.25 * Math.log(0.25 / (0.75 * 0.5)) + 0.25 * Math.log(0.25 / (0.25 * 0.5));
    expect(mutualInfo([0, 0, 0, 1], [0, 0, 1, 1])).toBeCloseTo(expected, 14);
    expect(expected).toBeCloseTo(0.2157615543388357, 12);
  });
  it('a 3×2 table worked out by hand', () => {
    // a = [0,0,1,1,2,2], b = [0,0,0,1,1,1]: cells (0,0)=2,(1,0)=1,(1,1)=1,(2,1)=2; a margins 1/3 each, b 1/2 each
    const p = (c: number) => c / 6;
    const expected = 2 * p(2) * Math.log(p(2) / (1 / 3 / 2)) + 2 * p(1) * Math.log(p(1) / (1 / 3 / 2));
    expect(mutualInfo([0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 1])).toBeCloseTo(expected, 14);
    // symmetric
    expect(mutualInfo([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])).toBeCloseTo(expected, 14);
  });
  it('entropy is the MI of a label with itself', () => {
    // [0,0,1,2]: −(½ ln ½ + 2·¼ ln ¼) = 1.5 ln 2
    expect(discreteEntropy([0, 0, 1, 2])).toBeCloseTo(1.5 * Math.log(2), 14);
    expect(discreteEntropy([7, 7, 7])).toBe(0);
    expect(discreteEntropy([0, 1, 2, 3, 4])).toBeCloseTo(Math.log(5), 14);
  });
  it('scipy-style entropy normalises and changes base', () => {
    expect(entropyOf([2, 1, 1], 3)).toBeCloseTo((1.5 * Math.log(2)) / Math.log(3), 14);
    expect(entropyOf([1, 0, 0], 3)).toBe(0);
    expect(entropyOf([1, 1, 1, 1], 4)).toBeCloseTo(1, 14);
  });
});

describe('equal-width histogram discretisation (np.digitize on np.histogram edges)', () => {
  it('assigns bins 1…bins with the maximum in the last bin', () => {
    // edges for [0,1] with 4 bins: 0, .25, .5, .75
    expect(Array.from(histogramDiscretize([0, 0.24, 0.25, 0.5, 0.74, 0.75, 0.99, 1], 4))).toEqual([1, 1, 2, 3, 3, 4, 4, 4]);
  });
  it('a constant code falls in one bin', () => {
    const b = histogramDiscretize([3, 3, 3], 20);
    expect(new Set(b).size).toBe(1);
  });
  it('integers 0…19 with 20 bins land in 20 distinct bins', () => {
    const v = Array.from({ length: 20 }, (_, i) => i);
    expect(Array.from(histogramDiscretize(v, 20))).toEqual(v.map((i) => i + 1));
  });
});

describe('ROC-AUC', () => {
  it('counts ties as half', () => {
    // positives scores [0.9, 0.5], negatives [0.5, 0.1]: pairs (0.9>0.5)=1, (0.9>0.1)=1, (0.5=0.5)=½, (0.5>0.1)=1 → 3.5/4
    expect(rocAuc([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1])).toBeCloseTo(3.5 / 4, 14);
    expect(rocAuc([1, 0], [0, 1])).toBe(0);
    expect(Number.isNaN(rocAuc([1, 1], [0, 1]))).toBe(true);
  });
});
