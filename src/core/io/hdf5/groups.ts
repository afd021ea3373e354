/**
 * Groups: member names and object header addresses, from a symbol table
 * (version-1 B-tree + local heap) or from compact link messages. Dense link
 * storage (fractal heap) is refused; soft and external links are skipped.
 */
import { Hdf5Error, UNDEF, type Hdf5Reader, type Message } from './common.js';
import { readMessages } from './object-header.js';

/** Names and object header addresses of a group's members. */
export function readLinks(r: Hdf5Reader, groupAddress: number): Map<string, number> {
  const msgs = readMessages(r, groupAddress);
  const st = msgs.find((m) => m.type === 0x11);
  if (st) return symbolTableLinks(r, st);
  const info = msgs.find((m) => m.type === 0x02);
  if (info) {
    const flags = info.data[1]!;
    const heapAddr = r.addr(info.data, 2 + (flags & 1 ? 8 : 0));
    if (heapAddr !== UNDEF) throw new Hdf5Error('unsupported HDF5 group: dense link storage (fractal heap)');
  }
  return linkMessageLinks(r, msgs);
}

/** Members listed by a symbol table message (B-tree of symbol table nodes, names in a local heap). */
function symbolTableLinks(r: Hdf5Reader, st: Message): Map<string, number> {
  const out = new Map<string, number>();
  const btree = r.addr(st.data, 0);
  const heap = r.addr(st.data, r.offsetSize);
  const h = r.read(heap, 8 + 2 * r.lengthSize + r.offsetSize, 'local heap');
  if (String.fromCharCode(h[0]!, h[1]!, h[2]!, h[3]!) !== 'HEAP') throw new Hdf5Error('corrupt HDF5 file: bad local heap signature');
  const segSize = r.uint(h, 8, r.lengthSize);
  const segAddr = r.addr(h, 8 + 2 * r.lengthSize);
  const seg = r.read(segAddr, segSize, 'local heap data');
  const nameAt = (off: number) => {
    let e = off;
    while (e < seg.length && seg[e] !== 0) e++;
    if (e >= seg.length) throw new Hdf5Error('corrupt HDF5 file: link name runs past the local heap');
    return new TextDecoder().decode(seg.subarray(off, e));
  };
  const visit = (node: number, depth: number) => {
    if (depth > 64) throw new Hdf5Error('corrupt HDF5 file: group B-tree too deep');
    const O = r.offsetSize;
    const L = r.lengthSize;
    const hdr = r.read(node, 8 + 2 * O, 'group B-tree node');
    if (String.fromCharCode(hdr[0]!, hdr[1]!, hdr[2]!, hdr[3]!) !== 'TREE') throw new Hdf5Error('corrupt HDF5 file: bad B-tree node signature');
    if (hdr[4] !== 0) throw new Hdf5Error('corrupt HDF5 file: group B-tree has the wrong node type');
    const level = hdr[5]!;
    const used = hdr[6]! | (hdr[7]! << 8);
    const body = r.read(node + 8 + 2 * O, (used + 1) * L + used * O, 'group B-tree node');
    for (let i = 0; i < used; i++) {
      const child = r.addr(body, (i + 1) * L + i * O);
      if (level > 0) visit(child, depth + 1);
      else readSymbolTableNode(r, child, nameAt, out);
    }
  };
  visit(btree, 0);
  return out;
}

/** Add the entries of the symbol table node at `address` to `out`. */
function readSymbolTableNode(r: Hdf5Reader, address: number, nameAt: (off: number) => string, out: Map<string, number>): void {
  const O = r.offsetSize;
  const sn = r.read(address, 8, 'symbol table node');
  if (String.fromCharCode(sn[0]!, sn[1]!, sn[2]!, sn[3]!) !== 'SNOD') throw new Hdf5Error('corrupt HDF5 file: bad symbol table node signature');
  const n = sn[6]! | (sn[7]! << 8);
  const entrySize = 2 * O + 24;
  const ents = r.read(address + 8, n * entrySize, 'symbol table node');
  for (let k = 0; k < n; k++) {
    const nameOff = r.uint(ents, k * entrySize, O);
    const objAddr = r.addr(ents, k * entrySize + O);
    out.set(nameAt(nameOff), objAddr);
  }
}

/** Hard-link members given by link messages (compact link storage). */
function linkMessageLinks(r: Hdf5Reader, msgs: Message[]): Map<string, number> {
  const out = new Map<string, number>();
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
    const nameLen = r.uint(d, p, lenSize);
    p += lenSize;
    const name = new TextDecoder().decode(d.subarray(p, p + nameLen));
    p += nameLen;
    if (linkType !== 0) continue; // soft / external links are not followed
    out.set(name, r.addr(d, p));
  }
  return out;
}
