/**
 * Test helper: writes a small but genuinely valid HDF5 file, from the format
 * specification, independent of the reader under test: superblock version 0,
 * a root group stored as a symbol table (v1 B-tree + symbol table node + local
 * heap), and datasets with version-1 object headers (dataspace, datatype,
 * fill value, layout and, for compressed data, filter pipeline messages).
 * Layouts: contiguous, or chunked with a version-1 B-tree chunk index and
 * optional shuffle + deflate filters. (Files made by this writer were checked
 * with h5py when it was written.)
 */
import { deflateSync } from 'node:zlib';

export interface H5DatasetSpec {
  name: string;
  /** Raw element bytes in C order, little-endian. */
  data: Uint8Array;
  shape: number[];
  dtype: 'u1' | 'i4' | 'f8' | 'f4';
  /** Chunk shape; leave out for a contiguous layout. */
  chunks?: number[];
  deflate?: boolean;
  shuffle?: boolean;
}

const UNDEF = -1;

class Buf {
  b = new Uint8Array(1 << 16);
  n = 0;
  private grow(need: number) {
    if (need <= this.b.length) return;
    let c = this.b.length;
    while (c < need) c *= 2;
    const nb = new Uint8Array(c);
    nb.set(this.b);
    this.b = nb;
  }
  /** Reserve n zero bytes (8-aligned start), return the address. */
  alloc(n: number): number {
    const at = Math.ceil(this.n / 8) * 8;
    this.grow(at + n);
    this.n = at + n;
    return at;
  }
  u8(at: number, v: number) { this.b[at] = v; }
  u16(at: number, v: number) { new DataView(this.b.buffer).setUint16(at, v, true); }
  u32(at: number, v: number) { new DataView(this.b.buffer).setUint32(at, v >>> 0, true); }
  u64(at: number, v: number) {
    const dv = new DataView(this.b.buffer);
    if (v === UNDEF) dv.setBigUint64(at, 0xffffffffffffffffn, true);
    else dv.setBigUint64(at, BigInt(v), true);
  }
  bytes(at: number, d: Uint8Array) { this.b.set(d, at); }
  ascii(at: number, s: string) { for (let i = 0; i < s.length; i++) this.b[at + i] = s.charCodeAt(i); }
  result(): Uint8Array { return this.b.slice(0, this.n); }
}

const ITEM: Record<H5DatasetSpec['dtype'], number> = { u1: 1, i4: 4, f8: 8, f4: 4 };

function datatypeMessage(dtype: H5DatasetSpec['dtype']): Uint8Array {
  if (dtype === 'u1' || dtype === 'i4') {
    const m = new Uint8Array(12);
    const v = new DataView(m.buffer);
    m[0] = 0x10; // class 0 fixed-point, version 1
    m[1] = dtype === 'i4' ? 0x08 : 0; // little-endian, signed?
    v.setUint32(4, ITEM[dtype], true);
    v.setUint16(8, 0, true);
    v.setUint16(10, ITEM[dtype] * 8, true);
    return m;
  }
  const m = new Uint8Array(20);
  const v = new DataView(m.buffer);
  const d = dtype === 'f8';
  m[0] = 0x11; // class 1 floating point, version 1
  m[1] = 0x20; // little-endian, implied mantissa msb
  m[2] = d ? 63 : 31; // sign bit position
  v.setUint32(4, d ? 8 : 4, true);
  v.setUint16(8, 0, true); // bit offset
  v.setUint16(10, d ? 64 : 32, true); // precision
  m[12] = d ? 52 : 23; // exponent location
  m[13] = d ? 11 : 8; // exponent size
  m[14] = 0; // mantissa location
  m[15] = d ? 52 : 23; // mantissa size
  v.setUint32(16, d ? 1023 : 127, true);
  return m;
}

function shuffleBytes(d: Uint8Array, size: number): Uint8Array {
  if (size === 1) return d;
  const n = d.length / size;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < n; i++) for (let b = 0; b < size; b++) out[b * n + i] = d[i * size + b]!;
  return out;
}

/** Write a v1 object header with the given messages; returns its address. */
function objectHeader(buf: Buf, messages: [number, Uint8Array][]): number {
  const padded = messages.map(([t, d]) => {
    const p = new Uint8Array(Math.ceil(d.length / 8) * 8);
    p.set(d);
    return [t, p] as const;
  });
  const size = padded.reduce((s, [, d]) => s + 8 + d.length, 0);
  const at = buf.alloc(16 + size);
  buf.u8(at, 1);
  buf.u16(at + 2, padded.length);
  buf.u32(at + 4, 1);
  buf.u32(at + 8, size);
  let p = at + 16;
  for (const [t, d] of padded) {
    buf.u16(p, t);
    buf.u16(p + 2, d.length);
    buf.bytes(p + 8, d);
    p += 8 + d.length;
  }
  return at;
}

function dataset(buf: Buf, ds: H5DatasetSpec): number {
  const rank = ds.shape.length;
  const item = ITEM[ds.dtype];
  const count = ds.shape.reduce((a, b) => a * b, 1);
  if (ds.data.length !== count * item) throw new Error(`${ds.name}: data does not match shape`);
  const space = new Uint8Array(8 + 8 * rank);
  space[0] = 1;
  space[1] = rank;
  ds.shape.forEach((n, i) => new DataView(space.buffer).setBigUint64(8 + 8 * i, BigInt(n), true));
  const fill = new Uint8Array([2, ds.chunks ? 2 : 1, 2, 0]);
  const messages: [number, Uint8Array][] = [[0x01, space], [0x03, datatypeMessage(ds.dtype)], [0x05, fill]];
  let layout: Uint8Array;
  if (!ds.chunks) {
    const at = buf.alloc(ds.data.length);
    buf.bytes(at, ds.data);
    layout = new Uint8Array(18);
    const v = new DataView(layout.buffer);
    layout[0] = 3;
    layout[1] = 1;
    v.setBigUint64(2, BigInt(at), true);
    v.setBigUint64(10, BigInt(ds.data.length), true);
  } else {
    const cs = ds.chunks;
    const filters: number[] = [];
    if (ds.shuffle) filters.push(2);
    if (ds.deflate) filters.push(1);
    if (filters.length > 0) {
      // filter pipeline message, version 1, no names
      const parts: number[] = [1, filters.length, 0, 0, 0, 0, 0, 0];
      for (const id of filters) {
        // one client value each, padded to 8 bytes: deflate level 6; shuffle element size
        parts.push(id & 0xff, id >> 8, 0, 0, 0, 0, 1, 0);
        parts.push(id === 1 ? 6 : item, 0, 0, 0, 0, 0, 0, 0);
      }
      messages.push([0x0b, new Uint8Array(parts)]);
    }
    // cut the chunks (edge chunks padded with zeros to the full chunk shape)
    const grid = ds.shape.map((n, i) => Math.ceil(n / cs[i]!));
    const nChunks = grid.reduce((a, b) => a * b, 1);
    const chunkElems = cs.reduce((a, b) => a * b, 1);
    const refs: { offsets: number[]; address: number; size: number }[] = [];
    for (let c = 0; c < nChunks; c++) {
      const offsets = new Array<number>(rank);
      let rest = c;
      for (let k = rank - 1; k >= 0; k--) {
        offsets[k] = (rest % grid[k]!) * cs[k]!;
        rest = Math.floor(rest / grid[k]!);
      }
      let raw: Uint8Array = new Uint8Array(chunkElems * item);
      for (let e = 0; e < chunkElems; e++) {
        let r2 = e;
        let src = 0;
        let inside = true;
        let stride = 1;
        for (let k = rank - 1; k >= 0; k--) {
          const x = offsets[k]! + (r2 % cs[k]!);
          r2 = Math.floor(r2 / cs[k]!);
          if (x >= ds.shape[k]!) inside = false;
          src += x * stride;
          stride *= ds.shape[k]!;
        }
        if (inside) raw.set(ds.data.subarray(src * item, (src + 1) * item), e * item);
      }
      if (ds.shuffle) raw = shuffleBytes(raw, item);
      const stored = ds.deflate ? new Uint8Array(deflateSync(raw)) : raw;
      const at = buf.alloc(stored.length);
      buf.bytes(at, stored);
      refs.push({ offsets, address: at, size: stored.length });
    }
    // one leaf node of a v1 B-tree (type 1) indexing every chunk
    const keySize = 8 + 8 * (rank + 1);
    // readers load whole nodes sized for 2K entries (K = 32 for chunk indexes)
    if (refs.length > 64) throw new Error('this writer puts all chunks in one B-tree leaf: at most 64 chunks');
    const node = buf.alloc(8 + 16 + 65 * keySize + 64 * 8);
    buf.ascii(node, 'TREE');
    buf.u8(node + 4, 1);
    buf.u8(node + 5, 0);
    buf.u16(node + 6, refs.length);
    buf.u64(node + 8, UNDEF);
    buf.u64(node + 16, UNDEF);
    let p = node + 24;
    for (const r of refs) {
      buf.u32(p, r.size);
      buf.u32(p + 4, 0);
      r.offsets.forEach((o, i) => buf.u64(p + 8 + 8 * i, o));
      buf.u64(p + 8 + 8 * rank, 0);
      buf.u64(p + keySize, r.address);
      p += keySize + 8;
    }
    buf.u32(p, 0);
    buf.u32(p + 4, 0);
    ds.shape.forEach((n, i) => buf.u64(p + 8 + 8 * i, Math.ceil(n / cs[i]!) * cs[i]!));
    buf.u64(p + 8 + 8 * rank, 0);
    layout = new Uint8Array(3 + 8 + 4 * (rank + 1));
    const v = new DataView(layout.buffer);
    layout[0] = 3;
    layout[1] = 2;
    layout[2] = rank + 1;
    v.setBigUint64(3, BigInt(node), true);
    cs.forEach((c, i) => v.setUint32(11 + 4 * i, c, true));
    v.setUint32(11 + 4 * rank, item, true);
  }
  messages.push([0x08, layout]);
  return objectHeader(buf, messages);
}

/** A complete HDF5 file holding the given datasets in its root group. */
export function writeHdf5(datasets: H5DatasetSpec[]): Uint8Array {
  const buf = new Buf();
  const sb = buf.alloc(96);
  // names in the local heap; offset 0 is the empty string
  const sorted = [...datasets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const nameOffsets: number[] = [];
  let heapData: number[] = new Array<number>(8).fill(0);
  for (const d of sorted) {
    nameOffsets.push(heapData.length);
    const bytes = [...new TextEncoder().encode(d.name), 0];
    while (bytes.length % 8) bytes.push(0);
    heapData = heapData.concat(bytes);
  }
  const heap = buf.alloc(32);
  const seg = buf.alloc(heapData.length);
  buf.ascii(heap, 'HEAP');
  buf.u64(heap + 8, heapData.length);
  buf.u64(heap + 16, 1); // H5HL_FREE_NULL: no free block
  buf.u64(heap + 24, seg);
  buf.bytes(seg, new Uint8Array(heapData));
  const headers = sorted.map((d) => dataset(buf, d));
  // symbol table node
  if (sorted.length > 8) throw new Error('this writer holds at most 8 datasets (one symbol table node, leaf K = 4)');
  const snod = buf.alloc(8 + 40 * 8);
  buf.ascii(snod, 'SNOD');
  buf.u8(snod + 4, 1);
  buf.u16(snod + 6, sorted.length);
  sorted.forEach((_, i) => {
    const e = snod + 8 + 40 * i;
    buf.u64(e, nameOffsets[i]!);
    buf.u64(e + 8, headers[i]!);
  });
  // group B-tree: one leaf pointing at the symbol table node
  // a group B-tree node is sized for 2K children (internal K = 16)
  const tree = buf.alloc(24 + 33 * 8 + 32 * 8);
  buf.ascii(tree, 'TREE');
  buf.u8(tree + 4, 0);
  buf.u8(tree + 5, 0);
  buf.u16(tree + 6, 1);
  buf.u64(tree + 8, UNDEF);
  buf.u64(tree + 16, UNDEF);
  buf.u64(tree + 24, 0);
  buf.u64(tree + 32, snod);
  buf.u64(tree + 40, nameOffsets[nameOffsets.length - 1] ?? 0);
  const symtab = new Uint8Array(16);
  new DataView(symtab.buffer).setBigUint64(0, BigInt(tree), true);
  new DataView(symtab.buffer).setBigUint64(8, BigInt(heap), true);
  const root = objectHeader(buf, [[0x11, symtab]]);
  // superblock version 0
  buf.bytes(sb, new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]));
  buf.u8(sb + 8, 0);
  buf.u8(sb + 13, 8);
  buf.u8(sb + 14, 8);
  buf.u16(sb + 16, 4);
  buf.u16(sb + 18, 16);
  buf.u64(sb + 24, 0);
  buf.u64(sb + 32, UNDEF);
  buf.u64(sb + 48, UNDEF);
  buf.u64(sb + 56, 0);
  buf.u64(sb + 64, root);
  buf.u32(sb + 72, 1);
  buf.u64(sb + 80, tree);
  buf.u64(sb + 88, heap);
  buf.u64(sb + 40, buf.n); // end of file address
  return buf.result();
}
