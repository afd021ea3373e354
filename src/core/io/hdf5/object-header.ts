/**
 * Object headers, versions 1 and 2: the list of header messages of an
 * object, following continuation blocks. Checksums of version-2 headers are
 * not verified.
 */
import { Hdf5Error, type Hdf5Reader, type Message } from './common.js';

/** A block of header messages: address, length, is the first (v2: not an OCHK block). */
type Block = [number, number, boolean];

interface HeaderStart {
  v2: boolean;
  v2Flags: number;
  first: Block;
}

/** All messages of the object header at `address`, continuation blocks included. */
export function readMessages(r: Hdf5Reader, address: number): Message[] {
  const { v2, v2Flags, first } = readHeaderStart(r, address);
  const collected: Message[] = [];
  const blocks: Block[] = [first];
  let guard = 0;
  while (blocks.length > 0) {
    if (++guard > 10000) throw new Hdf5Error('corrupt HDF5 file: object header continuation loop');
    const [at, len, isFirst] = blocks.shift()!;
    const b = r.read(at, len, 'object header messages');
    const out = v2 ? v2Messages(b, at, len, isFirst, v2Flags) : v1Messages(b, at, len);
    // queue continuation blocks found in this block
    for (const m of out) {
      if (m.type === 0x10) {
        const a = r.addr(m.data, 0);
        const l = r.uint(m.data, r.offsetSize, r.lengthSize);
        blocks.push([a, l, false]);
      }
      collected.push(m);
    }
  }
  return collected;
}

/** The header's version and flags, and where its first block of messages lies. */
function readHeaderStart(r: Hdf5Reader, address: number): HeaderStart {
  const sig = r.read(address, 4, 'object header');
  if (sig[0] === 0x4f && sig[1] === 0x48 && sig[2] === 0x44 && sig[3] === 0x52) {
    // "OHDR": version 2
    const h = r.read(address, 6, 'object header');
    if (h[4] !== 2) throw new Hdf5Error(`unsupported object header version ${h[4]}`);
    const v2Flags = h[5]!;
    let p = 6;
    if (v2Flags & 0x20) p += 16;
    if (v2Flags & 0x10) p += 4;
    const sizeBytes = 1 << (v2Flags & 3);
    const sb = r.read(address + p, sizeBytes, 'object header');
    const size = r.uint(sb, 0, sizeBytes);
    return { v2: true, v2Flags, first: [address + p + sizeBytes, size, true] };
  }
  const h = r.read(address, 16, 'object header');
  if (h[0] !== 1) throw new Hdf5Error(`corrupt HDF5 file: unknown object header version ${h[0]} at ${address}`);
  const size = r.uint(h, 8, 4);
  return { v2: false, v2Flags: 0, first: [address + 16, size, true] };
}

/** Messages of one version-2 block (`b`, read from `at`). */
function v2Messages(b: Uint8Array, at: number, len: number, first: boolean, v2Flags: number): Message[] {
  const out: Message[] = [];
  let p = 0;
  if (!first) {
    if (String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!) !== 'OCHK') throw new Hdf5Error('corrupt HDF5 file: bad continuation block signature');
    p = 4;
  }
  const end = first ? len : len - 4; // the first chunk's size excludes the checksum; OCHK blocks include it
  const hdr = 4 + (v2Flags & 0x04 ? 2 : 0);
  while (p + hdr <= end) {
    const type = b[p]!;
    const size = b[p + 1]! | (b[p + 2]! << 8);
    const data = b.subarray(p + hdr, p + hdr + size);
    if (p + hdr + size > end) throw new Hdf5Error('corrupt HDF5 file: object header message runs past its block');
    out.push({ type, data, at: at + p + hdr });
    p += hdr + size;
  }
  return out;
}

/** Messages of one version-1 block (`b`, read from `at`). */
function v1Messages(b: Uint8Array, at: number, len: number): Message[] {
  const out: Message[] = [];
  let p = 0;
  const end = len;
  while (p + 8 <= end) {
    const type = b[p]! | (b[p + 1]! << 8);
    const size = b[p + 2]! | (b[p + 3]! << 8);
    if (p + 8 + size > end) throw new Hdf5Error('corrupt HDF5 file: object header message runs past its block');
    out.push({ type, data: b.subarray(p + 8, p + 8 + size), at: at + p + 8 });
    p += 8 + size;
  }
  return out;
}
