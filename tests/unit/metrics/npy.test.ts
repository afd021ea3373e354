import { describe, expect, it } from 'vitest';
import { NpyError, readNpy, writeNpy } from '../../../src/core/io/npy.js';

type Kind = 'f4' | 'f8' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8' | 'b1';
const SIZE: Record<Kind, number> = { f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 };

/** Independent .npy encoder for the tests: header text, padding and raw values written by hand. */
function encode(kind: Kind, values: number[], shape: number[], opts: { big?: boolean; fortran?: boolean; version?: 1 | 2 | 3; header?: string } = {}): Uint8Array {
  const big = opts.big ?? false;
  const order = SIZE[kind] === 1 ? '|' : big ? '>' : '<';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = opts.header ?? `{'descr': '${order}${kind}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const version = opts.version ?? 1;
  const pre = version === 1 ? 10 : 12;
  header += ' '.repeat((64 - ((pre + header.length + 1) % 64)) % 64) + '\n';
  // values arrive in C order; a Fortran file stores them column-major
  let stored = values;
  if (opts.fortran && shape.length === 2) {
    const [r, c] = shape as [number, number];
    stored = [];
    for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) stored.push(values[i * c + j]!);
  }
  const item = SIZE[kind];
  const buf = new Uint8Array(pre + header.length + stored.length * item);
  buf.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(buf.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) buf[pre + i] = header.charCodeAt(i);
  const le = !big;
  stored.forEach((v, i) => {
    const p = pre + header.length + i * item;
    switch (kind) {
      case 'f4': dv.setFloat32(p, v, le); break;
      case 'f8': dv.setFloat64(p, v, le); break;
      case 'i1': dv.setInt8(p, v); break;
      case 'u1': dv.setUint8(p, v); break;
      case 'b1': dv.setUint8(p, v ? 1 : 0); break;
      case 'i2': dv.setInt16(p, v, le); break;
      case 'u2': dv.setUint16(p, v, le); break;
      case 'i4': dv.setInt32(p, v, le); break;
      case 'u4': dv.setUint32(p, v, le); break;
      case 'i8': dv.setBigInt64(p, BigInt(v), le); break;
      case 'u8': dv.setBigUint64(p, BigInt(v), le); break;
    }
  });
  return buf;
}

const samples: Record<Kind, number[]> = {
  f4: [0, -1.5, 3.25, 1e-3, -7e5, 0.1],
  f8: [0, -1.5, Math.PI, 1e-300, -7e300, 0.1],
  i1: [0, -128, 127, 5, -6, 7],
  i2: [0, -32768, 32767, 500, -6, 7],
  i4: [0, -2147483648, 2147483647, 5, -6, 7],
  i8: [0, -(2 ** 53) + 1, 2 ** 53 - 1, -5, 6, 7],
  u1: [0, 255, 1, 2, 3, 4],
  u2: [0, 65535, 1, 2, 3, 4],
  u4: [0, 4294967295, 1, 2, 3, 4],
  u8: [0, 2 ** 53 - 1, 1, 2, 3, 4],
  b1: [1, 0, 0, 1, 1, 0],
};

describe('.npy reader', () => {
  for (const kind of Object.keys(samples) as Kind[]) {
    const v = samples[kind];
    const expected = kind === 'f4' ? v.map(Math.fround) : v;
    for (const big of SIZE[kind] > 1 ? [false, true] : [false]) {
      for (const fortran of [false, true]) {
        it(`${kind}${big ? ' big-endian' : ''}${fortran ? ' Fortran order' : ''}`, () => {
          const a = readNpy(encode(kind, v, [2, 3], { big, fortran }));
          expect(a.dtype).toBe(kind);
          expect(a.shape).toEqual([2, 3]);
          expect(Array.from(a.data)).toEqual(expected);
        });
      }
    }
  }
  it('format versions 2.0 and 3.0, 1-D and 0-D shapes, an unaligned buffer', () => {
    expect(Array.from(readNpy(encode('f8', [1, 2], [2], { version: 2 })).data)).toEqual([1, 2]);
    expect(Array.from(readNpy(encode('i4', [1, 2], [2], { version: 3 })).data)).toEqual([1, 2]);
    const scalar = readNpy(encode('f8', [4.5], [], { header: "{'descr': '<f8', 'fortran_order': False, 'shape': (), }" }));
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data)).toEqual([4.5]);
    const file = encode('f8', [1, 2, 3], [3]);
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3);
    expect(Array.from(readNpy(shifted.subarray(3)).data)).toEqual([1, 2, 3]);
  });
  it('Fortran order for 3-D arrays', () => {
    // shape (2,2,2), C-order values 0…7; Fortran storage: index (i,j,k) at i + 2j + 4k
    const c = [0, 1, 2, 3, 4, 5, 6, 7];
    const f = new Array<number>(8);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 2; k++) f[i + 2 * j + 4 * k] = c[i * 4 + j * 2 + k]!;
    const file = encode('f8', f, [8], { header: "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2, 2), }" });
    expect(Array.from(readNpy(file).data)).toEqual(c);
  });
});

describe('.npy writer round trip', () => {
  const cases: [string, Parameters<typeof writeNpy>[0]][] = [
    ['float32', Float32Array.from([1.5, -2, 0.1])],
    ['float64', Float64Array.from([1.5, -2, 0.1])],
    ['int8', Int8Array.from([-128, 0, 127])],
    ['int16', Int16Array.from([-32768, 0, 32767])],
    ['int32', Int32Array.from([-5, 0, 2147483647])],
    ['uint8', Uint8Array.from([0, 1, 255])],
    ['uint16', Uint16Array.from([0, 1, 65535])],
    ['uint32', Uint32Array.from([0, 1, 4294967295])],
  ];
  for (const [name, arr] of cases) {
    it(name, () => {
      const bytes = writeNpy(arr, [3, 1]);
      // header padded so the data starts on a 64-byte boundary, as numpy does
      expect((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64).toBe(0);
      const back = readNpy(bytes);
      expect(back.shape).toEqual([3, 1]);
      expect(Array.from(back.data)).toEqual(Array.from(arr));
    });
  }
  it('refuses a shape that does not match', () => {
    expect(() => writeNpy(Float32Array.from([1, 2]), [3])).toThrow(NpyError);
  });
});

describe('.npy reader refuses malformed files', () => {
  const good = encode('f8', [1, 2, 3, 4], [2, 2]);
  const bad: [string, Uint8Array, RegExp][] = [
    ['too short', good.subarray(0, 5), /too short/],
    ['bad magic', Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58, 1, 0, 0, 0, 0, 0]), /magic/],
    ['unknown version', (() => { const b = good.slice(); b[6] = 4; return b; })(), /version 4/],
    ['truncated data', good.subarray(0, good.length - 1), /truncated/],
    ['header past the end', (() => { const b = good.slice(0, 40); return b; })(), /truncated|header runs past/],
    ['not a dict', encode('f8', [1], [1], { header: "['descr', '<f8']" }), /not a dict/],
    ['missing shape', encode('f8', [1], [1], { header: "{'descr': '<f8', 'fortran_order': False}" }), /needs/],
    ['negative shape', encode('f8', [1], [1], { header: "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }" }), /shape entry/],
    ['complex', encode('f8', [1], [1], { header: "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }" }), /unsupported .npy dtype/],
    ['float16', encode('f8', [1], [1], { header: "{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }" }), /unsupported .npy dtype/],
    ['object', encode('f8', [1], [1], { header: "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }" }), /unsupported .npy dtype/],
    ['structured', encode('f8', [1], [1], { header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }" }), /needs|unsupported/],
    ['int128', encode('f8', [1], [1], { header: "{'descr': '<i16', 'fortran_order': False, 'shape': (1,), }" }), /unsupported .npy dtype/],
  ];
  for (const [name, bytes, msg] of bad) {
    it(name, () => {
      expect(() => readNpy(bytes)).toThrow(NpyError);
      expect(() => readNpy(bytes)).toThrow(msg);
    });
  }
});
