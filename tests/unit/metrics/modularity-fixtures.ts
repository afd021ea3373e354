/**
 * Seeded fixtures for the modularity reference test, built from integer
 * arithmetic only (an LCG), so the same bytes come out on every machine.
 * `scripts/reference/modularity_reference.py` scored them (numpy + sklearn).
 */
export interface ModularityFixture {
  name: string;
  rows: number;
  factorSizes: number[];
  factors: Int32Array;
  numCodes: number;
  codes: Float64Array | Float32Array;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  // Numerical Recipes' 32-bit LCG: an integer in [0, 2^32)
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

function factorsOf(rows: number, sizes: number[], next: () => number): Int32Array {
  const f = new Int32Array(rows * sizes.length);
  for (let i = 0; i < rows; i++) for (let k = 0; k < sizes.length; k++) f[i * sizes.length + k] = next() % sizes[k]!;
  return f;
}

/** A uniform code value in [−0.5, 0.5) on a 2^−20 grid (exact in float32 and float64). */
const unit = (next: () => number) => (next() >>> 12) / 2 ** 20 - 0.5;

export const DSPRITES_SIZES = [3, 6, 40, 32, 32];

/** Uninformative codes: every code independent of every factor. */
export function randomCodes(rows: number, sizes = DSPRITES_SIZES, numCodes = 10, seed = 1): ModularityFixture {
  const next = lcg(seed);
  const factors = factorsOf(rows, sizes, next);
  const codes = new Float64Array(rows * numCodes);
  for (let i = 0; i < codes.length; i++) codes[i] = unit(next);
  return { name: `random ${rows}×${numCodes} (${sizes.join('×')})`, rows, factorSizes: sizes, factors, numCodes, codes };
}

/**
 * Float32 codes as a collapsed VAE gives them: code 0 constant, code 1 a
 * constant plus noise at the float32 resolution of 1.0 (a handful of distinct
 * values), code 2 random with one far outlier, code 3 tied to factor 2
 * (orientation) plus small noise, codes 4–5 random.
 */
export function collapsedCodes(rows: number, seed = 2): ModularityFixture {
  const next = lcg(seed);
  const sizes = DSPRITES_SIZES;
  const factors = factorsOf(rows, sizes, next);
  const D = 6;
  const codes = new Float32Array(rows * D);
  for (let i = 0; i < rows; i++) {
    codes[i * D] = 0.25;
    codes[i * D + 1] = 1 + ((next() % 4) - 1.5) * 2 ** -23;
    codes[i * D + 2] = i === 7 ? 40 : unit(next);
    codes[i * D + 3] = factors[i * sizes.length + 2]! / 40 + unit(next) * 0.02;
    codes[i * D + 4] = unit(next);
    codes[i * D + 5] = unit(next) * 1e-4;
  }
  return { name: `collapsed float32 ${rows}×${D}`, rows, factorSizes: sizes, factors, numCodes: D, codes };
}
