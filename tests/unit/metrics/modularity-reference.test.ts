/**
 * Modularity against an independent reference, and the two input choices
 * that move it on uninformative codes while MIG stays put.
 *
 * The reference values below were printed by
 * `scripts/reference/modularity_reference.py` (numpy 1.24 + scikit-learn 1.2:
 * np.histogram/np.digitize and sklearn.metrics.mutual_info_score, written from
 * the definition) on the fixtures of `modularity-fixtures.ts`, dumped as .npy:
 *   /usr/bin/python3 scripts/reference/modularity_reference.py F.npy Z.npy
 *
 * What this pins (issue: "ours ≈ 0.04 above disentanglement_lib's
 * modularity_explicitness on random codes while MIG agrees"): with the same
 * rows and the same factor columns the lab's modularity is the reference's to
 * 1e-12, float32 near-constant and constant codes included. On codes that
 * carry no information modularity is not ≈ 0: every MI entry is the plug-in
 * bias ≈ (bins − 1)(k_j − 1)/(2N), so the score tends to
 * 1 − (Σ_j (k_j−1)² − max_j (k_j−1)²)/(max_j (k_j−1)²·(K − 1)) — 0.6793 for
 * dSprites' 3×6×40×32×32 — and it moves with the inputs: a constant factor
 * column (dSprites' colour) multiplies each code's 1 − m by (K−1)/K (+0.06
 * here), and another draw of rows moves it by ≈ 0.015 (sd), while MIG on the
 * same codes stays at ≈ 0.00x and ignores a constant factor.
 */
import { describe, expect, it } from 'vitest';
import { computeMig } from '../../../src/core/metrics/mig.js';
import { modularityFromMatrix } from '../../../src/core/metrics/modularity.js';
import { discretizedMutualInfo } from '../../../src/core/metrics/stats.js';
import { collapsedCodes, DSPRITES_SIZES, randomCodes, type ModularityFixture } from './modularity-fixtures.js';

function ours(f: ModularityFixture) {
  const K = f.factorSizes.length;
  return modularityFromMatrix(discretizedMutualInfo(f.codes, f.factors, f.rows, f.numCodes, K, 20), f.numCodes, K);
}

/** The same rows and codes with one more factor column that never changes. */
function withConstantFactor(f: ModularityFixture): ModularityFixture {
  const K = f.factorSizes.length;
  const factors = new Int32Array(f.rows * (K + 1));
  for (let i = 0; i < f.rows; i++) for (let k = 0; k < K; k++) factors[i * (K + 1) + k] = f.factors[i * K + k]!;
  return { ...f, factorSizes: [...f.factorSizes, 1], factors };
}

describe('modularity against the numpy + scikit-learn reference', () => {
  it('random codes, 3,000 rows, dSprites factors: per code and mean', () => {
    const r = ours(randomCodes(3000));
    const ref = [0.7353821445379559, 0.7311369132599859, 0.6998154810883782, 0.7000460289533756, 0.6765624772916415, 0.7156032284268066, 0.6924058071140375, 0.63055329763688, 0.6621482933100002, 0.7671815925552868];
    r.perCode.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 11));
    expect(r.modularity).toBeCloseTo(0.7010835264174349, 11);
  });

  it('float32 codes of a collapsed model (constant, float32-resolution, outlier, informative, tiny-range)', () => {
    const r = ours(collapsedCodes(3000));
    const ref = [0, 0.4397381448769605, 0.45301073229736244, 0.8898050145119556, 0.741491318673126, 0.6936267884382343];
    r.perCode.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 11));
    expect(r.modularity).toBeCloseTo(0.5362786664662732, 11);
  });

  it('random codes with a sixth factor that never changes', () => {
    expect(ours(randomCodes(3000, [...DSPRITES_SIZES, 1])).modularity).toBeCloseTo(0.7436455418109934, 11);
  });
});

describe('what moves modularity on uninformative codes', () => {
  it('a constant factor column scales each 1 − m by (K−1)/K; MIG ignores it', () => {
    const f = randomCodes(3000);
    const a = ours(f);
    const b = ours(withConstantFactor(f));
    const K = 5;
    a.perCode.forEach((m, i) => expect(1 - b.perCode[i]!).toBeCloseTo(((1 - m) * (K - 1)) / K, 12));
    expect(b.modularity - a.modularity).toBeCloseTo((1 - a.modularity) / K, 12);
    expect(b.modularity - a.modularity).toBeGreaterThan(0.05);
    const g = withConstantFactor(f);
    const migA = computeMig(f.codes as Float64Array, f.factors, f.rows, f.numCodes, 5).mig;
    const migB = computeMig(g.codes as Float64Array, g.factors, g.rows, g.numCodes, 6).mig;
    expect(migB).toBeCloseTo(migA, 14);
    expect(migA).toBeLessThan(0.01);
  });

  it('tends to the plug-in-bias value set by the factor sizes (hand: 0.6793 for dSprites), and another draw of rows moves it by ≈ 0.01–0.02', () => {
    // (k−1)² for 3, 6, 40, 32, 32: 4, 25, 1521, 961, 961; Σ = 3472; 1 − (3472 − 1521)/(1521·4) = 0.67932
    const limit = 1 - (3472 - 1521) / (1521 * 4);
    expect(limit).toBeCloseTo(0.67932, 5);
    const xs = [1, 2, 3, 4, 5, 6].map((seed) => ours(randomCodes(10000, DSPRITES_SIZES, 10, seed)).modularity);
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    expect(Math.abs(mean - limit)).toBeLessThan(0.015);
    expect(sd).toBeGreaterThan(0.005);
    expect(sd).toBeLessThan(0.03);
  });
});
