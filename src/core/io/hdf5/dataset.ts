/**
 * The dataset reader API: a dataset's shape, type and layout, streamed in
 * blocks of whole rows (dimension 0) so that large datasets never sit in
 * memory whole, or read whole as float64 values when small.
 */
import { Hdf5Error, UNDEF, type ChunkRef, type Hdf5DatasetInfo, type Hdf5Dtype, type Layout, type RowBlock } from './common.js';
import { decodeChunk, listChunks } from './chunks.js';
import type { Hdf5File } from './file.js';

export interface RowBlockOptions {
  targetBytes?: number;
  maxSlabBytes?: number;
  signal?: AbortSignal;
}

/** Byte offsets of every contiguous run of a chunk: in the chunk, and in the slab relative to the chunk's origin. */
interface RunTable {
  src: Int32Array;
  dst: Int32Array;
}

export class Hdf5Dataset implements Hdf5DatasetInfo {
  readonly layout: Hdf5DatasetInfo['layout'];
  readonly chunkShape?: number[];
  readonly rowBytes: number;
  readonly byteLength: number;
  private readonly runTables = new Map<string, RunTable>();

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
  async *rowBlocks(opts: RowBlockOptions = {}): AsyncGenerator<RowBlock> {
    if (this.lay.kind === 'compact') yield this.compactBlock();
    else if (this.lay.kind === 'contiguous') yield* this.contiguousBlocks(opts);
    else yield* this.chunkedBlocks(opts);
  }

  private compactBlock(): RowBlock {
    const rows = this.shape[0] ?? 1;
    const c = this.lay.compact!;
    if (c.length < this.byteLength) throw new Hdf5Error(`corrupt HDF5 file: compact data of '${this.name}' is short`);
    return { start: 0, rows, data: c.subarray(0, this.byteLength) };
  }

  private async *contiguousBlocks(opts: RowBlockOptions): AsyncGenerator<RowBlock> {
    const rows = this.shape[0] ?? 1;
    const rb = this.rowBytes;
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
  }

  private async *chunkedBlocks(opts: RowBlockOptions): AsyncGenerator<RowBlock> {
    const rows = this.shape[0] ?? 1;
    const rb = this.rowBytes;
    const cs = this.lay.chunkShape!;
    const rank = this.shape.length;
    const elem = this.dtype.size;
    const chunkElems = cs.reduce((a, b) => a * b, 1);
    const chunkBytes = chunkElems * elem;
    const refs: ChunkRef[] = listChunks(this.lay, this.shape, chunkBytes, this.name, (root, n) => this.file.chunkIndex(root, n));
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
        const chunk = decodeChunk(this.file, ref, chunkBytes, this.filters, this.dtype.size, this.name);
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
      table = buildRunTable(extent, k0, cst, ds, elem);
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
    copyRuns(chunk, slab, src, dst, base, run);
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

/**
 * Byte offsets of every run of a chunk part of the given extent: in the chunk
 * (strides `cst`) and, relative to the chunk's origin, in the slab (strides
 * `ds`). Dims k0… form one run.
 */
function buildRunTable(extent: number[], k0: number, cst: number[], ds: number[], elem: number): RunTable {
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
  return { src, dst };
}

/** Copy runs of `run` bytes from chunk offsets `src` to slab offsets `base + dst`. */
function copyRuns(chunk: Uint8Array, slab: Uint8Array, src: Int32Array, dst: Int32Array, base: number, run: number): void {
  const last = dst.length - 1;
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
