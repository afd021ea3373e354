import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/command.js';
import { evalCommand } from '../../../src/cli/commands/eval.js';
import { writeNpy } from '../../../src/core/io/npy.js';
import { defaultSplit, evaluateArrays } from '../../../src/core/metrics/evaluate.js';
import { METRICS } from '../../../src/core/metrics/registry.js';
import { Rng } from '../../../src/core/util/rng.js';
import { ParamSpec } from '../../../src/shared/params.js';
import { codesFrom, completeGrid } from './helpers.js';

const fast = {
  dci: { n_estimators: 5 },
  factor_vae: { num_train: 100, num_eval: 100, num_variance_estimate: 500 },
  beta_vae: { num_train: 100, num_eval: 100 },
};

function problem(seed: number) {
  const { factors, n } = completeGrid([3, 4, 5], 5); // 300 rows
  const rng = new Rng(seed);
  const codes = codesFrom(factors, n, 3, 4, ([a, b, c]) => [a! + 0.1 * rng.normal(), b! + 0.1 * rng.normal(), c! + 0.1 * rng.normal(), rng.normal()]);
  return { factors, codes, n };
}

describe('registry', () => {
  it('declares valid settings with the study defaults', () => {
    expect(METRICS.map((m) => m.id)).toEqual(['mig', 'dci', 'factor_vae', 'beta_vae', 'sap', 'modularity', 'explicitness', 'active_units', 'gaussian_tc']);
    for (const m of METRICS) for (const s of m.settings) expect(() => ParamSpec.parse(s)).not.toThrow();
    const get = (id: string, key: string) => METRICS.find((m) => m.id === id)!.settings.find((s) => s.key === key)!.default;
    expect(get('mig', 'num_bins')).toBe(20);
    expect(get('mig', 'num_train')).toBe(10000);
    expect(get('dci', 'num_test')).toBe(5000);
    expect(get('dci', 'n_estimators')).toBe(100);
    expect(get('dci', 'max_depth')).toBe(3);
    expect(get('dci', 'learning_rate')).toBe(0.1);
    expect(get('sap', 'c')).toBe(0.01);
    expect(get('factor_vae', 'batch_size')).toBe(64);
    expect(get('factor_vae', 'prune_threshold')).toBe(0.05);
    expect(get('factor_vae', 'num_variance_estimate')).toBe(10000);
    expect(get('beta_vae', 'num_eval')).toBe(5000);
  });
});

describe('evaluateArrays', () => {
  it('scores every metric with provenance, deterministically for a seed', async () => {
    const p = problem(1);
    const run = (seed: number) => evaluateArrays({ factors: p.factors, codes: p.codes, numFactors: 3, seed, settings: fast });
    const a = await run(3);
    expect(a.nTrain + a.nTest).toBe(300);
    expect(a.nTest).toBe(100);
    expect(a.factorSizes).toEqual([3, 4, 5]);
    expect(a.sampler).toMatch(/complete grid/);
    for (const s of a.scores) {
      expect(s.error).toBeUndefined();
      expect(s.value).not.toBeNull();
      expect(s.provenance.seed).toBe(3);
      expect(s.provenance.codesAreMeans).toBe(true);
      expect(s.provenance.estimator.length).toBeGreaterThan(10);
    }
    const mig = a.scores.find((s) => s.metric === 'mig')!;
    expect(mig.provenance.bins).toBe(20);
    expect(mig.provenance.samples).toEqual({ train: 200 });
    expect(a.scores.find((s) => s.metric === 'dci')!.provenance.settings.n_estimators).toBe(5);
    expect(a.scores.find((s) => s.metric === 'factor_vae')!.value).toBe(1);
    expect(a.scores.find((s) => s.metric === 'active_units')!.value).toBe(4);
    const strip = (r: typeof a) => r.scores.map((s) => [s.metric, s.scores]);
    expect(strip(await run(3))).toEqual(strip(a));
    // a metric's value does not depend on which others ran
    const only = await evaluateArrays({ factors: p.factors, codes: p.codes, numFactors: 3, seed: 3, settings: fast, metrics: ['beta_vae'] });
    expect(only.scores[0]!.scores).toEqual(a.scores.find((s) => s.metric === 'beta_vae')!.scores);
  });

  it('re-codes factor values to dense classes', async () => {
    const p = problem(2);
    const shifted = p.factors.map((v, i) => (i % 3 === 1 ? v * 10 - 7 : v));
    const a = await evaluateArrays({ factors: p.factors, codes: p.codes, numFactors: 3, seed: 1, metrics: ['mig', 'sap'] });
    const b = await evaluateArrays({ factors: shifted, codes: p.codes, numFactors: 3, seed: 1, metrics: ['mig', 'sap'] });
    expect(b.scores.map((s) => s.scores)).toEqual(a.scores.map((s) => s.scores));
  });

  it('refuses bad arrays with one clear line', async () => {
    const p = problem(3);
    const nan = p.codes.slice();
    nan[4 * 7 + 2] = NaN;
    await expect(evaluateArrays({ factors: p.factors, codes: nan, numFactors: 3 })).rejects.toThrow('codes contain NaN at row 7, column 2');
    await expect(evaluateArrays({ factors: p.factors, codes: p.codes.subarray(0, 8), numFactors: 3 })).rejects.toThrow(/codes have 8 values/);
    await expect(evaluateArrays({ factors: p.factors, codes: p.codes, numFactors: 3, metrics: ['nope'] })).rejects.toThrow(/unknown metric 'nope'/);
    await expect(evaluateArrays({ factors: p.factors, codes: p.codes, numFactors: 3, settings: { mig: { num_bins: 1 } }, metrics: ['mig'] })).rejects.toThrow(/num_bins/);
  });

  it('default split', () => {
    expect(defaultSplit(737280)).toEqual({ nTrain: 10000, nTest: 5000 });
    expect(defaultSplit(3000)).toEqual({ nTrain: 2000, nTest: 1000 });
  });
});

describe('dlab eval', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlab-eval-'));
  const write = (name: string, data: Parameters<typeof writeNpy>[0], shape: number[]) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, writeNpy(data, shape));
    return f;
  };
  const run = async (flags: Record<string, string | boolean>) => {
    const out: string[] = [];
    const err: string[] = [];
    const ctx: CliContext = {
      args: { positionals: [], flags },
      json: flags.json === true,
      tty: false,
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      labDir: () => Promise.reject(new Error('not needed')),
      openLab: () => Promise.reject(new Error('not needed')),
    };
    try {
      return { code: await evalCommand.run(ctx), out: out.join('\n'), error: '' };
    } catch (e) {
      return { code: -1, out: out.join('\n'), error: (e as Error).message };
    }
  };
  const p = problem(4);
  const F = write('f.npy', p.factors, [p.n, 3]);
  const Z = write('z.npy', Float32Array.from(p.codes), [p.n, 4]);

  it('prints scores and JSON', async () => {
    const r = await run({ factors: F, codes: Z, metrics: 'mig,modularity', json: true });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.scores.map((s: { metric: string }) => s.metric)).toEqual(['mig', 'modularity']);
    expect(j.scores[0].value).toBeGreaterThan(0.5);
    const t = await run({ factors: F, codes: Z, metrics: 'gaussian_tc' });
    expect(t.out).toMatch(/Gaussian total correlation\s+gaussian_tc/);
  });

  it('one-line errors for bad arrays', async () => {
    const short = write('short.npy', Float32Array.from(p.codes.subarray(0, 40)), [10, 4]);
    expect((await run({ factors: F, codes: short })).error).toBe('factors have 300 rows but codes have 10');
    const frac = write('frac.npy', Float64Array.from(p.factors, (v, i) => (i === 5 ? 0.5 : v)), [p.n, 3]);
    expect((await run({ factors: frac, codes: Z })).error).toBe('factors must be integers: 0.5 at row 1, column 2');
    const nanCodes = Float64Array.from(p.codes);
    nanCodes[9] = NaN;
    const nz = write('nan.npy', nanCodes, [p.n, 4]);
    expect((await run({ factors: F, codes: nz })).error).toBe('codes contain NaN at row 2, column 1');
    const junk = path.join(dir, 'junk.npy');
    fs.writeFileSync(junk, 'not an npy file at all');
    expect((await run({ factors: junk, codes: Z })).error).toMatch(/^factors file .*junk\.npy: not a \.npy file/);
    expect((await run({ factors: F, codes: Z, metrics: 'mig,xyz' })).error).toMatch(/unknown metric 'xyz'/);
    expect((await run({ codes: Z })).error).toMatch(/--factors/);
  });
});
