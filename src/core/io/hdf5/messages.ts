/**
 * The header messages that describe a dataset: dataspace, datatype
 * (fixed-point and IEEE float, either byte order), filter pipeline and data
 * layout (versions 1–4: compact, contiguous and chunked; for layout version 4
 * the single-chunk and implicit chunk indexes).
 */
import { Hdf5Error, SUPPORTED_FILTERS, type Hdf5Dtype, type Hdf5Reader, type Layout } from './common.js';

/** The dataset's shape ([] for a scalar). */
export function parseDataspace(r: Hdf5Reader, d: Uint8Array): number[] {
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
  for (let i = 0; i < rank; i++) shape.push(r.uint(d, p + i * r.lengthSize, r.lengthSize));
  return shape;
}

export function parseDatatype(r: Hdf5Reader, d: Uint8Array, path: string): Hdf5Dtype {
  const cls = d[0]! & 0x0f;
  const bits = d[1]!;
  const size = r.uint(d, 4, 4);
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

/** Ids of the filters in the pipeline, in order; optional unsupported filters are dropped. */
export function parseFilters(d: Uint8Array, path: string): number[] {
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

export function parseLayout(r: Hdf5Reader, d: Uint8Array, rank: number, path: string): Layout {
  const version = d[0]!;
  if (version === 1 || version === 2) return parseLayoutV1(r, d, rank);
  if (version === 3 || version === 4) return parseLayoutV3(r, d, rank, path);
  throw new Hdf5Error(`unsupported HDF5 layout message version ${version} in '${path}'`);
}

/** Layout message versions 1 and 2. */
function parseLayoutV1(r: Hdf5Reader, d: Uint8Array, rank: number): Layout {
  const O = r.offsetSize;
  const dims = d[1]!;
  const cls = d[2]!;
  let p = 8;
  if (cls === 0) {
    const shape = Array.from({ length: dims }, (_, i) => r.uint(d, p + 4 * i, 4));
    p += 4 * dims;
    const size = r.uint(d, p, 4);
    return { kind: 'compact', compact: d.slice(p + 4, p + 4 + size), chunkShape: shape };
  }
  const address = r.addr(d, p);
  p += O;
  const shape = Array.from({ length: dims }, (_, i) => r.uint(d, p + 4 * i, 4));
  if (cls === 1) return { kind: 'contiguous', address };
  return { kind: 'chunked', address, chunkShape: shape.slice(0, rank), index: 'btree1' };
}

/** Layout message versions 3 and 4. */
function parseLayoutV3(r: Hdf5Reader, d: Uint8Array, rank: number, path: string): Layout {
  const version = d[0]!;
  const O = r.offsetSize;
  const L = r.lengthSize;
  const cls = d[1]!;
  if (cls === 0) {
    const size = d[2]! | (d[3]! << 8);
    return { kind: 'compact', compact: d.slice(4, 4 + size) };
  }
  if (cls === 1) return { kind: 'contiguous', address: r.addr(d, 2), size: r.uint(d, 2 + O, L) };
  if (cls !== 2) throw new Hdf5Error(`unsupported HDF5 layout class ${cls} in '${path}'`);
  if (version === 3) {
    const dims = d[2]!;
    const address = r.addr(d, 3);
    const shape = Array.from({ length: dims }, (_, i) => r.uint(d, 3 + O + 4 * i, 4));
    return { kind: 'chunked', address, chunkShape: shape.slice(0, rank), index: 'btree1' };
  }
  const flags = d[2]!;
  const dims = d[3]!;
  const enc = d[4]!;
  let p = 5;
  const shape = Array.from({ length: dims }, (_, i) => r.uint(d, p + enc * i, enc));
  p += enc * dims;
  const indexType = d[p++]!;
  if (indexType === 1) {
    let singleFiltered: Layout['singleFiltered'];
    if (flags & 0x02) {
      singleFiltered = { size: r.uint(d, p, L), mask: r.uint(d, p + L, 4) };
      p += L + 4;
    }
    return { kind: 'chunked', address: r.addr(d, p), chunkShape: shape.slice(0, rank), index: 'single', singleFiltered };
  }
  if (indexType === 2) return { kind: 'chunked', address: r.addr(d, p), chunkShape: shape.slice(0, rank), index: 'implicit' };
  const names: Record<number, string> = { 3: 'fixed array', 4: 'extensible array', 5: 'version-2 B-tree' };
  throw new Hdf5Error(`unsupported HDF5 chunk index (${names[indexType] ?? indexType}) in '${path}'; write the file with h5py's default libver`);
}
