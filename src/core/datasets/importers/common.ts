/** Shared pieces of the dataset importers: errors, hashing, streamed .npy parsing, grid checks. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { gridStrides } from '../grid.js';

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(path: string, opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<string> {
  const hash = createHash('sha256');
  const stream = createReadStream(path, { highWaterMark: 4 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    opts.signal?.throwIfAborted();
    hash.update(chunk);
    opts.onBytes?.(chunk.length);
  }
  return hash.digest('hex');
}

/** Pulls exact byte counts off an async stream of chunks, then hands over the rest. */
export class StreamReader {
  private buf: Uint8Array = new Uint8Array(0);
  private done = false;

  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  async readExact(n: number, what: string): Promise<Uint8Array> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      const merged = new Uint8Array(this.buf.length + r.value.length);
      merged.set(this.buf, 0);
      merged.set(r.value, this.buf.length);
      this.buf = merged;
    }
    if (this.buf.length < n) throw new ImportError(`${what} ends early (truncated file?)`);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Everything not yet read, chunk by chunk. */
  async *rest(): AsyncGenerator<Uint8Array> {
    if (this.buf.length > 0) {
      const b = this.buf;
      this.buf = new Uint8Array(0);
      yield b;
    }
    if (this.done) return;
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      yield r.value;
    }
  }
}

export interface NpyHeader {
  /** e.g. 'u1', 'i8', 'f8' */
  kind: 'u' | 'i' | 'f' | 'b';
  itemSize: number;
  littleEndian: boolean;
  fortran: boolean;
  shape: number[];
  descr: string;
}

/** Parse the header at the start of a streamed .npy entry (versions 1–3). */
export async function readNpyHeader(r: StreamReader, entry: string): Promise<NpyHeader> {
  const pre = await r.readExact(10, `'${entry}'`);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (!magic.every((b, i) => pre[i] === b)) throw new ImportError(`'${entry}' is not a .npy array (bad magic string)`);
  const major = pre[6]!;
  let len: number;
  if (major === 1) len = pre[8]! | (pre[9]! << 8);
  else if (major === 2 || major === 3) {
    const more = await r.readExact(2, `'${entry}'`);
    len = (pre[8]! | (pre[9]! << 8) | (more[0]! << 16) | (more[1]! << 24)) >>> 0;
  } else throw new ImportError(`'${entry}' has unsupported .npy version ${major}`);
  if (len > 1 << 20) throw new ImportError(`'${entry}' has an implausible .npy header length ${len}`);
  const text = new TextDecoder('latin1').decode(await r.readExact(len, `header of '${entry}'`));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) throw new ImportError(`'${entry}' has a malformed .npy header`);
  const dims = shape[1]!
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+$/.test(s)) throw new ImportError(`'${entry}' has a malformed .npy shape`);
      return Number(s);
    });
  const m = /^([<>|=])([uifb])(\d+)$/.exec(descr[1]!);
  if (!m) throw new ImportError(`'${entry}' has unsupported dtype '${descr[1]}'`);
  return {
    kind: m[2] as NpyHeader['kind'],
    itemSize: Number(m[3]),
    littleEndian: m[1] !== '>',
    fortran: fortran[1] === 'True',
    shape: dims,
    descr: descr[1]!,
  };
}

export function describeShape(shape: readonly number[]): string {
  return `(${shape.join(', ')})`;
}

/** Read element `j` of a row of numbers in the given encoding. */
export function numberAt(v: DataView, at: number, kind: 'u' | 'i' | 'f' | 'b', size: number, le: boolean): number {
  switch (`${kind}${size}`) {
    case 'u1': case 'b1': return v.getUint8(at);
    case 'i1': return v.getInt8(at);
    case 'u2': return v.getUint16(at, le);
    case 'i2': return v.getInt16(at, le);
    case 'u4': return v.getUint32(at, le);
    case 'i4': return v.getInt32(at, le);
    case 'u8': return Number(v.getBigUint64(at, le));
    case 'i8': return Number(v.getBigInt64(at, le));
    case 'f4': return v.getFloat32(at, le);
    case 'f8': return v.getFloat64(at, le);
    default: throw new ImportError(`unsupported element type ${kind}${size}`);
  }
}

/**
 * Checks, row by row in index order, that labels follow the row-major factor
 * grid: the value of factor k in row i depends only on its class f_k(i), so it
 * must equal the value seen in row f_k(i)·stride_k (which comes earlier).
 * Collects each factor's values.
 */
export class GridLabelChecker {
  readonly values: number[][];
  private readonly strides: number[];
  private readonly f: number[];

  constructor(
    private readonly sizes: readonly number[],
    /** Column of each factor in the label rows. */
    private readonly columns: readonly number[],
    private readonly what: string,
    /** Classes instead of values: the label must equal the class itself. */
    private readonly classes = false,
  ) {
    this.values = sizes.map((n) => new Array<number>(n).fill(NaN));
    this.strides = gridStrides(sizes);
    this.f = new Array<number>(sizes.length).fill(0);
  }

  /** Feed row i (rows must come in order 0, 1, 2, …). */
  check(i: number, row: (column: number) => number): void {
    const K = this.sizes.length;
    // classes of row i
    let rest = i;
    for (let k = K - 1; k >= 0; k--) {
      this.f[k] = rest % this.sizes[k]!;
      rest = Math.floor(rest / this.sizes[k]!);
    }
    for (let k = 0; k < K; k++) {
      const c = this.f[k]!;
      const v = row(this.columns[k]!);
      if (this.classes) {
        if (v !== c) {
          throw new ImportError(`${this.what} row ${i} has class ${v} for factor ${k}, expected ${c}: the file does not follow the row-major factor grid ${describeShape(this.sizes)}`);
        }
        continue;
      }
      if (!Number.isFinite(v)) throw new ImportError(`${this.what} row ${i} holds a non-finite value`);
      if (i === c * this.strides[k]!) {
        if (c > 0 && this.values[k]!.slice(0, c).includes(v)) {
          throw new ImportError(`${this.what}: factor ${k} takes the same value for two classes; the file does not follow the factor grid ${describeShape(this.sizes)}`);
        }
        this.values[k]![c] = v;
      } else if (this.values[k]![c] !== v) {
        throw new ImportError(`${this.what} row ${i} has value ${v} for factor ${k}, expected ${this.values[k]![c]}: the file does not follow the row-major factor grid ${describeShape(this.sizes)}`);
      }
    }
  }
}

/** Cut a byte stream into fixed-size rows and call `fn` on each, in order. */
export async function forEachRow(
  chunks: AsyncIterable<Uint8Array>,
  rowBytes: number,
  rows: number,
  what: string,
  fn: (row: DataView, index: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const carry = new Uint8Array(rowBytes);
  const cv = new DataView(carry.buffer);
  let have = 0;
  let i = 0;
  for await (const c of chunks) {
    signal?.throwIfAborted();
    let p = 0;
    while (p < c.length) {
      const take = Math.min(rowBytes - have, c.length - p);
      carry.set(c.subarray(p, p + take), have);
      have += take;
      p += take;
      if (have === rowBytes) {
        if (i >= rows) throw new ImportError(`${what} holds more data than its shape declares`);
        fn(cv, i++);
        have = 0;
      }
    }
  }
  if (i !== rows || have !== 0) throw new ImportError(`${what} ends early: ${i} of ${rows} rows (truncated file?)`);
}
