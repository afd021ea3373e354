import { describe, expect, it } from 'vitest';
import { computeActiveUnits } from '../../../src/core/metrics/active_units.js';
import { computeBetaVae } from '../../../src/core/metrics/beta_vae.js';
import { computeFactorVae } from '../../../src/core/metrics/factor_vae.js';
import { computeGaussianTc, gaussianTcFromCov } from '../../../src/core/metrics/gaussian_tc.js';
import { ArrayTableSampler, encoderSampler, fixedFactorBatch, pairedBatches } from '../../../src/core/metrics/sampler.js';
import { Rng } from '../../../src/core/util/rng.js';
import { codesFrom, completeGrid } from './helpers.js';

const sizes = [5, 5, 4];
const K = 3;

function shuffledGrid(seed: number) {
  const { factors, n } = completeGrid(sizes);
  // rows in a scrambled order: lookup must go by factor values, not row position
  const perm = new Rng(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  const f = new Int32Array(n * K);
  perm.forEach((src, dst) => f.set(factors.subarray(src * K, src * K + K), dst * K));
  return { factors: f, n };
}

const aligned = (f: number[]) => [f[0]!, f[1]!, f[2]!];
const rotated = (f: number[]) => [(f[0]! + f[1]!) / Math.SQRT2, (f[0]! - f[1]!) / Math.SQRT2, f[2]!];

describe('ArrayTableSampler', () => {
  it('recognises a complete grid in any row order and looks rows up by factors', () => {
    const { factors, n } = shuffledGrid(1);
    const codes = codesFrom(factors, n, K, 1, ([a, b, c]) => [a! * 100 + b! * 10 + c!]);
    const s = new ArrayTableSampler(factors, codes, n, K, 1);
    expect(s.complete).toBe(true);
    expect(s.sampleWithFactor).toBeUndefined();
    const rng = new Rng(2);
    const f = s.sampleFactors(50, rng);
    const z = s.codesFor(f, rng);
    for (let i = 0; i < 50; i++) expect(z[i]).toBe(f[i * 3]! * 100 + f[i * 3 + 1]! * 10 + f[i * 3 + 2]!);
  });

  it('batches keep the chosen factor fixed (complete and incomplete tables)', async () => {
    const full = shuffledGrid(3);
    const code = (f: number[]) => [f[0]! * 100 + f[1]! * 10 + f[2]!];
    // drop a third of the rows: no longer a complete grid
    const keep = Math.floor((full.n * 2) / 3);
    const part = { factors: full.factors.slice(0, keep * K), n: keep };
    for (const t of [full, part]) {
      const s = new ArrayTableSampler(t.factors, codesFrom(t.factors, t.n, K, 1, code), t.n, K, 1);
      expect(s.complete).toBe(t === full);
      const rng = new Rng(4);
      for (let k = 0; k < K; k++) {
        const z = await fixedFactorBatch(s, 64, k, rng);
        const digit = (v: number) => Math.floor(v / 10 ** (2 - k)) % 10;
        expect(new Set(Array.from(z, digit)).size).toBe(1);
        const [z1, z2] = await pairedBatches(s, 64, k, rng);
        for (let i = 0; i < 64; i++) expect(digit(z1[i]!)).toBe(digit(z2[i]!));
      }
    }
  });
});

describe('FactorVAE score', () => {
  const opts = { numTrain: 400, numEval: 300, numVarianceEstimate: 2000, batchSize: 64 };
  it('aligned codes score 1, rotated codes lower, random codes near chance', async () => {
    const { factors, n } = shuffledGrid(5);
    const run = async (f: (r: number[], i: number) => number[], seed = 1) => computeFactorVae(new ArrayTableSampler(factors, codesFrom(factors, n, K, 3, f), n, K, 3), new Rng(seed), opts);
    const a = await run(aligned);
    expect(a.trainAccuracy).toBe(1);
    expect(a.evalAccuracy).toBe(1);
    expect(a.classifier).toEqual([0, 1, 2]);
    const r = await run(rotated);
    expect(r.evalAccuracy).toBeLessThan(0.8);
    const noise = new Rng(9);
    const table = Array.from({ length: n }, () => [noise.normal(), noise.normal(), noise.normal()]);
    const z = await run((_, i) => table[i]!);
    expect(z.evalAccuracy).toBeLessThan(0.5); // chance is 1/3
  });
  it('prunes codes whose global std is below the threshold, and is deterministic', async () => {
    const { factors, n } = shuffledGrid(6);
    const codes = codesFrom(factors, n, K, 4, (f) => [...aligned(f), 1e-3 * f[0]!]);
    const s = new ArrayTableSampler(factors, codes, n, K, 4);
    const a = await computeFactorVae(s, new Rng(3), opts);
    expect(a.numActiveDims).toBe(3);
    expect(a.evalAccuracy).toBe(1);
    const b = await computeFactorVae(s, new Rng(3), opts);
    expect(b).toEqual(a);
  });
});

describe('trainer-side sampler (async encoder)', () => {
  it('FactorVAE and BetaVAE run on an encoder that answers asynchronously', async () => {
    let calls = 0;
    const s = encoderSampler({
      factorSizes: sizes,
      numCodes: 3,
      encodeFactors: async (f) => {
        calls++;
        await new Promise((r) => setTimeout(r, 0));
        // an "encoder" that recovers the factors, scaled
        return Float64Array.from(f, (v, i) => v * (1 + (i % 3)));
      },
    });
    const a = await computeFactorVae(s, new Rng(1), { numTrain: 60, numEval: 30, numVarianceEstimate: 500 });
    expect(a.evalAccuracy).toBe(1);
    const b = await computeBetaVae(s, new Rng(1), { numTrain: 60, numEval: 30 });
    expect(b.evalAccuracy).toBe(1);
    expect(calls).toBe(1 + 60 + 30 + 2 * (60 + 30));
  });
});

describe('BetaVAE score', () => {
  const opts = { numTrain: 300, numEval: 200, batchSize: 64 };
  it('aligned codes score 1, rotated codes lower, random codes near chance', async () => {
    const { factors, n } = shuffledGrid(7);
    const run = async (f: (r: number[], i: number) => number[]) => computeBetaVae(new ArrayTableSampler(factors, codesFrom(factors, n, K, 3, f), n, K, 3), new Rng(2), opts);
    const a = await run(aligned);
    expect(a.trainAccuracy).toBe(1);
    expect(a.evalAccuracy).toBe(1);
    // rotating factors 0 and 1 (same size) makes "0 fixed" and "1 fixed" look alike: about 1 − (2/3)·½
    const r = await run(rotated);
    expect(r.evalAccuracy).toBeLessThan(0.85);
    expect(r.evalAccuracy).toBeGreaterThan(0.5);
    const noise = new Rng(9);
    const table = Array.from({ length: n }, () => [noise.normal(), noise.normal(), noise.normal()]);
    const z = await run((_, i) => table[i]!);
    expect(z.evalAccuracy).toBeLessThan(0.5);
  });
});

describe('Active units', () => {
  it('counts both rules', () => {
    const n = 4, D = 3;
    // code 0 std 1 (values ±1), code 1 std 0.4 (±0.4), code 2 constant
    const codes = [1, 0.4, 0, -1, -0.4, 0, 1, 0.4, 0, -1, -0.4, 0];
    const lv = [Math.log(0.1), Math.log(0.5), 0, Math.log(0.1), Math.log(1.1), 0, Math.log(0.1), Math.log(0.5), 0, Math.log(0.1), Math.log(1.1), 0];
    const r = computeActiveUnits(codes, lv, n, D);
    expect(r.byMeanStd).toBe(1);
    // mean variances: 0.1, 0.8 (not < 0.8), 1
    expect(r.meanPosteriorVariance![1]).toBeCloseTo(0.8, 12);
    expect(r.byVariance).toBe(1);
    expect(computeActiveUnits(codes, undefined, n, D).byVariance).toBeNull();
  });
});

describe('Gaussian total correlation', () => {
  it('2×2 covariance: −½ log(1 − ρ²)', () => {
    const rho = 0.6;
    expect(gaussianTcFromCov(Float64Array.from([4, rho * 2 * 3, rho * 2 * 3, 9]), 2)).toBeCloseTo(-0.5 * Math.log(1 - rho * rho), 12);
    expect(gaussianTcFromCov(Float64Array.from([2, 0, 0, 5]), 2)).toBeCloseTo(0, 14);
  });
  it('from codes: scale-free, constant codes dropped, dependent codes infinite', () => {
    // x and y = x + e with a fixed 4-point design: cov [[1, 1], [1, 2]] (ddof 1 scale cancels) → ρ² = 1/2
    const x = [1, -1, 1, -1];
    const e = [1, 1, -1, -1];
    const codes = x.flatMap((v, i) => [v, 10 * (v + e[i]!), 3]);
    const r = computeGaussianTc(codes, 4, 3);
    expect(r.usedCodes).toEqual([0, 1]);
    expect(r.tc).toBeCloseTo(-0.5 * Math.log(1 - 0.5), 12);
    expect(computeGaussianTc([1, 2, 2, 4, 3, 6], 3, 2).tc).toBe(Infinity);
  });
});
