/**
 * Test helper: a tiny ZIP / .npz writer written from the format description
 * (PKWARE APPNOTE), independent of the reader under test. Stored or deflated
 * entries; optionally ZIP64 records (sizes and offsets in the ZIP64 extra
 * field, ZIP64 end-of-central-directory record and locator).
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipInput {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
}

class Bytes {
  parts: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array) {
    this.parts.push(b);
    this.length += b.length;
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let p = 0;
    for (const b of this.parts) {
      out.set(b, p);
      p += b.length;
    }
    return out;
  }
}

function le(size: number, values: [number, number][]): Uint8Array {
  // values: [byteWidth, value] pairs, little-endian
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let p = 0;
  for (const [w, x] of values) {
    if (w === 2) v.setUint16(p, x, true);
    else if (w === 4) v.setUint32(p, x >>> 0, true);
    else if (w === 8) v.setBigUint64(p, BigInt(x), true);
    else v.setUint8(p, x);
    p += w;
  }
  return out;
}

export function writeZip(entries: ZipInput[], opts: { zip64?: boolean } = {}): Uint8Array {
  const body = new Bytes();
  const central = new Bytes();
  const z64 = !!opts.zip64;
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const comp = e.deflate ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const crc = crc32(e.data) >>> 0;
    const offset = body.length;
    const method = e.deflate ? 8 : 0;
    const extraLocal = z64 ? le(20, [[2, 1], [2, 16], [8, e.data.length], [8, comp.length]]) : new Uint8Array(0);
    body.push(
      le(30, [
        [4, 0x04034b50], [2, z64 ? 45 : 20], [2, 0], [2, method], [2, 0], [2, 0x21],
        [4, crc], [4, z64 ? 0xffffffff : comp.length], [4, z64 ? 0xffffffff : e.data.length],
        [2, name.length], [2, extraLocal.length],
      ]),
    );
    body.push(name);
    body.push(extraLocal);
    body.push(comp);
    const extra = z64 ? le(28, [[2, 1], [2, 24], [8, e.data.length], [8, comp.length], [8, offset]]) : new Uint8Array(0);
    central.push(
      le(46, [
        [4, 0x02014b50], [2, 45], [2, z64 ? 45 : 20], [2, 0], [2, method], [2, 0], [2, 0x21],
        [4, crc], [4, z64 ? 0xffffffff : comp.length], [4, z64 ? 0xffffffff : e.data.length],
        [2, name.length], [2, extra.length], [2, 0], [2, 0], [2, 0], [4, 0], [4, z64 ? 0xffffffff : offset],
      ]),
    );
    central.push(name);
    central.push(extra);
  }
  const cdOffset = body.length;
  const cd = central.concat();
  const out = new Bytes();
  out.push(body.concat());
  out.push(cd);
  if (z64) {
    const z64At = cdOffset + cd.length;
    out.push(
      le(56, [
        [4, 0x06064b50], [8, 44], [2, 45], [2, 45], [4, 0], [4, 0],
        [8, entries.length], [8, entries.length], [8, cd.length], [8, cdOffset],
      ]),
    );
    out.push(le(20, [[4, 0x07064b50], [4, 0], [8, z64At], [4, 1]]));
    out.push(le(22, [[4, 0x06054b50], [2, 0], [2, 0], [2, 0xffff], [2, 0xffff], [4, 0xffffffff], [4, 0xffffffff], [2, 0]]));
  } else {
    out.push(le(22, [[4, 0x06054b50], [2, 0], [2, 0], [2, entries.length], [2, entries.length], [4, cd.length], [4, cdOffset], [2, 0]]));
  }
  return out.concat();
}

export type NpyData = Uint8Array | Int32Array | Float64Array | BigInt64Array | Float32Array;

/** A version 1.0 .npy file (little-endian, C order). */
export function npy(data: NpyData, shape: number[], descrOverride?: string): Uint8Array {
  const descr =
    descrOverride ??
    (data instanceof Uint8Array ? '|u1' : data instanceof Int32Array ? '<i4' : data instanceof Float64Array ? '<f8' : data instanceof Float32Array ? '<f4' : '<i8');
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** An .npz archive: one `<key>.npy` entry per array. */
export function npz(arrays: Record<string, Uint8Array>, opts: { deflate?: boolean; zip64?: boolean } = {}): Uint8Array {
  return writeZip(
    Object.entries(arrays).map(([k, d]) => ({ name: `${k}.npy`, data: d, deflate: opts.deflate })),
    { zip64: opts.zip64 },
  );
}
