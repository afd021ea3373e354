import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Hdf5File } from '../../../src/core/io/hdf5.js';
import { writeHdf5, type H5DatasetSpec } from './hdf5-writer.helper.js';

const dir = mkdtempSync(join(tmpdir(), 'dlab-h5-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (bytes: Uint8Array) => {
  const p = join(dir, `f${n++}.h5`);
  writeFileSync(p, bytes);
  return p;
};

// images 7×5×4×3 uint8 with a known formula; labels 7×6 float64; a small int32 vector
const shape = [7, 5, 4, 3];
const img = new Uint8Array(7 * 5 * 4 * 3);
for (let a = 0; a < 7; a++) for (let b = 0; b < 5; b++) for (let c = 0; c < 4; c++) for (let d = 0; d < 3; d++)
  img[((a * 5 + b) * 4 + c) * 3 + d] = (a * 31 + b * 7 + c * 3 + d * 101) & 0xff;
const labels = new Float64Array(42).map((_, i) => i * 0.25 - 2);
const ints = new Int32Array([-5, 7, 1 << 30]);
const bytesOf = (a: Float64Array | Int32Array) => new Uint8Array(a.buffer.slice(0));

async function readRows(path: string, name: string, targetBytes?: number) {
  const h = Hdf5File.open(path);
  try {
    const d = h.dataset(name);
    const parts: Uint8Array[] = [];
    let next = 0;
    for await (const blk of d.rowBlocks({ targetBytes })) {
      expect(blk.start).toBe(next);
      next += blk.rows;
      parts.push(blk.data.slice());
    }
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let p = 0;
    for (const c of parts) { out.set(c, p); p += c.length; }
    return { d, bytes: out, blocks: parts.length };
  } finally {
    h.close();
  }
}

const layouts: [string, Partial<H5DatasetSpec>, Partial<H5DatasetSpec>][] = [
  ['contiguous', {}, {}],
  ['chunked + deflate, edge chunks', { chunks: [3, 2, 4, 2], deflate: true }, { chunks: [4, 4], deflate: true, shuffle: true }],
  ['chunked, whole rows per chunk', { chunks: [2, 5, 4, 3] }, { chunks: [7, 6] }],
];

describe('HDF5 reader on files written from the specification (superblock v0, symbol-table root group)', () => {
  for (const [title, imgOpts, labOpts] of layouts) {
    it(`reads ${title} datasets exactly`, async () => {
      const p = file(writeHdf5([
        { name: 'images', data: img, shape, dtype: 'u1', ...imgOpts },
        { name: 'labels', data: bytesOf(labels), shape: [7, 6], dtype: 'f8', ...labOpts },
        { name: 'ints', data: bytesOf(ints), shape: [3], dtype: 'i4' },
      ]));
      const h = Hdf5File.open(p);
      expect(h.list('/').sort()).toEqual(['images', 'ints', 'labels']);
      const d = h.dataset('images');
      expect(d.shape).toEqual(shape);
      expect(d.dtype).toEqual({ kind: 'u', size: 1, littleEndian: true });
      expect(d.layout).toBe(imgOpts.chunks ? 'chunked' : 'contiguous');
      expect(d.filters).toEqual(imgOpts.deflate ? [1] : []);
      expect(Array.from(await h.dataset('labels').readAllAsFloat64())).toEqual(Array.from(labels));
      expect(h.dataset('labels').dtype).toEqual({ kind: 'f', size: 8, littleEndian: true });
      expect(Array.from(await h.dataset('ints').readAllAsFloat64())).toEqual([-5, 7, 1 << 30]);
      h.close();
      const r = await readRows(p, 'images', 130);
      expect(r.bytes).toEqual(img);
      expect(r.blocks).toBeGreaterThan(1);
    });
  }

  it('names what is missing or unsupported', () => {
    const p = file(writeHdf5([{ name: 'images', data: img, shape, dtype: 'u1' }]));
    const h = Hdf5File.open(p);
    expect(() => h.dataset('labels')).toThrow(/no object 'labels'/);
    h.close();
    expect(() => Hdf5File.open(file(new Uint8Array(2000).fill(3)))).toThrow(/not an HDF5 file: signature not found/);
  });

  it('refuses a truncated file', async () => {
    const full = writeHdf5([
      { name: 'labels', data: bytesOf(labels), shape: [7, 6], dtype: 'f8' },
      { name: 'images', data: img, shape, dtype: 'u1' },
    ]);
    // the images data is written after the labels; cut inside it
    const p = file(full.subarray(0, full.length - 1500));
    await expect(readRows(p, 'images').then(() => 'ok', (e: Error) => e.message)).resolves.toMatch(/truncated|past the end of the file/);
  });

  it('refuses corrupt deflate chunks', async () => {
    const bytes = writeHdf5([{ name: 'images', data: img, shape, dtype: 'u1', chunks: [7, 5, 4, 3], deflate: true }]);
    // the single compressed chunk starts with the zlib header 0x78; garble what follows it
    let at = -1;
    for (let i = 96; i < bytes.length - 1; i++) if (bytes[i] === 0x78 && (bytes[i + 1] === 0x9c || bytes[i + 1] === 0xda || bytes[i + 1] === 0x01 || bytes[i + 1] === 0x5e)) { at = i; break; }
    expect(at).toBeGreaterThan(0);
    for (let i = at + 2; i < at + 12; i++) bytes[i] = 0xff;
    await expect(readRows(file(bytes), 'images')).rejects.toThrow(/deflate data of a chunk of 'images' is invalid/);
  });
});
