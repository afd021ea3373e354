/**
 * NumPy .npy reader and writer (format versions 1.0, 2.0 and 3.0).
 *
 * Reads little- and big-endian float32/float64, int8…int64, uint8…uint64 and
 * bool, in C or Fortran order, and always returns the values in C (row-major)
 * order. Anything else (object arrays, structured dtypes, strings, complex,
 * float16, malformed headers, short data) is refused with a clear error.
 */

export type NpyDtype = 'f4' | 'f8' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8' | 'b1';

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Values in C order, widened to float64 (int64 beyond 2^53 loses precision). */
  data: Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ITEM_SIZE: Record<NpyDtype, number> = { f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 };

export class NpyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

/** Parse the Python-literal header dict that .npy files carry. */
function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) throw new NpyError('malformed .npy header: not a dict literal');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(t);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(t);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(t);
  if (!descr || !fortran || !shape) {
    throw new NpyError("malformed .npy header: needs 'descr', 'fortran_order' and 'shape'");
  }
  const dims = shape[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const cleaned = s.replace(/L$/, '');
      if (!/^\d+$/.test(cleaned)) throw new NpyError(`malformed .npy header: shape entry '${s}'`);
      return Number(cleaned);
    });
  return { descr: descr[1]!, fortran: fortran[1] === 'True', shape: dims };
}

function parseDescr(descr: string): { dtype: NpyDtype; little: boolean } {
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  if (!m) throw new NpyError(`unsupported .npy dtype '${descr}' (supported: float32/64, int8–64, uint8–64, bool)`);
  const [, order, kind, bytes] = m;
  const dtype = `${kind}${bytes}` as NpyDtype;
  if (!(dtype in ITEM_SIZE) || (kind === 'f' && bytes !== '4' && bytes !== '8')) {
    throw new NpyError(`unsupported .npy dtype '${descr}' (supported: float32/64, int8–64, uint8–64, bool)`);
  }
  // '|' is used for single-byte types; '=' means native, which is little-endian on every platform we run on.
  return { dtype, little: order !== '>' };
}

export function readNpy(input: Uint8Array): NpyArray {
  if (input.length < 10) throw new NpyError('not a .npy file: too short');
  for (let i = 0; i < MAGIC.length; i++) {
    if (input[i] !== MAGIC[i]) throw new NpyError('not a .npy file: bad magic string');
  }
  const major = input[6]!;
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (input.length < 12) throw new NpyError('not a .npy file: too short');
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new NpyError(`unsupported .npy format version ${major}.${input[7]}`);
  }
  if (headerStart + headerLen > input.length) throw new NpyError('truncated .npy file: header runs past the end');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    input.subarray(headerStart, headerStart + headerLen),
  );
  const { descr, fortran, shape } = parseHeader(header);
  const { dtype, little } = parseDescr(descr);
  const count = shape.reduce((a, b) => a * b, 1);
  const item = ITEM_SIZE[dtype];
  const dataStart = headerStart + headerLen;
  const need = count * item;
  if (input.length - dataStart < need) {
    throw new NpyError(`truncated .npy file: expected ${need} data bytes, found ${input.length - dataStart}`);
  }
  const raw = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const p = dataStart + i * item;
    let v: number;
    switch (dtype) {
      case 'f4': v = view.getFloat32(p, little); break;
      case 'f8': v = view.getFloat64(p, little); break;
      case 'i1': v = view.getInt8(p); break;
      case 'u1': v = view.getUint8(p); break;
      case 'b1': v = view.getUint8(p) ? 1 : 0; break;
      case 'i2': v = view.getInt16(p, little); break;
      case 'u2': v = view.getUint16(p, little); break;
      case 'i4': v = view.getInt32(p, little); break;
      case 'u4': v = view.getUint32(p, little); break;
      case 'i8': v = Number(view.getBigInt64(p, little)); break;
      case 'u8': v = Number(view.getBigUint64(p, little)); break;
    }
    raw[i] = v;
  }
  const data = fortran && shape.length > 1 ? fortranToC(raw, shape) : raw;
  return { dtype, shape, data };
}

/** Reorder column-major values into row-major order. */
function fortranToC(src: Float64Array, shape: number[]): Float64Array {
  const n = src.length;
  const out = new Float64Array(n);
  const d = shape.length;
  const cStrides = new Array<number>(d);
  const fStrides = new Array<number>(d);
  let s = 1;
  for (let k = d - 1; k >= 0; k--) { cStrides[k] = s; s *= shape[k]!; }
  s = 1;
  for (let k = 0; k < d; k++) { fStrides[k] = s; s *= shape[k]!; }
  const idx = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let k = 0; k < d; k++) f += idx[k]! * fStrides[k]!;
    out[i] = src[f]!;
    for (let k = d - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

export type WritableArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array;

function descrOf(a: WritableArray): string {
  if (a instanceof Float32Array) return '<f4';
  if (a instanceof Float64Array) return '<f8';
  if (a instanceof Int32Array) return '<i4';
  if (a instanceof Uint8Array) return '|u1';
  if (a instanceof Int8Array) return '|i1';
  if (a instanceof Int16Array) return '<i2';
  if (a instanceof Uint16Array) return '<u2';
  return '<u4';
}

/** Encode a C-order typed array as a version 1.0 .npy file (little-endian). */
export function writeNpy(data: WritableArray, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new NpyError(`shape ${shape.join('×')} does not match ${data.length} values`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descrOf(data)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(bytes, 10 + header.length);
  return out;
}
