import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectKind, importDataset, openImported } from '../../../src/core/datasets/importers/index.js';
import { npy, npz } from '../io/zip-writer.helper.js';
import { writeHdf5 } from '../io/hdf5-writer.helper.js';

const root = mkdtempSync(join(tmpdir(), 'dlab-import-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const put = (bytes: Uint8Array, ext: string) => {
  const p = join(root, `src${n++}.${ext}`);
  writeFileSync(p, bytes);
  return p;
};
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Row-major grid rows (independent of the code under test). */
function grid(sizes: number[]): number[][] {
  const rows: number[][] = [[]];
  for (const s of sizes) {
    const next: number[][] = [];
    for (const r of rows) for (let c = 0; c < s; c++) next.push([...r, c]);
    rows.splice(0, rows.length, ...next);
  }
  return rows;
}
function lcgBytes(count: number, seed: number, mod = 256): Uint8Array {
  const out = new Uint8Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = (s >>> 24) % mod; }
  return out;
}

// ---- dSprites-layout npz (reduced grid) ---------------------------------
const DS_SIZES = [3, 2, 2, 2, 2];
const DS_N = 48;
const dsValues = [[1], [1, 2, 3], [0.5, 1], [0, Math.PI], [0, 1], [0, 1]];
function dspritesArrays(opts: { swapRows?: boolean; imgShape?: number[]; extraImage?: boolean; pixel2?: boolean } = {}) {
  const rows = grid([1, ...DS_SIZES]);
  // rows 5 and 6 are [0,0,0,1,0,1] and [0,0,0,1,1,0]: swapped, row 5 has pos_x class 1 where 0 belongs
  if (opts.swapRows) [rows[5], rows[6]] = [rows[6]!, rows[5]!];
  const classes = new BigInt64Array(DS_N * 6);
  const values = new Float64Array(DS_N * 6);
  rows.forEach((r, i) => r.forEach((c, k) => { classes[i * 6 + k] = BigInt(c); values[i * 6 + k] = dsValues[k]![c]!; }));
  const nImg = DS_N + (opts.extraImage ? 1 : 0);
  const imgs = lcgBytes(nImg * 4096, 7, 2);
  if (opts.pixel2) imgs[4096 * 3 + 17] = 2;
  const imgNpy = npy(imgs, opts.imgShape ?? [DS_N, 64, 64]);
  return { imgs, arrays: { imgs: imgNpy, latents_classes: npy(classes, [DS_N, 6]), latents_values: npy(values, [DS_N, 6]) } };
}

// ---- Shapes3D-layout h5 (reduced grid) ------------------------------------
const S3_SIZES = [2, 2, 2, 2, 2, 3];
const S3_N = 96;
const s3Values = [[0, 0.5], [0.1, 0.6], [0.2, 0.9], [0.75, 1.25], [0, 3], [-30, 0, 30]];
function shapes3dFile(opts: { chunked?: boolean; labelCols?: number; noLabels?: boolean } = {}) {
  const images = lcgBytes(S3_N * 12288, 11);
  const cols = opts.labelCols ?? 6;
  const labels = new Float64Array(S3_N * cols);
  grid(S3_SIZES).forEach((r, i) => { for (let k = 0; k < cols; k++) labels[i * cols + k] = s3Values[k]![r[k]!]!; });
  const specs = [
    { name: 'images', data: images, shape: [S3_N, 64, 64, 3], dtype: 'u1' as const, ...(opts.chunked ? { chunks: [10, 32, 64, 3], deflate: true } : {}) },
  ];
  if (!opts.noLabels) specs.push({ name: 'labels', data: new Uint8Array(labels.buffer), shape: [S3_N, cols], dtype: 'f8' as never });
  return { images, bytes: writeHdf5(specs) };
}

/** Files this process holds open (Linux: /proc/self/fd), resolved to their paths. */
function openFiles(): string[] {
  const dir = '/proc/self/fd';
  if (!existsSync(dir)) throw new Error('this check needs /proc (Linux)');
  return readdirSync(dir).flatMap((fd) => {
    try {
      return [readlinkSync(join(dir, fd))];
    } catch {
      return []; // the descriptor readdir itself used, closed since
    }
  });
}

async function expectRefused(path: string, pattern: RegExp, extra: Parameters<typeof importDataset>[1] extends infer O ? Partial<O> : never = {}) {
  // an existing target directory with one file in it stays exactly as it was, and a missing one is not created
  const existing = join(root, `t${n++}`);
  mkdirSync(existing);
  writeFileSync(join(existing, 'keep.txt'), 'x');
  await expect(importDataset(path, { targetDir: existing, ...extra })).rejects.toThrow(pattern);
  expect(readdirSync(existing)).toEqual(['keep.txt']);
  const missing = join(root, `t${n++}`, 'nested');
  await expect(importDataset(path, { targetDir: missing, ...extra })).rejects.toThrow(pattern);
  expect(existsSync(join(missing, '..'))).toBe(false);
  // and the researcher's file is closed at once, not left to the garbage collector (which Node warns about)
  expect(openFiles().filter((f) => f === path)).toEqual([]);
}

describe('dSprites .npz import', () => {
  for (const [label, zopts] of [['deflated', { deflate: true }], ['stored, ZIP64 records', { zip64: true }]] as const) {
    it(`imports a reduced-grid file (${label}) bit-exactly, with provenance and hash`, async () => {
      const { imgs, arrays } = dspritesArrays();
      const p = put(npz(arrays, zopts), 'npz');
      expect(detectKind(p)).toBe('dsprites');
      const target = join(root, `t${n++}`);
      const progress: number[] = [];
      const r = await importDataset(p, { targetDir: target, factorSizes: DS_SIZES, onProgress: (f) => progress.push(f) });
      expect(r.info.source).toBe('imported');
      expect(r.info.sha256).toBe(sha(p));
      expect(r.info.provenance).toContain(sha(p));
      expect(r.info.count).toBe(48);
      expect(r.info.binary).toBe(true);
      expect(r.info.imageShape).toEqual([64, 64, 1]);
      expect(r.info.factors.map((f) => f.name)).toEqual(['shape', 'scale', 'orientation', 'pos_x', 'pos_y']);
      expect(r.info.factors[0]!.labels).toEqual(['square', 'ellipse', 'heart']);
      expect(r.info.factors.slice(1).map((f) => f.values)).toEqual([[0.5, 1], [0, Math.PI], [0, 1], [0, 1]]);
      expect(r.files.map((f) => f.path)).toEqual([join(target, 'images.bin'), join(target, 'dataset.json')]);
      expect(r.files[0]!.bytes).toBe(48 * 512);
      expect(r.files[0]!.sha256).toBe(sha(r.files[0]!.path));
      expect(progress.at(-1)).toBe(1);
      for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
      const ds = openImported(target);
      const out = new Float32Array(4096);
      for (const i of [0, 17, 47]) {
        ds.render(i, out);
        expect(Array.from(out)).toEqual(Array.from(imgs.subarray(i * 4096, (i + 1) * 4096)));
      }
    });
  }

  it('refuses a truncated file', async () => {
    const bytes = npz(dspritesArrays().arrays, { deflate: true });
    await expectRefused(put(bytes.subarray(0, bytes.length - 100), 'npz'), /cannot import .*end-of-central-directory record not found/, { factorSizes: DS_SIZES });
  });

  it('refuses a file without latents_values', async () => {
    const { imgs, latents_classes } = dspritesArrays().arrays;
    await expectRefused(put(npz({ imgs, latents_classes }), 'npz'), /dSprites file has no 'latents_values' array \(found: imgs, latents_classes\)/, { factorSizes: DS_SIZES });
  });

  it('refuses images of the wrong shape, and the official grid on a reduced file', async () => {
    const p = put(npz(dspritesArrays({ imgShape: [48, 32, 128] }).arrays), 'npz');
    await expectRefused(p, /'imgs' has shape \(48, 32, 128\), expected \(48, 64, 64\)/, { factorSizes: DS_SIZES });
    const q = put(npz(dspritesArrays().arrays), 'npz');
    await expectRefused(q, /'imgs' has shape \(48, 64, 64\), expected \(737280, 64, 64\)/);
  });

  it('refuses labels that do not follow the row-major grid', async () => {
    await expectRefused(put(npz(dspritesArrays({ swapRows: true }).arrays), 'npz'), /'latents_classes' row 5 has class 1 for factor 4, expected 0: the file does not follow the row-major factor grid/, { factorSizes: DS_SIZES });
  });

  it('refuses an oversized array (more data than its header declares) and non-binary pixels', async () => {
    const { imgs, arrays } = dspritesArrays({ extraImage: true });
    void imgs;
    await expectRefused(put(npz(arrays), 'npz'), /'imgs' holds more data than its shape \(48, 64, 64\)/, { factorSizes: DS_SIZES });
    await expectRefused(put(npz(dspritesArrays({ pixel2: true }).arrays), 'npz'), /pixel value 2 in image 3 \(expected 0 or 1\)/, { factorSizes: DS_SIZES });
  });

  it('refuses corrupt image data (CRC mismatch)', async () => {
    const bytes = npz(dspritesArrays().arrays);
    // first entry is imgs.npy, stored: flip a byte deep inside its data
    const at = 30 + 'imgs.npy'.length + 128 + 5000;
    bytes[at] = bytes[at]! ^ 1;
    await expectRefused(put(bytes, 'npz'), /CRC-32 mismatch in 'imgs.npy'/, { factorSizes: DS_SIZES });
  });

  it('stops on cancellation and leaves nothing behind', async () => {
    const p = put(npz(dspritesArrays().arrays), 'npz');
    const ctl = new AbortController();
    ctl.abort();
    await expectRefused(p, /abort/i, { factorSizes: DS_SIZES, signal: ctl.signal });
  });

  it('refuses a kind that does not match the contents', async () => {
    const p = put(npz(dspritesArrays().arrays), 'npz');
    await expectRefused(p, /looks like a dsprites file, not shapes3d/, { kind: 'shapes3d' });
  });
});

describe('Shapes3D .h5 import', () => {
  for (const chunked of [false, true]) {
    it(`imports a reduced-grid file (${chunked ? 'chunked + deflate' : 'contiguous'}) exactly`, async () => {
      const { images, bytes } = shapes3dFile({ chunked });
      const p = put(bytes, 'h5');
      expect(detectKind(p)).toBe('shapes3d');
      const target = join(root, `t${n++}`);
      const r = await importDataset(p, { targetDir: target, factorSizes: S3_SIZES, kind: 'shapes3d' });
      expect(r.info.count).toBe(96);
      expect(r.info.imageShape).toEqual([64, 64, 3]);
      expect(r.info.binary).toBe(false);
      expect(r.info.approximation).toBe(false);
      expect(r.info.sha256).toBe(sha(p));
      expect(r.info.factors.map((f) => f.name)).toEqual(['floor_hue', 'wall_hue', 'object_hue', 'scale', 'shape', 'orientation']);
      expect(r.info.factors.map((f) => f.values)).toEqual(s3Values);
      expect(readFileSync(join(target, 'images.bin')).equals(Buffer.from(images))).toBe(true);
      const ds = openImported(target);
      const out = new Float32Array(12288);
      ds.render(95, out);
      expect(out[12287]).toBe(Math.fround(images[96 * 12288 - 1]! / 255));
    });
  }

  it('refuses missing labels, labels of the wrong shape and a truncated file', async () => {
    await expectRefused(put(shapes3dFile({ noLabels: true }).bytes, 'h5'), /Shapes3D file has no 'labels' dataset \(found: images\)/, { factorSizes: S3_SIZES });
    await expectRefused(put(shapes3dFile({ labelCols: 5 }).bytes, 'h5'), /'labels' has shape \(96, 5\), expected \(96, 6\)/, { factorSizes: S3_SIZES });
    const full = shapes3dFile().bytes;
    await expectRefused(put(full.subarray(0, 600000), 'h5'), /cannot import .*(truncated|past the end of the file)/, { factorSizes: S3_SIZES });
  });
});

describe('MPI3D .npz import', () => {
  const sizes = [2, 1, 1, 1, 1, 2, 3];
  it('imports a tiny MPI3D-layout file with a custom grid', async () => {
    const images = lcgBytes(12 * 12288, 3);
    const p = put(npz({ images: npy(images, [12, 64, 64, 3]) }, { deflate: true }), 'npz');
    expect(detectKind(p)).toBe('mpi3d');
    const target = join(root, `t${n++}`);
    const r = await importDataset(p, { targetDir: target, factorSizes: sizes });
    expect(r.info.count).toBe(12);
    expect(r.info.factors.map((f) => f.size)).toEqual(sizes);
    expect(r.info.factors[0]!.name).toBe('object_color');
    expect(readFileSync(join(target, 'images.bin')).equals(Buffer.from(images))).toBe(true);
  });

  it('infers toy or real from the image count, and refuses any other count', async () => {
    const p = put(npz({ images: npy(lcgBytes(12 * 12288, 3), [12, 64, 64, 3]) }), 'npz');
    await expectRefused(p, /'images' holds 12 images; MPI3D toy has 460800 \(4×4×2×3×3×40×40\) and real 1036800 \(6×6×2×3×3×40×40\)/);
  });

  it('refuses images that are not uint8 N×64×64×3', async () => {
    const p = put(npz({ images: npy(new Float32Array(12 * 64 * 64), [12, 64, 64, 1]) }), 'npz');
    await expectRefused(p, /'images' has dtype '<f4', expected uint8/, { factorSizes: sizes });
  });
});
