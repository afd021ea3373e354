import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZipReader } from '../../../src/core/io/zip.js';
import { writeZip } from './zip-writer.helper.js';

const dir = mkdtempSync(join(tmpdir(), 'dlab-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (bytes: Uint8Array) => {
  const p = join(dir, `f${n++}.zip`);
  writeFileSync(p, bytes);
  return p;
};
async function readAll(z: ZipReader, name: string, chunkSize?: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of z.stream(z.get(name)!, { chunkSize })) parts.push(c.slice());
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let p = 0;
  for (const c of parts) { out.set(c, p); p += c.length; }
  return out;
}

// a compressible payload and an incompressible one (LCG bytes)
const text = new TextEncoder().encode('disentanglement '.repeat(5000));
const noise = new Uint8Array(70000);
let s = 12345;
for (let i = 0; i < noise.length; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; noise[i] = s >>> 24; }

describe('ZipReader', () => {
  for (const zip64 of [false, true]) {
    it(`lists and streams stored and deflated entries${zip64 ? ' (ZIP64 records)' : ''}`, async () => {
      const p = file(writeZip([
        { name: 'a.npy', data: text, deflate: true },
        { name: 'b.npy', data: noise },
        { name: 'empty', data: new Uint8Array(0) },
      ], { zip64 }));
      const z = ZipReader.open(p);
      expect(z.entries.map((e) => [e.name, e.method, e.uncompressedSize])).toEqual([
        ['a.npy', 8, text.length], ['b.npy', 0, noise.length], ['empty', 0, 0],
      ]);
      expect(z.entries[0]!.compressedSize).toBeLessThan(text.length / 10);
      expect(await readAll(z, 'a.npy', 1000)).toEqual(text);
      expect(await readAll(z, 'b.npy', 4096)).toEqual(noise);
      expect((await readAll(z, 'empty')).length).toBe(0);
      z.close();
    });
  }

  it('refuses a file without an end-of-central-directory record (truncated or not a zip)', () => {
    const full = writeZip([{ name: 'a', data: text, deflate: true }]);
    expect(() => ZipReader.open(file(full.subarray(0, full.length - 30)))).toThrow(/end-of-central-directory record not found/);
    expect(() => ZipReader.open(file(new Uint8Array(100).fill(7)))).toThrow(/not a zip file/);
  });

  it('refuses entry data that runs past the end of the file', async () => {
    const bytes = writeZip([{ name: 'b', data: noise }]);
    const cdAt = bytes.length - 22 - (46 + 1);
    const v = new DataView(bytes.buffer);
    expect(v.getUint32(cdAt, true)).toBe(0x02014b50);
    v.setUint32(cdAt + 20, noise.length + 100000, true); // compressed size
    v.setUint32(cdAt + 24, noise.length + 100000, true); // uncompressed size
    const z = ZipReader.open(file(bytes));
    await expect(readAll(z, 'b')).rejects.toThrow(/truncated zip: data of 'b' needs 170000 bytes/);
    z.close();
  });

  it('detects a CRC mismatch in stored data and corrupt deflate data', async () => {
    const stored = writeZip([{ name: 'b', data: noise }]);
    stored[531] = stored[531]! ^ 0xff; // flip a data byte (local header 30 B + name 1 B + 500)
    const z = ZipReader.open(file(stored));
    await expect(readAll(z, 'b')).rejects.toThrow(/CRC-32 mismatch in 'b'/);
    z.close();
    const deflated = writeZip([{ name: 'a', data: text, deflate: true }]);
    for (let i = 31; i < 60; i++) deflated[i] = 0xff; // garbage at the start of the deflate stream
    const z2 = ZipReader.open(file(deflated));
    await expect(readAll(z2, 'a')).rejects.toThrow(/corrupt zip/);
    z2.close();
  });

  it('refuses unsupported compression methods and encrypted entries', () => {
    const bytes = writeZip([{ name: 'a', data: text }]);
    const cdAt = bytes.length - 22 - (46 + 1);
    const v = new DataView(bytes.buffer);
    expect(v.getUint32(cdAt, true)).toBe(0x02014b50);
    v.setUint16(cdAt + 10, 14, true); // LZMA
    expect(() => ZipReader.open(file(bytes))).toThrow(/compression method 14/);
    v.setUint16(cdAt + 10, 0, true);
    v.setUint16(cdAt + 8, 1, true); // encrypted flag
    expect(() => ZipReader.open(file(bytes))).toThrow(/encrypted/);
  });
});
