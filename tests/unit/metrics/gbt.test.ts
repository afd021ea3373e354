import { describe, expect, it } from 'vitest';
import { fitGbt, fitRegressionTree, gbtPredict, gbtRaw, presort } from '../../../src/core/metrics/gbt.js';
import { Rng } from '../../../src/core/util/rng.js';

/** Reference: greedy regression tree by exhaustive search over every feature and every midpoint, on index subsets. */
function bruteTree(X: number[][], r: number[], idx: number[], depth: number, maxDepth: number, imp: number[], leaves: number[][], n: number, tied: { gain: number }): void {
  const sse = (ids: number[]) => {
    const m = ids.reduce((s, i) => s + r[i]!, 0) / ids.length;
    return ids.reduce((s, i) => s + (r[i]! - m) ** 2, 0);
  };
  if (depth >= maxDepth || idx.length < 2 || sse(idx) / idx.length <= 2.220446049250313e-16) { leaves.push(idx); return; }
  let best = { gain: -Infinity, f: -1, t: 0, ties: 0 };
  const d = X[0]!.length;
  for (let f = 0; f < d; f++) {
    const vals = [...new Set(idx.map((i) => X[i]![f]!))].sort((a, b) => a - b);
    for (let v = 1; v < vals.length; v++) {
      const t = (vals[v - 1]! + vals[v]!) / 2;
      const L = idx.filter((i) => X[i]![f]! <= t);
      const R = idx.filter((i) => X[i]![f]! > t);
      const gain = sse(idx) - sse(L) - sse(R);
      if (gain > best.gain + 1e-12) best = { gain, f, t, ties: 1 };
      else if (Math.abs(gain - best.gain) <= 1e-12 && f !== best.f) best.ties++;
    }
  }
  if (best.f < 0) { leaves.push(idx); return; }
  imp[best.f]! += best.gain / n;
  // several features give this very split: sklearn (and we) pick one at random
  if (best.ties > 1) tied.gain += best.gain / n;
  bruteTree(X, r, idx.filter((i) => X[i]![best.f]! <= best.t), depth + 1, maxDepth, imp, leaves, n, tied);
  bruteTree(X, r, idx.filter((i) => X[i]![best.f]! > best.t), depth + 1, maxDepth, imp, leaves, n, tied);
}

const partitionKey = (groups: number[][]) => groups.map((g) => [...g].sort((a, b) => a - b).join(',')).sort().join(' | ');

describe('regression tree', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`matches an exhaustive greedy split search (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const n = 14, d = 3;
      // values on a coarse float32-exact grid so both sides see the same numbers; ties inside a feature included
      const X = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.int(9) / 8));
      const r = Array.from({ length: n }, () => rng.normal());
      for (const maxDepth of [1, 2, 3]) {
        const imp = new Array<number>(d).fill(0);
        const leaves: number[][] = [];
        const tied = { gain: 0 };
        bruteTree(X, r, Array.from({ length: n }, (_, i) => i), 0, maxDepth, imp, leaves, n, tied);
        const data = presort(X.flat(), n, d);
        const got = new Float64Array(d);
        const leafOf = new Int32Array(n);
        const tree = fitRegressionTree(data, Float64Array.from(r), maxDepth, new Rng(seed + 100), got, leafOf);
        const groups = new Map<number, number[]>();
        leafOf.forEach((l, i) => groups.set(l, [...(groups.get(l) ?? []), i]));
        expect(partitionKey([...groups.values()])).toBe(partitionKey(leaves));
        // same total importance; per feature the same up to splits that several features make identically
        expect(got.reduce((a, b) => a + b, 0)).toBeCloseTo(imp.reduce((a, b) => a + b, 0), 12);
        let dev = 0;
        for (let f = 0; f < d; f++) dev += Math.abs(got[f]! - imp[f]!);
        expect(dev).toBeLessThanOrEqual(2 * tied.gain + 1e-12);
        if (tied.gain === 0) for (let f = 0; f < d; f++) expect(got[f]).toBeCloseTo(imp[f]!, 12);
        // leaf values are the target means
        for (const [leaf, ids] of groups) expect(tree.value[leaf]).toBeCloseTo(ids.reduce((s, i) => s + r[i]!, 0) / ids.length, 12);
      }
    });
  }

  it('does not split a node whose targets are all equal', () => {
    const data = presort([0, 1, 2, 3], 4, 1);
    const imp = new Float64Array(1);
    const tree = fitRegressionTree(data, Float64Array.from([0.5, 0.5, 0.5, 0.5]), 3, new Rng(1), imp, new Int32Array(4));
    expect(tree.nodeCount).toBe(1);
    expect(imp[0]).toBe(0);
  });
});

describe('gradient-boosted classifier', () => {
  it('first stage follows the prior and the Newton leaf step (3 classes, one split)', () => {
    // one feature; classes 0,0,1,1,2,2 at x = 0…5 (priors 1/3 each)
    const x = [0, 1, 2, 3, 4, 5];
    const y = [0, 0, 1, 1, 2, 2];
    const m = fitGbt(presort(x, 6, 1), y, new Rng(1), { nEstimators: 1, maxDepth: 1, learningRate: 0.1 });
    // residuals for class k: 1[y=k] − 1/3. Class 0: best split x ≤ 1.5 (residuals 2/3,2/3 | −1/3 ×4)
    // Newton: (K−1)/K · Σr / Σ p(1−p) with p = 1/3: left (2/3) · (4/3)/(2·2/9) = 2, right (2/3)·(−4/3)/(4·2/9) = −1
    // Class 2 symmetric: x ≤ 3.5 → −1, else 2. Class 1: residuals −1/3,−1/3,2/3,2/3,−1/3,−1/3 — best single split
    // separates one outer pair: both give equal gain; either way the middle pair gets a positive leaf.
    const raw = gbtRaw(m, x, 6);
    const prior = Math.log(1 / 3);
    expect(raw[0 * 3 + 0]).toBeCloseTo(prior + 0.1 * 2, 12);
    expect(raw[5 * 3 + 0]).toBeCloseTo(prior + 0.1 * -1, 12);
    expect(raw[0 * 3 + 2]).toBeCloseTo(prior + 0.1 * -1, 12);
    expect(raw[5 * 3 + 2]).toBeCloseTo(prior + 0.1 * 2, 12);
    expect(Array.from(gbtPredict(m, x, 6)).slice(0, 2)).toEqual([0, 0]);
    expect(Array.from(gbtPredict(m, x, 6)).slice(4)).toEqual([2, 2]);
  });

  it('binary problems use one tree per stage with the log-odds prior', () => {
    const x = [0, 1, 2, 3];
    const y = [0, 1, 1, 1];
    const m = fitGbt(presort(x, 4, 1), y, new Rng(1), { nEstimators: 1, maxDepth: 1, learningRate: 0.5 });
    expect(m.rows).toBe(1);
    const p = 0.75, prior = Math.log(p / (1 - p));
    // split x ≤ 0.5: left residual 0 − 0.75, right 1 − 0.75 each; leaf = Σr / Σ p(1−p)
    const left = -0.75 / (p * (1 - p));
    const right = (3 * 0.25) / (3 * p * (1 - p));
    const raw = gbtRaw(m, x, 4);
    expect(raw[0]).toBeCloseTo(prior + 0.5 * left, 12);
    expect(raw[3]).toBeCloseTo(prior + 0.5 * right, 12);
    expect(Array.from(gbtPredict(m, x, 4))).toEqual([0, 1, 1, 1]);
  });

  it('importances sum to 1 and go to the informative feature; separable data is learnt', () => {
    const rng = new Rng(7);
    const n = 600, d = 4;
    const X = new Float64Array(n * d);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = rng.int(4);
      for (let f = 0; f < d; f++) X[i * d + f] = rng.normal();
      X[i * d + 2] = y[i]! + 0.2 * rng.normal();
    }
    const m = fitGbt(presort(X, n, d), y, new Rng(3), { nEstimators: 30 });
    const s = m.featureImportances.reduce((a, b) => a + b, 0);
    expect(s).toBeCloseTo(1, 12);
    expect(m.featureImportances[2]).toBeGreaterThan(0.9);
    let hit = 0;
    for (let i = 0; i < n; i++) if (m.trainPredictions[i] === y[i]) hit++;
    expect(hit / n).toBeGreaterThan(0.97);
    // predicting the training rows again gives the same labels
    expect(Array.from(gbtPredict(m, X, n))).toEqual(Array.from(m.trainPredictions));
  });

  it('splits identical features at random, sharing their importance', () => {
    const rng = new Rng(21);
    const n = 300;
    const X = new Float64Array(n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = rng.normal();
      X[i * 2] = v;
      X[i * 2 + 1] = v;
      y[i] = v + 0.5 * rng.normal() > 0 ? 1 : 0;
    }
    const m = fitGbt(presort(X, n, 2), y, new Rng(2), { nEstimators: 40 });
    expect(m.featureImportances[0]).toBeGreaterThan(0.25);
    expect(m.featureImportances[1]).toBeGreaterThan(0.25);
  });

  it('is deterministic for a seed', () => {
    const rng = new Rng(9);
    const n = 200, d = 3;
    const X = new Float64Array(n * d).map(() => rng.normal());
    const y = Int32Array.from({ length: n }, (_, i) => (X[i * d]! > 0 ? 1 : 0) + (X[i * d + 1]! > 0.5 ? 1 : 0));
    const a = fitGbt(presort(X, n, d), y, new Rng(5), { nEstimators: 10 });
    const b = fitGbt(presort(X, n, d), y, new Rng(5), { nEstimators: 10 });
    expect(Array.from(a.featureImportances)).toEqual(Array.from(b.featureImportances));
  });
});
