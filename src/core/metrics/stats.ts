/**
 * Discrete information measures and small statistics shared by the metrics.
 *
 * Conventions follow disentanglement_lib (which calls scikit-learn):
 * - mutual information in nats with `sklearn.metrics.mutual_info_score`
 *   semantics (contingency table of two label vectors, tiny terms clamped to 0,
 *   result clipped at 0);
 * - entropy of a label vector = its mutual information with itself;
 * - codes are discretised per code into equal-width histogram bins between the
 *   code's minimum and maximum (`np.digitize(x, np.histogram(x, bins)[1][:-1])`).
 *
 * Matrices are row-major typed arrays: codes N×D, factors N×K.
 */

export type CodeArray = Float64Array | Float32Array;

const DBL_EPS = 2.220446049250313e-16;

/** Map arbitrary integer labels to dense classes 0…n−1 (ordered by value). */
export function denseLabels(labels: ArrayLike<number>): { classes: Int32Array; values: number[] } {
  const values = Array.from(new Set(Array.from(labels))).sort((a, b) => a - b);
  const index = new Map<number, number>();
  values.forEach((v, i) => index.set(v, i));
  const classes = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) classes[i] = index.get(labels[i]!)!;
  return { classes, values };
}

/**
 * Mutual information (nats) between two label vectors, as
 * sklearn.metrics.mutual_info_score computes it.
 */
export function mutualInfo(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new Error(`mutualInfo: label vectors differ in length (${n} vs ${b.length})`);
  if (n === 0) return 0;
  const da = denseLabels(a);
  const db = denseLabels(b);
  const na = da.values.length;
  const nb = db.values.length;
  if (na === 1 || nb === 1) return 0;
  const table = new Float64Array(na * nb);
  const ca = new Float64Array(na);
  const cb = new Float64Array(nb);
  for (let i = 0; i < n; i++) {
    const x = da.classes[i]!;
    const y = db.classes[i]!;
    table[x * nb + y]!++;
    ca[x]!++;
    cb[y]!++;
  }
  return miFromTable(table, ca, cb, na, nb, n);
}

/** MI (nats) from a contingency table with its margins; sklearn's arithmetic. */
export function miFromTable(
  table: Float64Array,
  rowSums: Float64Array,
  colSums: Float64Array,
  nRows: number,
  nCols: number,
  total: number,
): number {
  let nonEmptyRows = 0;
  let nonEmptyCols = 0;
  for (let i = 0; i < nRows; i++) if (rowSums[i]! > 0) nonEmptyRows++;
  for (let j = 0; j < nCols; j++) if (colSums[j]! > 0) nonEmptyCols++;
  if (nonEmptyRows <= 1 || nonEmptyCols <= 1) return 0;
  const logTotal = Math.log(total);
  let mi = 0;
  for (let i = 0; i < nRows; i++) {
    const ri = rowSums[i]!;
    if (ri === 0) continue;
    for (let j = 0; j < nCols; j++) {
      const nij = table[i * nCols + j]!;
      if (nij === 0) continue;
      const p = nij / total;
      // p·(log n_ij − log N) + p·(log N + log N − log(a_i b_j))
      const term = p * (Math.log(nij) - logTotal) + p * (-Math.log(ri * colSums[j]!) + logTotal + logTotal);
      mi += Math.abs(term) < DBL_EPS ? 0 : term;
    }
  }
  return Math.max(0, mi);
}

/** Entropy (nats) of a label vector: sklearn mutual_info_score(y, y). */
export function discreteEntropy(labels: ArrayLike<number>): number {
  const { classes, values } = denseLabels(labels);
  const k = values.length;
  if (k <= 1) return 0;
  const counts = new Float64Array(k);
  for (let i = 0; i < classes.length; i++) counts[classes[i]!]!++;
  const n = classes.length;
  const table = new Float64Array(k * k);
  for (let i = 0; i < k; i++) table[i * k + i] = counts[i]!;
  return miFromTable(table, counts, counts, k, k, n);
}

/** Shannon entropy of a (not necessarily normalised) non-negative vector, in the given base (scipy.stats.entropy). */
export function entropyOf(p: ArrayLike<number>, base = Math.E): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += p[i]!;
  if (!(s > 0)) return 0;
  let h = 0;
  for (let i = 0; i < p.length; i++) {
    const q = p[i]! / s;
    if (q > 0) h -= q * Math.log(q);
  }
  return h / Math.log(base);
}

/**
 * Equal-width histogram discretisation of one code (disentanglement_lib
 * `_histogram_discretize`): edges = linspace(min, max, bins + 1), value →
 * number of edges[0…bins−1] ≤ value, so bins are 1…bins. A constant code
 * uses numpy's (min − 0.5, max + 0.5) range and lands in one bin.
 */
export function histogramDiscretize(values: ArrayLike<number>, bins: number, float32 = false): Int32Array {
  const n = values.length;
  const out = new Int32Array(n);
  if (n === 0) return out;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const step = (hi - lo) / bins;
  const edges = new Float64Array(bins);
  for (let b = 0; b < bins; b++) edges[b] = float32 ? Math.fround(b * step + lo) : b * step + lo;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    let b = Math.floor((v - lo) / step);
    if (b < 0) b = 0;
    if (b > bins - 1) b = bins - 1;
    // b is a guess at the last edge ≤ v; fix rounding at the boundaries
    while (b + 1 < bins && edges[b + 1]! <= v) b++;
    while (b >= 0 && edges[b]! > v) b--;
    out[i] = b + 1;
  }
  return out;
}

/** Column j of a row-major N×C matrix. */
export function column<T extends ArrayLike<number>>(m: T, rows: number, cols: number, j: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = m[i * cols + j]!;
  return out;
}

export function intColumn(m: Int32Array, rows: number, cols: number, j: number): Int32Array {
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) out[i] = m[i * cols + j]!;
  return out;
}

/**
 * MI matrix (codes × factors, nats) of histogram-discretised codes with the
 * factors: disentanglement_lib `discrete_mutual_info(make_discretizer(mus), ys)`.
 */
export function discretizedMutualInfo(
  codes: CodeArray,
  factors: Int32Array,
  n: number,
  numCodes: number,
  numFactors: number,
  bins: number,
): Float64Array {
  const f32 = codes instanceof Float32Array;
  const m = new Float64Array(numCodes * numFactors);
  const factorCols: Int32Array[] = [];
  for (let k = 0; k < numFactors; k++) factorCols.push(denseLabels(intColumn(factors, n, numFactors, k)).classes);
  for (let d = 0; d < numCodes; d++) {
    const binned = histogramDiscretize(column(codes, n, numCodes, d), bins, f32);
    for (let k = 0; k < numFactors; k++) m[d * numFactors + k] = mutualInfo(factorCols[k]!, binned);
  }
  return m;
}

export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return a.length ? s / a.length : NaN;
}

/** Per-column variance of a row-major N×C matrix; ddof as numpy. */
export function columnVariances(m: ArrayLike<number>, rows: number, cols: number, ddof = 0): Float64Array {
  const mu = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mu[j]! += m[i * cols + j]!;
  for (let j = 0; j < cols; j++) mu[j]! /= rows;
  const v = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const d = m[i * cols + j]! - mu[j]!;
      v[j]! += d * d;
    }
  }
  for (let j = 0; j < cols; j++) v[j] = v[j]! / (rows - ddof);
  return v;
}

export function columnMeans(m: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const mu = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mu[j]! += m[i * cols + j]!;
  for (let j = 0; j < cols; j++) mu[j]! /= rows;
  return mu;
}

/** Copy rows `[start, start+count)` of a row-major matrix (or the rows listed). */
export function takeRows<T extends Float64Array | Float32Array | Int32Array>(m: T, cols: number, rows: ArrayLike<number>): T {
  const Ctor = m.constructor as new (n: number) => T;
  const out = new Ctor(rows.length * cols);
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r]! * cols;
    for (let j = 0; j < cols; j++) out[r * cols + j] = m[src + j]!;
  }
  return out;
}

/** ROC-AUC of scores for a binary labelling (Mann–Whitney with average ranks for ties); NaN if one class is empty. */
export function rocAuc(positive: ArrayLike<boolean | number>, scores: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let nPos = 0;
  let rankSumPos = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (positive[order[t]!]) {
        nPos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}
