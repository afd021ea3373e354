/**
 * Importing official dataset files through the Lab's handlers (the same ones
 * both transports call), the browser-mode upload route, deleting datasets and
 * the `dlab dataset import` command. The files are tiny official-layout files
 * built here with the test writers; DLAB_TEST_IMPORT_FACTOR_SIZES (test-only)
 * tells the importer to expect their small factor grids.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { TEST_FACTOR_SIZES_ENV } from '../../src/core/datasets/import-service.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { dispatch } from '../../src/shared/dispatch.js';
import type { JobInfo } from '../../src/shared/jobs.js';
import type { Reply } from '../../src/shared/contract.js';
import { npy, npz } from '../unit/io/zip-writer.helper.js';
import { writeHdf5 } from '../unit/io/hdf5-writer.helper.js';
import { runDlab } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const DS_SIZES = [3, 2, 2, 2, 2];
const S3_SIZES = [2, 2, 2, 2, 2, 3];
const FACTOR_SIZES = JSON.stringify({ dsprites: DS_SIZES, shapes3d: S3_SIZES });
const UPLOAD_LIMIT = 400_000;

const tmp = tmpDir();
const filesDir = path.join(tmp.dir, 'files');
fs.mkdirSync(filesDir);
let lab: Lab;
let server: RunningServer;
const savedEnv = process.env[TEST_FACTOR_SIZES_ENV];

beforeAll(async () => {
  process.env[TEST_FACTOR_SIZES_ENV] = FACTOR_SIZES;
  const rendererDir = path.join(tmp.dir, 'renderer');
  fs.mkdirSync(rendererDir);
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  lab = await Lab.open({ labDir: path.join(tmp.dir, 'lab'), backend: { backend: 'cpu', notes: [] } });
  server = await startServer({ lab, rendererDir, maxUploadBytes: UPLOAD_LIMIT });
});
afterAll(async () => {
  await server?.close();
  await lab?.close();
  if (savedEnv === undefined) delete process.env[TEST_FACTOR_SIZES_ENV];
  else process.env[TEST_FACTOR_SIZES_ENV] = savedEnv;
  tmp.cleanup();
});

// ---------------------------------------------------------------- test files

/** Row-major grid rows, written out independently of the code under test. */
function grid(sizes: number[]): number[][] {
  let rows: number[][] = [[]];
  for (const s of sizes) rows = rows.flatMap((r) => Array.from({ length: s }, (_, c) => [...r, c]));
  return rows;
}
function lcgBytes(count: number, seed: number, mod = 256): Uint8Array {
  const out = new Uint8Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 24) % mod;
  }
  return out;
}
const dsValues = [[1], [1, 2, 3], [0.5, 1], [0, Math.PI], [0, 1], [0, 1]];

/** A dSprites-layout .npz on the 1×3×2×2×2×2 grid (48 binary images). */
function dspritesNpz(opts: { seed?: number; imgKey?: string; imgShape?: number[]; dropValues?: boolean; stored?: boolean; extraImage?: boolean } = {}) {
  const rows = grid([1, ...DS_SIZES]);
  const n = rows.length;
  const classes = new BigInt64Array(n * 6);
  const values = new Float64Array(n * 6);
  rows.forEach((r, i) => r.forEach((c, k) => ((classes[i * 6 + k] = BigInt(c)), (values[i * 6 + k] = dsValues[k]![c]!))));
  const imgs = lcgBytes((n + (opts.extraImage ? 1 : 0)) * 4096, opts.seed ?? 7, 2);
  const arrays: Record<string, Uint8Array> = {
    [opts.imgKey ?? 'imgs']: npy(imgs, opts.imgShape ?? [n, 64, 64]),
    latents_classes: npy(classes, [n, 6]),
  };
  if (!opts.dropValues) arrays.latents_values = npy(values, [n, 6]);
  return { imgs, bytes: npz(arrays, { deflate: !opts.stored }) };
}

/** A Shapes3D-layout .h5 on the 2×2×2×2×2×3 grid (96 RGB images). */
function shapes3dH5() {
  const n = 96;
  const images = lcgBytes(n * 12288, 11);
  const s3Values = [[0, 0.5], [0.1, 0.6], [0.2, 0.9], [0.75, 1.25], [0, 3], [-30, 0, 30]];
  const labels = new Float64Array(n * 6);
  grid(S3_SIZES).forEach((r, i) => r.forEach((c, k) => (labels[i * 6 + k] = s3Values[k]![c]!)));
  return {
    images,
    bytes: writeHdf5([
      { name: 'images', data: images, shape: [n, 64, 64, 3], dtype: 'u1' },
      { name: 'labels', data: new Uint8Array(labels.buffer), shape: [n, 6], dtype: 'f8' as never },
    ]),
  };
}

let fileNo = 0;
function put(bytes: Uint8Array, name = `file${fileNo++}.npz`): string {
  const p = path.join(filesDir, name);
  fs.writeFileSync(p, bytes);
  return p;
}
const sha = (bytes: Uint8Array | string) => createHash('sha256').update(typeof bytes === 'string' ? fs.readFileSync(bytes) : bytes).digest('hex');

// ---------------------------------------------------------------- helpers

async function call<T = unknown>(name: string, payload: unknown): Promise<Reply<T>> {
  return (await dispatch(lab.handlers, name, payload)) as Reply<T>;
}
async function ok<T = unknown>(name: string, payload: unknown): Promise<T> {
  const r = await call<T>(name, payload);
  if (!r.ok) throw new Error(`${name}: ${r.error.code}: ${r.error.message}`);
  return r.result;
}
async function importAndWait(payload: Record<string, unknown>): Promise<JobInfo> {
  const job = await ok<JobInfo>('datasets/import', payload);
  expect(job.kind).toBe('dataset-import');
  return lab.jobs.wait(job.id);
}

/** Everything the lab holds about stored datasets: rows, artifacts, folders, temporary leftovers. */
function snapshot() {
  const datasetsDir = path.join(lab.labDir, 'datasets');
  const tmpEntries = fs.readdirSync(path.join(lab.labDir, 'tmp')).filter((e) => e !== 'uploads');
  return {
    rows: lab.db.prepare('SELECT id, name, source, info_json, spec_json FROM datasets ORDER BY id').all(),
    artifacts: lab.db.prepare("SELECT owner_id, kind, path, size, sha256 FROM artifacts WHERE owner_kind = 'dataset' ORDER BY id").all(),
    folders: fs.readdirSync(datasetsDir).sort().map((d) => [d, fs.readdirSync(path.join(datasetsDir, d)).sort()]),
    tmp: tmpEntries,
  };
}

async function expectRefusedImport(payload: Record<string, unknown>, pattern: RegExp) {
  const before = snapshot();
  const done = await importAndWait(payload);
  expect(done.status).toBe('failed');
  expect(done.error).toMatch(pattern);
  expect(done.result).toBeNull();
  expect(snapshot()).toEqual(before);
}

function upload(body: Uint8Array | AsyncIterable<Uint8Array>, name: string, headers: Record<string, string> = {}, auth = true) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const u = new URL(`${server.origin}/upload?name=${encodeURIComponent(name)}`);
    const req = http.request(
      u,
      { method: 'POST', headers: { ...(auth ? { Authorization: `Bearer ${server.token}` } : {}), ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += String(d)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    if (body instanceof Uint8Array) req.end(body);
    else
      void (async () => {
        try {
          for await (const c of body) if (!req.write(c)) await new Promise((r) => req.once('drain', r));
          req.end();
        } catch {
          /* the server dropped the connection */
        }
      })();
  });
}
const uploadsLeft = () => (fs.existsSync(lab.imports.uploads.dir) ? fs.readdirSync(lab.imports.uploads.dir) : []);

// ---------------------------------------------------------------- tests

describe('datasets/import through the Lab handlers', () => {
  let firstId = '';

  it('imports a dSprites-layout .npz: one row, artifacts with sizes and hashes, a folder, bit-exact samples', async () => {
    const { imgs, bytes } = dspritesNpz();
    const file = put(bytes, 'dsprites_ndarray_small.npz');
    const events: JobInfo[] = [];
    const off = lab.events.on('jobs/progress', (j) => events.push(j));
    const done = await importAndWait({ path: file });
    off();
    expect(done.status).toBe('done');
    const id = `dsprites-import-${sha(bytes).slice(0, 12)}`;
    expect(done.result).toEqual({ datasetId: id });
    firstId = id;
    // progress rose monotonically to 1 and ended in 'done'
    const mine = events.filter((e) => e.id === done.id);
    for (let i = 1; i < mine.length; i++) expect(mine[i]!.fraction).toBeGreaterThanOrEqual(mine[i - 1]!.fraction);
    expect(mine.at(-1)).toMatchObject({ status: 'done', fraction: 1 });

    const row = lab.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as Record<string, string>;
    expect(row.source).toBe('imported');
    expect(row.name).toBe('dSprites (imported)');
    expect(row.parent_id).toBeNull();
    expect(JSON.parse(row.spec_json!)).toEqual({ kind: 'dsprites', file: 'dsprites_ndarray_small.npz', sha256: sha(bytes), bytes: bytes.length });
    const info = JSON.parse(row.info_json!);
    expect(info).toMatchObject({ id, source: 'imported', approximation: false, count: 48, imageShape: [64, 64, 1], sha256: sha(bytes) });
    expect(info.provenance).toContain('dsprites_ndarray_small.npz');
    expect(info.provenance).toContain(sha(bytes));

    const dir = path.join(lab.labDir, 'datasets', id);
    expect(fs.readdirSync(dir).sort()).toEqual(['dataset.json', 'images.bin']);
    const arts = lab.db.prepare("SELECT kind, path, size, sha256 FROM artifacts WHERE owner_kind = 'dataset' AND owner_id = ? ORDER BY path").all(id) as {
      kind: string;
      path: string;
      size: number;
      sha256: string;
    }[];
    expect(arts.map((a) => [a.kind, a.path])).toEqual([
      ['cache-header', `datasets/${id}/dataset.json`],
      ['cache-data', `datasets/${id}/images.bin`],
    ]);
    for (const a of arts) {
      const p = path.join(lab.labDir, a.path);
      expect(a.size).toBe(fs.statSync(p).size);
      expect(a.sha256).toBe(sha(p));
    }
    // bit-packed: 4096 binary pixels → 512 bytes an image
    expect(arts[1]!.size).toBe(48 * 512);
    // nothing left in tmp
    expect(fs.readdirSync(path.join(lab.labDir, 'tmp')).filter((e) => e.startsWith('import-'))).toEqual([]);

    // listed, and its samples are the file's images
    const list = await ok<{ id: string; source: string }[]>('datasets/list', {});
    expect(list.find((d) => d.id === id)).toMatchObject({ source: 'imported' });
    const s = await ok<{ factors: number[][]; images: { shape: number[]; dataBase64: string } }>('datasets/samples', { id, indices: [0, 17, 47] });
    expect(s.images.shape).toEqual([3, 64, 64, 1]);
    const px = Buffer.from(s.images.dataBase64, 'base64');
    [0, 17, 47].forEach((i, j) => {
      const want = Array.from(imgs.subarray(i * 4096, (i + 1) * 4096), (v) => v * 255);
      expect(Array.from(px.subarray(j * 4096, (j + 1) * 4096))).toEqual(want);
    });
    // factor classes of index 17 on the 3×2×2×2×2 grid: 17 = 1·16 + 0·8 + 0·4 + 0·2 + 1
    expect(s.factors[1]).toEqual([1, 0, 0, 0, 1]);
  });

  it('refuses the same file again (by SHA-256), naming the existing dataset; the lab is unchanged', async () => {
    const { bytes } = dspritesNpz();
    const copy = put(bytes, 'same-bytes-other-name.npz');
    await expectRefusedImport({ path: copy, name: 'Another name' }, new RegExp(`same-bytes-other-name\\.npz is already imported as 'dSprites \\(imported\\)' \\(${firstId}\\)`));
  });

  it('takes a display name and imports a Shapes3D-layout .h5 (kind detected)', async () => {
    const { images, bytes } = shapes3dH5();
    const done = await importAndWait({ path: put(bytes, '3dshapes_small.h5'), name: 'My Shapes3D' });
    expect(done.status).toBe('done');
    const id = String(done.result!.datasetId);
    expect(id).toBe(`shapes3d-import-${sha(bytes).slice(0, 12)}`);
    const info = await ok<{ name: string; count: number; imageShape: number[] }>('datasets/get', { id });
    expect(info).toMatchObject({ name: 'My Shapes3D', count: 96, imageShape: [64, 64, 3] });
    const spec = JSON.parse((lab.db.prepare('SELECT spec_json FROM datasets WHERE id = ?').get(id) as { spec_json: string }).spec_json);
    expect(spec.kind).toBe('shapes3d');
    // the cache header carries the name too, and its artifact hash matches the rewritten file
    const header = JSON.parse(fs.readFileSync(path.join(lab.labDir, 'datasets', id, 'dataset.json'), 'utf8'));
    expect(header.info.name).toBe('My Shapes3D');
    const art = lab.db.prepare("SELECT size, sha256 FROM artifacts WHERE owner_id = ? AND kind = 'cache-header'").get(id) as { size: number; sha256: string };
    expect(art.sha256).toBe(sha(path.join(lab.labDir, 'datasets', id, 'dataset.json')));
    expect(fs.readFileSync(path.join(lab.labDir, 'datasets', id, 'images.bin')).equals(Buffer.from(images))).toBe(true);
  });

  it('refuses a truncated file, a wrong key, a wrong shape, a wrong kind and a corrupt file, leaving the lab unchanged', async () => {
    const good = dspritesNpz({ seed: 99 }).bytes;
    await expectRefusedImport({ path: put(good.subarray(0, good.length - 100), 'cut.npz') }, /^cannot import cut\.npz: .*end-of-central-directory record not found/);
    await expectRefusedImport(
      { path: put(dspritesNpz({ seed: 98, dropValues: true }).bytes, 'novalues.npz') },
      /^cannot import novalues\.npz: dSprites file has no 'latents_values' array \(found: imgs, latents_classes\)/,
    );
    await expectRefusedImport(
      { path: put(dspritesNpz({ seed: 97, imgKey: 'pictures' }).bytes, 'wrongkey.npz') },
      /^cannot import wrongkey\.npz: unrecognised \.npz: no 'imgs' \(dSprites\) or 'images' \(MPI3D\) array \(found: pictures\.npy, latents_classes\.npy, latents_values\.npy\)/,
    );
    await expectRefusedImport(
      { path: put(dspritesNpz({ seed: 96, imgShape: [48, 32, 128] }).bytes, 'shape.npz') },
      /^cannot import shape\.npz: 'imgs' has shape \(48, 32, 128\), expected \(48, 64, 64\)/,
    );
    await expectRefusedImport(
      { path: put(dspritesNpz({ seed: 93, extraImage: true }).bytes, 'oversized.npz') },
      /^cannot import oversized\.npz: 'imgs' holds more data than its shape \(48, 64, 64\)/,
    );
    await expectRefusedImport({ path: put(dspritesNpz({ seed: 95 }).bytes, 'kind.npz'), kind: 'mpi3d' }, /^cannot import kind\.npz: it looks like a dsprites file, not mpi3d/);
    const corrupt = dspritesNpz({ seed: 94, stored: true }).bytes;
    const at = 30 + 'imgs.npy'.length + 128 + 5000; // stored entry: flip a byte inside the image data
    corrupt[at] = corrupt[at]! ^ 1;
    await expectRefusedImport({ path: put(corrupt, 'crc.npz') }, /^cannot import crc\.npz: .*CRC-32 mismatch in 'imgs\.npy'/);
    await expectRefusedImport({ path: put(new TextEncoder().encode('just text, no dataset'), 'notes.txt') }, /^cannot import notes\.txt: unrecognised file/);
  });

  it('a cancelled import leaves the lab unchanged', async () => {
    const before = snapshot();
    const job = await ok<JobInfo>('datasets/import', { path: put(dspritesNpz({ seed: 55 }).bytes) });
    await ok('jobs/cancel', { id: job.id });
    const done = await lab.jobs.wait(job.id);
    expect(done.status).toBe('cancelled');
    expect(done.result).toBeNull();
    expect(snapshot()).toEqual(before);
  });

  it('refuses bad sources before starting a job', async () => {
    const missing = await call('datasets/import', { path: path.join(filesDir, 'nope.npz') });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not_found', message: expect.stringMatching(/nope\.npz: file not found/) } });
    const relative = await call('datasets/import', { path: 'files/x.npz' });
    expect(relative).toMatchObject({ ok: false, error: { code: 'invalid_payload', message: expect.stringMatching(/path must be absolute/) } });
    const folder = await call('datasets/import', { path: filesDir });
    expect(folder).toMatchObject({ ok: false, error: { code: 'invalid_payload', message: expect.stringMatching(/not a regular file/) } });
    const both = await call('datasets/import', { path: '/a.npz', uploadId: 'up-' + '0'.repeat(32) });
    expect(both).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    const unknownUpload = await call('datasets/import', { uploadId: 'up-' + 'a'.repeat(32) });
    expect(unknownUpload).toMatchObject({ ok: false, error: { code: 'not_found', message: expect.stringMatching(/no upload/) } });
  });

  it('stale temporary import folders (a crashed import) are swept after a day, fresh ones kept', async () => {
    const stale = path.join(lab.labDir, 'tmp', 'import-0123456789ab');
    fs.mkdirSync(stale);
    fs.writeFileSync(path.join(stale, 'images.bin.tmp'), 'x');
    lab.imports.sweep(Date.now() + 23 * 3600 * 1000);
    expect(fs.existsSync(stale)).toBe(true);
    lab.imports.sweep(Date.now() + 25 * 3600 * 1000);
    expect(fs.existsSync(stale)).toBe(false);
  });

  it('dialog/openFile: outside the desktop app there is no dialog', async () => {
    expect(await ok('dialog/openFile', {})).toEqual({ path: null, available: false });
  });
});

describe('datasets/delete', () => {
  it('deletes an imported dataset: row, artifacts and folder together', async () => {
    const { bytes } = dspritesNpz({ seed: 21 });
    const done = await importAndWait({ path: put(bytes) });
    const id = String(done.result!.datasetId);
    await ok('datasets/samples', { id, count: 4 }); // opened (cached) before the delete
    expect(await ok('datasets/delete', { id })).toEqual({ id });
    expect(lab.db.prepare('SELECT COUNT(*) AS n FROM datasets WHERE id = ?').get(id)).toEqual({ n: 0 });
    expect(lab.db.prepare("SELECT COUNT(*) AS n FROM artifacts WHERE owner_kind = 'dataset' AND owner_id = ?").get(id)).toEqual({ n: 0 });
    expect(fs.existsSync(path.join(lab.labDir, 'datasets', id))).toBe(false);
    expect(await call('datasets/get', { id })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await call('datasets/samples', { id, count: 4 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await call('datasets/delete', { id })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    // and the same file can be imported again afterwards
    const again = await importAndWait({ path: put(bytes) });
    expect(again).toMatchObject({ status: 'done', result: { datasetId: id } });
    await ok('datasets/delete', { id });
  });

  it('refuses built-in datasets and datasets that runs or derived datasets use (conflict), changing nothing', async () => {
    expect(await call('datasets/delete', { id: 'dsprites' })).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringMatching(/built in/) } });
    const done = await importAndWait({ path: put(dspritesNpz({ seed: 31 }).bytes) });
    const id = String(done.result!.datasetId);
    const now = new Date().toISOString();
    lab.db
      .prepare(`INSERT INTO runs (id, model, dataset_id, config_json, status, seed, total_steps, created_at) VALUES ('run-dep', 'beta_vae', ?, '{}', 'finished', 0, 10, ?)`)
      .run(id, now);
    const info = { ...lab.datasets.get(id), id: 'derived-child', source: 'derived', parent: id };
    lab.db
      .prepare(`INSERT INTO datasets (id, name, source, info_json, spec_json, parent_id, created_at) VALUES ('derived-child', 'child', 'derived', ?, '{}', ?, ?)`)
      .run(JSON.stringify(info), id, now);
    const before = snapshot();
    const r = await call('datasets/delete', { id });
    expect(r).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringMatching(/used by 1 run and 1 derived dataset \(derived-child\); delete those first/) } });
    expect(snapshot()).toEqual(before);
    // the derived dataset itself has no dependants: it can go, and then (without the run) the parent too
    expect(await ok('datasets/delete', { id: 'derived-child' })).toEqual({ id: 'derived-child' });
    lab.db.prepare("DELETE FROM runs WHERE id = 'run-dep'").run();
    expect(await ok('datasets/delete', { id })).toEqual({ id });
  });
});

describe('browser-mode upload route', () => {
  it('uploads a file, imports it by uploadId and removes the upload', async () => {
    const { bytes } = dspritesNpz({ seed: 41 });
    expect(bytes.length).toBeLessThan(UPLOAD_LIMIT);
    const r = await upload(bytes, 'from the browser/../dsprites up.npz', { 'Content-Type': 'application/octet-stream' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'dsprites up.npz', bytes: bytes.length });
    const uploadId = String(r.body.uploadId);
    expect(uploadId).toMatch(/^up-[0-9a-f]{32}$/);
    const stored = path.join(lab.imports.uploads.dir, uploadId, 'dsprites up.npz');
    expect(sha(stored)).toBe(sha(bytes));
    const done = await importAndWait({ uploadId });
    expect(done.status).toBe('done');
    const spec = JSON.parse((lab.db.prepare('SELECT spec_json FROM datasets WHERE id = ?').get(done.result!.datasetId) as { spec_json: string }).spec_json);
    expect(spec).toEqual({ kind: 'dsprites', file: 'dsprites up.npz', sha256: sha(bytes), bytes: bytes.length });
    expect(uploadsLeft()).toEqual([]);
    // a bad upload is removed too, and its error names the user's file
    const bad = await upload(new TextEncoder().encode('not a dataset'), 'oops.npz');
    const failed = await importAndWait({ uploadId: String(bad.body.uploadId) });
    expect(failed.error).toMatch(/^cannot import oops\.npz: unrecognised file/);
    expect(uploadsLeft()).toEqual([]);
  });

  it('401 without the token, 403 from another origin, 405 for GET', async () => {
    const noToken = await upload(new Uint8Array(10), 'a.npz', {}, false);
    expect(noToken.status).toBe(401);
    const foreign = await upload(new Uint8Array(10), 'a.npz', { Origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const get = await fetch(`${server.origin}/upload?name=a`, { headers: { Authorization: `Bearer ${server.token}` } });
    expect(get.status).toBe(405);
    expect(uploadsLeft()).toEqual([]);
  });

  it('413 over the size limit, declared or streamed, and nothing is kept', async () => {
    const big = new Uint8Array(UPLOAD_LIMIT + 1);
    const declared = await upload(big, 'big.npz');
    expect(declared.status).toBe(413);
    expect(String(declared.body.message)).toMatch(/over the limit of 390\.63 KiB/);
    // exactly at the limit is fine
    const atLimit = await upload(new Uint8Array(UPLOAD_LIMIT), 'exact.bin');
    expect(atLimit).toMatchObject({ status: 200, body: { bytes: UPLOAD_LIMIT } });
    lab.imports.uploads.remove(String(atLimit.body.uploadId));
    // chunked (no Content-Length): refused once the limit is passed
    async function* chunks() {
      for (let i = 0; i < 20; i++) yield new Uint8Array(50_000);
    }
    const streamed = await upload(chunks(), 'stream.npz', { 'Transfer-Encoding': 'chunked' }).catch((e: Error) => ({ status: -1, body: { message: e.message } }));
    // the server answers 413 and drops the connection; a client still sending may only see the reset
    expect([413, -1]).toContain(streamed.status);
    await new Promise((r) => setTimeout(r, 100));
    expect(uploadsLeft()).toEqual([]);
  });

  it('uploads expire after an hour (sweep), unless an import holds them', async () => {
    const a = await upload(new Uint8Array(100), 'a.npz');
    const b = await upload(new Uint8Array(100), 'b.npz');
    const idA = String(a.body.uploadId);
    const idB = String(b.body.uploadId);
    expect(lab.imports.uploads.sweep(Date.now() + 59 * 60 * 1000)).toBe(0);
    const release = lab.imports.uploads.hold(idB);
    expect(lab.imports.uploads.sweep(Date.now() + 61 * 60 * 1000)).toBe(1);
    expect(uploadsLeft()).toEqual([idB]);
    expect(await call('datasets/import', { uploadId: idA })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    release();
    expect(lab.imports.uploads.sweep(Date.now() + 61 * 60 * 1000)).toBe(1);
    expect(uploadsLeft()).toEqual([]);
  });
});

describe('dlab dataset import', () => {
  const env = { [TEST_FACTOR_SIZES_ENV]: FACTOR_SIZES, DLAB_BACKEND: 'cpu' };
  const cliLab = path.join(tmp.dir, 'cli-lab');

  it('imports with --json and prints the result; the dataset is then stored in that lab', async () => {
    const { bytes } = dspritesNpz({ seed: 61 });
    const file = put(bytes, 'cli.npz');
    const r = runDlab(['dataset', 'import', file, '--name', 'CLI dSprites', '--json', '--lab-dir', cliLab], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ datasetId: `dsprites-import-${sha(bytes).slice(0, 12)}`, name: 'CLI dSprites', count: 48, imageShape: [64, 64, 1], sha256: sha(bytes) });
    const other = await Lab.open({ labDir: cliLab, backend: { backend: 'cpu', notes: [] } });
    try {
      expect(other.datasets.get(out.datasetId)).toMatchObject({ name: 'CLI dSprites', source: 'imported', sha256: sha(bytes) });
      expect(fs.readdirSync(path.join(cliLab, 'datasets'))).toEqual([out.datasetId]);
    } finally {
      await other.close();
    }
  });

  it('exits 1 with a one-line error for a bad file, and 2 for bad usage', () => {
    const good = dspritesNpz({ seed: 62 }).bytes;
    const cut = put(good.subarray(0, 1000), 'cut-cli.npz');
    const r = runDlab(['dataset', 'import', cut, '--lab-dir', cliLab], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^dlab dataset import: cannot import cut-cli\.npz: /);
    const usage = runDlab(['dataset', 'import', cut, '--kind', 'celeba', '--lab-dir', cliLab], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--kind must be dsprites, shapes3d or mpi3d/);
  });
});
