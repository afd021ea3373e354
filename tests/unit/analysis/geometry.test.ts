import { describe, expect, it } from 'vitest';
import { distanceToOrthogonality, jacobianDistance, polarisedRegime } from '../../../src/core/analysis/geometry.js';

/** J = B·diag(s)·R(θ): B has orthonormal columns e0, e2 in R⁴, so V = R(θ)ᵀ. */
function rotatedJacobian(theta: number, s1: number, s2: number, extraZeroColumn = false) {
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const R = [[c, -s], [s, c]];
  const cols = extraZeroColumn ? 3 : 2;
  const data = new Float64Array(4 * cols);
  // row 0 = s1·R[0], row 2 = s2·R[1]
  for (let j = 0; j < 2; j++) {
    data[0 * cols + j] = s1 * R[0]![j]!;
    data[2 * cols + j] = s2 * R[1]![j]!;
  }
  return { rows: 4, cols, data };
}

describe('distance to orthogonality', () => {
  it('is 0 for Jacobians with orthogonal, axis-aligned columns (any scales, any order)', () => {
    const J1 = { rows: 6, cols: 3, data: new Float64Array(18) };
    J1.data[0 * 3 + 0] = 2;
    J1.data[3 * 3 + 1] = 0.5;
    J1.data[5 * 3 + 2] = -1;
    // orthogonal but not axis-aligned in pixel space: columns (1,1,0,0) and (1,−1,0,0)·3
    const J2 = { rows: 4, cols: 2, data: new Float64Array([1, 3, 1, -3, 0, 0, 0, 0]) };
    const r = distanceToOrthogonality([J1, J2]);
    expect(r.perSample[0]).toBeCloseTo(0, 12);
    expect(r.perSample[1]).toBeCloseTo(0, 12);
    expect(r.mean).toBeCloseTo(0, 12);
    expect(r.singularValues[0]).toEqual([2, 1, 0.5]);
  });

  it('matches the hand value √(4 − 4 cos θ) for a rotation θ of the latents', () => {
    for (const deg of [10, 20, 35]) {
      const th = (deg * Math.PI) / 180;
      const d = jacobianDistance(rotatedJacobian(th, 3, 1));
      expect(d.distance).toBeCloseTo(Math.sqrt(4 - 4 * Math.cos(th)), 10);
      expect(d.singularValues[0]).toBeCloseTo(3, 12);
      expect(d.singularValues[1]).toBeCloseTo(1, 12);
    }
  });

  it('averages over samples and can be restricted to chosen latents', () => {
    const a = (10 * Math.PI) / 180;
    const b = (30 * Math.PI) / 180;
    const r = distanceToOrthogonality([rotatedJacobian(a, 2, 1, true), rotatedJacobian(b, 2, 1, true)], { latents: [0, 1] });
    const da = Math.sqrt(4 - 4 * Math.cos(a));
    const db = Math.sqrt(4 - 4 * Math.cos(b));
    expect(r.mean).toBeCloseTo((da + db) / 2, 10);
    expect(r.std).toBeCloseTo(Math.abs(da - db) / 2, 10);
    expect(r.latents).toEqual([0, 1]);
  });
});

describe('polarised regime', () => {
  it('splits latents into active, passive and mixed by the stated thresholds', () => {
    const n = 100;
    const d = 3;
    const mu = new Float64Array(n * d);
    const logvar = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      mu[i * d] = i % 2 === 0 ? 1 : -1; // std 1 → active
      logvar[i * d] = Math.log(0.01);
      mu[i * d + 1] = i % 2 === 0 ? 0.01 : -0.01; // ≈ 0, σ² ≈ 1 → passive
      logvar[i * d + 1] = Math.log(0.98);
      mu[i * d + 2] = i % 2 === 0 ? 0.3 : -0.3; // std 0.3, σ² 0.5 → mixed
      logvar[i * d + 2] = Math.log(0.5);
    }
    const r = polarisedRegime({ n, d, mu, logvar });
    expect(r.active).toEqual([0]);
    expect(r.passive).toEqual([1]);
    expect(r.mixed).toEqual([2]);
    expect(r.latents[0]!.muStd).toBeCloseTo(1, 12);
    expect(r.latents[2]!.muStd).toBeCloseTo(0.3, 12);
    expect(r.latents[1]!.meanSigma2).toBeCloseTo(0.98, 12);
    expect(r.latents[0]!.muMean).toBeCloseTo(0, 12);
  });
});
