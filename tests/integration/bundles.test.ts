import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabError } from '../../src/shared/contract.js';
import { Lab } from '../../src/core/lab.js';
import { exportBundle, importBundle } from '../../src/core/export/bundle.js';
import { ZipWriter } from '../../src/core/export/zip-writer.js';
import { ZipReader } from '../../src/core/io/zip.js';
import type { RunConfig } from '../../src/shared/runs.js';
import { tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir();
let a: Lab;
let b: Lab;
let studyId: string;
let noiseId: string;
let good: string;
const sha = (buf: Buffer) => crypto.createHash('sha256').update(buf).digest('hex');

function fakeRun(lab: Lab, id: string, seed: number, datasetId: string, mig: number): void {
  const cfg: RunConfig = {
    model: 'beta_vae', params: { beta: 4 }, datasetId, arch: 'fc', latent: 3, steps: 10, batch: 8, seed, lr: 1e-3,
    progressEvery: 5, checkpointEvery: 10, codesSamples: 10, evaluate: ['mig'], experimentId: studyId,
  };
  lab.runs.insert(id, cfg);
  lab.runs.recordProgress(id, 10, [{ key: 'loss', step: 5, value: 3 + seed }, { key: 'loss', step: 10, value: 2 + seed }]);
  lab.runs.setStatus(id, 'finished', { finished: true, started: true, backend: 'cpu' });
  lab.runs.setTag(id, 'paper');
  lab.runs.addNote(id, `note ${id}`);
  const put = (rel: string, data: Buffer, kind: string) => {
    const abs = path.join(lab.labDir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, data);
    lab.runs.addArtifact(id, kind, rel, data.length, sha(data));
  };
  put(`runs/${id}/checkpoints/step-00000010/weights.bin`, crypto.randomBytes(3000), 'checkpoint');
  put(`runs/${id}/checkpoints/step-00000010/meta.json`, Buffer.from(JSON.stringify({ step: 10 })), 'checkpoint');
  put(`runs/${id}/codes/means.npy`, Buffer.alloc(400, seed), 'codes');
  lab.runs.addEvaluation(id, {
    metric: 'mig', name: 'MIG', primary: 'mig', value: mig, scores: { mig },
    provenance: { metric: 'mig', estimator: 'e', settings: { num_train: 10000, num_bins: 20 }, samples: { train: 7 }, seed, codesAreMeans: true, notes: [] },
    seconds: 0.1,
  });
  // its metric curve (--eval-every 5): MIG at steps 5 and 10
  for (const [step, v] of [[5, mig / 2], [10, mig]] as const)
    lab.runs.metricSeries.add(id, step, [{
      metric: 'mig', name: 'MIG', primary: 'mig', value: v, scores: { mig: v },
      provenance: { metric: 'mig', estimator: 'e', settings: { num_train: 100, num_bins: 20 }, samples: { train: 100 }, seed: 7, codesAreMeans: true, notes: [`step ${step}`] },
      seconds: 0.2,
    }]);
}

/** Everything a bundle import could touch. */
function dump(lab: Lab): string {
  const rows = ['experiments', 'datasets', 'runs', 'scalars', 'evaluations', 'metric_series', 'artifacts', 'tags', 'notes'].map((t) => lab.db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all());
  const files: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(`${path.relative(lab.labDir, p)} ${sha(fs.readFileSync(p))}`);
    }
  };
  walk(path.join(lab.labDir, 'runs'));
  walk(path.join(lab.labDir, 'datasets'));
  const tmpLeft = fs.readdirSync(path.join(lab.labDir, 'tmp')).filter((n) => n.startsWith('bundle-import'));
  return JSON.stringify({ rows, files: files.sort(), tmpLeft });
}

async function entries(file: string): Promise<Map<string, Buffer>> {
  const z = ZipReader.open(file);
  const out = new Map<string, Buffer>();
  for (const e of z.entries) {
    const parts: Uint8Array[] = [];
    for await (const c of z.stream(e)) parts.push(c);
    out.set(e.name, Buffer.concat(parts));
  }
  z.close();
  return out;
}

function writeZip(file: string, items: { name: string; data: Buffer; mode?: number }[]): string {
  const w = new ZipWriter(file);
  for (const i of items) w.add({ name: i.name, data: i.data, ...(i.mode ? { mode: i.mode } : {}) });
  w.close();
  return file;
}

/** Re-pack the good bundle with changes; the manifest is rewritten unless told otherwise. */
async function craft(name: string, change: (files: Map<string, Buffer>, manifest: { files: { path: string; size: number; sha256: string }[] }) => { extra?: { name: string; data: Buffer; mode?: number }[]; redeclare?: boolean } | void) {
  const files = await entries(good);
  const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { files: { path: string; size: number; sha256: string }[] };
  files.delete('manifest.json');
  const r = change(files, manifest) ?? {};
  const items = [{ name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) }, ...[...files].map(([n, d]) => ({ name: n, data: d })), ...(r.extra ?? [])];
  return writeZip(path.join(tmp.dir, `${name}.zip`), items);
}

beforeAll(async () => {
  a = await Lab.open({ labDir: path.join(tmp.dir, 'a'), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
  b = await Lab.open({ labDir: path.join(tmp.dir, 'b'), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
  const job = await a.handlers['perturbations/save']({ name: 'noisy', baseId: 'dsprites', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 0, statsSamples: 16 });
  noiseId = ((await a.jobs.wait(job.id)).result as { datasetId: string }).datasetId;
  const study = a.studies.create({
    name: 'bundle study',
    methods: [{ id: 'beta_vae', model: 'beta_vae', params: { beta: 4 } }],
    datasets: [{ base: 'dsprites', variants: [{ role: 'original' }, { role: 'noise', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 0 }] }],
    seeds: [0],
    training: { arch: 'fc', latent: 3, steps: 10, batch: 8, lr: 1e-3, progressEvery: 5, checkpointEvery: 10, codesSamples: 10 },
    evaluation: { metrics: ['mig'] },
  });
  studyId = study.id;
  fakeRun(a, 'run-bundle-0', 0, 'dsprites', 0.25);
  fakeRun(a, 'run-bundle-1', 0, noiseId, 0.125);
  good = exportBundle(a, { studyId }, path.join(tmp.dir, 'good.dlab.zip')).path;
});
afterAll(async () => {
  await a.close();
  await b.close();
  tmp.cleanup();
});

describe('bundles', () => {
  it('declare every file with its SHA-256 in the manifest', async () => {
    const files = await entries(good);
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { study: string; runs: string[]; datasets: string[]; files: { path: string; size: number; sha256: string }[] };
    expect(manifest.study).toBe(studyId);
    expect(manifest.runs.sort()).toEqual(['run-bundle-0', 'run-bundle-1']);
    expect(manifest.datasets).toEqual([noiseId]);
    expect(manifest.files.map((f) => f.path).sort()).toEqual([...files.keys()].filter((n) => n !== 'manifest.json').sort());
    for (const f of manifest.files) expect(sha(files.get(f.path)!)).toBe(f.sha256);
    expect(files.has('files/runs/run-bundle-0/checkpoints/step-00000010/weights.bin')).toBe(true);
  });

  it('round trip: rows, scores and files arrive unchanged; a second import changes nothing', async () => {
    const r1 = await importBundle(b, good);
    expect(r1.studyImported).toBe(true);
    expect(r1.runsImported.sort()).toEqual(['run-bundle-0', 'run-bundle-1']);
    expect(r1.datasetsImported).toEqual([noiseId]);
    for (const id of ['run-bundle-0', 'run-bundle-1']) {
      const [x, y] = [a.runs.detail(id)!, b.runs.detail(id)!];
      expect(y.config).toEqual(x.config);
      expect(y.status).toBe('finished');
      expect(y.tags).toEqual(['paper']);
      expect(y.notes.map((n) => n.text)).toEqual([`note ${id}`]);
      expect(y.checkpoints).toEqual(x.checkpoints);
      expect(b.runs.series(id)).toEqual(a.runs.series(id));
      // the metric curve, point for point with its provenance
      const curve = (lab: Lab) => lab.runs.metricSeries.points(id).map(({ id: _rowId, ...p }) => p);
      expect(curve(b)).toEqual(curve(a));
      expect(curve(b).map((p) => [p.step, p.value, p.provenance.notes])).toEqual([[5, a.runs.evaluations(id)[0]!.value! / 2, ['step 5']], [10, a.runs.evaluations(id)[0]!.value, ['step 10']]]);
      expect(b.runs.evaluations(id).map((e) => [e.metric, e.value, e.provenance])).toEqual(a.runs.evaluations(id).map((e) => [e.metric, e.value, e.provenance]));
      for (const art of a.runs.artifacts(id)) expect(sha(fs.readFileSync(path.join(b.labDir, art.path)))).toBe(art.sha256);
    }
    // the derived dataset opens in the other lab and renders the same images
    const [da, db] = [await a.datasets.open(noiseId), await b.datasets.open(noiseId)];
    const [ia, ib] = [new Float32Array(4096), new Float32Array(4096)];
    da.render(12345, ia, 0);
    db.render(12345, ib, 0);
    expect(Buffer.from(ib.buffer)).toEqual(Buffer.from(ia.buffer));
    expect(b.studies.results(studyId).groups.map((g) => [g.variant, g.mean])).toEqual([['original', 0.25], ['noise', 0.125]]);
    const before = dump(b);
    const r2 = await importBundle(b, good);
    expect(r2.runsImported).toEqual([]);
    expect(r2.runsSkipped.sort()).toEqual(['run-bundle-0', 'run-bundle-1']);
    expect(r2.studyImported).toBe(false);
    expect(dump(b)).toBe(before);
  });

  const refusals: [string, () => Promise<string>, RegExp][] = [
    ['a path traversal', () => craft('traversal', (files, m) => {
      const data = Buffer.from('pwned');
      files.set('files/../../evil.txt', data);
      m.files.push({ path: 'files/../../evil.txt', size: data.length, sha256: sha(data) });
    }), /'\.\.' path segment/],
    ['an absolute path', () => craft('absolute', (files, m) => {
      const data = Buffer.from('x');
      files.set('/tmp/evil.txt', data);
      m.files.push({ path: '/tmp/evil.txt', size: 1, sha256: sha(data) });
    }), /absolute path/],
    ['a checksum mismatch', () => craft('checksum', (files) => {
      const k = 'files/runs/run-bundle-0/checkpoints/step-00000010/weights.bin';
      const d = Buffer.from(files.get(k)!);
      d[100] = d[100]! ^ 0xff;
      files.set(k, d);
    }), /checksum mismatch/],
    ['an undeclared file', () => craft('undeclared', () => ({ extra: [{ name: 'files/runs/run-bundle-0/extra.bin', data: Buffer.from('?') }] })), /undeclared file/],
    ['a symlink entry', () => craft('symlink', (files, m) => {
      const data = Buffer.from('/etc/passwd');
      m.files.push({ path: 'files/runs/run-bundle-0/link', size: data.length, sha256: sha(data) });
      return { extra: [{ name: 'files/runs/run-bundle-0/link', data, mode: 0o120777 }] };
    }), /symlink/],
    ['a missing declared file', () => craft('missing', (files) => {
      files.delete('files/runs/run-bundle-1/codes/means.npy');
    }), /is missing/],
    ['an artifact outside its run’s folder', () => craft('outside', (files, m) => {
      const k = 'rows/runs/run-bundle-0.json';
      const row = JSON.parse(files.get(k)!.toString());
      row.artifacts[0].path = 'runs/run-bundle-1/codes/means.npy';
      const d = Buffer.from(JSON.stringify(row));
      files.set(k, d);
      const f = m.files.find((x) => x.path === k)!;
      f.size = d.length;
      f.sha256 = sha(d);
    }), /outside its folder/],
    ['no manifest', async () => writeZip(path.join(tmp.dir, 'nomanifest.zip'), [{ name: 'rows/study.json', data: Buffer.from('{}') }]), /no manifest\.json/],
    ['not a zip', async () => (fs.writeFileSync(path.join(tmp.dir, 'junk.zip'), crypto.randomBytes(500)), path.join(tmp.dir, 'junk.zip')), /not a zip/],
  ];

  for (const [what, make, why] of refusals) {
    it(`refuses ${what} and leaves the store unchanged`, async () => {
      const file = await make();
      const fresh = await Lab.open({ labDir: path.join(tmp.dir, `fresh-${what.replace(/\W+/g, '-')}`), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
      try {
        for (const lab of [fresh, b]) {
          const before = dump(lab);
          const err = await importBundle(lab, file).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(LabError);
          expect((err as LabError).code).toBe('invalid_payload');
          expect((err as LabError).message).toMatch(why);
          expect(dump(lab)).toBe(before);
        }
        expect(fs.existsSync(path.join(tmp.dir, 'evil.txt'))).toBe(false);
      } finally {
        await fresh.close();
      }
    });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- crafted rows are edited freely
  type Row = Record<string, any>;
  /** Change one row file of the good bundle and re-declare it. */
  const editRow = (files: Map<string, Buffer>, m: { files: { path: string; size: number; sha256: string }[] }, k: string, edit: (row: Row) => void) => {
    const row = JSON.parse(files.get(k)!.toString());
    edit(row);
    const d = Buffer.from(JSON.stringify(row));
    files.set(k, d);
    const f = m.files.find((x) => x.path === k)!;
    f.size = d.length;
    f.sha256 = sha(d);
  };
  /** A run (or dataset) row copied under another id, added to the manifest. */
  const extraRow = (kind: 'runs' | 'datasets', id: string, from: string) => (files: Map<string, Buffer>, m: { files: { path: string; size: number; sha256: string }[]; runs?: string[]; datasets?: string[] }) => {
    const row = JSON.parse(files.get(`rows/${kind}/${from}.json`)!.toString());
    if (kind === 'runs') row.run.id = id;
    else row.row.id = id;
    row.artifacts = [];
    const d = Buffer.from(JSON.stringify(row));
    files.set(`rows/${kind}/${id}.json`, d);
    m.files.push({ path: `rows/${kind}/${id}.json`, size: d.length, sha256: sha(d) });
    (kind === 'runs' ? m.runs : m.datasets)!.push(id);
  };
  const crafted: [string, () => Promise<string>, RegExp][] = [
    ["a run whose id is '.'", () => craft('run-dot', extraRow('runs', '.', 'run-bundle-0')), /manifest\.json does not parse.*an id is letters/],
    ["a run whose id is '..'", () => craft('run-dotdot', extraRow('runs', '..', 'run-bundle-0')), /manifest\.json does not parse.*an id is letters/],
    ["a dataset whose id is '.'", async () => craft('dataset-dot', extraRow('datasets', '.', noiseId)), /manifest\.json does not parse.*an id is letters/],
    ['a run whose config is not JSON', () => craft('poison-config', (files, m) => editRow(files, m, 'rows/runs/run-bundle-0.json', (r) => (r.run.config_json = 'not json {'))), /config_json: is not JSON/],
    ['a run whose config is not a run config', () => craft('poison-config-shape', (files, m) => editRow(files, m, 'rows/runs/run-bundle-0.json', (r) => (r.run.config_json = '{"model":"beta_vae"}'))), /config_json: .*(params|datasetId)/],
    ['a run with an unknown status', () => craft('poison-status', (files, m) => editRow(files, m, 'rows/runs/run-bundle-0.json', (r) => (r.run.status = 'exploded'))), /run\.status/],
    ['a run of an unknown method', () => craft('poison-model', (files, m) => editRow(files, m, 'rows/runs/run-bundle-0.json', (r) => (r.run.model = 'rm -rf'))), /not a method this lab knows/],
    ['a metric curve with a point given twice', () => craft('poison-series-dup', (files, m) => editRow(files, m, 'rows/runs/run-bundle-0.json', (r) => r.metric_series.push(r.metric_series[0]))), /metric_series: a \(metric, step\) point is given twice/],
    ['a metric curve point that is not a score', () => craft('poison-series', (files, m) => editRow(files, m, 'rows/runs/run-bundle-0.json', (r) => (r.metric_series[1].scores_json = '{"value": "high"}'))), /metric_series.*scores_json/],
    ['a score that is not a score', () => craft('poison-score', (files, m) => editRow(files, m, 'rows/runs/run-bundle-0.json', (r) => (r.evaluations[0].scores_json = '{"value": "high"}'))), /scores_json/],
    ['a dataset whose info is empty', async () => craft('poison-info', (files, m) => editRow(files, m, `rows/datasets/${noiseId}.json`, (r) => (r.row.info_json = '{}'))), /info_json/],
    ['an artifact whose row disagrees with the manifest on its size', () => craft('artifact-size', (files, m) => editRow(files, m, 'rows/runs/run-bundle-0.json', (r) => (r.artifacts[0].size += 1))), /declared as \d+ bytes, its row says/],
    ['a declared zip bomb', () => craft('bomb', (files, m) => {
      const zeros = Buffer.alloc(48 << 20);
      m.files.push({ path: 'files/runs/run-bundle-0/bomb.bin', size: zeros.length, sha256: sha(zeros) });
      return { extra: [{ name: 'files/runs/run-bundle-0/bomb.bin', data: zeros }] };
    }), /expands \d+×, over the limit of 100×/],
    // refused on its rows before any file is inflated: its bytes are wrong too, yet the reason is the row check
    ['a declared file that belongs to no row (checked before extraction)', () => craft('orphan', (files, m) => {
      const data = crypto.randomBytes(5000);
      m.files.push({ path: 'files/runs/run-bundle-0/orphan.bin', size: data.length, sha256: '0'.repeat(64) });
      return { extra: [{ name: 'files/runs/run-bundle-0/orphan.bin', data }] };
    }), /belongs to no row/],
  ];

  for (const [what, make, why] of crafted) {
    it(`refuses ${what}; the lab's rows and files stay byte-for-byte the same`, async () => {
      const file = await make();
      const fresh = await Lab.open({ labDir: path.join(tmp.dir, `crafted-${what.replace(/\W+/g, '-')}`), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
      try {
        for (const lab of [fresh, b]) {
          const before = dump(lab);
          const dbBytes = sha(fs.readFileSync(path.join(lab.labDir, 'lab.sqlite')));
          const err = await importBundle(lab, file).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(LabError);
          expect((err as LabError).code).toBe('invalid_payload');
          expect((err as LabError).message).toMatch(why);
          expect(dump(lab)).toBe(before);
          expect(fs.existsSync(path.join(lab.labDir, 'lab.sqlite'))).toBe(true);
          expect(sha(fs.readFileSync(path.join(lab.labDir, 'lab.sqlite')))).toBe(dbBytes);
        }
      } finally {
        await fresh.close();
      }
    });
  }

  it('replaces nothing it did not create: a folder already there without a row is refused, untouched', async () => {
    const c = await Lab.open({ labDir: path.join(tmp.dir, 'c-folder'), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
    try {
      const mine = path.join(c.labDir, 'runs', 'run-bundle-1', 'my-notes.txt');
      fs.mkdirSync(path.dirname(mine), { recursive: true });
      fs.writeFileSync(mine, 'keep me');
      const before = dump(c);
      const err = await importBundle(c, good).catch((e: unknown) => e);
      expect((err as LabError).code).toBe('conflict');
      expect((err as LabError).message).toMatch(/runs\/run-bundle-1 already exists in this lab without a row/);
      expect(dump(c)).toBe(before);
      expect(fs.readFileSync(mine, 'utf8')).toBe('keep me');
    } finally {
      await c.close();
    }
  });

  it('refuses over the total limit set by DLAB_BUNDLE_MAX_BYTES, and the default total is 4 GiB', async () => {
    const { defaultLimits } = await import('../../src/core/export/bundle.js');
    expect(defaultLimits({}).maxTotalBytes).toBe(4 * 2 ** 30);
    expect(defaultLimits({ DLAB_BUNDLE_MAX_BYTES: '2000' }).maxTotalBytes).toBe(2000);
    expect(defaultLimits({ DLAB_BUNDLE_MAX_BYTES: 'lots' }).maxTotalBytes).toBe(4 * 2 ** 30);
    await expect(importBundle(b, good, defaultLimits({ DLAB_BUNDLE_MAX_BYTES: '2000' }))).rejects.toThrow(/over the limit of 2000/);
  });

  it('refuses archives over the size limits', async () => {
    const before = dump(b);
    await expect(importBundle(b, good, { maxTotalBytes: 1000 })).rejects.toThrow(/over the limit of 1000/);
    await expect(importBundle(b, good, { maxArchiveBytes: 100 })).rejects.toThrow(/archive is \d+ bytes/);
    await expect(importBundle(b, good, { maxEntries: 3 })).rejects.toThrow(/entries, over the limit/);
    expect(dump(b)).toBe(before);
  });

  it('imports a bundle made before metric curves existed (no metric_series in its rows)', async () => {
    const file = await craft('before-curves', (files, m) => {
      for (const id of ['run-bundle-0', 'run-bundle-1'])
        editRow(files, m, `rows/runs/${id}.json`, (r) => {
          delete r.metric_series;
        });
    });
    const d = await Lab.open({ labDir: path.join(tmp.dir, 'd'), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
    try {
      const r = await importBundle(d, file);
      expect(r.runsImported.sort()).toEqual(['run-bundle-0', 'run-bundle-1']);
      expect(d.runs.metricSeries.points('run-bundle-0')).toEqual([]);
      expect(d.runs.evaluations('run-bundle-0').map((e) => e.value)).toEqual(a.runs.evaluations('run-bundle-0').map((e) => e.value));
    } finally {
      await d.close();
    }
  });

  it('refuses a run that exists here with a different configuration', async () => {
    const c = await Lab.open({ labDir: path.join(tmp.dir, 'c'), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
    try {
      const { experimentId: _drop, ...cfg } = a.runs.summary('run-bundle-0')!.config;
      c.runs.insert('run-bundle-0', { ...cfg, seed: 99 });
      const before = dump(c);
      await expect(importBundle(c, good)).rejects.toThrow(/a different run 'run-bundle-0'/);
      expect(dump(c)).toBe(before);
    } finally {
      await c.close();
    }
  });
});
