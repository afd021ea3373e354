/**
 * A minimal, defensive HDF5 reader: enough for numeric datasets written by
 * h5py (e.g. the official `3dshapes.h5`), streamed in row blocks so that
 * multi-gigabyte datasets never sit in memory whole.
 *
 * Supported: superblock versions 0–3; object header versions 1 and 2 (with
 * continuation blocks); groups as symbol tables (v1 B-tree + local heap) or
 * compact link messages; dataspace, datatype (fixed-point and IEEE float,
 * either byte order), filter pipeline and layout messages (versions 1–4);
 * compact, contiguous and chunked layouts — chunk index: v1 B-tree, or for
 * layout version 4 the single-chunk and implicit indexes; filters: deflate
 * and shuffle. Checksums of version-2 structures are not verified.
 *
 * Anything else (dense link storage, fixed/extensible-array or v2 B-tree
 * chunk indexes, other filters, strings, compound types, missing chunks,
 * structures past the end of the file) is refused with an Hdf5Error that
 * names it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

export class Hdf5Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Hdf5Error';
  }
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function isHdf5Signature(head: Uint8Array): boolean {
  return SIGNATURE.every((b, i) => head[i] === b);
}

export interface Hdf5Dtype {
  /** 'u' unsigned integer, 'i' signed integer, 'f' IEEE float. */
  kind: 'u' | 'i' | 'f';
  /** Bytes per element. */
  size: number;
  littleEndian: boolean;
}

export interface Hdf5DatasetInfo {
  name: string;
  shape: number[];
  dtype: Hdf5Dtype;
  layout: 'compact' | 'contiguous' | 'chunked';
  chunkShape?: number[];
  /** Filter ids in pipeline order (1 deflate, 2 shuffle). */
  filters: number[];
}

interface ChunkRef {
  address: number;
  size: number;
  filterMask: number;
  offsets: number[];
}

interface Layout {
  kind: 'compact' | 'contiguous' | 'chunked';
  address?: number;
  size?: number;
  compact?: Uint8Array;
  chunkShape?: number[];
  /** 'btree1', 'single', 'implicit'. */
  index?: string;
  singleFiltered?: { size: number; mask: number };
}

interface Message {
  type: number;
  data: Uint8Array;
  /** Absolute file address of the message data. */
  at: number;
}

const UNDEF = -1;
const SUPPORTED_FILTERS: Record<number, string> = { 1: 'deflate', 2: 'shuffle' };

export interface RowBlock {
  /** First row (index along dimension 0) in the block. */
  start: number;
  rows: number;
  /** rows × rowBytes bytes, in the file's byte order. */
  data: Uint8Array;
}

export class Hdf5File {
  readonly fileSize: number;
  private fd: number | null;
  private offsetSize = 8;
  private lengthSize = 8;
  private base = 0;
  private rootAddress = 0;

  private constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    this.fileSize = fstatSync(this.fd).size;
  }

  static open(path: string): Hdf5File {
    const f = new Hdf5File(path);
    try {
      f.readSuperblock();
    } catch (e) {
      f.close();
      throw e;
    }
    return f;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  // ---- raw reads ---------------------------------------------------------

  read(at: number, length: number, what = 'data'): Uint8Array {
    if (this.fd === null) throw new Hdf5Error('HDF5 file is closed');
    if (at < 0 || !Number.isSafeInteger(at) || at + length > this.fileSize) {
      throw new Hdf5Error(`truncated or corrupt HDF5 file: ${what} at offset ${at} (+${length} bytes) lies past the end of the file (${this.fileSize} bytes)`);
    }
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, buf, got, length - got, at + got);
      if (n === 0) break;
      got += n;
    }
    if (got < length) throw new Hdf5Error(`truncated HDF5 file: could not read ${what} at offset ${at}`);
    return buf;
  }

  private uint(b: Uint8Array, at: number, size: number): number {
    if (at + size > b.length) throw new Hdf5Error('corrupt HDF5 file: a structure is shorter than its fields');
    let v = 0;
    let allOnes = true;
    for (let i = size - 1; i >= 0; i--) {
      const x = b[at + i]!;
      if (x !== 0xff) allOnes = false;
      v = v * 256 + x;
    }
    if (allOnes && size >= 4) return UNDEF;
    if (!Number.isSafeInteger(v)) throw new Hdf5Error('HDF5 value beyond 2^53');
    return v;
  }

  private addr(b: Uint8Array, at: number): number {
    const a = this.uint(b, at, this.offsetSize);
    return a === UNDEF ? UNDEF : a + this.base;
  }

  // ---- superblock -----------------------------------------------------------

  private readSuperblock(): void {
    let at = -1;
    for (let p = 0; p + 8 <= this.fileSize; p = p === 0 ? 512 : p * 2) {
      if (isHdf5Signature(this.read(p, 8, 'signature'))) {
        at = p;
        break;
      }
    }
    if (at < 0) throw new Hdf5Error('not an HDF5 file: signature not found');
    const head = this.read(at, Math.min(this.fileSize - at, 96), 'superblock');
    const version = head[8]!;
    if (version === 0 || version === 1) {
      this.offsetSize = head[13]!;
      this.lengthSize = head[14]!;
      this.checkSizes();
      let p = 24 + (version === 1 ? 4 : 0);
      this.base = this.uint(head, p, this.offsetSize);
      if (this.base === UNDEF) this.base = 0;
      p += 4 * this.offsetSize; // base, free-space, end-of-file, driver info
      // root group symbol table entry: link name offset, object header address, …
      this.rootAddress = this.addr(head, p + this.offsetSize);
    } else if (version === 2 || version === 3) {
      this.offsetSize = head[9]!;
      this.lengthSize = head[10]!;
      this.checkSizes();
      this.base = this.uint(head, 12, this.offsetSize);
      if (this.base === UNDEF) this.base = 0;
      this.rootAddress = this.addr(head, 12 + 3 * this.offsetSize);
    } else {
      throw new Hdf5Error(`unsupported HDF5 superblock version ${version}`);
    }
    if (this.rootAddress === UNDEF) throw new Hdf5Error('corrupt HDF5 file: no root group');
  }

  private checkSizes(): void {
    if (![4, 8].includes(this.offsetSize) || ![4, 8].includes(this.lengthSize)) {
      throw new Hdf5Error(`unsupported HDF5 offset/length sizes ${this.offsetSize}/${this.lengthSize}`);
    }
  }

  // ---- object headers ---------------------------------------------------------

  private messages(address: number): Message[] {
    const sig = this.read(address, 4, 'object header');
    const out: Message[] = [];
    const collected: Message[] = [];
    const blocks: [number, number, boolean][] = []; // address, length, is first v2 chunk
    let v2 = false;
    let v2Flags = 0;
    if (sig[0] === 0x4f && sig[1] === 0x48 && sig[2] === 0x44 && sig[3] === 0x52) {
      // "OHDR": version 2
      v2 = true;
      const h = this.read(address, 6, 'object header');
      if (h[4] !== 2) throw new Hdf5Error(`unsupported object header version ${h[4]}`);
      v2Flags = h[5]!;
      let p = 6;
      if (v2Flags & 0x20) p += 16;
      if (v2Flags & 0x10) p += 4;
      const sizeBytes = 1 << (v2Flags & 3);
      const sb = this.read(address + p, sizeBytes, 'object header');
      const size = this.uint(sb, 0, sizeBytes);
      blocks.push([address + p + sizeBytes, size, true]);
    } else {
      const h = this.read(address, 16, 'object header');
      if (h[0] !== 1) throw new Hdf5Error(`corrupt HDF5 file: unknown object header version ${h[0]} at ${address}`);
      const size = this.uint(h, 8, 4);
      blocks.push([address + 16, size, true]);
    }
    let guard = 0;
    while (blocks.length > 0) {
      if (++guard > 10000) throw new Hdf5Error('corrupt HDF5 file: object header continuation loop');
      const [at, len, first] = blocks.shift()!;
      const b = this.read(at, len, 'object header messages');
      let p = 0;
      let end = len;
      if (v2) {
        if (!first) {
          if (String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!) !== 'OCHK') throw new Hdf5Error('corrupt HDF5 file: bad continuation block signature');
          p = 4;
        }
        end = first ? len : len - 4; // the first chunk's size excludes the checksum; OCHK blocks include it
        const hdr = 4 + (v2Flags & 0x04 ? 2 : 0);
        while (p + hdr <= end) {
          const type = b[p]!;
          const size = b[p + 1]! | (b[p + 2]! << 8);
          const data = b.subarray(p + hdr, p + hdr + size);
          if (p + hdr + size > end) throw new Hdf5Error('corrupt HDF5 file: object header message runs past its block');
          out.push({ type, data, at: at + p + hdr });
          p += hdr + size;
        }
      } else {
        while (p + 8 <= end) {
          const type = b[p]! | (b[p + 1]! << 8);
          const size = b[p + 2]! | (b[p + 3]! << 8);
          if (p + 8 + size > end) throw new Hdf5Error('corrupt HDF5 file: object header message runs past its block');
          out.push({ type, data: b.subarray(p + 8, p + 8 + size), at: at + p + 8 });
          p += 8 + size;
        }
      }
      // queue continuation blocks found in this block
      for (const m of out.splice(0)) {
        if (m.type === 0x10) {
          const a = this.addr(m.data, 0);
          const l = this.uint(m.data, this.offsetSize, this.lengthSize);
          blocks.push([a, l, false]);
        }
        collected.push(m);
      }
    }
    return collected;
  }

  // ---- groups -----------------------------------------------------------------

  /** Names and object header addresses of a group's members. */
  private links(groupAddress: number): Map<string, number> {
    const msgs = this.messages(groupAddress);
    const out = new Map<string, number>();
    const st = msgs.find((m) => m.type === 0x11);
    if (st) {
      const btree = this.addr(st.data, 0);
      const heap = this.addr(st.data, this.offsetSize);
      const h = this.read(heap, 8 + 2 * this.lengthSize + this.offsetSize, 'local heap');
      if (String.fromCharCode(h[0]!, h[1]!, h[2]!, h[3]!) !== 'HEAP') throw new Hdf5Error('corrupt HDF5 file: bad local heap signature');
      const segSize = this.uint(h, 8, this.lengthSize);
      const segAddr = this.addr(h, 8 + 2 * this.lengthSize);
      const seg = this.read(segAddr, segSize, 'local heap data');
      const nameAt = (off: number) => {
        let e = off;
        while (e < seg.length && seg[e] !== 0) e++;
        if (e >= seg.length) throw new Hdf5Error('corrupt HDF5 file: link name runs past the local heap');
        return new TextDecoder().decode(seg.subarray(off, e));
      };
      const visit = (node: number, depth: number) => {
        if (depth > 64) throw new Hdf5Error('corrupt HDF5 file: group B-tree too deep');
        const O = this.offsetSize;
        const L = this.lengthSize;
        const hdr = this.read(node, 8 + 2 * O, 'group B-tree node');
        if (String.fromCharCode(hdr[0]!, hdr[1]!, hdr[2]!, hdr[3]!) !== 'TREE') throw new Hdf5Error('corrupt HDF5 file: bad B-tree node signature');
        if (hdr[4] !== 0) throw new Hdf5Error('corrupt HDF5 file: group B-tree has the wrong node type');
        const level = hdr[5]!;
        const used = hdr[6]! | (hdr[7]! << 8);
        const body = this.read(node + 8 + 2 * O, (used + 1) * L + used * O, 'group B-tree node');
        for (let i = 0; i < used; i++) {
          const child = this.addr(body, (i + 1) * L + i * O);
          if (level > 0) visit(child, depth + 1);
          else {
            const sn = this.read(child, 8, 'symbol table node');
            if (String.fromCharCode(sn[0]!, sn[1]!, sn[2]!, sn[3]!) !== 'SNOD') throw new Hdf5Error('corrupt HDF5 file: bad symbol table node signature');
            const n = sn[6]! | (sn[7]! << 8);
            const entrySize = 2 * O + 24;
            const ents = this.read(child + 8, n * entrySize, 'symbol table node');
            for (let k = 0; k < n; k++) {
              const nameOff = this.uint(ents, k * entrySize, O);
              const objAddr = this.addr(ents, k * entrySize + O);
              out.set(nameAt(nameOff), objAddr);
            }
          }
        }
      };
      visit(btree, 0);
      return out;
    }
    const info = msgs.find((m) => m.type === 0x02);
    if (info) {
      const flags = info.data[1]!;
      const heapAddr = this.addr(info.data, 2 + (flags & 1 ? 8 : 0));
      if (heapAddr !== UNDEF) throw new Hdf5Error('unsupported HDF5 group: dense link storage (fractal heap)');
    }
    for (const m of msgs.filter((x) => x.type === 0x06)) {
      const d = m.data;
      if (d[0] !== 1) throw new Hdf5Error(`unsupported link message version ${d[0]}`);
      const flags = d[1]!;
      let p = 2;
      let linkType = 0;
      if (flags & 0x08) linkType = d[p++]!;
      if (flags & 0x04) p += 8;
      if (flags & 0x10) p += 1;
      const lenSize = 1 << (flags & 3);
      const nameLen = this.uint(d, p, lenSize);
      p += lenSize;
      const name = new TextDecoder().decode(d.subarray(p, p + nameLen));
      p += nameLen;
      if (linkType !== 0) continue; // soft / external links are not followed
      out.set(name, this.addr(d, p));
    }
    return out;
  }

  /** Names of the members of a group ('/' = root). */
  list(path = '/'): string[] {
    return [...this.links(this.resolve(path)).keys()];
  }

  private resolve(path: string): number {
    let addr = this.rootAddress;
    for (const part of path.split('/').filter(Boolean)) {
      const next = this.links(addr).get(part);
      if (next === undefined) throw new Hdf5Error(`HDF5 file has no object '${path}'`);
      addr = next;
    }
    return addr;
  }

  // ---- datasets ---------------------------------------------------------------

  dataset(path: string): Hdf5Dataset {
    const address = this.resolve(path);
    const msgs = this.messages(address);
    const space = msgs.find((m) => m.type === 0x01);
    const type = msgs.find((m) => m.type === 0x03);
    const layout = msgs.find((m) => m.type === 0x08);
    if (!space || !type || !layout) throw new Hdf5Error(`HDF5 object '${path}' is not a dataset`);
    const shape = this.parseDataspace(space.data);
    const dtype = this.parseDatatype(type.data, path);
    const pipe = msgs.find((m) => m.type === 0x0b);
    const filters = pipe ? this.parseFilters(pipe.data, path) : [];
    const lay = this.parseLayout(layout.data, shape.length, path);
    return new Hdf5Dataset(this, path, shape, dtype, lay, filters);
  }

  private parseDataspace(d: Uint8Array): number[] {
    const version = d[0]!;
    const rank = d[1]!;
    let p: number;
    if (version === 1) p = 8;
    else if (version === 2) {
      if (d[3] === 0) return []; // scalar
      if (d[3] === 2) throw new Hdf5Error('HDF5 dataset has a null dataspace');
      p = 4;
    } else throw new Hdf5Error(`unsupported HDF5 dataspace version ${version}`);
    const shape: number[] = [];
    for (let i = 0; i < rank; i++) shape.push(this.uint(d, p + i * this.lengthSize, this.lengthSize));
    return shape;
  }

  private parseDatatype(d: Uint8Array, path: string): Hdf5Dtype {
    const cls = d[0]! & 0x0f;
    const bits = d[1]!;
    const size = this.uint(d, 4, 4);
    if (cls === 0) {
      if (![1, 2, 4, 8].includes(size)) throw new Hdf5Error(`unsupported integer size ${size} in '${path}'`);
      return { kind: bits & 0x08 ? 'i' : 'u', size, littleEndian: (bits & 1) === 0 };
    }
    if (cls === 1) {
      if (size !== 4 && size !== 8) throw new Hdf5Error(`unsupported float size ${size} in '${path}'`);
      if (bits & 0x40) throw new Hdf5Error(`unsupported VAX float order in '${path}'`);
      return { kind: 'f', size, littleEndian: (bits & 1) === 0 };
    }
    throw new Hdf5Error(`unsupported HDF5 datatype class ${cls} in '${path}' (only integers and floats)`);
  }

  private parseFilters(d: Uint8Array, path: string): number[] {
    const version = d[0]!;
    const n = d[1]!;
    const ids: number[] = [];
    let p = version === 1 ? 8 : 2;
    for (let i = 0; i < n; i++) {
      const id = d[p]! | (d[p + 1]! << 8);
      p += 2;
      let nameLen = 0;
      if (version === 1 || id >= 256) {
        nameLen = d[p]! | (d[p + 1]! << 8);
        p += 2;
      }
      const flags = d[p]! | (d[p + 1]! << 8);
      const nvals = d[p + 2]! | (d[p + 3]! << 8);
      p += 4;
      p += version === 1 ? Math.ceil(nameLen / 8) * 8 : nameLen;
      p += 4 * nvals;
      if (version === 1 && nvals % 2 === 1) p += 4;
      if (!(id in SUPPORTED_FILTERS)) {
        if (flags & 1) continue; // optional filter that was not applied
        throw new Hdf5Error(`unsupported HDF5 filter ${id} in '${path}' (supported: deflate, shuffle)`);
      }
      ids.push(id);
    }
    return ids;
  }

  private parseLayout(d: Uint8Array, rank: number, path: string): Layout {
    const version = d[0]!;
    const O = this.offsetSize;
    const L = this.lengthSize;
    if (version === 1 || version === 2) {
      const dims = d[1]!;
      const cls = d[2]!;
      let p = 8;
      if (cls === 0) {
        const shape = Array.from({ length: dims }, (_, i) => this.uint(d, p + 4 * i, 4));
        p += 4 * dims;
        const size = this.uint(d, p, 4);
        return { kind: 'compact', compact: d.slice(p + 4, p + 4 + size), chunkShape: shape };
      }
      const address = this.addr(d, p);
      p += O;
      const shape = Array.from({ length: dims }, (_, i) => this.uint(d, p + 4 * i, 4));
      if (cls === 1) return { kind: 'contiguous', address };
      return { kind: 'chunked', address, chunkShape: shape.slice(0, rank), index: 'btree1' };
    }
    if (version === 3 || version === 4) {
      const cls = d[1]!;
      if (cls === 0) {
        const size = d[2]! | (d[3]! << 8);
        return { kind: 'compact', compact: d.slice(4, 4 + size) };
      }
      if (cls === 1) return { kind: 'contiguous', address: this.addr(d, 2), size: this.uint(d, 2 + O, L) };
      if (cls !== 2) throw new Hdf5Error(`unsupported HDF5 layout class ${cls} in '${path}'`);
      if (version === 3) {
        const dims = d[2]!;
        const address = this.addr(d, 3);
        const shape = Array.from({ length: dims }, (_, i) => this.uint(d, 3 + O + 4 * i, 4));
        return { kind: 'chunked', address, chunkShape: shape.slice(0, rank), index: 'btree1' };
      }
      const flags = d[2]!;
      const dims = d[3]!;
      const enc = d[4]!;
      let p = 5;
      const shape = Array.from({ length: dims }, (_, i) => this.uint(d, p + enc * i, enc));
      p += enc * dims;
      const indexType = d[p++]!;
      if (indexType === 1) {
        let singleFiltered: Layout['singleFiltered'];
        if (flags & 0x02) {
          singleFiltered = { size: this.uint(d, p, L), mask: this.uint(d, p + L, 4) };
          p += L + 4;
        }
        return { kind: 'chunked', address: this.addr(d, p), chunkShape: shape.slice(0, rank), index: 'single', singleFiltered };
      }
      if (indexType === 2) return { kind: 'chunked', address: this.addr(d, p), chunkShape: shape.slice(0, rank), index: 'implicit' };
      const names: Record<number, string> = { 3: 'fixed array', 4: 'extensible array', 5: 'version-2 B-tree' };
      throw new Hdf5Error(`unsupported HDF5 chunk index (${names[indexType] ?? indexType}) in '${path}'; write the file with h5py's default libver`);
    }
    throw new Hdf5Error(`unsupported HDF5 layout message version ${version} in '${path}'`);
  }

  /** Leaves of a version-1 B-tree of raw-data chunks, in key order. */
  chunkIndex(root: number, rank: number): ChunkRef[] {
    const out: ChunkRef[] = [];
    const O = this.offsetSize;
    const keySize = 8 + 8 * (rank + 1);
    const visit = (node: number, depth: number) => {
      if (depth > 64) throw new Hdf5Error('corrupt HDF5 file: chunk B-tree too deep');
      const hdr = this.read(node, 8 + 2 * O, 'chunk B-tree node');
      if (String.fromCharCode(hdr[0]!, hdr[1]!, hdr[2]!, hdr[3]!) !== 'TREE') throw new Hdf5Error('corrupt HDF5 file: bad chunk B-tree node signature');
      if (hdr[4] !== 1) throw new Hdf5Error('corrupt HDF5 file: chunk B-tree has the wrong node type');
      const level = hdr[5]!;
      const used = hdr[6]! | (hdr[7]! << 8);
      const body = this.read(node + 8 + 2 * O, (used + 1) * keySize + used * O, 'chunk B-tree node');
      for (let i = 0; i < used; i++) {
        const k = i * (keySize + O);
        const child = this.addr(body, k + keySize);
        if (level > 0) {
          visit(child, depth + 1);
          continue;
        }
        const offsets: number[] = [];
        for (let j = 0; j < rank; j++) offsets.push(this.uint(body, k + 8 + 8 * j, 8));
        out.push({ size: this.uint(body, k, 4), filterMask: this.uint(body, k + 4, 4), offsets, address: child });
      }
    };
    visit(root, 0);
    return out;
  }
}

export class Hdf5Dataset implements Hdf5DatasetInfo {
  readonly layout: Hdf5DatasetInfo['layout'];
  readonly chunkShape?: number[];
  readonly rowBytes: number;
  readonly byteLength: number;
  private readonly runTables = new Map<string, { src: Int32Array; dst: Int32Array }>();

  constructor(
    private readonly file: Hdf5File,
    readonly name: string,
    readonly shape: number[],
    readonly dtype: Hdf5Dtype,
    private readonly lay: Layout,
    readonly filters: number[],
  ) {
    this.layout = lay.kind;
    if (lay.chunkShape && lay.kind === 'chunked') this.chunkShape = lay.chunkShape;
    this.rowBytes = shape.slice(1).reduce((a, b) => a * b, 1) * dtype.size;
    this.byteLength = (shape[0] ?? 1) * this.rowBytes;
    if (lay.kind === 'chunked' && (lay.chunkShape?.length !== shape.length || lay.chunkShape.some((c) => c <= 0))) {
      throw new Hdf5Error(`corrupt HDF5 file: chunk shape of '${name}' does not match its rank`);
    }
  }

  /**
   * Stream the dataset in blocks of whole rows (dimension 0), in order.
   * Contiguous data comes in blocks of about `targetBytes`; chunked data in
   * slabs of one chunk row (all chunks that share a dimension-0 offset).
   */
  async *rowBlocks(opts: { targetBytes?: number; maxSlabBytes?: number; signal?: AbortSignal } = {}): AsyncGenerator<RowBlock> {
    const rows = this.shape[0] ?? 1;
    const rb = this.rowBytes;
    if (this.lay.kind === 'compact') {
      const c = this.lay.compact!;
      if (c.length < this.byteLength) throw new Hdf5Error(`corrupt HDF5 file: compact data of '${this.name}' is short`);
      yield { start: 0, rows, data: c.subarray(0, this.byteLength) };
      return;
    }
    if (this.lay.kind === 'contiguous') {
      const address = this.lay.address!;
      if (address === UNDEF) throw new Hdf5Error(`HDF5 dataset '${this.name}' has no data written`);
      if (this.lay.size !== undefined && this.lay.size < this.byteLength) {
        throw new Hdf5Error(`corrupt HDF5 file: '${this.name}' stores ${this.lay.size} bytes, its shape needs ${this.byteLength}`);
      }
      if (address + this.byteLength > this.file.fileSize) {
        throw new Hdf5Error(`truncated HDF5 file: data of '${this.name}' runs past the end of the file`);
      }
      const per = Math.max(1, Math.floor((opts.targetBytes ?? 4 << 20) / Math.max(1, rb)));
      for (let r = 0; r < rows; r += per) {
        opts.signal?.throwIfAborted();
        const n = Math.min(per, rows - r);
        yield { start: r, rows: n, data: this.file.read(address + r * rb, n * rb, `data of '${this.name}'`) };
        await Promise.resolve();
      }
      return;
    }
    // chunked
    const cs = this.lay.chunkShape!;
    const rank = this.shape.length;
    const elem = this.dtype.size;
    const chunkElems = cs.reduce((a, b) => a * b, 1);
    const chunkBytes = chunkElems * elem;
    let refs: ChunkRef[];
    if (this.lay.index === 'btree1') {
      if (this.lay.address === UNDEF) throw new Hdf5Error(`HDF5 dataset '${this.name}' has no data written`);
      refs = this.file.chunkIndex(this.lay.address!, rank);
    } else if (this.lay.index === 'single') {
      const f = this.lay.singleFiltered;
      refs = [{ address: this.lay.address!, size: f ? f.size : chunkBytes, filterMask: f ? f.mask : 0, offsets: new Array<number>(rank).fill(0) }];
    } else {
      // implicit: every chunk stored unfiltered, in row-major chunk order
      const grid = this.shape.map((n, i) => Math.ceil(n / cs[i]!));
      const total = grid.reduce((a, b) => a * b, 1);
      refs = [];
      for (let i = 0; i < total; i++) {
        const offsets = new Array<number>(rank);
        let rest = i;
        for (let k = rank - 1; k >= 0; k--) {
          offsets[k] = (rest % grid[k]!) * cs[k]!;
          rest = Math.floor(rest / grid[k]!);
        }
        refs.push({ address: this.lay.address! + i * chunkBytes, size: chunkBytes, filterMask: 0, offsets });
      }
    }
    refs.sort((a, b) => {
      for (let k = 0; k < rank; k++) if (a.offsets[k] !== b.offsets[k]) return a.offsets[k]! - b.offsets[k]!;
      return 0;
    });
    const perSlab = this.shape.slice(1).reduce((a, n, i) => a * Math.ceil(n / cs[i + 1]!), 1);
    const maxSlab = opts.maxSlabBytes ?? 1 << 30;
    // innermost dims that the chunk covers whole can be copied as one run
    let k0 = rank - 1;
    while (k0 > 0 && cs[k0] === this.shape[k0]) k0--;
    let i = 0;
    for (let r = 0; r < rows; r += cs[0]!) {
      opts.signal?.throwIfAborted();
      const n = Math.min(cs[0]!, rows - r);
      if (n * rb > maxSlab) throw new Hdf5Error(`HDF5 chunk rows of '${this.name}' are too large to stream (${n * rb} bytes)`);
      const slab = new Uint8Array(n * rb);
      let seen = 0;
      while (i < refs.length && refs[i]!.offsets[0] === r) {
        const ref = refs[i++]!;
        seen++;
        const chunk = this.decode(ref, chunkBytes);
        this.place(chunk, ref.offsets, slab, r, k0);
      }
      if (i < refs.length && refs[i]!.offsets[0]! < r + cs[0]!) {
        throw new Hdf5Error(`corrupt HDF5 file: chunk of '${this.name}' at a misaligned offset ${refs[i]!.offsets.join(',')}`);
      }
      if (seen !== perSlab) {
        throw new Hdf5Error(`HDF5 dataset '${this.name}' is missing chunks at rows ${r}…${r + n - 1} (found ${seen} of ${perSlab})`);
      }
      yield { start: r, rows: n, data: slab };
      await Promise.resolve();
    }
    if (i !== refs.length) throw new Hdf5Error(`corrupt HDF5 file: '${this.name}' has chunks outside its shape`);
  }

  private decode(ref: ChunkRef, chunkBytes: number): Uint8Array {
    if (ref.address === UNDEF) throw new Hdf5Error(`HDF5 dataset '${this.name}' has an unallocated chunk`);
    let data = this.file.read(ref.address, ref.size, `chunk of '${this.name}'`);
    for (let f = this.filters.length - 1; f >= 0; f--) {
      if (ref.filterMask & (1 << f)) continue;
      const id = this.filters[f];
      if (id === 1) {
        try {
          data = new Uint8Array(inflateSync(data, { maxOutputLength: chunkBytes + 1 }));
        } catch (e) {
          throw new Hdf5Error(`corrupt HDF5 file: deflate data of a chunk of '${this.name}' is invalid (${(e as Error).message})`);
        }
      } else if (id === 2) {
        data = unshuffle(data, this.dtype.size);
      }
    }
    if (data.length !== chunkBytes) {
      throw new Hdf5Error(`corrupt HDF5 file: a chunk of '${this.name}' holds ${data.length} bytes, expected ${chunkBytes}`);
    }
    return data;
  }

  /** Copy the part of a chunk that lies inside the dataset into the slab of rows [r0, r0+n). */
  private place(chunk: Uint8Array, offsets: number[], slab: Uint8Array, r0: number, k0: number): void {
    const shape = this.shape;
    const cs = this.lay.chunkShape!;
    const rank = shape.length;
    const elem = this.dtype.size;
    for (let k = 0; k < rank; k++) {
      if (offsets[k]! % cs[k]! !== 0 || offsets[k]! >= Math.max(shape[k]!, 1)) {
        throw new Hdf5Error(`corrupt HDF5 file: chunk of '${this.name}' at offset ${offsets.join(',')} lies outside the dataset`);
      }
    }
    // strides (elements) of the dataset and of the chunk
    const ds = new Array<number>(rank);
    const cst = new Array<number>(rank);
    let a = 1;
    let b = 1;
    for (let k = rank - 1; k >= 0; k--) {
      ds[k] = a;
      cst[k] = b;
      a *= shape[k]!;
      b *= cs[k]!;
    }
    const extent = cs.map((c, k) => Math.min(c, shape[k]! - offsets[k]!));
    // dims k0… are copied as one contiguous run of extent[k0]·stride[k0] elements
    const run = extent[k0]! * ds[k0]! * elem;
    const key = extent.join(',');
    let table = this.runTables.get(key);
    if (!table) {
      // byte offsets of every run in the chunk and, relative to the chunk's origin, in the slab
      const count = extent.slice(0, k0).reduce((x, y) => x * y, 1);
      const src = new Int32Array(count);
      const dst = new Int32Array(count);
      const idx = new Array<number>(k0).fill(0);
      for (let r = 0; r < count; r++) {
        let s0 = 0;
        let d0 = 0;
        for (let k = 0; k < k0; k++) {
          s0 += idx[k]! * cst[k]!;
          d0 += idx[k]! * ds[k]!;
        }
        src[r] = s0 * elem;
        dst[r] = d0 * elem;
        for (let k = k0 - 1; k >= 0; k--) {
          if (++idx[k]! < extent[k]!) break;
          idx[k] = 0;
        }
      }
      table = { src, dst };
      if (this.runTables.size > 64) this.runTables.clear();
      this.runTables.set(key, table);
    }
    let base = 0;
    for (let k = 0; k < rank; k++) base += (offsets[k]! - (k === 0 ? r0 : 0)) * ds[k]!;
    base *= elem;
    const { src, dst } = table;
    const last = dst.length - 1;
    if (base < 0 || base + dst[last]! + run > slab.length || src[last]! + run > chunk.length) {
      throw new Hdf5Error(`corrupt HDF5 file: chunk of '${this.name}' does not fit its rows`);
    }
    if (run === 1) {
      for (let r = 0; r <= last; r++) slab[base + dst[r]!] = chunk[src[r]!]!;
    } else if (run <= 32) {
      for (let r = 0; r <= last; r++) {
        const s0 = src[r]!;
        const d0 = base + dst[r]!;
        for (let j = 0; j < run; j++) slab[d0 + j] = chunk[s0 + j]!;
      }
    } else {
      for (let r = 0; r <= last; r++) slab.set(chunk.subarray(src[r]!, src[r]! + run), base + dst[r]!);
    }
  }

  /** Read the whole dataset as float64 values (for small datasets such as labels). */
  async readAllAsFloat64(signal?: AbortSignal): Promise<Float64Array> {
    const count = this.shape.reduce((a, b) => a * b, 1);
    if (count * 8 > 1 << 30) throw new Hdf5Error(`HDF5 dataset '${this.name}' is too large to read whole`);
    const out = new Float64Array(count);
    const e = this.dtype.size;
    const perRow = this.rowBytes / e;
    for await (const blk of this.rowBlocks({ signal })) {
      const v = new DataView(blk.data.buffer, blk.data.byteOffset, blk.data.byteLength);
      const n = blk.rows * perRow;
      const le = this.dtype.littleEndian;
      const at = blk.start * perRow;
      for (let i = 0; i < n; i++) {
        const p = i * e;
        let x: number;
        switch (`${this.dtype.kind}${e}`) {
          case 'f8': x = v.getFloat64(p, le); break;
          case 'f4': x = v.getFloat32(p, le); break;
          case 'u1': x = v.getUint8(p); break;
          case 'i1': x = v.getInt8(p); break;
          case 'u2': x = v.getUint16(p, le); break;
          case 'i2': x = v.getInt16(p, le); break;
          case 'u4': x = v.getUint32(p, le); break;
          case 'i4': x = v.getInt32(p, le); break;
          case 'u8': x = Number(v.getBigUint64(p, le)); break;
          default: x = Number(v.getBigInt64(p, le)); break;
        }
        out[at + i] = x;
      }
    }
    return out;
  }
}

/** Undo HDF5's byte shuffle: bytes were grouped by position within the element. */
function unshuffle(data: Uint8Array, size: number): Uint8Array {
  if (size <= 1) return data;
  const n = Math.floor(data.length / size);
  const out = new Uint8Array(data.length);
  for (let b = 0; b < size; b++) {
    const base = b * n;
    for (let i = 0; i < n; i++) out[i * size + b] = data[base + i]!;
  }
  out.set(data.subarray(n * size), n * size);
  return out;
}
