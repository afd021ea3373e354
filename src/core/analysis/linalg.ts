/**
 * Small dense linear algebra in plain TypeScript (float64), for analysis and
 * metrics: symmetric eigendecomposition (cyclic Jacobi), SVD (one-sided
 * Jacobi), Cholesky solves, the Hungarian algorithm, and the distance of a
 * matrix from the nearest signed permutation.
 *
 * Matrices are row-major `Float64Array`s with explicit shapes (`Mat`).
 * Everything is deterministic; the sizes this is meant for are "latents ×
 * latents" (≤ ~100) and "pixels × latents" (thousands × ≤ ~100).
 */

export interface Mat {
  rows: number;
  cols: number;
  /** Row-major, length rows·cols. */
  data: Float64Array;
}

export function mat(rows: number, cols: number, data?: ArrayLike<number>): Mat {
  if (data && data.length !== rows * cols) throw new Error(`mat: expected ${rows * cols} values, got ${data.length}`);
  return { rows, cols, data: data ? Float64Array.from(data) : new Float64Array(rows * cols) };
}

export function fromRows(rows: readonly (readonly number[])[]): Mat {
  const r = rows.length;
  const c = r ? rows[0]!.length : 0;
  const m = mat(r, c);
  for (let i = 0; i < r; i++) {
    if (rows[i]!.length !== c) throw new Error('fromRows: ragged rows');
    for (let j = 0; j < c; j++) m.data[i * c + j] = rows[i]![j]!;
  }
  return m;
}

export function toRows(m: Mat): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

export function identity(n: number): Mat {
  const m = mat(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

export function get(m: Mat, i: number, j: number): number {
  return m.data[i * m.cols + j]!;
}

export function transpose(a: Mat): Mat {
  const t = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) t.data[j * a.rows + i] = a.data[i * a.cols + j]!;
  return t;
}

export function matmul(a: Mat, b: Mat): Mat {
  if (a.cols !== b.rows) throw new Error(`matmul: ${a.rows}×${a.cols} · ${b.rows}×${b.cols}`);
  const c = mat(a.rows, b.cols);
  const n = b.cols;
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[i * a.cols + k]!;
      if (v === 0) continue;
      const bo = k * n;
      const co = i * n;
      for (let j = 0; j < n; j++) c.data[co + j]! += v * b.data[bo + j]!;
    }
  }
  return c;
}

/** AᵀA (cols × cols). */
export function gram(a: Mat): Mat {
  const n = a.cols;
  const g = mat(n, n);
  for (let r = 0; r < a.rows; r++) {
    const o = r * n;
    for (let i = 0; i < n; i++) {
      const v = a.data[o + i]!;
      if (v === 0) continue;
      for (let j = i; j < n; j++) g.data[i * n + j]! += v * a.data[o + j]!;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) g.data[i * n + j] = g.data[j * n + i]!;
  return g;
}

export function frobenius(a: Mat): number {
  let s = 0;
  for (const v of a.data) s += v * v;
  return Math.sqrt(s);
}

export interface Eigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** n×n, column k is the unit eigenvector of values[k]. */
  vectors: Mat;
}

/**
 * Eigendecomposition of a symmetric matrix by the cyclic Jacobi method.
 * Only the upper triangle's symmetric part is used ((A + Aᵀ)/2). Eigenvalues
 * are sorted descending (stable for ties: original axis order); each
 * eigenvector's sign is fixed so that its largest-magnitude entry is positive.
 */
export function symmetricEigen(a: Mat, opts: { maxSweeps?: number; tol?: number } = {}): Eigen {
  const n = a.rows;
  if (a.cols !== n) throw new Error('symmetricEigen: matrix must be square');
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = 0.5 * (a.data[i * n + j]! + a.data[j * n + i]!);
  const V = identity(n).data;
  const maxSweeps = opts.maxSweeps ?? 100;
  const tol = opts.tol ?? 1e-15;
  let norm = 0;
  for (let i = 0; i < n * n; i++) norm += A[i]! * A[i]!;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q]! * A[p * n + q]!;
    if (off <= tol * tol * norm || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (apq === 0) continue;
        const app = A[p * n + p]!;
        const aqq = A[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← JᵀAJ with J the rotation in the (p, q) plane
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p]!;
          const akq = A[k * n + q]!;
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k]!;
          const aqk = A[q * n + k]!;
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        A[p * n + q] = 0;
        A[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p]!;
          const vkq = V[k * n + q]!;
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j]! - A[i * n + i]! || i - j);
  const values = new Float64Array(n);
  const vectors = mat(n, n);
  order.forEach((src, dst) => {
    values[dst] = A[src * n + src]!;
    let big = 0;
    for (let k = 0; k < n; k++) if (Math.abs(V[k * n + src]!) > Math.abs(big) + 1e-12) big = V[k * n + src]!;
    const sign = big < 0 ? -1 : 1;
    for (let k = 0; k < n; k++) vectors.data[k * n + dst] = sign * V[k * n + src]!;
  });
  return { values, vectors };
}

export interface Svd {
  /** m×k left singular vectors (k = min(m, n)). */
  u: Mat;
  /** Singular values, descending, length k. */
  s: Float64Array;
  /** n×k right singular vectors (columns): A = U·diag(s)·Vᵀ. */
  v: Mat;
}

/**
 * Thin SVD by one-sided Jacobi (Hestenes): orthogonalise the columns of A by
 * plane rotations, accumulating them in V. Accurate for small n; cost per
 * sweep m·n². For m < n the transpose is decomposed. Columns of U belonging to
 * zero singular values are left zero.
 */
export function svd(a: Mat, opts: { maxSweeps?: number; tol?: number } = {}): Svd {
  if (a.rows < a.cols) {
    const t = svd(transpose(a), opts);
    return { u: t.v, s: t.s, v: t.u };
  }
  const m = a.rows;
  const n = a.cols;
  const U = Float64Array.from(a.data);
  const V = identity(n).data;
  const tol = opts.tol ?? 1e-15;
  const maxSweeps = opts.maxSweeps ?? 60;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          const up = U[i * n + p]!;
          const uq = U[i * n + q]!;
          alpha += up * up;
          beta += uq * uq;
          gamma += up * uq;
        }
        if (gamma === 0 || Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const up = U[i * n + p]!;
          const uq = U[i * n + q]!;
          U[i * n + p] = c * up - s * uq;
          U[i * n + q] = s * up + c * uq;
        }
        for (let i = 0; i < n; i++) {
          const vp = V[i * n + p]!;
          const vq = V[i * n + q]!;
          V[i * n + p] = c * vp - s * vq;
          V[i * n + q] = s * vp + c * vq;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += U[i * n + j]! * U[i * n + j]!;
    norms[j] = Math.sqrt(s);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => norms[j]! - norms[i]! || i - j);
  const u = mat(m, n);
  const v = mat(n, n);
  const s = new Float64Array(n);
  order.forEach((src, dst) => {
    const sv = norms[src]!;
    s[dst] = sv;
    for (let i = 0; i < m; i++) u.data[i * n + dst] = sv > 0 ? U[i * n + src]! / sv : 0;
    for (let i = 0; i < n; i++) v.data[i * n + dst] = V[i * n + src]!;
  });
  return { u, s, v };
}

/** Cholesky factor L (lower) of a symmetric positive-definite matrix; throws if not SPD. */
export function cholesky(a: Mat): Mat {
  const n = a.rows;
  const L = mat(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a.data[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L.data[i * n + k]! * L.data[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) throw new Error('cholesky: matrix is not positive definite');
        L.data[i * n + i] = Math.sqrt(s);
      } else {
        L.data[i * n + j] = s / L.data[j * n + j]!;
      }
    }
  }
  return L;
}

/** Solve (L Lᵀ) X = B in place for every column of B (n×r), given the Cholesky factor L. */
export function choleskySolveInPlace(L: Mat, b: Mat): Mat {
  const n = L.rows;
  const r = b.cols;
  const B = b.data;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const l = L.data[i * n + k]!;
      if (l === 0) continue;
      for (let c = 0; c < r; c++) B[i * r + c]! -= l * B[k * r + c]!;
    }
    const d = L.data[i * n + i]!;
    for (let c = 0; c < r; c++) B[i * r + c]! /= d;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const l = L.data[k * n + i]!;
      if (l === 0) continue;
      for (let c = 0; c < r; c++) B[i * r + c]! -= l * B[k * r + c]!;
    }
    const d = L.data[i * n + i]!;
    for (let c = 0; c < r; c++) B[i * r + c]! /= d;
  }
  return b;
}

/**
 * Hungarian algorithm (Kuhn–Munkres with potentials, O(n²m)): for an n×m cost
 * matrix with n ≤ m, the assignment row → distinct column of minimum total
 * cost. For n > m the transpose is solved and rows left without a column get −1.
 */
export function hungarian(cost: Mat): { assignment: Int32Array; total: number } {
  const n = cost.rows;
  const m = cost.cols;
  if (n > m) {
    const t = hungarian(transpose(cost));
    const assignment = new Int32Array(n).fill(-1);
    t.assignment.forEach((row, col) => {
      if (row >= 0) assignment[row] = col;
    });
    return { assignment, total: t.total };
  }
  const INF = Number.POSITIVE_INFINITY;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j]: row (1-based) matched to column j
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(INF);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost.data[(i0 - 1) * m + (j - 1)]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const assignment = new Int32Array(n).fill(-1);
  let total = 0;
  for (let j = 1; j <= m; j++) {
    if (p[j]! > 0) {
      assignment[p[j]! - 1] = j - 1;
      total += cost.data[(p[j]! - 1) * m + (j - 1)]!;
    }
  }
  return { assignment, total };
}

export interface SignedPermutation {
  /** Row i → column perm[i] (−1 for rows left empty in a non-square matrix). */
  perm: Int32Array;
  /** ±1 per row (0 where the row is empty). */
  signs: Int8Array;
  /** The signed (partial) permutation matrix, same shape as the input. */
  matrix: Mat;
  /** Frobenius distance ‖Q − P‖_F. */
  distance: number;
}

/**
 * Nearest signed permutation to Q in Frobenius norm. ‖Q − P‖² = ‖Q‖² + r −
 * 2·Σᵢ sᵢ·Q[i, π(i)] (r = min(rows, cols) nonzeros of P), so the signs are the
 * signs of the chosen entries and π maximises Σ |Q[i, π(i)]| — solved exactly
 * by the Hungarian algorithm on −|Q|. For rectangular Q, P is a partial
 * signed permutation with min(rows, cols) entries ±1.
 */
export function nearestSignedPermutation(q: Mat): SignedPermutation {
  const abs = mat(q.rows, q.cols);
  for (let i = 0; i < q.data.length; i++) abs.data[i] = -Math.abs(q.data[i]!);
  const { assignment } = hungarian(abs);
  const matrix = mat(q.rows, q.cols);
  const signs = new Int8Array(q.rows);
  for (let i = 0; i < q.rows; i++) {
    const j = assignment[i]!;
    if (j < 0) continue;
    const s = q.data[i * q.cols + j]! < 0 ? -1 : 1;
    signs[i] = s;
    matrix.data[i * q.cols + j] = s;
  }
  let d = 0;
  for (let i = 0; i < q.data.length; i++) d += (q.data[i]! - matrix.data[i]!) ** 2;
  return { perm: assignment, signs, matrix, distance: Math.sqrt(d) };
}

/** Frobenius distance from Q to the nearest signed permutation. */
export function distanceToSignedPermutation(q: Mat): number {
  return nearestSignedPermutation(q).distance;
}
