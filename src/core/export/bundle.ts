/**
 * Portable bundles: a study (or a set of runs) as one zip.
 *
 * Layout: `manifest.json` (format, version, what is inside, and every other
 * file with its size and SHA-256), `rows/study.json` (the experiments row),
 * `rows/datasets/<id>.json` (derived datasets the runs train on, with their
 * artifact rows), `rows/runs/<id>.json` (run row, scalar series,
 * evaluations, tags, notes, artifact rows), and `files/<lab-relative path>`
 * for the artifacts (the latest checkpoint, the stored codes, perturbation
 * weights). Imported (user-file) datasets are not copied: they are listed as
 * `requires` and must exist in the importing lab.
 *
 * Import refuses, before anything is written to the store: archives over the
 * size limits (archive bytes, entries, bytes per entry, total bytes,
 * compression ratio), names that are absolute, use backslashes or a drive
 * letter, contain empty/'.'/'..' segments or lie outside manifest.json,
 * rows/ and files/; symlinks and other non-regular entries; duplicate names;
 * files the manifest does not declare and declared files that are missing;
 * size or SHA-256 mismatches (and the zip reader's CRC/size checks); rows
 * that do not parse or whose artifact paths lie outside their owner's folder;
 * a run, dataset or study id that exists here with different content.
 * It stages every file in a temporary folder inside the lab, then inserts
 * the rows in one transaction and moves the files into place (moved back if
 * the transaction fails). What already exists (same id, same content) is
 * skipped, so importing a bundle twice changes nothing.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { LabError } from '../../shared/contract.js';
import { Id } from '../../shared/domain.js';
import { datasetDir } from '../datasets/open.js';
import { findBuiltin } from '../datasets/registry.js';
import { ZipReader } from '../io/zip.js';
import type { Lab } from '../lab.js';
import { canonicalJson } from '../perturbations/derived.js';
import { nowIso, schemaVersion } from '../store/db.js';
import { centralAttributes, ZipWriter } from './zip-writer.js';

export const BUNDLE_FORMAT = 'dlab-bundle';

const FileEntry = z.object({ path: z.string().max(1024), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict();
export const Manifest = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    version: z.literal(1),
    createdAt: z.string(),
    app: z.object({ name: z.string(), version: z.string() }),
    schemaVersion: z.number().int(),
    study: Id.nullable(),
    runs: z.array(Id),
    datasets: z.array(Id),
    requires: z.array(Id),
    files: z.array(FileEntry),
  })
  .strict();
export type Manifest = z.infer<typeof Manifest>;

const ArtifactRow = z.object({ kind: z.string().max(64), path: z.string().max(1024), size: z.number().int().nonnegative(), sha256: z.string().max(128), created_at: z.string() }).strict();
const StudyRow = z.object({ id: Id, name: z.string(), description: z.string(), config_json: z.string(), created_at: z.string() }).strict();
const DatasetRow = z
  .object({
    row: z.object({ id: Id, name: z.string(), source: z.enum(['imported', 'derived']), info_json: z.string(), spec_json: z.string(), stats_json: z.string(), parent_id: Id.nullable(), created_at: z.string() }).strict(),
    artifacts: z.array(ArtifactRow),
  })
  .strict();
const RunRow = z
  .object({
    run: z
      .object({
        id: Id,
        experiment_id: Id.nullable(),
        model: z.string(),
        dataset_id: Id,
        config_json: z.string(),
        status: z.string(),
        backend: z.string().nullable(),
        seed: z.number().int(),
        step: z.number().int(),
        total_steps: z.number().int(),
        error: z.string().nullable(),
        created_at: z.string(),
        started_at: z.string().nullable(),
        finished_at: z.string().nullable(),
      })
      .strict(),
    scalars: z.array(z.tuple([z.string(), z.number().int(), z.number()])),
    evaluations: z.array(z.object({ metric: z.string(), scores_json: z.string(), provenance_json: z.string(), created_at: z.string() }).strict()),
    tags: z.array(z.string().max(64)),
    notes: z.array(z.object({ text: z.string(), created_at: z.string() }).strict()),
    artifacts: z.array(ArtifactRow),
  })
  .strict();

export interface BundleExportOptions {
  studyId?: string;
  runIds?: string[];
  /** Include the latest checkpoint of each run (default true). */
  checkpoints?: boolean;
  /** Include the stored codes (default true). */
  codes?: boolean;
}

export interface BundleExportResult {
  path: string;
  bytes: number;
  sha256: string;
  runs: number;
  datasets: number;
  files: number;
}

const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

const RUN_COLUMNS = ['id', 'experiment_id', 'model', 'dataset_id', 'config_json', 'status', 'backend', 'seed', 'step', 'total_steps', 'error', 'created_at', 'started_at', 'finished_at'] as const;

export function exportBundle(lab: Lab, opts: BundleExportOptions, outPath: string): BundleExportResult {
  const db = lab.db;
  let study: z.infer<typeof StudyRow> | null = null;
  let runIds: string[];
  if (opts.studyId) {
    const r = db.prepare('SELECT id, name, description, config_json, created_at FROM experiments WHERE id = ?').get(opts.studyId) as z.infer<typeof StudyRow> | undefined;
    if (!r) throw new LabError('not_found', `no study '${opts.studyId}'`);
    study = r;
    runIds = (db.prepare('SELECT id FROM runs WHERE experiment_id = ? ORDER BY created_at, id').all(opts.studyId) as { id: string }[]).map((x) => x.id);
  } else {
    runIds = [...new Set(opts.runIds ?? [])];
    for (const id of runIds) if (!lab.runs.exists(id)) throw new LabError('not_found', `no run '${id}'`);
  }
  const files: { name: string; data: Buffer }[] = [];
  const declared: z.infer<typeof FileEntry>[] = [];
  const addFile = (name: string, data: Buffer) => {
    files.push({ name, data });
    declared.push({ path: name, size: data.length, sha256: sha256(data) });
  };
  const addArtifactFile = (rel: string) => {
    const abs = path.join(lab.labDir, rel);
    if (!fs.existsSync(abs)) return false;
    addFile(`files/${rel}`, fs.readFileSync(abs));
    return true;
  };
  if (study) addFile('rows/study.json', Buffer.from(JSON.stringify(study, null, 1)));

  const datasetIds = new Set<string>();
  const requires = new Set<string>();
  const runs: string[] = [];
  for (const id of runIds) {
    const run = db.prepare(`SELECT ${RUN_COLUMNS.join(', ')} FROM runs WHERE id = ?`).get(id) as z.infer<typeof RunRow>['run'];
    const scalars = (db.prepare('SELECT key, step, value FROM scalars WHERE run_id = ? ORDER BY key, step').all(id) as { key: string; step: number; value: number }[]).map(
      (s) => [s.key, s.step, s.value] as [string, number, number],
    );
    const evaluations = db.prepare('SELECT metric, scores_json, provenance_json, created_at FROM evaluations WHERE run_id = ? ORDER BY id').all(id) as z.infer<typeof RunRow>['evaluations'];
    const tags = (db.prepare('SELECT tag FROM tags WHERE run_id = ? ORDER BY tag').all(id) as { tag: string }[]).map((t) => t.tag);
    const notes = db.prepare('SELECT text, created_at FROM notes WHERE run_id = ? ORDER BY id').all(id) as { text: string; created_at: string }[];
    const all = db.prepare("SELECT kind, path, size, sha256, created_at FROM artifacts WHERE owner_kind = 'run' AND owner_id = ? ORDER BY id").all(id) as z.infer<typeof ArtifactRow>[];
    const cps = lab.runs.checkpoints(id);
    const latest = cps[cps.length - 1]?.path;
    const artifacts: z.infer<typeof ArtifactRow>[] = [];
    for (const a of all) {
      const want = (a.kind === 'checkpoint' && (opts.checkpoints ?? true) && latest !== undefined && a.path.startsWith(latest + '/')) || (a.kind === 'codes' && (opts.codes ?? true));
      if (want && addArtifactFile(a.path)) artifacts.push(a);
    }
    addFile(`rows/runs/${id}.json`, Buffer.from(JSON.stringify({ run, scalars, evaluations, tags, notes, artifacts })));
    runs.push(id);
    // the dataset and its ancestors
    let cur: string | null = run.dataset_id;
    for (let depth = 0; cur && !findBuiltin(cur) && depth < 17; depth++) {
      const row = db.prepare('SELECT id, name, source, info_json, spec_json, stats_json, parent_id, created_at FROM datasets WHERE id = ?').get(cur) as
        | z.infer<typeof DatasetRow>['row']
        | undefined;
      if (!row) throw new LabError('conflict', `run ${id} trains on '${cur}', which this lab does not have`);
      if (row.source === 'imported') {
        requires.add(row.id);
        break;
      }
      datasetIds.add(row.id);
      cur = row.parent_id;
    }
  }
  for (const id of datasetIds) {
    const row = db.prepare('SELECT id, name, source, info_json, spec_json, stats_json, parent_id, created_at FROM datasets WHERE id = ?').get(id) as z.infer<typeof DatasetRow>['row'];
    const arts = db.prepare("SELECT kind, path, size, sha256, created_at FROM artifacts WHERE owner_kind = 'dataset' AND owner_id = ? ORDER BY id").all(id) as z.infer<typeof ArtifactRow>[];
    const artifacts = arts.filter((a) => addArtifactFile(a.path));
    addFile(`rows/datasets/${id}.json`, Buffer.from(JSON.stringify({ row, artifacts })));
  }
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    version: 1,
    createdAt: nowIso(),
    app: { name: 'Disentanglement Lab', version: lab.info().version },
    schemaVersion: schemaVersion(db),
    study: study?.id ?? null,
    runs,
    datasets: [...datasetIds],
    requires: [...requires],
    files: declared,
  };
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  const tmp = `${outPath}.part-${crypto.randomBytes(4).toString('hex')}`;
  const zip = new ZipWriter(tmp);
  try {
    zip.add({ name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest, null, 1)) });
    for (const f of files) zip.add({ name: f.name, data: f.data });
    zip.close();
    fs.renameSync(tmp, outPath);
  } catch (e) {
    zip.abort();
    throw e;
  }
  const bytes = fs.statSync(outPath).size;
  return { path: outPath, bytes, sha256: sha256(fs.readFileSync(outPath)), runs: runs.length, datasets: datasetIds.size, files: files.length };
}

// ------------------------------------------------------------------ import

export interface BundleLimits {
  maxArchiveBytes: number;
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
  /** Largest uncompressed/compressed ratio of an entry over 1 MiB. */
  maxRatio: number;
  maxManifestBytes: number;
}

export const DEFAULT_LIMITS: BundleLimits = {
  maxArchiveBytes: 16 * 2 ** 30,
  maxEntries: 200_000,
  maxEntryBytes: 2 ** 32 - 2,
  maxTotalBytes: 32 * 2 ** 30,
  maxRatio: 1100,
  maxManifestBytes: 64 << 20,
};

export interface BundleImportResult {
  study: string | null;
  studyImported: boolean;
  runsImported: string[];
  runsSkipped: string[];
  datasetsImported: string[];
  datasetsSkipped: string[];
  files: number;
}

const refuse = (why: string) => new LabError('invalid_payload', `bundle refused: ${why}`);

/** A safe relative name inside the bundle, or a reason why not. */
export function checkEntryName(name: string): string | null {
  if (name.length === 0 || name.length > 1024) return 'empty or overlong name';
  if (name.includes('\0')) return 'NUL in name';
  if (name.includes('\\')) return 'backslash in name';
  if (name.startsWith('/')) return 'absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'drive letter';
  const parts = name.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return "empty, '.' or '..' path segment";
  if (name !== 'manifest.json' && parts[0] !== 'rows' && parts[0] !== 'files') return 'outside manifest.json, rows/ and files/';
  return null;
}

async function readEntry(zip: ZipReader, name: string, max: number): Promise<Buffer> {
  const e = zip.get(name)!;
  if (e.uncompressedSize > max) throw refuse(`${name} is larger than ${max} bytes`);
  const chunks: Uint8Array[] = [];
  for await (const c of zip.stream(e)) chunks.push(c);
  return Buffer.concat(chunks);
}

function inside(rel: string, prefix: string): boolean {
  return checkEntryName(`files/${rel}`) === null && rel.startsWith(prefix);
}

export async function importBundle(lab: Lab, file: string, limits: Partial<BundleLimits> = {}): Promise<BundleImportResult> {
  const L = { ...DEFAULT_LIMITS, ...limits };
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    throw new LabError('not_found', `no bundle at ${file}`);
  }
  if (!st.isFile()) throw refuse('not a regular file');
  if (st.size > L.maxArchiveBytes) throw refuse(`archive is ${st.size} bytes, over the limit of ${L.maxArchiveBytes}`);
  let zip: ZipReader;
  try {
    zip = ZipReader.open(file);
  } catch (e) {
    throw refuse((e as Error).message);
  }
  const staging = path.join(lab.labDir, 'tmp', `bundle-import-${process.pid}-${crypto.randomBytes(5).toString('hex')}`);
  try {
    // ---- structure, names, sizes
    if (zip.entries.length > L.maxEntries) throw refuse(`${zip.entries.length} entries, over the limit of ${L.maxEntries}`);
    const names = new Set<string>();
    let total = 0;
    for (const e of zip.entries) {
      const bad = checkEntryName(e.name);
      if (bad) throw refuse(`entry '${e.name.slice(0, 200)}': ${bad}`);
      if (names.has(e.name)) throw refuse(`duplicate entry '${e.name}'`);
      names.add(e.name);
      if (e.uncompressedSize > L.maxEntryBytes) throw refuse(`entry '${e.name}' is ${e.uncompressedSize} bytes, over the limit of ${L.maxEntryBytes}`);
      if (e.uncompressedSize > 1 << 20 && e.uncompressedSize > L.maxRatio * Math.max(1, e.compressedSize)) throw refuse(`entry '${e.name}' expands more than ${L.maxRatio}×`);
      total += e.uncompressedSize;
    }
    if (total > L.maxTotalBytes) throw refuse(`contents are ${total} bytes, over the limit of ${L.maxTotalBytes}`);
    for (const a of centralAttributes(file)) {
      if (a.unixMode !== null && (a.unixMode & 0o170000) !== 0 && (a.unixMode & 0o170000) !== 0o100000) {
        throw refuse(`entry '${a.name}' is ${(a.unixMode & 0o170000) === 0o120000 ? 'a symlink' : 'not a regular file'}`);
      }
      if (a.host === 0 && (a.externalAttributes & 0x10) !== 0) throw refuse(`entry '${a.name}' is a directory`);
    }
    // ---- manifest
    if (!names.has('manifest.json')) throw refuse('no manifest.json');
    let manifest: Manifest;
    try {
      manifest = Manifest.parse(JSON.parse((await readEntry(zip, 'manifest.json', L.maxManifestBytes)).toString('utf8')));
    } catch (e) {
      throw e instanceof LabError ? e : refuse(`manifest.json does not parse: ${(e as Error).message.slice(0, 300)}`);
    }
    const declared = new Map(manifest.files.map((f) => [f.path, f]));
    if (declared.size !== manifest.files.length) throw refuse('manifest declares a file twice');
    for (const n of names) if (n !== 'manifest.json' && !declared.has(n)) throw refuse(`undeclared file '${n}'`);
    for (const f of manifest.files) {
      const bad = checkEntryName(f.path);
      if (bad || f.path === 'manifest.json') throw refuse(`manifest names '${f.path.slice(0, 200)}': ${bad ?? 'the manifest itself'}`);
      const e = zip.get(f.path);
      if (!e) throw refuse(`declared file '${f.path}' is missing`);
      if (e.uncompressedSize !== f.size) throw refuse(`'${f.path}' has ${e.uncompressedSize} bytes, the manifest says ${f.size}`);
    }
    // ---- stage and verify every file
    fs.mkdirSync(staging, { recursive: true });
    for (const f of manifest.files) {
      const dest = path.join(staging, ...f.path.split('/'));
      if (!path.resolve(dest).startsWith(path.resolve(staging) + path.sep)) throw refuse(`'${f.path}' escapes the staging folder`);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      const hash = crypto.createHash('sha256');
      const fd = fs.openSync(dest, 'wx');
      try {
        for await (const c of zip.stream(zip.get(f.path)!)) {
          hash.update(c);
          fs.writeSync(fd, c);
        }
      } catch (e) {
        throw e instanceof LabError ? e : refuse((e as Error).message);
      } finally {
        fs.closeSync(fd);
      }
      if (hash.digest('hex') !== f.sha256) throw refuse(`checksum mismatch for '${f.path}'`);
    }
    const readJson = <T>(rel: string, schema: z.ZodType<T>): T => {
      try {
        return schema.parse(JSON.parse(fs.readFileSync(path.join(staging, ...rel.split('/')), 'utf8')));
      } catch (e) {
        throw refuse(`${rel} does not parse: ${(e as Error).message.slice(0, 300)}`);
      }
    };
    // ---- rows
    const study = manifest.study ? readJson(`rows/study.json`, StudyRow) : null;
    if (study && study.id !== manifest.study) throw refuse('rows/study.json is not the manifest’s study');
    const datasets = manifest.datasets.map((id) => {
      if (!declared.has(`rows/datasets/${id}.json`)) throw refuse(`no rows for dataset ${id}`);
      const d = readJson(`rows/datasets/${id}.json`, DatasetRow);
      if (d.row.id !== id || d.row.source !== 'derived') throw refuse(`rows/datasets/${id}.json is not the derived dataset ${id}`);
      const prefix = path.relative(lab.labDir, datasetDir(lab.labDir, id)).split(path.sep).join('/') + '/';
      for (const a of d.artifacts) if (!inside(a.path, prefix) || !declared.has(`files/${a.path}`)) throw refuse(`dataset ${id}: artifact '${a.path}' is outside its folder or missing`);
      return d;
    });
    const runs = manifest.runs.map((id) => {
      if (!declared.has(`rows/runs/${id}.json`)) throw refuse(`no rows for run ${id}`);
      const r = readJson(`rows/runs/${id}.json`, RunRow);
      if (r.run.id !== id) throw refuse(`rows/runs/${id}.json is not run ${id}`);
      for (const a of r.artifacts) if (!inside(a.path, `runs/${id}/`) || !declared.has(`files/${a.path}`)) throw refuse(`run ${id}: artifact '${a.path}' is outside its folder or missing`);
      return r;
    });
    const used = new Set<string>([...(study ? ['rows/study.json'] : []), ...datasets.map((d) => `rows/datasets/${d.row.id}.json`), ...runs.map((r) => `rows/runs/${r.run.id}.json`)]);
    for (const d of datasets) for (const a of d.artifacts) used.add(`files/${a.path}`);
    for (const r of runs) for (const a of r.artifacts) used.add(`files/${a.path}`);
    for (const f of manifest.files) if (!used.has(f.path)) throw refuse(`'${f.path}' belongs to no row`);
    // ---- conflicts and requirements
    const db = lab.db;
    for (const req of manifest.requires) if (!findBuiltin(req) && !lab.datasets.storedRow(req)) throw new LabError('conflict', `the bundle needs the imported dataset '${req}', which this lab does not have`);
    const known = new Set(manifest.datasets);
    for (const d of datasets) {
      const p = d.row.parent_id;
      if (p && !known.has(p) && !findBuiltin(p) && !lab.datasets.storedRow(p)) throw refuse(`dataset ${d.row.id} derives from '${p}', which is neither in the bundle nor here`);
    }
    for (const r of runs) {
      const ds = r.run.dataset_id;
      if (!known.has(ds) && !findBuiltin(ds) && !lab.datasets.storedRow(ds)) throw refuse(`run ${r.run.id} trains on '${ds}', which is neither in the bundle nor here`);
      if (r.run.experiment_id && r.run.experiment_id !== manifest.study && !db.prepare('SELECT 1 FROM experiments WHERE id = ?').get(r.run.experiment_id)) {
        r.run.experiment_id = null; // its study is not part of the bundle
      }
    }
    const existingStudy = study ? (db.prepare('SELECT config_json FROM experiments WHERE id = ?').get(study.id) as { config_json: string } | undefined) : undefined;
    if (study && existingStudy) {
      const spec = (j: string) => canonicalJson((JSON.parse(j) as { spec?: unknown }).spec ?? JSON.parse(j));
      if (spec(existingStudy.config_json) !== spec(study.config_json)) throw new LabError('conflict', `a different study '${study.id}' exists here`);
    }
    const newDatasets = datasets.filter((d) => {
      const row = lab.datasets.storedRow(d.row.id);
      if (!row) return true;
      if (canonicalJson(row.spec) !== canonicalJson(JSON.parse(d.row.spec_json))) throw new LabError('conflict', `a different dataset '${d.row.id}' exists here`);
      return false;
    });
    const newRuns = runs.filter((r) => {
      const ex = db.prepare('SELECT config_json FROM runs WHERE id = ?').get(r.run.id) as { config_json: string } | undefined;
      if (!ex) return true;
      if (canonicalJson(JSON.parse(ex.config_json)) !== canonicalJson(JSON.parse(r.run.config_json))) throw new LabError('conflict', `a different run '${r.run.id}' exists here`);
      return false;
    });
    // ---- commit: rows in one transaction, folders moved inside it (and back on failure)
    const moved: [string, string][] = [];
    const moveDir = (fromRel: string, toAbs: string) => {
      const from = path.join(staging, 'files', ...fromRel.split('/'));
      if (!fs.existsSync(from)) return;
      if (fs.existsSync(toAbs)) fs.rmSync(toAbs, { recursive: true, force: true }); // a folder without a row: left by a crash
      fs.mkdirSync(path.dirname(toAbs), { recursive: true });
      fs.renameSync(from, toAbs);
      moved.push([toAbs, from]);
    };
    const tx = db.transaction(() => {
      if (study && !existingStudy) db.prepare('INSERT INTO experiments (id, name, description, config_json, created_at) VALUES (?, ?, ?, ?, ?)').run(study.id, study.name, study.description, study.config_json, study.created_at);
      const art = db.prepare('INSERT INTO artifacts (owner_kind, owner_id, kind, path, size, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const d of newDatasets) {
        const r = d.row;
        db.prepare('INSERT INTO datasets (id, name, source, info_json, spec_json, stats_json, parent_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
          r.id,
          r.name,
          r.source,
          r.info_json,
          r.spec_json,
          r.stats_json,
          r.parent_id,
          r.created_at,
        );
        for (const a of d.artifacts) art.run('dataset', r.id, a.kind, a.path, a.size, a.sha256, a.created_at);
        const rel = path.relative(lab.labDir, datasetDir(lab.labDir, r.id)).split(path.sep).join('/');
        if (d.artifacts.length) moveDir(rel, datasetDir(lab.labDir, r.id));
      }
      const insRun = db.prepare(
        `INSERT INTO runs (${RUN_COLUMNS.join(', ')}) VALUES (${RUN_COLUMNS.map((c) => `@${c}`).join(', ')})`,
      );
      const insScalar = db.prepare('INSERT INTO scalars (run_id, key, step, value) VALUES (?, ?, ?, ?)');
      const insEval = db.prepare('INSERT INTO evaluations (run_id, metric, scores_json, provenance_json, created_at) VALUES (?, ?, ?, ?, ?)');
      const insTag = db.prepare('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)');
      const insNote = db.prepare('INSERT INTO notes (run_id, text, created_at) VALUES (?, ?, ?)');
      for (const r of newRuns) {
        const status = r.run.status === 'queued' || r.run.status === 'running' ? 'interrupted' : r.run.status;
        insRun.run({ ...r.run, status });
        for (const [k, s, v] of r.scalars) insScalar.run(r.run.id, k, s, v);
        for (const e of r.evaluations) insEval.run(r.run.id, e.metric, e.scores_json, e.provenance_json, e.created_at);
        for (const t of r.tags) insTag.run(r.run.id, t);
        for (const n of r.notes) insNote.run(r.run.id, n.text, n.created_at);
        for (const a of r.artifacts) art.run('run', r.run.id, a.kind, a.path, a.size, a.sha256, a.created_at);
        moveDir(`runs/${r.run.id}`, path.join(lab.labDir, 'runs', r.run.id));
        if (!fs.existsSync(path.join(lab.labDir, 'runs', r.run.id))) fs.mkdirSync(path.join(lab.labDir, 'runs', r.run.id), { recursive: true });
      }
    });
    try {
      tx();
    } catch (e) {
      for (const [to, from] of moved.reverse()) {
        try {
          fs.mkdirSync(path.dirname(from), { recursive: true });
          fs.renameSync(to, from);
        } catch {
          /* best effort */
        }
      }
      throw e;
    }
    for (const d of newDatasets) lab.datasets.evict(d.row.id);
    return {
      study: study?.id ?? null,
      studyImported: !!study && !existingStudy,
      runsImported: newRuns.map((r) => r.run.id),
      runsSkipped: runs.filter((r) => !newRuns.includes(r)).map((r) => r.run.id),
      datasetsImported: newDatasets.map((d) => d.row.id),
      datasetsSkipped: datasets.filter((d) => !newDatasets.includes(d)).map((d) => d.row.id),
      files: manifest.files.length,
    };
  } finally {
    zip.close();
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
