/**
 * The noise-cancelling (cross-replica) estimator of the variance structure,
 * on a synthetic dataset whose answer is known by hand.
 *
 * Two factors on a 32×32 grid; 8×8 images of 64 pixels; u = the first 32
 * pixels (each 1), v = the last 32. Image of classes (f1, f2), rotated by θ:
 *   x = (cos θ·f1 − sin θ·f2)·a·u + (sin θ·f1 + cos θ·f2)·b·v,  a = 0.2, b = 0.1.
 * The step differences are exact: J1 = a cos θ u + b sin θ v,
 * J2 = −a sin θ u + b cos θ v, so G = JᵀJ = Rᵀ diag(a², b²)·32·R with
 * eigenvalues λ1 = 32a² = 1.28, λ2 = 32b² = 0.32 and eigenvectors the columns
 * of R: alignment distance 2√2·sin(θ/2) (θ ≤ 45°); 0 for θ = 0.
 *
 * Noise: every image gets i.i.d. U[−ε, ε] per pixel, ε = 0.1 (σ² = ε²/3).
 *   - Within one rendering, E[<d_k, d_l>] gains σ²P(1 + δ_kl): off the diagonal
 *     σ²·64 = 0.213, against an eigengap of 0.96 — the directions turn by
 *     ½·atan(2·0.213/0.96) ≈ 0.21 rad (distance ≈ 0.3).
 *   - Across two independent draws the noise products have mean 0 and, per
 *     entry and sample, standard deviation 2σ²√P = 0.0533; over N = 400
 *     samples 0.00267. Six of those (0.016) over the eigengap bounds the turn
 *     of the directions: φ ≤ 0.016/0.96 = 0.0167 rad, and the distance moves
 *     by at most √2·φ = 0.024.
 */
import { describe, expect, it } from 'vitest';
import { varianceStructure } from '../../../src/core/analysis/variance.js';
import { indexToFactors } from '../../../src/core/datasets/grid.js';
import type { GroundTruthDataset } from '../../../src/core/datasets/types.js';
import { Rng } from '../../../src/core/util/rng.js';

const A = 0.2;
const B = 0.1;
const EPS = 0.1;
const N = 400;
const BOUND = 0.024;

function synthetic(theta: number, noiseSeed: number | null): GroundTruthDataset {
  const sizes = [32, 32];
  return {
    info: {
      id: `synthetic-${theta}-${noiseSeed}`,
      name: 'synthetic',
      description: '',
      factors: sizes.map((size, i) => ({ name: `f${i}`, size, cyclic: false })),
      count: 1024,
      imageShape: [8, 8, 1],
      source: 'procedural',
      approximation: false,
      binary: false,
      provenance: 'test',
    },
    render(index, out, offset = 0) {
      const [f1, f2] = indexToFactors(sizes, index) as [number, number];
      const p = (Math.cos(theta) * f1 - Math.sin(theta) * f2) * A;
      const q = (Math.sin(theta) * f1 + Math.cos(theta) * f2) * B;
      const rng = noiseSeed === null ? null : new Rng(noiseSeed).fork(`image:${index}`);
      for (let j = 0; j < 64; j++) out[offset + j] = (j < 32 ? p : q) + (rng ? rng.uniform(-EPS, EPS) : 0);
    },
  };
}

const expected = (theta: number) => 2 * Math.SQRT2 * Math.sin(theta / 2);

describe('variance structure: per-image noise cancelled across replicas', () => {
  it('clean data: the distance is the rotation’s, 2√2·sin(θ/2)', () => {
    expect(varianceStructure(synthetic(0, null), { samples: N }).alignmentDistance).toBeCloseTo(0, 6);
    expect(varianceStructure(synthetic(Math.PI / 6, null), { samples: N }).alignmentDistance).toBeCloseTo(expected(Math.PI / 6), 4);
  });

  for (const theta of [0, Math.PI / 6]) {
    it(`θ = ${theta.toFixed(3)}: noise of ε = ${EPS} moves the cross-replica distance by less than ${BOUND}, the single-rendering one by far more`, () => {
      const noisy = synthetic(theta, 1);
      const replica = synthetic(theta, 2);
      const cross = varianceStructure(noisy, { samples: N, replica });
      const single = varianceStructure(noisy, { samples: N });
      expect(cross.estimator).toBe('cross-replica');
      expect(single.estimator).toBe('single');
      expect(Math.abs(cross.alignmentDistance - expected(theta))).toBeLessThan(BOUND);
      expect(Math.abs(single.alignmentDistance - expected(theta))).toBeGreaterThan(0.15);
      // the Gram itself is unbiased: the off-diagonal entry is within 6σ of the clean one
      const clean = varianceStructure(synthetic(theta, null), { samples: N });
      expect(Math.abs(cross.gram[0]![1]! - clean.gram[0]![1]!)).toBeLessThan(0.016);
    });
  }

  it('a replica on another grid is refused', () => {
    const other: GroundTruthDataset = { ...synthetic(0, 2), info: { ...synthetic(0, 2).info, factors: [{ name: 'f', size: 1024, cyclic: false }] } };
    expect(() => varianceStructure(synthetic(0, 1), { samples: 10, replica: other })).toThrow(/another factor grid/);
  });
});
