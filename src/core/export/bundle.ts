/**
 * Portable bundles: a study (or a set of runs) as one zip.
 *
 * Layout: `manifest.json` (format, version, what is inside, and every other
 * file with its size and SHA-256), `rows/study.json` (the experiments row),
 * `rows/datasets/<id>.json` (derived datasets the runs train on, with their
 * artifact rows), `rows/runs/<id>.json` (run row, scalar series,
 * evaluations, metric curves, tags, notes, artifact rows), and `files/<lab-relative path>`
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
import { DatasetInfo, Id } from '../../shared/domain.js';
import { EvaluationRecord, RunConfig, RunStatus } from '../../shared/runs.js';
import { StudySpec } from '../../shared/requests/studies.js';
import { datasetDir } from '../datasets/open.js';
import { findBuiltin } from '../datasets/registry.js';
import { ZipReader } from '../io/zip.js';
import type { DatasetService } from '../datasets/service.js';
import type { Db } from '../store/db.js';
import type { RunRepository } from '../store/runs.js';
import { findObjective } from '../models/registry.js';
import { PerturbationSpec } from '../perturbations/types.js';
import { STUDY_KIND } from '../studies/store.js';
import { idPath, isInside } from '../util/paths.js';
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

/** A JSON text column whose content must pass `schema` — the schema the lab reads that column with. */
function jsonText<T extends z.ZodType>(schema: T) {
  return z.string().superRefine((text, ctx) => {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON' });
      return;
    }
    const r = schema.safeParse(v);
    if (!r.success) for (const i of r.error.issues.slice(0, 3)) ctx.addIssue({ code: 'custom', message: `${i.path.join('.') || '(root)'}: ${i.message}` });
  });
}

const IsoTime = z.string().max(64).regex(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z?$/, 'an ISO time');
const ArtifactRow = z.object({ kind: z.string().max(64), path: z.string().max(1024), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/), created_at: IsoTime }).strict();
const StudyConfig = z.object({ kind: z.literal(STUDY_KIND), spec: StudySpec, datasetIds: z.record(z.string(), z.record(z.string(), Id)).optional() }).passthrough();
const StudyRow = z.object({ id: Id, name: z.string().max(200), description: z.string().max(10_000), config_json: jsonText(StudyConfig), created_at: IsoTime }).strict();
const DatasetRow = z
  .object({
    row: z
      .object({
        id: Id,
        name: z.string().max(200),
        source: z.enum(['imported', 'derived']),
        info_json: jsonText(DatasetInfo),
        spec_json: jsonText(PerturbationSpec),
        stats_json: jsonText(z.record(z.string(), z.unknown())),
        parent_id: Id.nullable(),
        created_at: IsoTime,
      })
      .strict(),
    artifacts: z.array(ArtifactRow),
  })
  .strict();
const StoredScore = EvaluationRecord.omit({ id: true, createdAt: true, provenance: true });
const RunRow = z
  .object({
    run: z
      .object({
        id: Id,
        experiment_id: Id.nullable(),
        model: z.string().max(64).refine((m) => findObjective(m) !== undefined, 'not a method this lab knows'),
        dataset_id: Id,
        config_json: jsonText(RunConfig),
        status: RunStatus,
        backend: z.string().max(32).nullable(),
        seed: z.number().int(),
        step: z.number().int().nonnegative(),
        total_steps: z.number().int().nonnegative(),
        error: z.string().max(100_000).nullable(),
        created_at: IsoTime,
        started_at: IsoTime.nullable(),
        finished_at: IsoTime.nullable(),
      })
      .strict(),
    scalars: z.array(z.tuple([z.string().max(64), z.number().int(), z.number()])),
    evaluations: z.array(z.object({ metric: z.string().max(64), scores_json: jsonText(StoredScore), provenance_json: jsonText(EvaluationRecord.shape.provenance), created_at: IsoTime }).strict()),
    /** The metric curves (`--eval-every`): one point per (metric, step); absent in bundles made before they existed. */
    metric_series: z
      .array(z.object({ metric: z.string().max(64), step: z.number().int().nonnegative(), scores_json: jsonText(StoredScore), provenance_json: jsonText(EvaluationRecord.shape.provenance), created_at: IsoTime }).strict())
      .refine((ps) => new Set(ps.map((p) => `${p.metric}\u0000${p.step}`)).size === ps.length, 'a (metric, step) point is given twice')
      .optional(),
    tags: z.array(z.string().min(1).max(64)),
    notes: z.array(z.object({ text: z.string().max(10_000), created_at: IsoTime }).strict()),
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
  /** With studyId: include the study's runs (default true; false: the study row alone, e.g. the inputs of a cluster job). */
  studyRuns?: boolean;
  /** Derived datasets to include (with their ancestors) even when no run in the bundle trains on them. */
  datasetIds?: string[];
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

/** What bundles need from the lab. */
export interface BundleDeps {
  db: Db;
  labDir: string;
  runs: RunRepository;
  datasets: DatasetService;
  info(): { version: string };
}

export function exportBundle(lab: BundleDeps, opts: BundleExportOptions, outPath: string): BundleExportResult {
  const db = lab.db;
  let study: z.infer<typeof StudyRow> | null = null;
  let runIds: string[];
  if (opts.studyId) {
    const r = db.prepare('SELECT id, name, description, config_json, created_at FROM experiments WHERE id = ?').get(opts.studyId) as z.infer<typeof StudyRow> | undefined;
    if (!r) throw new LabError('not_found', `no study '${opts.studyId}'`);
    study = r;
    runIds = opts.studyRuns === false ? [] : (db.prepare('SELECT id FROM runs WHERE experiment_id = ? ORDER BY created_at, id').all(opts.studyId) as { id: string }[]).map((x) => x.id);
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
  const addDataset = (start: string, owner: string) => {
    // the dataset and its ancestors
    let cur: string | null = start;
    for (let depth = 0; cur && !findBuiltin(cur) && depth < 17; depth++) {
      const row = db.prepare('SELECT id, name, source, info_json, spec_json, stats_json, parent_id, created_at FROM datasets WHERE id = ?').get(cur) as
        | z.infer<typeof DatasetRow>['row']
        | undefined;
      if (!row) throw new LabError('conflict', `${owner} trains on '${cur}', which this lab does not have`);
      if (row.source === 'imported') {
        requires.add(row.id);
        break;
      }
      datasetIds.add(row.id);
      cur = row.parent_id;
    }
  };
  for (const id of opts.datasetIds ?? []) addDataset(id, `dataset ${id}`);
  for (const id of runIds) {
    const run = db.prepare(`SELECT ${RUN_COLUMNS.join(', ')} FROM runs WHERE id = ?`).get(id) as z.infer<typeof RunRow>['run'];
    const scalars = (db.prepare('SELECT key, step, value FROM scalars WHERE run_id = ? ORDER BY key, step').all(id) as { key: string; step: number; value: number }[]).map(
      (s) => [s.key, s.step, s.value] as [string, number, number],
    );
    const evaluations = db.prepare('SELECT metric, scores_json, provenance_json, created_at FROM evaluations WHERE run_id = ? ORDER BY id').all(id) as z.infer<typeof RunRow>['evaluations'];
    const metric_series = db.prepare('SELECT metric, step, scores_json, provenance_json, created_at FROM metric_series WHERE run_id = ? ORDER BY metric, step').all(id) as NonNullable<z.infer<typeof RunRow>['metric_series']>;
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
    addFile(`rows/runs/${id}.json`, Buffer.from(JSON.stringify({ run, scalars, evaluations, metric_series, tags, notes, artifacts })));
    runs.push(id);
    addDataset(run.dataset_id, `run ${id}`);
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
  /**
   * Largest uncompressed/compressed ratio of an entry over 1 MiB. Deflate
   * reaches ≈ 1030× at best (runs of one byte); what a bundle really holds
   * (float32 checkpoints and codes ≈ 1.1×, JSON rows ≲ 20×) stays far below
   * 100, so anything above it is a bomb, not data.
   */
  maxRatio: number;
  maxManifestBytes: number;
  /** Largest rows/… JSON entry (they are read into memory to be validated). */
  maxRowBytes: number;
}

/** Total bytes a bundle may unpack to by default; `DLAB_BUNDLE_MAX_BYTES` or the limits argument raise it. */
export const DEFAULT_MAX_TOTAL_BYTES = 4 * 2 ** 30;

export function defaultLimits(env: NodeJS.ProcessEnv = process.env): BundleLimits {
  const fromEnv = Number(env.DLAB_BUNDLE_MAX_BYTES);
  const total = Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_MAX_TOTAL_BYTES;
  return {
    maxArchiveBytes: total,
    maxEntries: 200_000,
    maxEntryBytes: Math.min(total, 2 * 2 ** 30),
    maxTotalBytes: total,
    maxRatio: 100,
    maxManifestBytes: 64 << 20,
    maxRowBytes: 256 << 20,
  };
}

export const DEFAULT_LIMITS: BundleLimits = defaultLimits({});

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
const issuesText = (e: z.ZodError) => e.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ').slice(0, 400);

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
  try {
    for await (const c of zip.stream(e)) chunks.push(c);
  } catch (err) {
    throw err instanceof LabError ? err : refuse((err as Error).message);
  }
  return Buffer.concat(chunks);
}

function inside(rel: string, prefix: string): boolean {
  return checkEntryName(`files/${rel}`) === null && rel.startsWith(prefix);
}

/** What a bundle's rows hold, validated with the schemas the lab reads them with. */
interface ParsedRows {
  study: z.infer<typeof StudyRow> | null;
  datasets: z.infer<typeof DatasetRow>[];
  runs: z.infer<typeof RunRow>[];
}

async function readRows(zip: ZipReader, manifest: Manifest, declared: Map<string, z.infer<typeof FileEntry>>, L: BundleLimits, labDir: string): Promise<ParsedRows> {
  const readJson = async <T>(rel: string, schema: z.ZodType<T>): Promise<T> => {
    const f = declared.get(rel);
    if (!f) throw refuse(`${rel} is missing`);
    const buf = await readEntry(zip, rel, L.maxRowBytes);
    if (sha256(buf) !== f.sha256) throw refuse(`checksum mismatch for '${rel}'`);
    let json: unknown;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch (e) {
      throw refuse(`${rel} is not JSON: ${(e as Error).message.slice(0, 200)}`);
    }
    const r = schema.safeParse(json);
    if (!r.success) throw refuse(`${rel}: ${issuesText(r.error)}`);
    return r.data;
  };
  const study = manifest.study ? await readJson(`rows/study.json`, StudyRow) : null;
  if (study && study.id !== manifest.study) throw refuse('rows/study.json is not the manifest’s study');
  const artifactChecks = (owner: string, prefix: string, artifacts: z.infer<typeof ArtifactRow>[]) => {
    for (const a of artifacts) {
      if (!inside(a.path, prefix)) throw refuse(`${owner}: artifact '${a.path}' is outside its folder`);
      const f = declared.get(`files/${a.path}`);
      if (!f) throw refuse(`${owner}: artifact '${a.path}' is missing`);
      if (f.size !== a.size || f.sha256 !== a.sha256) throw refuse(`${owner}: artifact '${a.path}' is declared as ${f.size} bytes, its row says ${a.size} (or the checksums differ)`);
    }
  };
  const datasets: ParsedRows['datasets'] = [];
  for (const id of manifest.datasets) {
    const d = await readJson(`rows/datasets/${id}.json`, DatasetRow);
    if (d.row.id !== id || d.row.source !== 'derived') throw refuse(`rows/datasets/${id}.json is not the derived dataset ${id}`);
    if ((JSON.parse(d.row.info_json) as DatasetInfo).id !== id) throw refuse(`dataset ${id}: its info names another id`);
    artifactChecks(`dataset ${id}`, path.relative(labDir, datasetDir(labDir, id)).split(path.sep).join('/') + '/', d.artifacts);
    datasets.push(d);
  }
  const runs: ParsedRows['runs'] = [];
  for (const id of manifest.runs) {
    const r = await readJson(`rows/runs/${id}.json`, RunRow);
    if (r.run.id !== id) throw refuse(`rows/runs/${id}.json is not run ${id}`);
    const cfg = RunConfig.parse(JSON.parse(r.run.config_json));
    if (cfg.datasetId !== r.run.dataset_id || cfg.model !== r.run.model) throw refuse(`run ${id}: its row and its config disagree on the model or dataset`);
    artifactChecks(`run ${id}`, `runs/${id}/`, r.artifacts);
    runs.push(r);
  }
  const used = new Set<string>([...(study ? ['rows/study.json'] : []), ...datasets.map((d) => `rows/datasets/${d.row.id}.json`), ...runs.map((r) => `rows/runs/${r.run.id}.json`)]);
  for (const d of datasets) for (const a of d.artifacts) used.add(`files/${a.path}`);
  for (const r of runs) for (const a of r.artifacts) used.add(`files/${a.path}`);
  for (const f of manifest.files) if (!used.has(f.path)) throw refuse(`'${f.path}' belongs to no row`);
  return { study, datasets, runs };
}

/** Every entry's name, size and kind against the limits; nothing is inflated yet. */
function checkStructure(zip: ZipReader, file: string, L: BundleLimits): Set<string> {
  if (zip.entries.length > L.maxEntries) throw refuse(`${zip.entries.length} entries, over the limit of ${L.maxEntries}`);
  const names = new Set<string>();
  let total = 0;
  for (const e of zip.entries) {
    const bad = checkEntryName(e.name);
    if (bad) throw refuse(`entry '${e.name.slice(0, 200)}': ${bad}`);
    if (names.has(e.name)) throw refuse(`duplicate entry '${e.name}'`);
    names.add(e.name);
    if (e.uncompressedSize > L.maxEntryBytes) throw refuse(`entry '${e.name}' is ${e.uncompressedSize} bytes, over the limit of ${L.maxEntryBytes}`);
    if (e.uncompressedSize > 1 << 20 && e.uncompressedSize > L.maxRatio * Math.max(1, e.compressedSize)) {
      throw refuse(`entry '${e.name}' expands ${Math.round(e.uncompressedSize / Math.max(1, e.compressedSize))}×, over the limit of ${L.maxRatio}× (a zip bomb?)`);
    }
    total += e.uncompressedSize;
  }
  if (total > L.maxTotalBytes) throw refuse(`contents are ${total} bytes, over the limit of ${L.maxTotalBytes} (DLAB_BUNDLE_MAX_BYTES raises it)`);
  for (const a of centralAttributes(file)) {
    if (a.unixMode !== null && (a.unixMode & 0o170000) !== 0 && (a.unixMode & 0o170000) !== 0o100000) {
      throw refuse(`entry '${a.name}' is ${(a.unixMode & 0o170000) === 0o120000 ? 'a symlink' : 'not a regular file'}`);
    }
    if (a.host === 0 && (a.externalAttributes & 0x10) !== 0) throw refuse(`entry '${a.name}' is a directory`);
  }
  return names;
}

/** The manifest, and every declared file against the archive (names, sizes), before anything is written. */
async function checkManifest(zip: ZipReader, names: Set<string>, L: BundleLimits): Promise<{ manifest: Manifest; declared: Map<string, z.infer<typeof FileEntry>> }> {
  if (!names.has('manifest.json')) throw refuse('no manifest.json');
  let json: unknown;
  try {
    json = JSON.parse((await readEntry(zip, 'manifest.json', L.maxManifestBytes)).toString('utf8'));
  } catch (e) {
    throw e instanceof LabError ? e : refuse(`manifest.json does not parse: ${(e as Error).message.slice(0, 300)}`);
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) throw refuse(`manifest.json does not parse: ${issuesText(parsed.error)}`);
  const manifest = parsed.data;
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
  for (const [what, ids] of [['run', manifest.runs], ['dataset', manifest.datasets]] as const) if (new Set(ids).size !== ids.length) throw refuse(`manifest lists a ${what} twice`);
  return { manifest, declared };
}

export async function importBundle(lab: BundleDeps, file: string, limits: Partial<BundleLimits> = {}): Promise<BundleImportResult> {
  const L = { ...defaultLimits(), ...limits };
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
    // ---- everything is checked before a byte is written: structure, manifest, rows, conflicts, targets
    const names = checkStructure(zip, file, L);
    const { manifest, declared } = await checkManifest(zip, names, L);
    const { study, datasets, runs } = await readRows(zip, manifest, declared, L, lab.labDir);
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
      if (findBuiltin(d.row.id)) throw new LabError('conflict', `dataset '${d.row.id}' is built into the lab`);
      const row = lab.datasets.storedRow(d.row.id);
      if (!row) return true;
      if (canonicalJson(row.spec) !== canonicalJson(JSON.parse(d.row.spec_json))) throw new LabError('conflict', `a different dataset '${d.row.id}' exists here`);
      return false;
    });
    const newRuns = runs.filter((r) => {
      const ex = db.prepare('SELECT config_json FROM runs WHERE id = ?').get(r.run.id) as { config_json: string } | undefined;
      if (!ex) return true;
      let same = false;
      try {
        same = canonicalJson(JSON.parse(ex.config_json)) === canonicalJson(JSON.parse(r.run.config_json));
      } catch {
        /* a stored row that does not parse is not the same run */
      }
      if (!same) throw new LabError('conflict', `a different run '${r.run.id}' exists here`);
      return false;
    });
    // Where the new rows' files go: each target must not exist yet — the import replaces nothing it did not create.
    const targets: { from: string; to: string }[] = [];
    const claim = (fromRel: string, to: string, what: string) => {
      if (fs.existsSync(to)) throw new LabError('conflict', `${what}'s folder ${path.relative(lab.labDir, to)} already exists in this lab without a row; the import does not replace it (move it away and import again)`);
      targets.push({ from: path.join(staging, 'files', ...fromRel.split('/')), to });
    };
    for (const d of newDatasets) claim(path.relative(lab.labDir, datasetDir(lab.labDir, d.row.id)).split(path.sep).join('/'), datasetDir(lab.labDir, d.row.id), `dataset ${d.row.id}`);
    for (const r of newRuns) claim(`runs/${r.run.id}`, idPath(path.join(lab.labDir, 'runs'), r.run.id, 'run id'), `run ${r.run.id}`);
    // ---- stage and verify the files of the new rows
    fs.mkdirSync(staging, { recursive: true });
    const wanted = new Set<string>();
    for (const d of newDatasets) for (const a of d.artifacts) wanted.add(`files/${a.path}`);
    for (const r of newRuns) for (const a of r.artifacts) wanted.add(`files/${a.path}`);
    for (const f of manifest.files) {
      if (f.path.startsWith('rows/')) continue; // read and checked above
      // the files of rows already here are checked, not written: a corrupt bundle is refused whole
      const dest = wanted.has(f.path) ? path.join(staging, ...f.path.split('/')) : null;
      if (dest && !isInside(staging, dest)) throw refuse(`'${f.path}' escapes the staging folder`);
      if (dest) fs.mkdirSync(path.dirname(dest), { recursive: true });
      const hash = crypto.createHash('sha256');
      const fd = dest ? fs.openSync(dest, 'wx') : null;
      let written = 0;
      try {
        for await (const c of zip.stream(zip.get(f.path)!)) {
          written += c.length;
          if (written > f.size) throw refuse(`'${f.path}' is larger than declared`);
          hash.update(c);
          if (fd !== null) fs.writeSync(fd, c);
        }
      } catch (e) {
        throw e instanceof LabError ? e : refuse((e as Error).message);
      } finally {
        if (fd !== null) fs.closeSync(fd);
      }
      if (hash.digest('hex') !== f.sha256) throw refuse(`checksum mismatch for '${f.path}'`);
    }
    for (const t of targets) if (!fs.existsSync(t.from)) fs.mkdirSync(t.from, { recursive: true });
    // ---- commit: rows in one transaction; the staged folders renamed into place last, inside it (and back on failure)
    const moved: { from: string; to: string }[] = [];
    const tx = db.transaction(() => {
      if (study && !existingStudy) db.prepare('INSERT INTO experiments (id, name, description, config_json, created_at) VALUES (?, ?, ?, ?, ?)').run(study.id, study.name, study.description, study.config_json, study.created_at);
      const art = db.prepare('INSERT INTO artifacts (owner_kind, owner_id, kind, path, size, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
      const insDataset = db.prepare('INSERT INTO datasets (id, name, source, info_json, spec_json, stats_json, parent_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      for (const { row: r, artifacts } of newDatasets) {
        insDataset.run(r.id, r.name, r.source, r.info_json, r.spec_json, r.stats_json, r.parent_id, r.created_at);
        for (const a of artifacts) art.run('dataset', r.id, a.kind, a.path, a.size, a.sha256, a.created_at);
      }
      const insRun = db.prepare(`INSERT INTO runs (${RUN_COLUMNS.join(', ')}) VALUES (${RUN_COLUMNS.map((c) => `@${c}`).join(', ')})`);
      const insScalar = db.prepare('INSERT INTO scalars (run_id, key, step, value) VALUES (?, ?, ?, ?)');
      const insEval = db.prepare('INSERT INTO evaluations (run_id, metric, scores_json, provenance_json, created_at) VALUES (?, ?, ?, ?, ?)');
      const insPoint = db.prepare('INSERT INTO metric_series (run_id, metric, step, scores_json, provenance_json, created_at) VALUES (?, ?, ?, ?, ?, ?)');
      const insTag = db.prepare('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)');
      const insNote = db.prepare('INSERT INTO notes (run_id, text, created_at) VALUES (?, ?, ?)');
      for (const r of newRuns) {
        const status = r.run.status === 'queued' || r.run.status === 'running' ? 'interrupted' : r.run.status;
        insRun.run({ ...r.run, status });
        for (const [k, s, v] of r.scalars) insScalar.run(r.run.id, k, s, v);
        for (const e of r.evaluations) insEval.run(r.run.id, e.metric, e.scores_json, e.provenance_json, e.created_at);
        for (const p of r.metric_series ?? []) insPoint.run(r.run.id, p.metric, p.step, p.scores_json, p.provenance_json, p.created_at);
        for (const t of r.tags) insTag.run(r.run.id, t);
        for (const n of r.notes) insNote.run(r.run.id, n.text, n.created_at);
        for (const a of r.artifacts) art.run('run', r.run.id, a.kind, a.path, a.size, a.sha256, a.created_at);
      }
      for (const t of targets) {
        fs.mkdirSync(path.dirname(t.to), { recursive: true });
        if (fs.existsSync(t.to)) throw new LabError('conflict', `${path.relative(lab.labDir, t.to)} appeared during the import; nothing was replaced`);
        fs.renameSync(t.from, t.to);
        moved.push(t);
      }
    });
    try {
      tx();
    } catch (e) {
      for (const t of moved.reverse()) {
        try {
          fs.renameSync(t.to, t.from);
        } catch {
          /* best effort: the staging folder is removed below */
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
