/**
 * What the parts of the HDF5 reader share: its error, the file signature,
 * the public types, the internal records passed between the parts, and the
 * reader interface (raw reads and the file's offset/length sizes) that the
 * structure parsers are given.
 */

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

export interface RowBlock {
  /** First row (index along dimension 0) in the block. */
  start: number;
  rows: number;
  /** rows × rowBytes bytes, in the file's byte order. */
  data: Uint8Array;
}

export interface ChunkRef {
  address: number;
  size: number;
  filterMask: number;
  offsets: number[];
}

export interface Layout {
  kind: 'compact' | 'contiguous' | 'chunked';
  address?: number;
  size?: number;
  compact?: Uint8Array;
  chunkShape?: number[];
  /** 'btree1', 'single', 'implicit'. */
  index?: string;
  singleFiltered?: { size: number; mask: number };
}

export interface Message {
  type: number;
  data: Uint8Array;
  /** Absolute file address of the message data. */
  at: number;
}

/** An undefined address (all bits set). */
export const UNDEF = -1;
export const SUPPORTED_FILTERS: Record<number, string> = { 1: 'deflate', 2: 'shuffle' };

/** Raw access to an open HDF5 file, as the structure parsers need it. */
export interface Hdf5Reader {
  readonly offsetSize: number;
  readonly lengthSize: number;
  /** `length` bytes at absolute offset `at`; `what` names the structure in errors. */
  read(at: number, length: number, what?: string): Uint8Array;
  /** Little-endian unsigned integer of `size` bytes; UNDEF when all bits of a ≥4-byte field are set. */
  uint(b: Uint8Array, at: number, size: number): number;
  /** A file address (offsetSize bytes), relative to the base address; UNDEF stays UNDEF. */
  addr(b: Uint8Array, at: number): number;
}
