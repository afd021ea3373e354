/**
 * A small ZIP reader for large archives such as NumPy `.npz` files: reads the
 * central directory (with ZIP64 records and extra fields), and streams one
 * entry at a time, stored or deflated (node:zlib), checking its size and
 * CRC-32. Nothing is loaded whole: entries of many gigabytes stream through.
 *
 * Refused with a ZipError naming the problem: no end-of-central-directory
 * record (not a zip, or truncated), multi-disk archives, encrypted entries,
 * compression methods other than stored/deflate, records or entry data that
 * run past the end of the file, corrupt deflate data, a CRC or size mismatch.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { pipeline } from 'node:stream';
import { open as openAsync } from 'node:fs/promises';
import { createInflateRaw, crc32 } from 'node:zlib';

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_Z64_LOCATOR = 0x07064b50;
const SIG_Z64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

function u64(view: DataView, at: number): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('zip record holds a 64-bit size beyond 2^53');
  return Number(v);
}

export interface StreamOptions {
  /** Bytes per read from the file (default 4 MiB). */
  chunkSize?: number;
  signal?: AbortSignal;
}

export class ZipReader {
  readonly entries: ZipEntry[];
  readonly fileSize: number;
  private fd: number | null;

  private constructor(readonly path: string, fd: number, fileSize: number, entries: ZipEntry[]) {
    this.fd = fd;
    this.fileSize = fileSize;
    this.entries = entries;
  }

  static open(path: string): ZipReader {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const entries = readCentralDirectory(fd, size);
      return new ZipReader(path, fd, size, entries);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get(name: string): ZipEntry | undefined {
    return this.entries.find((e) => e.name === name);
  }

  private read(at: number, length: number): Uint8Array {
    if (this.fd === null) throw new ZipError('zip reader is closed');
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, buf, got, length - got, at + got);
      if (n === 0) break;
      got += n;
    }
    if (got < length) throw new ZipError(`truncated zip: wanted ${length} bytes at offset ${at}, file has ${this.fileSize}`);
    return buf;
  }

  /** Offset of the entry's (compressed) data, from its local header. */
  dataOffset(entry: ZipEntry): number {
    if (entry.localHeaderOffset + 30 > this.fileSize) throw new ZipError(`truncated zip: local header of '${entry.name}' lies past the end of the file`);
    const h = this.read(entry.localHeaderOffset, 30);
    const v = new DataView(h.buffer);
    if (v.getUint32(0, true) !== SIG_LOCAL) throw new ZipError(`corrupt zip: bad local header signature for '${entry.name}'`);
    const start = entry.localHeaderOffset + 30 + v.getUint16(26, true) + v.getUint16(28, true);
    if (start + entry.compressedSize > this.fileSize) {
      throw new ZipError(
        `truncated zip: data of '${entry.name}' needs ${entry.compressedSize} bytes from offset ${start}, the file ends at ${this.fileSize}`,
      );
    }
    return start;
  }

  /**
   * Stream the uncompressed bytes of an entry. Checks the size and CRC-32 at
   * the end; an inflated stream longer than declared is stopped at once.
   */
  async *stream(entry: ZipEntry, opts: StreamOptions = {}): AsyncGenerator<Uint8Array> {
    const chunk = opts.chunkSize ?? 4 << 20;
    const start = this.dataOffset(entry);
    const fh = await openAsync(this.path, 'r');
    let crc = 0;
    let total = 0;
    const check = (data: Uint8Array) => {
      total += data.length;
      if (total > entry.uncompressedSize) {
        throw new ZipError(`corrupt zip: '${entry.name}' inflates past its declared size of ${entry.uncompressedSize} bytes`);
      }
      crc = crc32(data, crc);
    };
    try {
      if (entry.method === 0) {
        let pos = 0;
        while (pos < entry.compressedSize) {
          opts.signal?.throwIfAborted();
          const n = Math.min(chunk, entry.compressedSize - pos);
          const buf = new Uint8Array(n);
          const { bytesRead } = await fh.read(buf, 0, n, start + pos);
          if (bytesRead !== n) throw new ZipError(`truncated zip: data of '${entry.name}' ends early`);
          pos += n;
          check(buf);
          yield buf;
        }
      } else {
        const src = createReadStream(this.path, {
          start,
          end: Math.max(start, start + entry.compressedSize - 1),
          highWaterMark: chunk,
        });
        const inflate = createInflateRaw({ chunkSize: 1 << 20 });
        // errors of either stream end up on `inflate`, whose iteration then throws
        pipeline(src, inflate, () => undefined);
        try {
          for await (const d of inflate as AsyncIterable<Buffer>) {
            opts.signal?.throwIfAborted();
            check(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
            yield new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
          }
        } catch (e) {
          if (e instanceof ZipError || (e as Error).name === 'AbortError') throw e;
          throw new ZipError(`corrupt zip: deflate data of '${entry.name}' is invalid (${(e as Error).message})`);
        } finally {
          src.destroy();
          inflate.destroy();
        }
      }
      if (total !== entry.uncompressedSize) {
        throw new ZipError(`corrupt zip: '${entry.name}' gave ${total} bytes, its header declares ${entry.uncompressedSize}`);
      }
      if ((crc >>> 0) !== entry.crc32) throw new ZipError(`corrupt zip: CRC-32 mismatch in '${entry.name}'`);
    } finally {
      await fh.close();
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function readAt(fd: number, at: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, at + got);
    if (n === 0) break;
    got += n;
  }
  if (got < length) throw new ZipError('truncated zip: a record runs past the end of the file');
  return buf;
}

function readCentralDirectory(fd: number, size: number): ZipEntry[] {
  if (size < 22) throw new ZipError('not a zip file (or truncated): too short for an end-of-central-directory record');
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = readAt(fd, size - tailLen, tailLen);
  const tv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_EOCD && i + 22 + tv.getUint16(i + 20, true) <= tailLen) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('not a zip file (or truncated): end-of-central-directory record not found');
  const diskNo = tv.getUint16(eocd + 4, true);
  const cdDisk = tv.getUint16(eocd + 6, true);
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  const eocdAbs = size - tailLen + eocd;
  if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX || diskNo === U16_MAX) {
    if (eocdAbs < 20) throw new ZipError('corrupt zip: ZIP64 locator missing');
    const loc = readAt(fd, eocdAbs - 20, 20);
    const lv = new DataView(loc.buffer);
    if (lv.getUint32(0, true) !== SIG_Z64_LOCATOR) throw new ZipError('corrupt zip: ZIP64 end-of-central-directory locator missing');
    const z64At = u64(lv, 8);
    if (z64At + 56 > size) throw new ZipError('truncated zip: ZIP64 end-of-central-directory record lies past the end of the file');
    const z = readAt(fd, z64At, 56);
    const zv = new DataView(z.buffer);
    if (zv.getUint32(0, true) !== SIG_Z64_EOCD) throw new ZipError('corrupt zip: bad ZIP64 end-of-central-directory record');
    if (zv.getUint32(16, true) !== 0 || zv.getUint32(20, true) !== 0) throw new ZipError('multi-disk zip archives are not supported');
    count = u64(zv, 32);
    cdSize = u64(zv, 40);
    cdOffset = u64(zv, 48);
  } else if (diskNo !== 0 || cdDisk !== 0) {
    throw new ZipError('multi-disk zip archives are not supported');
  }
  if (cdOffset + cdSize > size) throw new ZipError('truncated zip: central directory runs past the end of the file');
  if (cdSize > 256 << 20) throw new ZipError(`zip central directory too large (${cdSize} bytes)`);
  const cd = readAt(fd, cdOffset, cdSize);
  const v = new DataView(cd.buffer);
  const entries: ZipEntry[] = [];
  let p = 0;
  const utf8 = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || v.getUint32(p, true) !== SIG_CENTRAL) throw new ZipError(`corrupt zip: bad central directory entry ${i}`);
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    let csize = v.getUint32(p + 20, true);
    let usize = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    const diskStart = v.getUint16(p + 34, true);
    let lho = v.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdSize) throw new ZipError(`corrupt zip: central directory entry ${i} runs past the directory`);
    const name = (flags & 0x800 ? utf8 : latin1).decode(cd.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: only the fields whose 32-bit value is saturated, in this order.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = v.getUint16(e, true);
      const len = v.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        const need = (n: string) => {
          if (q + 8 > e + 4 + len) throw new ZipError(`corrupt zip: ZIP64 extra field of '${name}' lacks the ${n}`);
          const x = u64(v, q);
          q += 8;
          return x;
        };
        if (usize === U32_MAX) usize = need('uncompressed size');
        if (csize === U32_MAX) csize = need('compressed size');
        if (lho === U32_MAX) lho = need('local header offset');
      }
      e += 4 + len;
    }
    if (diskStart !== 0 && diskStart !== U16_MAX) throw new ZipError('multi-disk zip archives are not supported');
    if (flags & 0x1) throw new ZipError(`encrypted zip entry '${name}' is not supported`);
    if (method !== 0 && method !== 8) throw new ZipError(`zip entry '${name}' uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    if (method === 0 && csize !== usize) throw new ZipError(`corrupt zip: stored entry '${name}' has different compressed and uncompressed sizes`);
    entries.push({ name, method, flags, crc32: crc, compressedSize: csize, uncompressedSize: usize, localHeaderOffset: lho });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
