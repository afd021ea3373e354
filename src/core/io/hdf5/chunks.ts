/**
 * Chunked storage: the chunk index (version-1 B-tree; for layout version 4
 * the single-chunk and implicit indexes) and the filters a chunk is decoded
 * with (deflate and shuffle).
 */
import { inflateSync } from 'node:zlib';
import { Hdf5Error, UNDEF, type ChunkRef, type Hdf5Reader, type Layout } from './common.js';

/** Leaves of a version-1 B-tree of raw-data chunks, in key order. */
export function readChunkBTree(r: Hdf5Reader, root: number, rank: number): ChunkRef[] {
  const out: ChunkRef[] = [];
  const O = r.offsetSize;
  const keySize = 8 + 8 * (rank + 1);
  const visit = (node: number, depth: number) => {
    if (depth > 64) throw new Hdf5Error('corrupt HDF5 file: chunk B-tree too deep');
    const hdr = r.read(node, 8 + 2 * O, 'chunk B-tree node');
    if (String.fromCharCode(hdr[0]!, hdr[1]!, hdr[2]!, hdr[3]!) !== 'TREE') throw new Hdf5Error('corrupt HDF5 file: bad chunk B-tree node signature');
    if (hdr[4] !== 1) throw new Hdf5Error('corrupt HDF5 file: chunk B-tree has the wrong node type');
    const level = hdr[5]!;
    const used = hdr[6]! | (hdr[7]! << 8);
    const body = r.read(node + 8 + 2 * O, (used + 1) * keySize + used * O, 'chunk B-tree node');
    for (let i = 0; i < used; i++) {
      const k = i * (keySize + O);
      const child = r.addr(body, k + keySize);
      if (level > 0) {
        visit(child, depth + 1);
        continue;
      }
      const offsets: number[] = [];
      for (let j = 0; j < rank; j++) offsets.push(r.uint(body, k + 8 + 8 * j, 8));
      out.push({ size: r.uint(body, k, 4), filterMask: r.uint(body, k + 4, 4), offsets, address: child });
    }
  };
  visit(root, 0);
  return out;
}

/**
 * Every chunk of a chunked dataset, sorted by offset (row-major).
 * `btree` reads a version-1 B-tree index (root address, rank).
 */
export function listChunks(
  lay: Layout,
  shape: number[],
  chunkBytes: number,
  name: string,
  btree: (root: number, rank: number) => ChunkRef[],
): ChunkRef[] {
  const cs = lay.chunkShape!;
  const rank = shape.length;
  let refs: ChunkRef[];
  if (lay.index === 'btree1') {
    if (lay.address === UNDEF) throw new Hdf5Error(`HDF5 dataset '${name}' has no data written`);
    refs = btree(lay.address!, rank);
  } else if (lay.index === 'single') {
    const f = lay.singleFiltered;
    refs = [{ address: lay.address!, size: f ? f.size : chunkBytes, filterMask: f ? f.mask : 0, offsets: new Array<number>(rank).fill(0) }];
  } else {
    // implicit: every chunk stored unfiltered, in row-major chunk order
    const grid = shape.map((n, i) => Math.ceil(n / cs[i]!));
    const total = grid.reduce((a, b) => a * b, 1);
    refs = [];
    for (let i = 0; i < total; i++) {
      const offsets = new Array<number>(rank);
      let rest = i;
      for (let k = rank - 1; k >= 0; k--) {
        offsets[k] = (rest % grid[k]!) * cs[k]!;
        rest = Math.floor(rest / grid[k]!);
      }
      refs.push({ address: lay.address! + i * chunkBytes, size: chunkBytes, filterMask: 0, offsets });
    }
  }
  refs.sort((a, b) => {
    for (let k = 0; k < rank; k++) if (a.offsets[k] !== b.offsets[k]) return a.offsets[k]! - b.offsets[k]!;
    return 0;
  });
  return refs;
}

/**
 * Read a chunk and undo its filters (`filters` in pipeline order, skipping
 * those masked off for this chunk); it must come out `chunkBytes` long.
 */
export function decodeChunk(
  r: Pick<Hdf5Reader, 'read'>,
  ref: ChunkRef,
  chunkBytes: number,
  filters: number[],
  elemSize: number,
  name: string,
): Uint8Array {
  if (ref.address === UNDEF) throw new Hdf5Error(`HDF5 dataset '${name}' has an unallocated chunk`);
  let data = r.read(ref.address, ref.size, `chunk of '${name}'`);
  for (let f = filters.length - 1; f >= 0; f--) {
    if (ref.filterMask & (1 << f)) continue;
    const id = filters[f];
    if (id === 1) {
      try {
        data = new Uint8Array(inflateSync(data, { maxOutputLength: chunkBytes + 1 }));
      } catch (e) {
        throw new Hdf5Error(`corrupt HDF5 file: deflate data of a chunk of '${name}' is invalid (${(e as Error).message})`);
      }
    } else if (id === 2) {
      data = unshuffle(data, elemSize);
    }
  }
  if (data.length !== chunkBytes) {
    throw new Hdf5Error(`corrupt HDF5 file: a chunk of '${name}' holds ${data.length} bytes, expected ${chunkBytes}`);
  }
  return data;
}

/** Undo HDF5's byte shuffle: bytes were grouped by position within the element. */
export function unshuffle(data: Uint8Array, size: number): Uint8Array {
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
