/** Small builders shared by the metrics tests. */

/** Every combination of the grid once, row-major (last factor fastest), repeated `times`. */
export function completeGrid(sizes: number[], times = 1): { factors: Int32Array; n: number } {
  const K = sizes.length;
  const total = sizes.reduce((a, b) => a * b, 1);
  const n = total * times;
  const factors = new Int32Array(n * K);
  for (let r = 0; r < n; r++) {
    let rest = r % total;
    for (let k = K - 1; k >= 0; k--) {
      factors[r * K + k] = rest % sizes[k]!;
      rest = Math.floor(rest / sizes[k]!);
    }
  }
  return { factors, n };
}

/** Codes computed row by row from the factors. */
export function codesFrom(factors: Int32Array, n: number, K: number, D: number, f: (row: number[], i: number) => number[]): Float64Array {
  const z = new Float64Array(n * D);
  for (let i = 0; i < n; i++) {
    const row = Array.from(factors.subarray(i * K, (i + 1) * K));
    const c = f(row, i);
    for (let d = 0; d < D; d++) z[i * D + d] = c[d]!;
  }
  return z;
}
