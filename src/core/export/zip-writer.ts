/**
 * A small ZIP writer: entries stored or deflated (node:zlib), written one at
 * a time to a file, with CRC-32 and sizes in the local headers (no data
 * descriptors); ZIP64 records when offsets pass 4 GiB or entries 65,535.
 * Names are UTF-8 (flag bit 11); every entry is a regular file (Unix mode
 * 0644, made by Unix). Also `centralAttributes`, which reads back the
 * central directory's "made by" host and external attributes (the ZIP
 * reader does not report them) so importers can refuse symlinks.
 */
import * as fs from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';

const U32 = 0xffffffff;

export interface ZipInput {
  name: string;
  data: Uint8Array;
  /** Default: deflate when it makes the entry smaller. */
  method?: 'store' | 'deflate';
  /** Unix mode bits of the entry (default 0o100644: a regular file). */
  mode?: number;
}

interface Written {
  name: Buffer;
  crc: number;
  csize: number;
  usize: number;
  method: number;
  offset: number;
  mode: number;
}

const DOS_DATE = ((2020 - 1980) << 9) | (1 << 5) | 1; // fixed 2020-01-01: reproducible archives
const DOS_TIME = 0;

export class ZipWriter {
  private fd: number;
  private pos = 0;
  private written: Written[] = [];
  private names = new Set<string>();

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, 'w');
  }

  private write(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) off += fs.writeSync(this.fd, b, off, b.length - off, this.pos + off);
    this.pos += b.length;
  }

  add(entry: ZipInput): void {
    if (this.names.has(entry.name)) throw new Error(`duplicate zip entry '${entry.name}'`);
    this.names.add(entry.name);
    const data = entry.data;
    if (data.length >= U32) throw new Error(`zip entry '${entry.name}' is too large (${data.length} bytes)`);
    const crc = crc32(data) >>> 0;
    let method = 0;
    let body: Uint8Array = data;
    if (entry.method !== 'store') {
      const d = deflateRawSync(data, { level: 6 });
      if (entry.method === 'deflate' || d.length < data.length) {
        method = 8;
        body = d;
      }
    }
    const name = Buffer.from(entry.name, 'utf8');
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(0x800, 6);
    h.writeUInt16LE(method, 8);
    h.writeUInt16LE(DOS_TIME, 10);
    h.writeUInt16LE(DOS_DATE, 12);
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(body.length, 18);
    h.writeUInt32LE(data.length, 22);
    h.writeUInt16LE(name.length, 26);
    h.writeUInt16LE(0, 28);
    const offset = this.pos;
    this.write(h);
    this.write(name);
    this.write(body);
    this.written.push({ name, crc, csize: body.length, usize: data.length, method, offset, mode: entry.mode ?? 0o100644 });
  }

  close(): { bytes: number; entries: number } {
    const cdStart = this.pos;
    for (const w of this.written) {
      const z64 = w.offset >= U32;
      const extra = z64 ? Buffer.alloc(12) : Buffer.alloc(0);
      if (z64) {
        extra.writeUInt16LE(0x0001, 0);
        extra.writeUInt16LE(8, 2);
        extra.writeBigUInt64LE(BigInt(w.offset), 4);
      }
      const h = Buffer.alloc(46);
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE((3 << 8) | (z64 ? 45 : 20), 4); // made by Unix
      h.writeUInt16LE(z64 ? 45 : 20, 6);
      h.writeUInt16LE(0x800, 8);
      h.writeUInt16LE(w.method, 10);
      h.writeUInt16LE(DOS_TIME, 12);
      h.writeUInt16LE(DOS_DATE, 14);
      h.writeUInt32LE(w.crc, 16);
      h.writeUInt32LE(w.csize, 20);
      h.writeUInt32LE(w.usize, 24);
      h.writeUInt16LE(w.name.length, 28);
      h.writeUInt16LE(extra.length, 30);
      h.writeUInt16LE(0, 32);
      h.writeUInt16LE(0, 34);
      h.writeUInt16LE(0, 36);
      h.writeUInt32LE((w.mode << 16) >>> 0, 38);
      h.writeUInt32LE(z64 ? U32 : w.offset, 42);
      this.write(h);
      this.write(w.name);
      this.write(extra);
    }
    const cdSize = this.pos - cdStart;
    const n = this.written.length;
    const need64 = n >= 0xffff || cdStart >= U32 || cdSize >= U32;
    if (need64) {
      const z = Buffer.alloc(56);
      const at = this.pos;
      z.writeUInt32LE(0x06064b50, 0);
      z.writeBigUInt64LE(44n, 4);
      z.writeUInt16LE((3 << 8) | 45, 12);
      z.writeUInt16LE(45, 14);
      z.writeUInt32LE(0, 16);
      z.writeUInt32LE(0, 20);
      z.writeBigUInt64LE(BigInt(n), 24);
      z.writeBigUInt64LE(BigInt(n), 32);
      z.writeBigUInt64LE(BigInt(cdSize), 40);
      z.writeBigUInt64LE(BigInt(cdStart), 48);
      this.write(z);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      loc.writeUInt32LE(0, 4);
      loc.writeBigUInt64LE(BigInt(at), 8);
      loc.writeUInt32LE(1, 16);
      this.write(loc);
    }
    const e = Buffer.alloc(22);
    e.writeUInt32LE(0x06054b50, 0);
    e.writeUInt16LE(0, 4);
    e.writeUInt16LE(0, 6);
    e.writeUInt16LE(need64 ? 0xffff : n, 8);
    e.writeUInt16LE(need64 ? 0xffff : n, 10);
    e.writeUInt32LE(need64 ? U32 : cdSize, 12);
    e.writeUInt32LE(need64 ? U32 : cdStart, 16);
    e.writeUInt16LE(0, 20);
    this.write(e);
    fs.closeSync(this.fd);
    return { bytes: this.pos, entries: n };
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
    fs.rmSync(this.path, { force: true });
  }
}

export interface CentralAttributes {
  name: string;
  /** Host of "version made by" (3 = Unix). */
  host: number;
  externalAttributes: number;
  /** Unix mode (high 16 bits of the external attributes) where the host is Unix, else null. */
  unixMode: number | null;
}

/** Host and external attributes of every central-directory entry (the file must already have passed ZipReader.open). */
export function centralAttributes(file: string): CentralAttributes[] {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLen);
    fs.readSync(fd, tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50 && i + 22 + tail.readUInt16LE(i + 20) <= tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error('not a zip file');
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === U32 || cdOffset === U32) {
      const locAt = size - tailLen + eocd - 20;
      const loc = Buffer.alloc(20);
      fs.readSync(fd, loc, 0, 20, locAt);
      const z64At = Number(loc.readBigUInt64LE(8));
      const z = Buffer.alloc(56);
      fs.readSync(fd, z, 0, 56, z64At);
      count = Number(z.readBigUInt64LE(32));
      cdSize = Number(z.readBigUInt64LE(40));
      cdOffset = Number(z.readBigUInt64LE(48));
    }
    const cd = Buffer.alloc(cdSize);
    fs.readSync(fd, cd, 0, cdSize, cdOffset);
    const out: CentralAttributes[] = [];
    let p = 0;
    for (let i = 0; i < count && p + 46 <= cd.length; i++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
      const host = cd.readUInt16LE(p + 4) >> 8;
      const flags = cd.readUInt16LE(p + 8);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const ext = cd.readUInt32LE(p + 38);
      const name = cd.subarray(p + 46, p + 46 + nameLen).toString(flags & 0x800 ? 'utf8' : 'latin1');
      out.push({ name, host, externalAttributes: ext, unixMode: host === 3 ? ext >>> 16 : null });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}
