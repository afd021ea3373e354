/**
 * Importing official dataset files into the lab, and deleting stored
 * datasets: the `datasets/import`, `datasets/delete` and (default)
 * `dialog/openFile` handlers.
 *
 * An import is a job (see jobs.ts). It reads the user's file (a path on the
 * Lab's machine, or a browser-mode upload), validates and caches it with the
 * importers into `<labDir>/tmp/import-<random>`, and then, in ONE SQLite
 * transaction, inserts the `datasets` row and its `artifacts` rows and renames
 * the folder to `datasetDir(labDir, id)` (a failed rename rolls the rows
 * back; a failed commit moves the folder back). A bad file, a cancel or a
 * duplicate leaves the lab as it was: no row, no folder (the temporary folder
 * is removed). The job's result is `{ datasetId }`.
 *
 * Duplicates: a file whose SHA-256 is already imported is refused with a job
 * error naming the existing dataset ("… is already imported as …"); nothing is
 * written. The check runs before the import when a stored import has the same
 * file size (hashing the file up front), and again at commit time inside the
 * transaction (concurrent imports of one file).
 *
 * TEST-ONLY: the environment variable DLAB_TEST_IMPORT_FACTOR_SIZES, a JSON
 * object such as `{"dsprites":[3,2,2,2,2]}`, makes imports expect these small
 * factor grids instead of the official ones, so tests can import tiny files
 * built in the test (also through `dlab serve` in end-to-end tests). It is
 * read at each import; never set it in normal use. The constructor option
 * `factorSizes` does the same for in-process tests.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { LabError } from '../../shared/contract.js';
import type { HandlersFor } from '../../shared/dispatch.js';
import type { DatasetInfo } from '../../shared/domain.js';
import type { JobInfo } from '../../shared/jobs.js';
import type { ImportKind, importRequests } from '../../shared/requests/imports.js';
import type { JobContext, Jobs } from '../jobs.js';
import { nowIso, type Db } from '../store/db.js';
import { CACHE_HEADER_FILE } from './cache.js';
import { ImportError, detectKind, importDataset, type ImportResult } from './importers/index.js';
import { sha256File } from './importers/common.js';
import { datasetDir } from './open.js';
import { findBuiltin } from './registry.js';
import type { DatasetService } from './service.js';
import { UploadStore } from './uploads.js';

export const TEST_FACTOR_SIZES_ENV = 'DLAB_TEST_IMPORT_FACTOR_SIZES';
const STALE_TMP_MS = 24 * 60 * 60 * 1000;

export interface ImportServiceOptions {
  db: Db;
  labDir: string;
  datasets: DatasetService;
  jobs: Jobs;
  /** Test-only: expected factor sizes per kind (see the file comment). */
  factorSizes?: Partial<Record<ImportKind, number[]>>;
  /** How long an upload waits to be imported (default one hour). */
  uploadTtlMs?: number;
}

export interface ImportRequest {
  path?: string;
  uploadId?: string;
  kind?: ImportKind;
  name?: string;
}

interface Source {
  file: string;
  /** The name the user knows the file by. */
  name: string;
  bytes: number;
  uploadId?: string;
}

/** The stored spec of an imported dataset. */
export interface ImportSpec {
  kind: ImportKind;
  file: string;
  sha256: string;
  bytes: number;
}

function testFactorSizes(kind: ImportKind): number[] | undefined {
  const raw = process.env[TEST_FACTOR_SIZES_ENV];
  if (!raw) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ImportError(`${TEST_FACTOR_SIZES_ENV} is not valid JSON`);
  }
  const v = (parsed as Record<string, unknown>)?.[kind];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x > 0)) {
    throw new ImportError(`${TEST_FACTOR_SIZES_ENV}.${kind} must be a list of positive integers`);
  }
  return v as number[];
}

function duplicateError(file: string, name: string, id: string): LabError {
  return new LabError('conflict', `${file} is already imported as '${name}' (${id}); delete that dataset first to import it again`);
}

export class ImportService {
  readonly uploads: UploadStore;
  private readonly sweeper: NodeJS.Timeout;
  private readonly db: Db;
  private readonly labDir: string;

  constructor(private readonly opts: ImportServiceOptions) {
    this.db = opts.db;
    this.labDir = opts.labDir;
    this.uploads = new UploadStore(path.join(opts.labDir, 'tmp', 'uploads'), opts.uploadTtlMs);
    this.sweep();
    this.sweeper = setInterval(() => this.sweep(), 5 * 60 * 1000);
    this.sweeper.unref();
  }

  /**
   * Remove expired uploads, and temporary import/trash folders a crashed
   * process left behind (only after a day: another process sharing the lab
   * directory may still be importing).
   */
  sweep(now = Date.now()): void {
    this.uploads.sweep(now);
    const tmp = path.join(this.labDir, 'tmp');
    if (!existsSync(tmp)) return;
    for (const entry of readdirSync(tmp)) {
      if (!/^(import|trash)-[0-9a-f]{12}$/.test(entry)) continue;
      const p = path.join(tmp, entry);
      try {
        if (now - statSync(p).mtimeMs > STALE_TMP_MS) rmSync(p, { recursive: true, force: true });
      } catch {
        // gone already
      }
    }
  }

  handlers(): HandlersFor<typeof importRequests> {
    return {
      'datasets/import': (input) => this.start(input),
      'datasets/delete': ({ id }) => this.delete(id),
      // The desktop app answers this with the native dialog (src/main); elsewhere there is none.
      'dialog/openFile': () => ({ path: null, available: false }),
    };
  }

  /** Check the source, then run the import as a job. */
  start(req: ImportRequest): JobInfo {
    if ((req.path === undefined) === (req.uploadId === undefined)) throw new LabError('invalid_payload', 'give either path or uploadId');
    const source = this.source(req);
    const release = req.uploadId ? this.uploads.hold(req.uploadId) : () => undefined;
    try {
      return this.opts.jobs.start('dataset-import', `Import ${source.name}`, (ctx) => this.run(source, req, ctx).finally(release));
    } catch (e) {
      release();
      throw e;
    }
  }

  private source(req: ImportRequest): Source {
    if (req.uploadId !== undefined) {
      const u = this.uploads.get(req.uploadId);
      return { file: u.file, name: u.name, bytes: u.bytes, uploadId: u.id };
    }
    const file = req.path!;
    if (!path.isAbsolute(file)) throw new LabError('invalid_payload', `path must be absolute, got '${file.slice(0, 200)}'`);
    let st;
    try {
      st = statSync(file);
    } catch {
      throw new LabError('not_found', `cannot import ${file}: file not found`);
    }
    if (!st.isFile()) throw new LabError('invalid_payload', `cannot import ${file}: not a regular file`);
    return { file, name: path.basename(file), bytes: st.size };
  }

  /** The import itself (the job body): cache into a temporary folder, then commit. */
  private async run(source: Source, req: ImportRequest, ctx: JobContext): Promise<{ datasetId: string }> {
    const tmp = path.join(this.labDir, 'tmp', `import-${randomBytes(6).toString('hex')}`);
    try {
      ctx.progress(0, `checking ${source.name}`);
      await this.refuseKnownFile(source, ctx.signal);
      // The kind decides the (test-only) factor sizes and goes into the spec; a file that is
      // not recognised at all gets the importer's own error below.
      let kind: ImportKind | undefined = req.kind;
      if (!kind) {
        try {
          kind = detectKind(source.file);
        } catch {
          kind = undefined;
        }
      }
      const factorSizes = kind ? (this.opts.factorSizes?.[kind] ?? testFactorSizes(kind)) : undefined;
      const result = await importDataset(source.file, {
        kind,
        targetDir: tmp,
        signal: ctx.signal,
        ...(factorSizes ? { factorSizes } : {}),
        onProgress: (f) => ctx.progress(0.97 * f, f < 0.2 ? `hashing ${source.name}` : 'copying images'),
      });
      ctx.progress(0.98, 'storing');
      const info: DatasetInfo = { ...result.info, ...(req.name ? { name: req.name } : {}) };
      if (req.name) await this.renameInHeader(result, info.name);
      ctx.signal.throwIfAborted();
      // From here on everything is synchronous: a cancel cannot slip in between the commit and the job's end.
      const spec: ImportSpec = { kind: kind!, file: source.name, sha256: result.info.sha256!, bytes: source.bytes };
      this.commit(tmp, info, spec, result);
      this.opts.datasets.evict(info.id);
      return { datasetId: info.id };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      if (source.uploadId) this.uploads.remove(source.uploadId);
    }
  }

  /**
   * Fail fast on a file that is already imported: only when a stored import
   * has exactly this file size is the file hashed up front (the importer
   * hashes it anyway; the commit re-checks in its transaction).
   */
  private async refuseKnownFile(source: Source, signal: AbortSignal): Promise<void> {
    const same = this.opts.datasets.storedRows().filter((r) => r.source === 'imported' && r.spec.bytes === source.bytes);
    if (same.length === 0) return;
    const sha = await sha256File(source.file, { signal });
    const dup = same.find((r) => r.info.sha256 === sha);
    if (dup) throw duplicateError(source.name, dup.info.name, dup.id);
  }

  /** Put the chosen display name into the cache header too (what the opened dataset reports). */
  private async renameInHeader(result: ImportResult, name: string): Promise<void> {
    const headerFile = result.files.find((f) => path.basename(f.path) === CACHE_HEADER_FILE);
    if (!headerFile) return;
    const header = JSON.parse(readFileSync(headerFile.path, 'utf8')) as { info: DatasetInfo };
    header.info.name = name;
    const text = JSON.stringify(header, null, 2);
    writeFileSync(headerFile.path + '.tmp', text);
    renameSync(headerFile.path + '.tmp', headerFile.path);
    headerFile.bytes = Buffer.byteLength(text);
    headerFile.sha256 = await sha256File(headerFile.path);
  }

  /** Rows and folder in one step: either both are there afterwards, or neither. */
  private commit(tmp: string, info: DatasetInfo, spec: ImportSpec, result: ImportResult): void {
    const id = info.id;
    const final = datasetDir(this.labDir, id);
    const rel = (p: string) => path.relative(this.labDir, p).split(path.sep).join('/');
    const now = nowIso();
    let renamed = false;
    const tx = this.db.transaction(() => {
      const dup = this.opts.datasets.storedRows().find((r) => r.source === 'imported' && (r.info.sha256 === spec.sha256 || r.id === id));
      if (dup) {
        throw duplicateError(spec.file, dup.info.name, dup.id);
      }
      if (this.db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(id)) throw new LabError('conflict', `a dataset '${id}' already exists`);
      this.db
        .prepare(
          `INSERT INTO datasets (id, name, source, info_json, spec_json, stats_json, parent_id, created_at)
           VALUES (?, ?, 'imported', ?, ?, ?, NULL, ?)`,
        )
        .run(id, info.name, JSON.stringify(info), JSON.stringify(spec), JSON.stringify({ cacheBytes: result.header.dataBytes }), now);
      const insert = this.db.prepare(
        "INSERT INTO artifacts (owner_kind, owner_id, kind, path, size, sha256, created_at) VALUES ('dataset', ?, ?, ?, ?, ?, ?)",
      );
      for (const f of result.files) {
        const name = path.basename(f.path);
        insert.run(id, name === CACHE_HEADER_FILE ? 'cache-header' : 'cache-data', rel(path.join(final, name)), f.bytes, f.sha256, now);
      }
      // A folder without a row can only be left by a crash between rename and commit: replace it.
      if (existsSync(final)) rmSync(final, { recursive: true, force: true });
      renameSync(tmp, final);
      renamed = true;
    });
    try {
      tx();
    } catch (e) {
      if (renamed && !this.db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(id)) renameSync(final, tmp);
      throw e;
    }
  }

  /** Delete an imported or derived dataset: rows and folder together; refused while something uses it. */
  delete(id: string): { id: string } {
    if (findBuiltin(id)) throw new LabError('conflict', `'${id}' is built in and cannot be deleted`);
    const row = this.opts.datasets.storedRow(id);
    if (!row) throw new LabError('not_found', `no dataset '${id}'`);
    const runs = (this.db.prepare('SELECT COUNT(*) AS n FROM runs WHERE dataset_id = ?').get(id) as { n: number }).n;
    const children = (this.db.prepare('SELECT id FROM datasets WHERE parent_id = ? ORDER BY id').all(id) as { id: string }[]).map((r) => r.id);
    if (runs > 0 || children.length > 0) {
      const uses = [
        runs > 0 ? `${runs} run${runs === 1 ? '' : 's'}` : '',
        children.length > 0 ? `${children.length} derived dataset${children.length === 1 ? '' : 's'} (${children.slice(0, 5).join(', ')}${children.length > 5 ? ', …' : ''})` : '',
      ].filter(Boolean);
      throw new LabError('conflict', `cannot delete '${row.info.name}' (${id}): used by ${uses.join(' and ')}; delete those first`);
    }
    const dir = datasetDir(this.labDir, id);
    const trash = path.join(this.labDir, 'tmp', `trash-${randomBytes(6).toString('hex')}`);
    let moved = false;
    const tx = this.db.transaction(() => {
      this.db.prepare("DELETE FROM artifacts WHERE owner_kind = 'dataset' AND owner_id = ?").run(id);
      this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
      if (existsSync(dir)) {
        renameSync(dir, trash);
        moved = true;
      }
    });
    try {
      tx();
    } catch (e) {
      if (moved && this.db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(id)) renameSync(trash, dir);
      throw e;
    }
    this.opts.datasets.evict(id);
    if (moved) void rm(trash, { recursive: true, force: true }).catch(() => undefined);
    return { id };
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
