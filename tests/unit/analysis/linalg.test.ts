import { describe, expect, it } from 'vitest';
import {
  cholesky,
  choleskySolveInPlace,
  fromRows,
  hungarian,
  matmul,
  nearestSignedPermutation,
  svd,
  symmetricEigen,
  transpose,
  toRows,
  mat,
} from '../../../src/core/analysis/linalg.js';
import { Rng } from '../../../src/core/util/rng.js';

const close = (a: number[][], b: number[][], digits = 10) =>
  a.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(b[i]![j]!, digits)));

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  return out;
}

describe('symmetricEigen', () => {
  it('2×2 [[2,1],[1,2]]: eigenvalues 3, 1 with eigenvectors (1,1)/√2, (1,−1)/√2', () => {
    const e = symmetricEigen(fromRows([[2, 1], [1, 2]]));
    expect(e.values[0]).toBeCloseTo(3, 12);
    expect(e.values[1]).toBeCloseTo(1, 12);
    const r = Math.SQRT1_2;
    close(toRows(e.vectors), [[r, r], [r, -r]], 12);
  });

  it('3×3 with a known spectrum: A = Q diag(5, 2, −1) Qᵀ for a hand-built orthogonal Q', () => {
    // Q: rotation by 30° in the (0,1) plane
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    const Q = fromRows([[c, -s, 0], [s, c, 0], [0, 0, 1]]);
    const L = fromRows([[5, 0, 0], [0, 2, 0], [0, 0, -1]]);
    const A = matmul(matmul(Q, L), transpose(Q));
    const e = symmetricEigen(A);
    expect(Array.from(e.values).map((v) => +v.toFixed(10))).toEqual([5, 2, -1]);
    // eigenvector of 5 is Q's first column (sign fixed: largest entry positive)
    close([Array.from({ length: 3 }, (_, i) => e.vectors.data[i * 3]!)], [[c, s, 0]], 10);
    // A V = V Λ and VᵀV = I
    const AV = matmul(A, e.vectors);
    for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) expect(AV.data[i * 3 + k]).toBeCloseTo(e.values[k]! * e.vectors.data[i * 3 + k]!, 10);
    close(toRows(matmul(transpose(e.vectors), e.vectors)), [[1, 0, 0], [0, 1, 0], [0, 0, 1]], 12);
  });
});

describe('svd', () => {
  it('[[1,1],[0,1]] has singular values φ and 1/φ (golden ratio) and reconstructs', () => {
    const A = fromRows([[1, 1], [0, 1]]);
    const { u, s, v } = svd(A);
    const phi = (1 + Math.sqrt(5)) / 2;
    expect(s[0]).toBeCloseTo(phi, 12);
    expect(s[1]).toBeCloseTo(1 / phi, 12);
    const S = fromRows([[s[0]!, 0], [0, s[1]!]]);
    close(toRows(matmul(matmul(u, S), transpose(v))), [[1, 1], [0, 1]], 12);
  });

  it('tall matrix with orthogonal columns of norms 3 and 4: values 4, 3 and V a permutation', () => {
    const A = fromRows([[3, 0], [0, 0], [0, 4], [0, 0]]);
    const { s, v, u } = svd(A);
    expect(Array.from(s)).toEqual([4, 3]);
    close(toRows(v), [[0, 1], [1, 0]], 14);
    close(toRows(u), [[0, 1], [0, 0], [1, 0], [0, 0]], 14);
  });

  it('wide matrix: decomposes the transpose', () => {
    const A = fromRows([[2, 0, 0], [0, 0, -5]]);
    const { s, u, v } = svd(A);
    expect(Array.from(s)).toEqual([5, 2]);
    const S = fromRows([[5, 0], [0, 2]]);
    close(toRows(matmul(matmul(u, S), transpose(v))), [[2, 0, 0], [0, 0, -5]], 14);
  });
});

describe('cholesky', () => {
  it('solves a hand-worked SPD system', () => {
    // [[4,2],[2,3]] x = [2, 5]  →  x = [−0.5, 2]
    const L = cholesky(fromRows([[4, 2], [2, 3]]));
    close(toRows(L), [[2, 0], [1, Math.SQRT2]], 14);
    const x = choleskySolveInPlace(L, fromRows([[2], [5]]));
    expect(x.data[0]).toBeCloseTo(-0.5, 14);
    expect(x.data[1]).toBeCloseTo(2, 14);
  });
});

describe('hungarian', () => {
  it('matches brute force over all permutations on random 5×5 costs', () => {
    const rng = new Rng(3);
    for (let t = 0; t < 20; t++) {
      const C = mat(5, 5);
      for (let i = 0; i < 25; i++) C.data[i] = Math.round(rng.uniform(-10, 10));
      let best = Infinity;
      for (const p of permutations(5)) best = Math.min(best, p.reduce((a, j, i) => a + C.data[i * 5 + j]!, 0));
      const { assignment, total } = hungarian(C);
      expect(total).toBe(best);
      expect(new Set(assignment).size).toBe(5);
      expect(Array.from(assignment).reduce((a, j, i) => a + C.data[i * 5 + j]!, 0)).toBe(best);
    }
  });

  it('rectangular: 2 rows into 3 columns, and 3 rows into 2 columns', () => {
    const C = fromRows([[5, 1, 9], [1, 2, 9]]);
    expect(Array.from(hungarian(C).assignment)).toEqual([1, 0]);
    const T = hungarian(transpose(C));
    expect(Array.from(T.assignment)).toEqual([1, 0, -1]);
    expect(T.total).toBe(2);
  });
});

describe('nearestSignedPermutation', () => {
  it('a signed permutation is at distance 0 from itself', () => {
    const P = fromRows([[0, -1, 0], [0, 0, 1], [-1, 0, 0]]);
    const r = nearestSignedPermutation(P);
    expect(r.distance).toBe(0);
    expect(Array.from(r.perm)).toEqual([1, 2, 0]);
    expect(Array.from(r.signs)).toEqual([-1, 1, -1]);
  });

  it('rotation by θ = 30°: nearest is I, distance √(4(1 − cos θ)) = 2√2·sin(θ/2)', () => {
    const th = Math.PI / 6;
    const R = fromRows([[Math.cos(th), -Math.sin(th)], [Math.sin(th), Math.cos(th)]]);
    const r = nearestSignedPermutation(R);
    close(toRows(r.matrix), [[1, 0], [0, 1]], 14);
    // by hand: (1−c)² + s² + s² + (1−c)² = 4 − 4c
    expect(r.distance).toBeCloseTo(Math.sqrt(4 - 4 * Math.cos(th)), 12);
    expect(r.distance).toBeCloseTo(2 * Math.SQRT2 * Math.sin(th / 2), 12);
  });

  it('rotation by 120°: nearest is the signed swap, matching brute force over all signed permutations', () => {
    const th = (2 * Math.PI) / 3;
    const R = fromRows([[Math.cos(th), -Math.sin(th)], [Math.sin(th), Math.cos(th)]]);
    let best = Infinity;
    for (const p of permutations(2))
      for (const s0 of [-1, 1])
        for (const s1 of [-1, 1]) {
          const P = mat(2, 2);
          P.data[p[0]!] = s0;
          P.data[2 + p[1]!] = s1;
          let d = 0;
          for (let i = 0; i < 4; i++) d += (R.data[i]! - P.data[i]!) ** 2;
          best = Math.min(best, Math.sqrt(d));
        }
    expect(nearestSignedPermutation(R).distance).toBeCloseTo(best, 12);
    // |cos 120°| = 0.5 < |sin 120°|: the swap wins, distance² = 2·0.25 + 2(1 − 0.866…)²
    expect(best).toBeCloseTo(Math.sqrt(0.5 + 2 * (1 - Math.sin(th)) ** 2), 12);
  });
});
