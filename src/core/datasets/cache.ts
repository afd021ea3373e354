/**
 * On-disk image cache for ground-truth datasets (generated or imported).
 *
 * A cache directory holds two files:
 * - `images.bin`: every image in index order, a fixed number of bytes each —
 *   bit-packed (8 pixels a byte, most significant bit first, each image
 *   starting on a byte boundary, like numpy.packbits) for binary datasets,
 *   uint8 (round(255·v)) otherwise, HWC order;
 * - `dataset.json`: a small header (format, dataset info, count, shape,
 *   encoding, bytes per image, data size and the SHA-256 of `images.bin`).
 *
 * Writers stream: images arrive in chunks, the hash is computed on the way,
 * and both files are written under temporary names and renamed only when
 * complete (data first, header last: a directory without `dataset.json` holds
 * no cache). A failure or cancellation removes the temporary files, and the
 * directory too when the writer created it.
 *
 * `CachedDataset` reads a cache as a GroundTruthDataset: the whole data file
 * in memory when it fits the limit (default 1 GiB; full dSprites bit-packed is
 * 377 MB), otherwise positioned reads (fs.readSync at offsets) per image.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DatasetInfo } from '../../shared/domain.js';
import type { GroundTruthDataset } from './types.js';
import { imageSize } from './types.js';

export const CACHE_FORMAT = 'dlab-image-cache';
export const CACHE_VERSION = 1;
export const CACHE_HEADER_FILE = 'dataset.json';
export const CACHE_DATA_FILE = 'images.bin';

export type CacheEncoding = 'bits' | 'u8';

export interface CacheHeader {
  format: typeof CACHE_FORMAT;
  version: number;
  datasetId: string;
  info: DatasetInfo;
  count: number;
  shape: [number, number, number];
  encoding: CacheEncoding;
  bytesPerImage: number;
  dataFile: string;
  dataBytes: number;
  /** SHA-256 (hex) of the data file. */
  sha256: string;
}

export class CacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CacheError';
  }
}

export function bytesPerImage(shape: readonly number[], encoding: CacheEncoding): number {
  const n = shape[0]! * shape[1]! * shape[2]!;
  return encoding === 'bits' ? Math.ceil(n / 8) : n;
}

export interface CacheWriterOptions {
  /** Default: 'bits' for binary datasets, 'u8' otherwise. */
  encoding?: CacheEncoding;
  /** Replace an existing cache in the directory (default: refuse). */
  overwrite?: boolean;
}

/**
 * Streams images into a new cache. Feed whole or partial images with
 * `writeBytes` (uint8 pixels: 0/1 for bit-packed caches, 0…255 otherwise) or
 * whole images with `writeFloats` (values in [0, 1]); then `commit()`, or
 * `abort()` on any failure.
 */
export class CacheWriter {
  readonly header: Omit<CacheHeader, 'sha256'>;
  private readonly hash = createHash('sha256');
  private readonly pixels: number;
  private carry: Uint8Array;
  private carryLen = 0;
  private written = 0;
  private done = false;

  private constructor(
    readonly dir: string,
    private readonly fh: FileHandle,
    private readonly tmpData: string,
    private readonly tmpHeader: string,
    private readonly createdDir: string | undefined,
    info: DatasetInfo,
    encoding: CacheEncoding,
  ) {
    const bpi = bytesPerImage(info.imageShape, encoding);
    this.pixels = imageSize(info);
    this.carry = new Uint8Array(this.pixels);
    this.header = {
      format: CACHE_FORMAT,
      version: CACHE_VERSION,
      datasetId: info.id,
      info,
      count: info.count,
      shape: [...info.imageShape],
      encoding,
      bytesPerImage: bpi,
      dataFile: CACHE_DATA_FILE,
      dataBytes: bpi * info.count,
    };
  }

  static async create(dir: string, info: DatasetInfo, opts: CacheWriterOptions = {}): Promise<CacheWriter> {
    const parsed = DatasetInfo.parse(info);
    const encoding = opts.encoding ?? (parsed.binary ? 'bits' : 'u8');
    if (encoding === 'bits' && !parsed.binary) throw new CacheError('bit-packed caches are only for binary datasets');
    const abs = resolve(dir);
    if (!opts.overwrite && existsSync(join(abs, CACHE_HEADER_FILE))) {
      throw new CacheError(`${abs} already holds a dataset cache (pass overwrite to replace it)`);
    }
    const createdDir = await mkdir(abs, { recursive: true });
    const tag = `${process.pid}-${randomBytes(6).toString('hex')}`;
    const tmpData = join(abs, `.${CACHE_DATA_FILE}.tmp-${tag}`);
    const tmpHeader = join(abs, `.${CACHE_HEADER_FILE}.tmp-${tag}`);
    let fh: FileHandle;
    try {
      fh = await open(tmpData, 'wx');
    } catch (e) {
      if (createdDir) await rm(createdDir, { recursive: true, force: true });
      throw e;
    }
    return new CacheWriter(abs, fh, tmpData, tmpHeader, createdDir, parsed, encoding);
  }

  /** Images completely written so far. */
  get imagesWritten(): number {
    return this.written;
  }

  private async emit(encoded: Uint8Array): Promise<void> {
    this.hash.update(encoded);
    let off = 0;
    while (off < encoded.length) {
      const { bytesWritten } = await this.fh.write(encoded, off, encoded.length - off);
      off += bytesWritten;
    }
  }

  /** Encode `n` whole images of uint8 pixels starting at `src[at]`. */
  private encodeBytes(src: Uint8Array, at: number, n: number): Uint8Array {
    const { encoding, bytesPerImage: bpi } = this.header;
    const P = this.pixels;
    if (encoding === 'u8') return src.subarray(at, at + n * P);
    const out = new Uint8Array(n * bpi);
    for (let i = 0; i < n; i++) {
      const s = at + i * P;
      const d = i * bpi;
      for (let p = 0; p < P; p++) {
        const v = src[s + p]!;
        if (v > 1) throw new CacheError(`binary dataset has pixel value ${v} in image ${this.written + i} (expected 0 or 1)`);
        if (v) out[d + (p >> 3)]! |= 0x80 >> (p & 7);
      }
    }
    return out;
  }

  private checkRoom(n: number): void {
    if (this.done) throw new CacheError('cache writer is closed');
    if (this.written + n > this.header.count) {
      throw new CacheError(`too many images for the cache: ${this.written + n} > ${this.header.count}`);
    }
  }

  /** Append pixels as uint8, any number of bytes (images may straddle calls). */
  async writeBytes(bytes: Uint8Array): Promise<void> {
    const P = this.pixels;
    let at = 0;
    if (this.carryLen > 0) {
      const take = Math.min(P - this.carryLen, bytes.length);
      this.carry.set(bytes.subarray(0, take), this.carryLen);
      this.carryLen += take;
      at = take;
      if (this.carryLen < P) return;
      this.checkRoom(1);
      await this.emit(this.encodeBytes(this.carry, 0, 1));
      this.written++;
      this.carryLen = 0;
    }
    const whole = Math.floor((bytes.length - at) / P);
    if (whole > 0) {
      this.checkRoom(whole);
      await this.emit(this.encodeBytes(bytes, at, whole));
      this.written += whole;
      at += whole * P;
    }
    const rest = bytes.length - at;
    if (rest > 0) {
      this.carry.set(bytes.subarray(at), 0);
      this.carryLen = rest;
    }
  }

  /** Append whole images given as float32 values in [0, 1]. */
  async writeFloats(images: Float32Array): Promise<void> {
    const P = this.pixels;
    if (images.length % P !== 0 || this.carryLen > 0) throw new CacheError('writeFloats takes whole images');
    const n = images.length / P;
    this.checkRoom(n);
    const { encoding, bytesPerImage: bpi } = this.header;
    let out: Uint8Array;
    if (encoding === 'u8') {
      out = new Uint8Array(images.length);
      for (let i = 0; i < images.length; i++) {
        const v = images[i]!;
        out[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
      }
    } else {
      out = new Uint8Array(n * bpi);
      for (let i = 0; i < n; i++) {
        const s = i * P;
        const d = i * bpi;
        for (let p = 0; p < P; p++) {
          const v = images[s + p]!;
          if (v === 1) out[d + (p >> 3)]! |= 0x80 >> (p & 7);
          else if (v !== 0) throw new CacheError(`binary dataset rendered value ${v} in image ${this.written + i} (expected 0 or 1)`);
        }
      }
    }
    await this.emit(out);
    this.written += n;
  }

  /** Finish: checks the image count, then renames data and header into place. */
  async commit(): Promise<CacheHeader> {
    if (this.done) throw new CacheError('cache writer is closed');
    try {
      if (this.carryLen > 0 || this.written !== this.header.count) {
        throw new CacheError(`incomplete cache: ${this.written} of ${this.header.count} images written${this.carryLen ? ' (and a partial image)' : ''}`);
      }
      await this.fh.sync();
      await this.fh.close();
      const header: CacheHeader = { ...this.header, sha256: this.hash.digest('hex') };
      await writeFile(this.tmpHeader, JSON.stringify(header, null, 1) + '\n', { flag: 'wx' });
      await rename(this.tmpData, join(this.dir, CACHE_DATA_FILE));
      await rename(this.tmpHeader, join(this.dir, CACHE_HEADER_FILE));
      this.done = true;
      return header;
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Remove everything this writer created. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.fh.close().catch(() => undefined);
    await unlink(this.tmpData).catch(() => undefined);
    await unlink(this.tmpHeader).catch(() => undefined);
    if (this.createdDir) {
      // only remove directories we made, and only when nothing else landed in them
      let d: string | undefined = this.dir;
      while (d && d.length >= this.createdDir.length) {
        const left = await readdir(d).catch(() => ['?']);
        if (left.length > 0) break;
        await rmdir(d).catch(() => undefined);
        d = d === this.createdDir ? undefined : resolve(d, '..');
      }
    }
  }
}

export interface BuildOptions extends CacheWriterOptions {
  /** Images rendered per chunk (default 1024). */
  chunkImages?: number;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/** Render every image of a dataset into a cache directory, in streaming chunks. */
export async function buildCache(ds: GroundTruthDataset, dir: string, opts: BuildOptions = {}): Promise<CacheHeader> {
  const w = await CacheWriter.create(dir, ds.info, opts);
  try {
    const size = imageSize(ds.info);
    const per = Math.max(1, opts.chunkImages ?? 1024);
    const buf = new Float32Array(per * size);
    const count = ds.info.count;
    for (let start = 0; start < count; start += per) {
      opts.signal?.throwIfAborted();
      const n = Math.min(per, count - start);
      for (let i = 0; i < n; i++) ds.render(start + i, buf, i * size);
      await w.writeFloats(n === per ? buf : buf.subarray(0, n * size));
      opts.onProgress?.((start + n) / count);
    }
    return await w.commit();
  } catch (e) {
    await w.abort();
    throw e;
  }
}

export function readCacheHeader(dir: string): CacheHeader {
  const path = join(dir, CACHE_HEADER_FILE);
  if (!existsSync(path)) throw new CacheError(`no dataset cache in ${dir} (missing ${CACHE_HEADER_FILE})`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CacheError(`corrupt cache header ${path}: ${(e as Error).message}`);
  }
  const h = raw as Partial<CacheHeader>;
  if (h.format !== CACHE_FORMAT || h.version !== CACHE_VERSION) throw new CacheError(`${path} is not a version ${CACHE_VERSION} ${CACHE_FORMAT} header`);
  const info = DatasetInfo.safeParse(h.info);
  if (!info.success) throw new CacheError(`corrupt cache header ${path}: bad dataset info`);
  if (h.encoding !== 'bits' && h.encoding !== 'u8') throw new CacheError(`corrupt cache header ${path}: unknown encoding`);
  const shape = info.data.imageShape;
  if (
    h.count !== info.data.count ||
    h.bytesPerImage !== bytesPerImage(shape, h.encoding) ||
    h.dataBytes !== h.bytesPerImage * h.count ||
    h.dataFile !== CACHE_DATA_FILE ||
    typeof h.sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(h.sha256)
  ) {
    throw new CacheError(`corrupt cache header ${path}: inconsistent sizes`);
  }
  return { ...(h as CacheHeader), info: info.data };
}

export interface OpenCacheOptions {
  /** Load the data file whole when it is at most this many bytes (default 1 GiB). */
  maxInMemoryBytes?: number;
}

export class CachedDataset implements GroundTruthDataset {
  readonly info: DatasetInfo;
  readonly header: CacheHeader;
  /** 'memory': whole file loaded; 'file': positioned reads. */
  readonly mode: 'memory' | 'file';
  private data: Uint8Array | null = null;
  private fd: number | null = null;
  private readonly scratch: Uint8Array;
  private readonly pixels: number;

  private constructor(readonly dir: string, header: CacheHeader, opts: OpenCacheOptions) {
    this.header = header;
    this.info = header.info;
    this.pixels = imageSize(header.info);
    this.scratch = new Uint8Array(header.bytesPerImage);
    const path = join(dir, header.dataFile);
    if (!existsSync(path)) throw new CacheError(`cache data file ${path} is missing`);
    const size = statSync(path).size;
    if (size !== header.dataBytes) throw new CacheError(`cache data file ${path} has ${size} bytes, the header says ${header.dataBytes} (truncated or replaced)`);
    if (size <= (opts.maxInMemoryBytes ?? 1 << 30)) {
      this.data = readFileSync(path);
      this.mode = 'memory';
    } else {
      this.fd = openSync(path, 'r');
      if (fstatSync(this.fd).size !== header.dataBytes) throw new CacheError(`cache data file ${path} changed size`);
      this.mode = 'file';
    }
  }

  static open(dir: string, opts: OpenCacheOptions = {}): CachedDataset {
    return new CachedDataset(resolve(dir), readCacheHeader(dir), opts);
  }

  /** The stored bytes of one image (a view valid until the next call). */
  rawImage(index: number): Uint8Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.header.count) {
      throw new RangeError(`index ${index} outside 0…${this.header.count - 1}`);
    }
    const bpi = this.header.bytesPerImage;
    if (this.data) return this.data.subarray(index * bpi, (index + 1) * bpi);
    if (this.fd === null) throw new CacheError('cached dataset is closed');
    const n = readSync(this.fd, this.scratch, 0, bpi, index * bpi);
    if (n !== bpi) throw new CacheError(`short read from the cache at image ${index}`);
    return this.scratch;
  }

  render(index: number, out: Float32Array, offset = 0): void {
    const raw = this.rawImage(index);
    const P = this.pixels;
    if (this.header.encoding === 'u8') {
      for (let p = 0; p < P; p++) out[offset + p] = raw[p]! / 255;
      return;
    }
    const full = P >> 3;
    for (let b = 0; b < full; b++) {
      const v = raw[b]!;
      const o = offset + 8 * b;
      out[o] = (v >> 7) & 1;
      out[o + 1] = (v >> 6) & 1;
      out[o + 2] = (v >> 5) & 1;
      out[o + 3] = (v >> 4) & 1;
      out[o + 4] = (v >> 3) & 1;
      out[o + 5] = (v >> 2) & 1;
      out[o + 6] = (v >> 1) & 1;
      out[o + 7] = v & 1;
    }
    for (let p = full * 8; p < P; p++) out[offset + p] = (raw[p >> 3]! >> (7 - (p & 7))) & 1;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.data = null;
  }
}

/** Recompute the SHA-256 of a cache's data file and compare with its header. */
export async function verifyCache(dir: string, signal?: AbortSignal): Promise<boolean> {
  const h = readCacheHeader(dir);
  const hash = createHash('sha256');
  const fh = await open(join(dir, h.dataFile), 'r');
  try {
    const buf = new Uint8Array(4 << 20);
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex') === h.sha256;
}
