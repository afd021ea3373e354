import { describe, expect, it } from 'vitest';
import { aggregate, bootstrapDiffCi, bootstrapMeanCi, expandedAlpha, mean, welchExpansion, quantileSorted, sd, verdict, type Observation } from '../../../src/core/studies/aggregate.js';
import { Rng } from '../../../src/core/util/rng.js';

describe('seed statistics', () => {
  it('mean and sample sd (n − 1) on known numbers', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    // Σ(x − 2.5)² = 2.25 + 0.25 + 0.25 + 2.25 = 5; 5 / 3
    expect(sd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 14);
    expect(sd([0.2, 0.2, 0.2])).toBeCloseTo(0, 15);
    expect(Number.isNaN(sd([1]))).toBe(true);
  });

  it('quantiles interpolate linearly between order statistics (type 7)', () => {
    expect(quantileSorted([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantileSorted([1, 2, 3, 4, 5], 0.1)).toBeCloseTo(1.4, 14); // h = 0.4
    expect(quantileSorted([10, 20], 0.975)).toBeCloseTo(19.75, 12);
  });

  it('bootstrap CI of the mean: degenerate cases worked out by hand', () => {
    expect(bootstrapMeanCi([0.4], { rng: new Rng(1) })).toBeNull();
    expect(bootstrapMeanCi([0.3, 0.3, 0.3], { rng: new Rng(1) })).toEqual([0.3, 0.3]);
    // two values 0 and 1: a resample mean is 0 (p ¼), ½ (p ½) or 1 (p ¼), so the 2.5 % and 97.5 % quantiles are 0 and 1
    expect(bootstrapMeanCi([0, 1], { rng: new Rng(5), resamples: 4000 })).toEqual([0, 1]);
    expect(bootstrapDiffCi([1, 1, 1], [0, 0, 0], { rng: new Rng(2) })).toEqual([1, 1]);
    expect(bootstrapDiffCi([1], [0, 0], { rng: new Rng(2) })).toBeNull();
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const g = new Rng(1);
    const xs = Array.from({ length: 40 }, () => g.uniform(0, 1));
    const a = bootstrapMeanCi(xs, { rng: new Rng(7), resamples: 301 });
    expect(bootstrapMeanCi(xs, { rng: new Rng(7), resamples: 301 })).toEqual(a);
    expect(bootstrapMeanCi(xs, { rng: new Rng(8), resamples: 301 })).not.toEqual(a);
    expect(a![0]).toBeLessThan(mean(xs));
    expect(a![1]).toBeGreaterThan(mean(xs));
  });

  it('covers the true mean about 95 % of the time (seeded simulation)', () => {
    const data = new Rng(2021);
    const boot = new Rng(99);
    const mu = 0.3;
    let covered = 0;
    const reps = 300;
    for (let r = 0; r < reps; r++) {
      const xs = Array.from({ length: 25 }, () => mu + 0.1 * data.normal());
      const ci = bootstrapMeanCi(xs, { rng: boot, resamples: 400 })!;
      if (ci[0] <= mu && mu <= ci[1]) covered++;
    }
    expect(covered / reps).toBeGreaterThan(0.9);
    expect(covered / reps).toBeLessThan(0.99);
  });

  it('expanded percentile: α′ from t quantiles, worked out by hand', () => {
    // mean of n: Φ⁻¹(1 − α′/2) = t(0.975, n − 1)·√(n/(n − 1))
    // n = 3: t = 0.95/√(2·0.975·0.025) = 4.3026527 → z = 5.2696… → α′ = 1.3668e−7
    expect(expandedAlpha(0.05, 2, 3 / 2) / 1.3668274609e-7).toBeCloseTo(1, 4);
    // n = 10: t(0.975, 9) = 2.2621572 → z = 2.3845… → α′ = 0.0171013
    expect(expandedAlpha(0.05, 9, 10 / 9)).toBeCloseTo(0.0171013, 6);
    // no spread: nothing to expand
    expect(expandedAlpha(0.05, NaN, NaN)).toBe(0.05);
    // a = [1, 2, 3], b = [0, 0, 3]: s²/n = 1/3 and 1; Welch ν = (4/3)² / ((1/3)²/2 + 1²/2) = 3.2;
    // unbiased/plug-in variance = (4/3) / ((1/3)(2/3) + (2/3)) = 1.5
    const w = welchExpansion([1, 2, 3], [0, 0, 3]);
    expect(w.df).toBeCloseTo(3.2, 12);
    expect(w.varianceRatio).toBeCloseTo(1.5, 12);
  });

  it('at 3 seeds per group the difference interval keeps close to its level (seeded simulation)', () => {
    // the plain percentile interval covered ≈ 82 % here; the bootstrap of 3 values cannot reach 95 %
    // (its support is bounded by the groups' ranges), the expanded one gets ≈ 90 %
    const data = new Rng(7);
    const boot = new Rng(8);
    let covered = 0;
    const reps = 400;
    for (let r = 0; r < reps; r++) {
      const a = Array.from({ length: 3 }, () => 0.2 + 0.05 * data.normal());
      const b = Array.from({ length: 3 }, () => 0.1 + 0.05 * data.normal());
      const ci = bootstrapDiffCi(a, b, { rng: boot, resamples: 500 })!;
      if (ci[0] <= 0.1 && 0.1 <= ci[1]) covered++;
    }
    expect(covered / reps).toBeGreaterThan(0.86);
    expect(covered / reps).toBeLessThan(0.97);
  });
});

describe('verdicts', () => {
  it('follow the stated rule', () => {
    expect(verdict('drop', 3, 3, [0.1, 0.3]).verdict).toBe('reproduced');
    expect(verdict('drop', 3, 3, [-0.3, -0.1]).verdict).toBe('not_reproduced');
    expect(verdict('drop', 3, 3, [-0.1, 0.2]).verdict).toBe('inconclusive');
    expect(verdict('drop', 3, 3, [0, 0.2]).verdict).toBe('inconclusive'); // a CI touching 0 does not exclude it
    expect(verdict('drop', 1, 3, null).verdict).toBe('insufficient_data');
    expect(verdict('drop', 2, 3, [0.1, 0.3]).verdict).toBe('insufficient_data'); // a CI from 2 runs is not evidence
    expect(verdict('no_drop', 3, 3, [0.05, 0.2]).verdict).toBe('not_reproduced');
    expect(verdict('no_drop', 3, 3, [-0.05, 0.2]).verdict).toBe('reproduced');
    expect(verdict('no_drop', 3, 3, [-0.3, -0.1]).verdict).toBe('reproduced');
    expect(verdict('none', 3, 3, [0.1, 0.3]).verdict).toBe('no_claim');
  });

  it('test a claim of no drop only once the original reaches half the paper\'s value', () => {
    // 0.104 < 0.5 × 0.21 = 0.105: the premise fails, the verdict stays open; 0.106 meets it
    const low = verdict('no_drop', 3, 3, [-0.02, 0.05], { original: 0.104, paper: 0.21 });
    expect(low.verdict).toBe('inconclusive');
    expect(low.reason).toMatch(/original scores 0\.104, below half the paper's 0\.210/);
    expect(verdict('no_drop', 3, 3, [-0.02, 0.05], { original: 0.106, paper: 0.21 }).verdict).toBe('reproduced');
    // a significant drop is one whatever the level, and a claimed drop ignores the premise
    expect(verdict('no_drop', 3, 3, [0.01, 0.05], { original: 0.04, paper: 0.21 }).verdict).toBe('not_reproduced');
    expect(verdict('drop', 3, 3, [0.01, 0.05], { original: 0.04, paper: 0.21 }).verdict).toBe('reproduced');
  });
});

describe('aggregate', () => {
  const obs = (method: string, dataset: string, variant: string, values: number[], sig = 's'): Observation[] =>
    values.map((value, seed) => ({ method, dataset, variant, seed, runId: `${method}-${variant}-${seed}`, value, signature: sig }));
  const data = [
    ...obs('beta_vae', 'dsprites', 'original', [0.3, 0.32, 0.31]),
    ...obs('beta_vae', 'dsprites', 'manipulated', [0.05, 0.06, 0.07]),
    ...obs('beta_vae', 'dsprites', 'noise', [0.25, 0.27, 0.26]),
    ...obs('pcl', 'dsprites', 'original', [0.2, 0.21, 0.22]),
    ...obs('pcl', 'dsprites', 'manipulated', [0.2, 0.22, 0.21]),
    ...obs('ae', 'dsprites', 'original', [0.1, 0.05]),
    ...obs('ae', 'dsprites', 'manipulated', [0.04]),
  ];
  const r = aggregate(data, { studyId: 's1', name: 'x', metric: 'mig', resamples: 1000, seed: 3, now: 'T' });

  it('groups by method × dataset × variant with mean, sd and N', () => {
    const g = r.groups.find((x) => x.method === 'beta_vae' && x.variant === 'manipulated')!;
    expect(g.n).toBe(3);
    expect(g.mean).toBeCloseTo(0.06, 14);
    expect(g.sd).toBeCloseTo(0.01, 14);
    expect(g.seeds).toEqual([0, 1, 2]);
    expect(g.ci![0]).toBeGreaterThanOrEqual(0.05);
    expect(g.ci![1]).toBeLessThanOrEqual(0.07);
    const ae = r.groups.find((x) => x.method === 'ae' && x.variant === 'manipulated')!;
    expect(ae.sd).toBeNull();
    expect(ae.ci).toBeNull();
  });

  it('differences, published numbers side by side, verdicts', () => {
    const c = r.comparisons.find((x) => x.method === 'beta_vae' && x.contrast === 'original−manipulated')!;
    expect(c.diff).toBeCloseTo(0.31 - 0.06, 14);
    expect(c.expected).toBe('drop');
    expect(c.verdict).toBe('reproduced');
    expect(c.published).toEqual({ a: 0.23, b: 0.07, diff: 0.16 });
    const nm = r.comparisons.find((x) => x.method === 'beta_vae' && x.contrast === 'noise−manipulated')!;
    expect(nm.diff).toBeCloseTo(0.26 - 0.06, 14);
    expect(nm.verdict).toBe('reproduced');
    expect(r.comparisons.find((x) => x.method === 'beta_vae' && x.contrast === 'original−noise')!.verdict).toBe('no_claim');
    const p = r.comparisons.find((x) => x.method === 'pcl' && x.contrast === 'original−manipulated')!;
    expect(p.diff).toBeCloseTo(0, 14);
    expect(p.expected).toBe('no_drop');
    expect(p.verdict).toBe('reproduced');
    expect(r.comparisons.find((x) => x.method === 'ae')!.verdict).toBe('no_claim');
    // PCL that has not disentangled (mean 0.04 of the paper's 0.21) gets no verdict on its claim
    const low = aggregate([...obs('pcl', 'dsprites', 'original', [0.03, 0.04, 0.05]), ...obs('pcl', 'dsprites', 'manipulated', [0.03, 0.04, 0.05])], { studyId: 's', name: 'x', metric: 'mig', resamples: 500 });
    expect(low.comparisons.find((x) => x.contrast === 'original−manipulated')!.verdict).toBe('inconclusive');
    // without a published value (another metric) the rule is the plain one
    const dci = aggregate([...obs('pcl', 'dsprites', 'original', [0.03, 0.04, 0.05]), ...obs('pcl', 'dsprites', 'manipulated', [0.03, 0.04, 0.05])], { studyId: 's', name: 'x', metric: 'dci', resamples: 500 });
    expect(dci.comparisons.find((x) => x.contrast === 'original−manipulated')!.verdict).toBe('reproduced');
    expect(r.published!.note).toBe('transcribed — verify before citing');
    expect(r.published!.cells.find((x) => x.method === 'pcl' && x.variant === 'manipulated' && x.dataset === 'dsprites')).toMatchObject({ mean: 0.24, sd: 0.07 });
  });

  it('is deterministic for a seed and warns about mixed score settings', () => {
    expect(aggregate(data, { studyId: 's1', name: 'x', metric: 'mig', resamples: 1000, seed: 3, now: 'T' })).toEqual(r);
    expect(r.warnings).toEqual([]);
    const mixed = aggregate([...data, ...obs('beta_vae', 'shapes3d', 'original', [0.5, 0.6], 'other')], { studyId: 's', name: 'x', metric: 'mig' });
    expect(mixed.warnings.join(' ')).toMatch(/2 different settings/);
    expect(aggregate(data, { studyId: 's', name: 'x', metric: 'dci' }).published).toBeNull();
  });
});
