/**
 * Heavy, synchronous work (rasterising a chart, rendering and measuring
 * thousands of images) off the serving loop: a tiny pool of
 * node:worker_threads that run named tasks of a task table.
 *
 * - At most `maxThreads` threads (default 2), started on demand and ended
 *   after `idleMs` without work; an idle thread does not keep the process
 *   alive (unref), a busy one does.
 * - One job at a time per thread; the rest wait in a queue of at most
 *   `maxQueued` (beyond: `conflict`, try again later).
 * - A job has a timeout, and may have an AbortSignal: either stops it by
 *   terminating its thread (the only way to stop synchronous work) and
 *   rejects with `cancelled`; the pool starts a fresh thread for the next.
 * - Errors come back as LabError with the code they were thrown with in the
 *   thread (a plain Error becomes `internal`); a thread that dies (out of
 *   memory, a crash) fails its job with `internal`, never the process.
 * - Arguments and results are structured clones; pass `transfer` (and
 *   return typed arrays that own their buffer) to move bytes instead of
 *   copying them.
 *
 * The same file holds the thread side (`serveThreadTasks`), so a worker entry
 * is one call. No Electron, no DOM: plain Node.
 */
import { parentPort, Worker, type TransferListItem } from 'node:worker_threads';
import { ErrorCode, LabError, type LabErrorShape } from '../../shared/contract.js';

/** Task name → function of one (structured-cloneable) argument. */
export type TaskTable = Record<string, (args: never) => unknown>;

/** The script a thread runs: a file URL or path, or a data: URL (a bootstrap); plus Node flags. */
export interface ThreadEntry {
  url: string | URL;
  execArgv?: string[];
}

export interface ThreadPoolOptions {
  /** Where the worker script is (called when a thread starts). */
  entry: () => ThreadEntry;
  maxThreads?: number;
  maxQueued?: number;
  /** End a thread after this long without work (ms). */
  idleMs?: number;
  /** Default job timeout (ms). */
  timeoutMs?: number;
  /** Heap limit of a thread (MB): a runaway job fails with `internal` instead of taking the process down. */
  maxHeapMb?: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Overrides the pool's default timeout (ms). */
  timeoutMs?: number;
  /** Buffers of `args` to move to the thread (they are unusable here afterwards). */
  transfer?: TransferListItem[];
}

interface Job {
  id: number;
  kind: string;
  args: unknown;
  transfer: TransferListItem[];
  timeoutMs: number;
  signal?: AbortSignal;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
  thread?: Thread;
}

interface Thread {
  worker: Worker;
  job: Job | null;
  idle?: NodeJS.Timeout;
  dead: boolean;
}

type FromThread = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: LabErrorShape };

export class ThreadPool<T extends TaskTable> {
  private readonly threads = new Set<Thread>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  readonly maxThreads: number;
  readonly maxQueued: number;
  private readonly idleMs: number;
  private readonly timeoutMs: number;
  private readonly maxHeapMb: number;

  constructor(private readonly opts: ThreadPoolOptions) {
    this.maxThreads = Math.max(1, opts.maxThreads ?? 2);
    this.maxQueued = Math.max(0, opts.maxQueued ?? 16);
    this.idleMs = opts.idleMs ?? 30_000;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.maxHeapMb = opts.maxHeapMb ?? 2048;
  }

  /** Threads running now (busy or idle). */
  get size(): number {
    return this.threads.size;
  }

  /** Run task `kind` on `args` in a thread. */
  run<K extends keyof T & string>(kind: K, args: Parameters<T[K]>[0], opts: RunOptions = {}): Promise<Awaited<ReturnType<T[K]>>> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new LabError('cancelled', 'the lab is closing'));
      if (opts.signal?.aborted) return reject(new LabError('cancelled', `${kind} was cancelled`));
      const idle = [...this.threads].find((t) => !t.job && !t.dead);
      if (!idle && this.threads.size >= this.maxThreads && this.queue.length >= this.maxQueued) {
        return reject(new LabError('conflict', `too many heavy requests at once (${this.maxThreads} running, ${this.queue.length} waiting): try again when one has finished`));
      }
      const job: Job = {
        id: this.nextId++,
        kind,
        args,
        transfer: opts.transfer ?? [],
        timeoutMs: opts.timeoutMs ?? this.timeoutMs,
        signal: opts.signal,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      if (job.signal) {
        job.onAbort = () => this.stop(job, new LabError('cancelled', `${kind} was cancelled`));
        job.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /** End every thread; waiting and running jobs fail with `cancelled`. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, new LabError('cancelled', 'the lab is closing'));
    await Promise.all(
      [...this.threads].map((t) => {
        if (t.job) this.settle(t.job, new LabError('cancelled', 'the lab is closing'));
        return this.kill(t);
      }),
    );
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let thread = [...this.threads].find((t) => !t.job && !t.dead);
      if (!thread) {
        if (this.threads.size >= this.maxThreads) return;
        thread = this.spawn();
      }
      this.start(thread, this.queue.shift()!);
    }
  }

  private spawn(): Thread {
    const entry = this.opts.entry();
    const worker = new Worker(entry.url, {
      execArgv: entry.execArgv ?? [],
      resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb },
    });
    const t: Thread = { worker, job: null, dead: false };
    this.threads.add(t);
    worker.on('message', (m: FromThread) => this.onMessage(t, m));
    worker.on('error', (e: Error) => this.onDeath(t, e.message));
    worker.on('exit', (code) => this.onDeath(t, `exited with code ${code}`));
    return t;
  }

  private start(t: Thread, job: Job): void {
    if (t.idle) clearTimeout(t.idle);
    t.idle = undefined;
    t.job = job;
    job.thread = t;
    t.worker.ref();
    job.timer = setTimeout(() => {
      const secs = job.timeoutMs / 1000;
      this.stop(job, new LabError('cancelled', `${job.kind} took longer than ${secs < 10 ? secs.toFixed(1) : Math.round(secs)} s and was stopped`));
    }, job.timeoutMs);
    job.timer.unref?.();
    try {
      t.worker.postMessage({ id: job.id, kind: job.kind, args: job.args }, job.transfer);
    } catch (e) {
      // e.g. something in args cannot be cloned
      t.job = null;
      this.settle(job, new LabError('internal', `cannot send ${job.kind} to a worker thread: ${(e as Error).message}`));
      this.release(t);
    }
  }

  private onMessage(t: Thread, m: FromThread): void {
    const job = t.job;
    if (!job || m.id !== job.id) return;
    t.job = null;
    if (m.ok) this.settle(job, undefined, m.value);
    else this.settle(job, toLabError(m.error));
    this.release(t);
  }

  /** A thread finished a job: the next one, or idle (unref'd) until it is ended. */
  private release(t: Thread): void {
    if (t.dead) return;
    if (this.queue.length > 0) return this.start(t, this.queue.shift()!);
    t.worker.unref();
    t.idle = setTimeout(() => void this.kill(t), this.idleMs);
    t.idle.unref?.();
  }

  private onDeath(t: Thread, why: string): void {
    if (t.dead) return;
    t.dead = true;
    this.threads.delete(t);
    if (t.idle) clearTimeout(t.idle);
    const job = t.job;
    t.job = null;
    if (job) {
      const oom = /out of memory|ERR_WORKER_OUT_OF_MEMORY/i.test(why);
      this.settle(job, new LabError('internal', `${job.kind} failed: its worker thread ${oom ? 'ran out of memory' : `stopped (${why})`}`));
    }
    if (!this.closed) this.pump();
  }

  /** Stop a job: out of the queue, or its thread terminated. */
  private stop(job: Job, err: LabError): void {
    const q = this.queue.indexOf(job);
    if (q >= 0) {
      this.queue.splice(q, 1);
      return this.settle(job, err);
    }
    const t = job.thread;
    if (!t || t.job !== job) return;
    t.job = null;
    this.settle(job, err);
    void this.kill(t).then(() => {
      if (!this.closed) this.pump();
    });
  }

  private async kill(t: Thread): Promise<void> {
    if (t.idle) clearTimeout(t.idle);
    if (!t.dead) {
      t.dead = true;
      this.threads.delete(t);
      await t.worker.terminate().catch(() => undefined);
    }
  }

  private settle(job: Job, err?: unknown, value?: unknown): void {
    if (job.timer) clearTimeout(job.timer);
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    job.onAbort = undefined;
    if (err !== undefined) job.reject(err);
    else job.resolve(value);
  }
}

function toLabError(shape: LabErrorShape): LabError {
  const code = ErrorCode.safeParse(shape?.code);
  return new LabError(code.success ? code.data : 'internal', String(shape?.message ?? 'worker thread failed'), shape?.issues);
}

// ------------------------------------------------------------ thread side

/** Errors as data: a LabError keeps its code, anything else is `internal`. */
export function errorShape(e: unknown): LabErrorShape {
  if (e instanceof LabError) return e.toJSON();
  const err = e as { code?: unknown; name?: unknown; message?: unknown };
  // a LabError from another copy of the module (bundles) still has name and code
  if (err?.name === 'LabError' && ErrorCode.safeParse(err.code).success) return { code: err.code as ErrorCode, message: String(err.message) };
  return { code: 'internal', message: String(err?.message ?? e) };
}

/** Buffers a result can move instead of copying: typed arrays (top level or one property down) that own their whole buffer. */
export function transferablesOf(value: unknown): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const take = (v: unknown) => {
    if (!ArrayBuffer.isView(v)) return;
    const b = v.buffer;
    // a view into a shared slab (small Buffers come from Node's pool) must be copied, not moved
    if (b instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === b.byteLength) out.add(b);
  };
  take(value);
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) for (const v of Object.values(value)) take(v);
  return [...out];
}

/** The thread side: answer { id, kind, args } messages with the task's result (one job at a time). */
export function serveThreadTasks(tasks: TaskTable): void {
  const port = parentPort;
  if (!port) throw new Error('serveThreadTasks runs inside a worker thread');
  port.on('message', (m: { id: number; kind: string; args: unknown }) => {
    void (async () => {
      try {
        const task = Object.prototype.hasOwnProperty.call(tasks, m.kind) ? tasks[m.kind] : undefined;
        if (!task) throw new LabError('internal', `no thread task '${m.kind}'`);
        const value = await (task as (a: unknown) => unknown)(m.args);
        port.postMessage({ id: m.id, ok: true, value }, transferablesOf(value));
      } catch (e) {
        port.postMessage({ id: m.id, ok: false, error: errorShape(e) });
      }
    })();
  });
}
