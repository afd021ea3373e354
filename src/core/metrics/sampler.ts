/**
 * Ground-truth sampling for the metrics that need batches with one factor
 * held fixed (FactorVAE score, BetaVAE score) — the disentanglement_lib
 * `GroundTruthData` + `representation_function` pair, reduced to what the
 * metrics call.
 *
 * Two implementations:
 * (a) `ArrayTableSampler` over given factor/code arrays (this file);
 * (b) a trainer-side sampler that renders observations of a dataset and
 *     encodes them with a trained model (posterior means) — implemented by
 *     the training room against this interface (`codesFor` may be async).
 */
import type { Rng } from '../util/rng.js';
import type { CodeArray } from './stats.js';

export interface GroundTruthSampler {
  /** Number of values of each factor (classes 0…size−1). */
  readonly factorSizes: readonly number[];
  /** Dimension of the code. */
  readonly numCodes: number;
  /** Whether codes are posterior means (true) or samples. */
  readonly codesAreMeans: boolean;
  /** One line for provenance, e.g. "table of 737280 rows (complete grid)". */
  readonly description: string;
  /** n factor rows (n×K, row-major), drawn as the dataset draws them (disentanglement_lib: each factor uniform). */
  sampleFactors(n: number, rng: Rng): Int32Array;
  /** Codes (n×D, row-major) of observations with the given factor rows. */
  codesFor(factors: Int32Array, rng: Rng): Float64Array | Promise<Float64Array>;
  /**
   * Only for finite tables that lack some factor combinations: draw
   * `values.length` rows, row i with factor k equal to values[i], the rest as
   * the table has them. When present, the metrics use it instead of
   * "sample factors, overwrite factor k, look the rows up".
   */
  sampleWithFactor?(k: number, values: Int32Array, rng: Rng): { factors: Int32Array; codes: Float64Array } | Promise<{ factors: Int32Array; codes: Float64Array }>;
}

/**
 * What the trainer implements for (b): a dataset plus an encoder. Declared
 * here so the metrics room and the training room agree on it.
 */
export interface EncoderSamplerSource {
  readonly factorSizes: readonly number[];
  readonly numCodes: number;
  /** Encode the observations with these factor rows; return posterior means (n×D). */
  encodeFactors(factors: Int32Array): Promise<Float64Array>;
}

/** Wrap a trainer's dataset+encoder as a GroundTruthSampler (each factor drawn uniformly, as disentanglement_lib). */
export function encoderSampler(src: EncoderSamplerSource, description = 'encoded observations'): GroundTruthSampler {
  return {
    factorSizes: src.factorSizes,
    numCodes: src.numCodes,
    codesAreMeans: true,
    description,
    sampleFactors: (n, rng) => uniformFactors(src.factorSizes, n, rng),
    codesFor: (factors) => src.encodeFactors(factors),
  };
}

export function uniformFactors(sizes: readonly number[], n: number, rng: Rng): Int32Array {
  const K = sizes.length;
  const out = new Int32Array(n * K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) out[i * K + k] = rng.int(sizes[k]!);
  return out;
}

/**
 * A sampler over a table of rows (factor classes, codes).
 *
 * - Complete table (every combination of the factor grid exactly once, in any
 *   row order): factors are drawn uniformly per factor and rows are looked up
 *   by their row-major grid index — exactly disentanglement_lib's sampling.
 * - Otherwise: factor rows are those of uniformly drawn table rows; a batch
 *   with factor k fixed draws (with replacement) rows that share the fixed
 *   value; `codesFor` finds a row with exactly the requested factors (a
 *   random one among duplicates) and refuses combinations the table lacks.
 */
export class ArrayTableSampler implements GroundTruthSampler {
  readonly factorSizes: number[];
  readonly numCodes: number;
  readonly numRows: number;
  readonly complete: boolean;
  readonly codesAreMeans: boolean;
  readonly description: string;
  private readonly K: number;
  private readonly strides: number[];
  /** complete: grid index → row */
  private readonly rowOfIndex: Int32Array | null = null;
  /** incomplete: grid index → rows with that combination */
  private readonly rowsOfIndex: Map<number, number[]> | null = null;
  /** incomplete: per factor, per value, the rows that have it */
  private readonly buckets: Int32Array[][] | null = null;

  constructor(
    readonly factors: Int32Array,
    readonly codes: CodeArray,
    numRows: number,
    numFactors: number,
    numCodes: number,
    opts: { codesAreMeans?: boolean } = {},
  ) {
    if (factors.length !== numRows * numFactors) throw new Error(`factor table has ${factors.length} values, expected ${numRows}×${numFactors}`);
    if (codes.length !== numRows * numCodes) throw new Error(`code table has ${codes.length} values, expected ${numRows}×${numCodes}`);
    if (numRows < 1) throw new Error('empty table');
    this.K = numFactors;
    this.numCodes = numCodes;
    this.numRows = numRows;
    this.codesAreMeans = opts.codesAreMeans ?? true;
    const sizes = new Array<number>(numFactors).fill(0);
    for (let i = 0; i < numRows; i++) {
      for (let k = 0; k < numFactors; k++) {
        const v = factors[i * numFactors + k]!;
        if (v < 0) throw new Error(`factor ${k} has negative class ${v} at row ${i}`);
        if (v + 1 > sizes[k]!) sizes[k] = v + 1;
      }
    }
    this.factorSizes = sizes;
    this.strides = new Array<number>(numFactors);
    let s = 1;
    for (let k = numFactors - 1; k >= 0; k--) {
      this.strides[k] = s;
      s *= sizes[k]!;
    }
    const gridSize = s;
    if (!(gridSize <= 2 ** 52)) throw new Error(`factor grid of ${gridSize} combinations is too large to index`);
    let complete = false;
    if (gridSize === numRows) {
      const rowOf = new Int32Array(numRows).fill(-1);
      complete = true;
      for (let i = 0; i < numRows; i++) {
        const idx = this.indexOfRow(factors, i);
        if (rowOf[idx] !== -1) {
          complete = false;
          break;
        }
        rowOf[idx] = i;
      }
      if (complete) this.rowOfIndex = rowOf;
    }
    this.complete = complete;
    if (!complete) {
      const map = new Map<number, number[]>();
      for (let i = 0; i < numRows; i++) {
        const idx = this.indexOfRow(factors, i);
        const list = map.get(idx);
        if (list) list.push(i);
        else map.set(idx, [i]);
      }
      this.rowsOfIndex = map;
      const buckets: Int32Array[][] = [];
      for (let k = 0; k < numFactors; k++) {
        const counts = new Int32Array(sizes[k]!);
        for (let i = 0; i < numRows; i++) counts[factors[i * numFactors + k]!]!++;
        const lists = Array.from(counts, (c) => new Int32Array(c));
        const fill = new Int32Array(sizes[k]!);
        for (let i = 0; i < numRows; i++) {
          const v = factors[i * numFactors + k]!;
          lists[v]![fill[v]!++] = i;
        }
        buckets.push(lists);
      }
      this.buckets = buckets;
    }
    this.description = complete
      ? `table of ${numRows} rows: the complete grid ${sizes.join('×')}, rows looked up by index`
      : `table of ${numRows} rows (not a complete grid ${sizes.join('×')}): rows drawn among those sharing the fixed factor`;
  }

  private indexOfRow(f: Int32Array, row: number): number {
    let idx = 0;
    for (let k = 0; k < this.K; k++) idx += f[row * this.K + k]! * this.strides[k]!;
    return idx;
  }

  sampleFactors(n: number, rng: Rng): Int32Array {
    if (this.complete) return uniformFactors(this.factorSizes, n, rng);
    const out = new Int32Array(n * this.K);
    for (let i = 0; i < n; i++) {
      const r = rng.int(this.numRows);
      for (let k = 0; k < this.K; k++) out[i * this.K + k] = this.factors[r * this.K + k]!;
    }
    return out;
  }

  private codesOfRows(rows: ArrayLike<number>): Float64Array {
    const D = this.numCodes;
    const out = new Float64Array(rows.length * D);
    for (let i = 0; i < rows.length; i++) {
      const src = rows[i]! * D;
      for (let d = 0; d < D; d++) out[i * D + d] = this.codes[src + d]!;
    }
    return out;
  }

  codesFor(factors: Int32Array, rng: Rng): Float64Array {
    const n = factors.length / this.K;
    const rows = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const idx = this.indexOfRow(factors, i);
      if (this.rowOfIndex) {
        rows[i] = this.rowOfIndex[idx]!;
      } else {
        const list = this.rowsOfIndex!.get(idx);
        if (!list) throw new Error(`the table has no row with factors [${Array.from(factors.subarray(i * this.K, (i + 1) * this.K)).join(', ')}]`);
        rows[i] = list.length === 1 ? list[0]! : list[rng.int(list.length)]!;
      }
    }
    return this.codesOfRows(rows);
  }

  /** Present only on incomplete tables (see the class comment). */
  get sampleWithFactor(): GroundTruthSampler['sampleWithFactor'] {
    if (this.complete) return undefined;
    return (k: number, values: Int32Array, rng: Rng) => {
      const buckets = this.buckets![k]!;
      const rows = new Int32Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const b = buckets[values[i]!];
        if (!b || b.length === 0) throw new Error(`the table has no row with factor ${k} = ${values[i]}`);
        rows[i] = b[rng.int(b.length)]!;
      }
      const K = this.K;
      const f = new Int32Array(values.length * K);
      for (let i = 0; i < rows.length; i++) for (let j = 0; j < K; j++) f[i * K + j] = this.factors[rows[i]! * K + j]!;
      return { factors: f, codes: this.codesOfRows(rows) };
    };
  }
}

/** A batch of n rows sharing factor k (FactorVAE score). */
export async function fixedFactorBatch(s: GroundTruthSampler, n: number, k: number, rng: Rng): Promise<Float64Array> {
  const K = s.factorSizes.length;
  if (s.sampleWithFactor) {
    const v = s.sampleFactors(1, rng)[k]!;
    return (await s.sampleWithFactor(k, new Int32Array(n).fill(v), rng)).codes;
  }
  const factors = s.sampleFactors(n, rng);
  const v = factors[k]!;
  for (let i = 0; i < n; i++) factors[i * K + k] = v;
  return await s.codesFor(factors, rng);
}

/** Two batches of n rows, row i of both sharing factor k (BetaVAE score). */
export async function pairedBatches(s: GroundTruthSampler, n: number, k: number, rng: Rng): Promise<[Float64Array, Float64Array]> {
  const K = s.factorSizes.length;
  const f1 = s.sampleFactors(n, rng);
  if (s.sampleWithFactor) {
    const values = new Int32Array(n);
    for (let i = 0; i < n; i++) values[i] = f1[i * K + k]!;
    const z1 = await s.codesFor(f1, rng);
    const z2 = (await s.sampleWithFactor(k, values, rng)).codes;
    return [z1, z2];
  }
  const f2 = s.sampleFactors(n, rng);
  for (let i = 0; i < n; i++) f2[i * K + k] = f1[i * K + k]!;
  const z1 = await s.codesFor(f1, rng);
  const z2 = await s.codesFor(f2, rng);
  return [z1, z2];
}
