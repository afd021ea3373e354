/**
 * Files sent to the lab in browser mode (`POST /upload?name=…`), waiting to
 * be imported.
 *
 * Each upload is streamed to `<labDir>/tmp/uploads/<id>.part/<name>` and the
 * folder renamed to `<id>` only when the body arrived whole and within the
 * size limit; anything else removes it. The file keeps the user's (sanitised)
 * name so import errors and provenance name the file the user chose. Uploads
 * are removed once imported (successfully or not) and by `sweep()` an hour
 * after they arrived (the ImportService sweeps on start and every few
 * minutes); an upload held by a running import is never swept.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LabError } from '../../shared/contract.js';

/** Largest accepted upload (browser mode): 16 GiB, above MPI3D real (≈12 GB). */
export const DEFAULT_MAX_UPLOAD_BYTES = 16 * 2 ** 30;
export const UPLOAD_TTL_MS = 60 * 60 * 1000;

export class UploadError extends Error {
  constructor(
    /** The HTTP status the route answers with. */
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

export interface Upload {
  id: string;
  /** The stored file (absolute). */
  file: string;
  /** Its sanitised name. */
  name: string;
  bytes: number;
}

/** A file name safe to use inside the upload folder (no separators, no leading dots). */
export function safeUploadName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  let s = base.replace(/[^A-Za-z0-9._ ()+-]/g, '_').replace(/^[.\s]+/, '').trim();
  if (s.length > 120) {
    const dot = s.lastIndexOf('.');
    const ext = dot > 0 && s.length - dot <= 10 ? s.slice(dot) : '';
    s = s.slice(0, 120 - ext.length) + ext;
  }
  return s || 'upload.bin';
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${+(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${+(n / 2 ** 20).toFixed(2)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(2)} KiB`;
  return `${n} bytes`;
}

const ID_RE = /^up-[0-9a-f]{32}$/;

export class UploadStore {
  private readonly receiving = new Set<string>();
  private readonly held = new Map<string, number>();

  constructor(
    readonly dir: string,
    private readonly ttlMs = UPLOAD_TTL_MS,
  ) {}

  /**
   * Stream a request body to a new upload. Throws UploadError(413) past
   * `maxBytes` (or when `declaredBytes` already is), UploadError(400) when the
   * body ends before `declaredBytes`; the partial file is removed either way.
   */
  async receive(body: AsyncIterable<Uint8Array>, name: string, opts: { maxBytes: number; declaredBytes?: number }): Promise<Upload> {
    const { maxBytes, declaredBytes } = opts;
    if (declaredBytes !== undefined && declaredBytes > maxBytes) {
      throw new UploadError(413, `upload of ${formatBytes(declaredBytes)} is over the limit of ${formatBytes(maxBytes)}`);
    }
    mkdirSync(this.dir, { recursive: true });
    const id = `up-${randomBytes(16).toString('hex')}`;
    const safe = safeUploadName(name);
    const part = join(this.dir, `${id}.part`);
    mkdirSync(part);
    this.receiving.add(id);
    let bytes = 0;
    try {
      await pipeline(
        body,
        async function* (src: AsyncIterable<Uint8Array>) {
          for await (const chunk of src) {
            bytes += chunk.length;
            if (bytes > maxBytes) throw new UploadError(413, `upload is over the limit of ${formatBytes(maxBytes)}`);
            yield chunk;
          }
        },
        createWriteStream(join(part, safe), { flags: 'wx' }),
      );
      if (declaredBytes !== undefined && bytes !== declaredBytes) {
        throw new UploadError(400, `upload ended after ${bytes} of ${declaredBytes} bytes`);
      }
      const final = join(this.dir, id);
      await rename(part, final);
      const now = new Date();
      utimesSync(final, now, now);
      return { id, file: join(final, safe), name: safe, bytes };
    } catch (e) {
      await rm(part, { recursive: true, force: true });
      if (e instanceof UploadError) throw e;
      throw new UploadError(400, `upload failed: ${(e as Error).message}`);
    } finally {
      this.receiving.delete(id);
    }
  }

  /** The stored file of an upload; LabError('not_found') when unknown or expired. */
  get(id: string): Upload {
    const folder = ID_RE.test(id) ? join(this.dir, id) : '';
    const files = folder && existsSync(folder) ? readdirSync(folder) : [];
    const name = files[0];
    if (files.length !== 1 || name === undefined) {
      throw new LabError('not_found', `no upload '${id.slice(0, 64)}' (uploads are kept for an hour; send the file again)`);
    }
    const file = join(folder, name);
    return { id, file, name, bytes: statSync(file).size };
  }

  /** Keep an upload from being swept while it is imported; returns the release function. */
  hold(id: string): () => void {
    this.held.set(id, (this.held.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.held.get(id) ?? 1) - 1;
      if (n <= 0) this.held.delete(id);
      else this.held.set(id, n);
    };
  }

  remove(id: string): void {
    if (!ID_RE.test(id)) return;
    rmSync(join(this.dir, id), { recursive: true, force: true });
  }

  /** Remove uploads (and leftover partial ones) older than the time limit; returns how many. */
  sweep(now = Date.now()): number {
    if (!existsSync(this.dir)) return 0;
    let removed = 0;
    for (const entry of readdirSync(this.dir)) {
      const id = entry.replace(/\.part$/, '');
      if (this.receiving.has(id) || this.held.has(id)) continue;
      const p = join(this.dir, entry);
      try {
        if (now - statSync(p).mtimeMs < this.ttlMs) continue;
        rmSync(p, { recursive: true, force: true });
        removed++;
      } catch {
        // raced with a remove: nothing to do
      }
    }
    return removed;
  }
}
