/**
 * The lab's pool of worker threads for heavy request work (chart
 * rasterising, perturbation previews and statistics): see
 * src/core/util/thread-job.ts for the pool and src/core/thread-tasks.ts for
 * what runs there. One pool per process, shared by every Lab in it; idle
 * threads end by themselves and never keep the process alive.
 *
 * The script: the built bundle's thread-worker.js (next to the main entry or
 * one level up from a shared chunk, as for the training worker), else the
 * TypeScript source through tsx. Node 20 does not apply `--import tsx` from a
 * worker's execArgv to the worker's own entry module, so in that case the
 * thread starts from a two-line data: URL bootstrap that registers tsx and
 * then imports thread-worker.ts.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ThreadTasks } from './thread-tasks.js';
import { ThreadPool, type RunOptions, type ThreadEntry } from './util/thread-job.js';

export function defaultThreadEntry(): ThreadEntry {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const built of [path.join(here, 'thread-worker.js'), path.join(here, '..', 'thread-worker.js')]) {
    if (fs.existsSync(built)) return { url: pathToFileURL(built) };
  }
  const source = path.join(here, 'thread-worker.ts');
  if (!fs.existsSync(source)) throw new Error(`thread worker not found next to ${here}`);
  return typeScriptThreadEntry(source);
}

/** A thread that runs a TypeScript file: a data: URL bootstrap that registers tsx, then imports it. */
export function typeScriptThreadEntry(file: string): ThreadEntry {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
  const boot = `import { register } from ${JSON.stringify(tsx)};\nregister();\nawait import(${JSON.stringify(pathToFileURL(file).href)});\n`;
  return { url: new URL(`data:text/javascript,${encodeURIComponent(boot)}`) };
}

let pool: ThreadPool<ThreadTasks> | undefined;

/** The process's pool (two threads: an export and a preview side by side; more wait). */
export function threads(): ThreadPool<ThreadTasks> {
  return (pool ??= new ThreadPool<ThreadTasks>({ entry: defaultThreadEntry, maxThreads: 2, maxQueued: 16, idleMs: 30_000, timeoutMs: 120_000 }));
}

/** Run one heavy task off the serving loop. */
export function runInThread<K extends keyof ThreadTasks & string>(kind: K, args: Parameters<ThreadTasks[K]>[0], opts?: RunOptions): Promise<Awaited<ReturnType<ThreadTasks[K]>>> {
  return threads().run(kind, args, opts);
}

/** End the pool's threads (tests; a process exits without it). */
export async function closeThreads(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.close();
}
