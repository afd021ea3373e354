/**
 * Raw reads from an HDF5 file and its superblock (versions 0–3), which sets
 * the sizes of offsets and lengths, the base address and the root group.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Hdf5Error, UNDEF, isHdf5Signature, type Hdf5Reader } from './common.js';

export class RawFile implements Hdf5Reader {
  readonly fileSize: number;
  private fd: number | null;
  offsetSize = 8;
  lengthSize = 8;
  private base = 0;
  rootAddress = 0;

  private constructor(path: string) {
    this.fd = openSync(path, 'r');
    this.fileSize = fstatSync(this.fd).size;
  }

  /** Open `path` and read its superblock; the file is closed again if that fails. */
  static open(path: string): RawFile {
    const f = new RawFile(path);
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

  uint(b: Uint8Array, at: number, size: number): number {
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

  addr(b: Uint8Array, at: number): number {
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
}
