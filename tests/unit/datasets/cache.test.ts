import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DatasetInfo } from '../../../src/shared/domain.js';
import { CachedDataset, CacheWriter, buildCache, readCacheHeader, verifyCache } from '../../../src/core/datasets/cache.js';
import type { GroundTruthDataset } from '../../../src/core/datasets/types.js';

const root = mkdtempSync(join(tmpdir(), 'dlab-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `c${n++}`);

/** Binary 4×5×1 images: pixel p of image i is on when (i + p) % 3 === 0. */
function binaryDs(count = 10): GroundTruthDataset {
  const info: DatasetInfo = {
    id: 'toy-bin', name: 'toy', description: '', factors: [{ name: 'a', size: count, cyclic: false }], count,
    imageShape: [4, 5, 1], source: 'procedural', approximation: false, binary: true, provenance: 'test',
  };
  return { info, render: (i, out, o = 0) => { for (let p = 0; p < 20; p++) out[o + p] = (i + p) % 3 === 0 ? 1 : 0; } };
}
/** RGB 3×2×3 images with values k/255. */
function rgbDs(count = 7): GroundTruthDataset {
  const info: DatasetInfo = {
    id: 'toy-rgb', name: 'toy', description: '', factors: [{ name: 'a', size: count, cyclic: false }], count,
    imageShape: [3, 2, 3], source: 'procedural', approximation: true, binary: false, provenance: 'test',
  };
  return { info, render: (i, out, o = 0) => { for (let p = 0; p < 18; p++) out[o + p] = ((i * 18 + p) * 7 % 256) / 255; } };
}

describe('image cache', () => {
  it('bit-packs binary images MSB first, one byte-aligned image after another', async () => {
    const dir = fresh();
    const h = await buildCache(binaryDs(), dir, { chunkImages: 3 });
    expect(h.encoding).toBe('bits');
    expect(h.bytesPerImage).toBe(3); // 20 bits
    const data = readFileSync(join(dir, 'images.bin'));
    expect(data.length).toBe(30);
    // image 0: pixels 0,3,6,9,12,15,18 on → bits 10010010 01001001 0010(0000)
    expect([...data.subarray(0, 3)]).toEqual([0b10010010, 0b01001001, 0b00100000]);
    // image 1: pixels 2,5,8,11,14,17 on → 00100100 10010010 0100(0000)
    expect([...data.subarray(3, 6)]).toEqual([0b00100100, 0b10010010, 0b01000000]);
    expect(h.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(await verifyCache(dir)).toBe(true);
    for (const maxInMemoryBytes of [1 << 20, 0]) {
      const c = CachedDataset.open(dir, { maxInMemoryBytes });
      expect(c.mode).toBe(maxInMemoryBytes ? 'memory' : 'file');
      const ref = new Float32Array(20);
      const got = new Float32Array(25);
      for (let i = 0; i < 10; i++) {
        binaryDs().render(i, ref);
        c.render(i, got, 5);
        expect(Array.from(got.subarray(5))).toEqual(Array.from(ref));
      }
      c.close();
    }
  });

  it('stores other images as uint8 and reads them back as k/255', async () => {
    const dir = fresh();
    const h = await buildCache(rgbDs(), dir, { chunkImages: 4 });
    expect(h.encoding).toBe('u8');
    const data = readFileSync(join(dir, 'images.bin'));
    expect(data.length).toBe(7 * 18);
    expect(data[18 * 2 + 5]).toBe(((2 * 18 + 5) * 7) % 256);
    const hdr = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'));
    expect(hdr).toMatchObject({ datasetId: 'toy-rgb', count: 7, shape: [3, 2, 3], encoding: 'u8', dataBytes: 126 });
    const c = CachedDataset.open(dir);
    const out = new Float32Array(18);
    c.render(6, out);
    expect(out[17]).toBe(Math.fround(((6 * 18 + 17) * 7 % 256) / 255));
    expect(() => c.render(7, out)).toThrow(RangeError);
  });

  it('writeBytes accepts images split across calls', async () => {
    const dir = fresh();
    const ds = rgbDs(3);
    const w = await CacheWriter.create(dir, ds.info);
    const all = new Uint8Array(54).map((_, i) => (i * 5) & 0xff);
    await w.writeBytes(all.subarray(0, 7));
    await w.writeBytes(all.subarray(7, 40));
    await w.writeBytes(all.subarray(40));
    await w.commit();
    expect([...readFileSync(join(dir, 'images.bin'))]).toEqual([...all]);
  });

  it('refuses non-binary values in a bit-packed cache and leaves nothing behind', async () => {
    const dir = fresh();
    const ds = binaryDs(4);
    const bad: GroundTruthDataset = { info: ds.info, render: (i, out, o = 0) => { ds.render(i, out, o); if (i === 2) out[o] = 0.5; } };
    await expect(buildCache(bad, dir)).rejects.toThrow(/rendered value 0.5 in image 2/);
    expect(existsSync(dir)).toBe(false); // the directory was ours, so it is gone too
  });

  it('cancellation removes the temporary files; an existing cache is not overwritten by default', async () => {
    const dir = fresh();
    await buildCache(rgbDs(), dir);
    const before = readdirSync(dir).sort();
    const ctl = new AbortController();
    const big = rgbDs(5000);
    await expect(buildCache(big, dir, { overwrite: true, chunkImages: 100, signal: ctl.signal, onProgress: (f) => { if (f > 0.1) ctl.abort(); } })).rejects.toThrow(/abort/i);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readCacheHeader(dir).count).toBe(7);
    await expect(buildCache(rgbDs(), dir)).rejects.toThrow(/already holds a dataset cache/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('an incomplete write is refused at commit', async () => {
    const dir = fresh();
    const w = await CacheWriter.create(dir, rgbDs(3).info);
    await w.writeBytes(new Uint8Array(18 * 2 + 5));
    await expect(w.commit()).rejects.toThrow(/incomplete cache: 2 of 3 images written \(and a partial image\)/);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a truncated data file and a corrupted one fails verification', async () => {
    const dir = fresh();
    await buildCache(rgbDs(), dir);
    const data = join(dir, 'images.bin');
    const bytes = readFileSync(data);
    bytes[3] = bytes[3]! ^ 1;
    writeFileSync(data, bytes);
    expect(await verifyCache(dir)).toBe(false);
    truncateSync(data, 100);
    expect(() => CachedDataset.open(dir)).toThrow(/has 100 bytes, the header says 126/);
  });
});
