/**
 * Threaded-SIMD WebAssembly for TensorFlow.js in Node: XNNPACK's thread pool
 * on N cores inside the training worker.
 *
 * @tensorflow/tfjs-backend-wasm ships the threaded-SIMD build
 * (dist/tfjs-backend-wasm-threaded-simd.wasm, with its Emscripten glue in
 * wasm-out/) but never uses it in Node, for three reasons, all in the
 * package's own code:
 *   1. its flag WASM_HAS_MULTITHREAD_SUPPORT (dist/flags_wasm.js) returns
 *      false whenever IS_NODE (a TODO pointing at tfjs issue #3830);
 *   2. forcing the flag on still cannot work: its `init()`
 *      (dist/backend_wasm.js) hands Emscripten the pthread worker script as a
 *      `blob:` URL (`locateFile` for '*.worker.js' returns
 *      URL.createObjectURL(new Blob([wasmWorkerContents]))) and the main
 *      script as a Blob (`mainScriptUrlOrBlob`). Emscripten's pthreads in
 *      Node are worker_threads: `new Worker(blobUrl)` throws ERR_WORKER_PATH
 *      (a Worker takes a file path or a file:/data: URL), and the worker's
 *      `importScripts` is `fs.readFileSync`, which cannot read a blob: URL;
 *   3. the glue's core count is `require('os').cpus().length`, and the C++
 *      side (backend.cc `init_with_threads_count`) caps the pool at
 *      min(requested, 8, cores / 2): on a machine reporting 2 CPUs even
 *      setThreadsCount(2) yields 1 thread.
 *
 * What this module does instead, without touching node_modules and without
 * the package's `init()`:
 *   - writes the two glue scripts (the package's wasm-out/ threaded-SIMD glue
 *     and its worker glue) as real files into a private folder, so that
 *     Emscripten's documented `locateFile` / `mainScriptUrlOrBlob` options
 *     point at real paths the pthread workers can start from and read;
 *   - evaluates that same glue on this thread with a module scope whose
 *     `require('os')` reports 2 × N CPUs (only this module instance sees it),
 *     so that the C++ cap lets through the N threads asked for;
 *   - re-registers backend 'wasm' (tf.registerBackend) with a factory that
 *     builds the package's exported `BackendWasm` on that module after
 *     `setThreadsCount(N)`, falling back to the package's own factory (the
 *     plain SIMD build) with a reason when threads cannot start.
 * Every kernel registered for 'wasm' (the package's and ./kernels/) runs
 * unchanged: they are keyed by backend name, not by build.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import type * as tfjs from '@tensorflow/tfjs';

type Tf = typeof tfjs;
type WasmPackage = typeof import('@tensorflow/tfjs-backend-wasm');
type BackendFactory = () => tfjs.KernelBackend | Promise<tfjs.KernelBackend>;

/** The most threads tfjs-backend-wasm's build allows (backend.cc max_num_threads; also its PTHREAD_POOL_SIZE). */
export const MAX_WASM_THREADS = 8;

const THREADED_WASM = 'tfjs-backend-wasm-threaded-simd.wasm';
const GLUE = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
const WORKER_GLUE = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';

export interface ThreadedWasmOptions {
  /** XNNPACK threads (the calling thread counts as one). Default: the usable cores, at most 8. Clamped to 1..8. */
  threads?: number;
  /** Folder holding the .wasm binaries. Default: the package's dist/ (pass backend.ts's wasmDistDir() in a packaged app). */
  wasmDir?: string;
  /**
   * Folder to write the glue scripts into (kept; files are named by content
   * hash). Default: a fresh private temporary folder, removed at exit.
   */
  cacheDir?: string;
  /** How long the pthread pool may take to start before falling back. Default 30 s. */
  timeoutMs?: number;
}

export interface ThreadedWasmInfo {
  /** The threaded-SIMD build is in use. */
  threaded: boolean;
  /** Threads in XNNPACK's pool, as the backend reports them (getThreadsCount); 1 means no parallelism. */
  threads: number;
  /** What was asked for (after clamping to 1..8). */
  requested: number;
  /** pthread workers running for the pool (threads − 1 when threaded: the calling thread is one). */
  workers: number;
  /** Why the threaded build is not in use, or why fewer threads than asked. */
  reason?: string;
}

/** The part of Emscripten's pthread runtime (Module.PThread) used here. */
interface PThreadRuntime {
  unusedWorkers: PthreadWorker[];
  runningWorkers: PthreadWorker[];
  terminateAllThreads(): void;
  loadWasmModuleToWorker(worker: PthreadWorker, onFinishedLoading?: (w: PthreadWorker) => void): void;
}
interface PthreadWorker {
  on(event: 'error', listener: (e: unknown) => void): unknown;
  onerror?: (e: unknown) => void;
  terminate(): unknown;
  unref(): void;
}
interface EmscriptenModule {
  PThread?: PThreadRuntime;
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  tfjs?: Record<string, (...args: number[]) => number>;
}
type ModuleFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

interface GlueFiles {
  dir: string;
  main: string;
  worker: string;
}

interface State {
  tf: Tf;
  pkg: WasmPackage | null;
  original: BackendFactory | null;
  requested: number;
  /** the count asked for before clamping */
  asked: number;
  info: ThreadedWasmInfo | null;
  pending: Promise<ThreadedWasmInfo> | null;
}

const require = createRequire(import.meta.url);
let state: State | null = null;
let files: GlueFiles | null = null;

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  return m.split('\n')[0]?.trim() || 'unknown error';
}

/** Threads to use by default: the usable cores, at most 8. */
export function defaultWasmThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return clampThreads(cores);
}

function clampThreads(n: number): number {
  if (!Number.isFinite(n)) return 1;
  return Math.min(MAX_WASM_THREADS, Math.max(1, Math.floor(n)));
}

/**
 * Read a thread setting such as the environment variable DLAB_WASM_THREADS:
 * unset, '' or 'auto' → the default count; '0', 'off', 'false' or 'no' → null
 * (do not use the threaded build); a positive integer → that many (clamped to 8).
 */
export function parseWasmThreads(value: string | undefined): number | null {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return defaultWasmThreads();
  if (v === '0' || v === 'off' || v === 'false' || v === 'no') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`bad wasm thread count '${value}': use a positive integer, 'auto' or 'off'`);
  return clampThreads(n);
}

/** The few WebAssembly APIs used here (this project's lib has no DOM typings for them). */
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: ArrayBufferLike };
  validate(bytes: Uint8Array): boolean;
}

/** Why this runtime cannot run wasm threads at all, or null. */
function runtimeProblem(): string | null {
  const WebAssembly = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!WebAssembly) return 'this runtime has no WebAssembly';
  if (typeof SharedArrayBuffer !== 'function') return 'this runtime has no SharedArrayBuffer';
  try {
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    if (!(mem.buffer instanceof SharedArrayBuffer)) return 'this runtime has no shared WebAssembly memory';
  } catch (e) {
    return `this runtime has no shared WebAssembly memory (${message(e)})`;
  }
  // a module with a shared memory and an atomic load (the test tfjs's own flag uses in browsers)
  const threads = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0, 26, 11]);
  if (!WebAssembly.validate(threads)) return 'this runtime does not validate WebAssembly atomics';
  return null;
}

function writeIfChanged(file: string, text: string): void {
  try {
    if (fs.readFileSync(file, 'utf8') === text) return;
  } catch {
    /* not there yet */
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o644 });
  fs.renameSync(tmp, file); // atomic: a concurrent process sees the old or the new file, never half of one
}

/**
 * The glue scripts as real files: the main glue, which the pthread workers
 * read and evaluate (`importScripts` = fs.readFileSync + eval), and the
 * worker script they start from (CommonJS, hence .cjs).
 */
function glueFiles(cacheDir: string | undefined): GlueFiles {
  if (files && (cacheDir === undefined || files.dir === path.resolve(cacheDir))) return files;
  const main = fs.readFileSync(require.resolve(GLUE), 'utf8');
  // The package keeps the worker script as a string; like the package's own
  // init(), escape its newlines (the only raw one sits inside a string literal).
  const worker = (require(WORKER_GLUE) as { wasmWorkerContents: string }).wasmWorkerContents.replace(/\n/g, '\\n');
  let dir: string;
  if (cacheDir !== undefined) {
    dir = path.resolve(cacheDir);
    fs.mkdirSync(dir, { recursive: true });
  } else {
    // private (0700) and per process: nobody else can swap the scripts a Worker will run
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlab-wasm-threads-'));
    const made = dir;
    process.once('exit', () => fs.rmSync(made, { recursive: true, force: true }));
  }
  const hash = createHash('sha256').update(main).update('\0').update(worker).digest('hex').slice(0, 12);
  const out: GlueFiles = {
    dir,
    main: path.join(dir, `tfjs-backend-wasm-threaded-simd.${hash}.cjs`),
    worker: path.join(dir, `tfjs-backend-wasm-threaded-simd.worker.${hash}.cjs`),
  };
  writeIfChanged(out.main, main);
  writeIfChanged(out.worker, worker);
  files = out;
  return out;
}

/**
 * The glue's module factory, evaluated here as CommonJS from its file (the
 * same code the workers evaluate), with `require('os')` reporting 2 × threads
 * CPUs so that backend.cc's cap (cores / 2) allows `threads`.
 */
function loadFactory(glue: GlueFiles, threads: number): ModuleFactory {
  const source = fs.readFileSync(glue.main, 'utf8');
  const realRequire = createRequire(glue.main);
  const real = os.cpus();
  const cpus = Array.from({ length: 2 * threads }, (_, i) => real[i % Math.max(1, real.length)]);
  const osView = Object.create(os, { cpus: { value: () => cpus } }) as typeof os;
  const scopedRequire = Object.assign((id: string) => (id === 'os' || id === 'node:os' ? osView : realRequire(id)), realRequire);
  const mod = { exports: {} as unknown };
  const fn = vm.compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: glue.main });
  fn(mod.exports, scopedRequire, mod, glue.main, glue.dir);
  if (typeof mod.exports !== 'function') throw new Error('the threaded-SIMD glue did not export its module factory');
  return mod.exports as ModuleFactory;
}

/** Start the threaded-SIMD module with its pool of pthread workers loaded. */
async function startModule(glue: GlueFiles, wasmBinary: Uint8Array, threads: number, timeoutMs: number): Promise<EmscriptenModule> {
  const factory = loadFactory(glue, threads);
  let fail: (e: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the pthread workers did not start within ${timeoutMs} ms`)), timeoutMs);
  });
  // Settled after the race (or never raced): never an unhandled rejection (the glue turns those into throws).
  failed.catch(() => {});
  timedOut.catch(() => {});
  const config = {
    // '*.worker.js' → the real worker file (the package returns a blob: URL here)
    locateFile: (p: string) => (p.endsWith('.worker.js') ? glue.worker : path.join(glue.dir, p)),
    // what each worker imports: a real path (the package passes a Blob)
    mainScriptUrlOrBlob: glue.main,
    wasmBinary,
    onAbort: (what: unknown) => fail(new Error(`the threaded-SIMD module aborted: ${message(what)}`)),
  } as Record<string, unknown> & { PThread?: PThreadRuntime }; // the glue adds PThread to it (it becomes the Module)
  const glueHandlers = new Map<PthreadWorker, PthreadWorker['onerror']>();
  let pt: PThreadRuntime | undefined;
  let load: PThreadRuntime['loadWasmModuleToWorker'] | undefined;
  try {
    const listening = { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
    const ready = factory(config); // creates the pool's workers synchronously
    ready.catch(() => {});
    // The glue's Node prelude adds process listeners that rethrow every uncaught error and rejection
    // from inside its one 50 KB line (Node then prints that line); without them Node does the same, legibly.
    for (const l of process.listeners('uncaughtException')) if (!listening.uncaughtException.includes(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!listening.unhandledRejection.includes(l)) process.removeListener('unhandledRejection', l);
    pt = config.PThread;
    if (!pt) throw new Error('the threaded-SIMD glue has no pthread runtime');
    // While the pool starts, a worker's error rejects the start (the glue's own handler throws, uncaught).
    for (const w of pt.unusedWorkers) w.on('error', (e) => fail(e));
    const origLoad = pt.loadWasmModuleToWorker;
    load = origLoad;
    pt.loadWasmModuleToWorker = function (this: PThreadRuntime, w, done) {
      origLoad.call(this, w, done);
      glueHandlers.set(w, w.onerror);
      w.onerror = () => {}; // the 'error' listener above reports it
    };
    const m = await Promise.race([ready, failed, timedOut]);
    return m;
  } catch (e) {
    pt?.terminateAllThreads();
    throw e;
  } finally {
    clearTimeout(timer);
    if (pt && load) pt.loadWasmModuleToWorker = load;
    for (const [w, h] of glueHandlers) w.onerror = h;
  }
}

function bindTfjs(m: EmscriptenModule): void {
  // the same bridge the package's init() builds
  m.tfjs = {
    init: m.cwrap('init', null, []),
    initWithThreadsCount: m.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: m.cwrap('get_threads_count', 'number', []),
    registerTensor: m.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: m.cwrap('dispose_data', null, ['number']),
    dispose: m.cwrap('dispose', null, []),
  };
}

function packageDistDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

/** The backend factory registered as 'wasm': threaded if it can be, else the package's own. */
function makeFactory(s: State, opts: ThreadedWasmOptions): BackendFactory {
  return async () => {
    const requested = s.requested;
    const pkg = s.pkg ?? (await import('@tensorflow/tfjs-backend-wasm'));
    const threadedOr = async (): Promise<tfjs.KernelBackend | string> => {
      const problem = runtimeProblem();
      if (problem) return problem;
      if (!(await s.tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) return 'this runtime has no WebAssembly SIMD (the threaded build needs it)';
      let wasmBinary: Uint8Array;
      const wasmFile = path.join(opts.wasmDir ?? packageDistDir(), THREADED_WASM);
      try {
        wasmBinary = fs.readFileSync(wasmFile);
      } catch (e) {
        return `cannot read ${wasmFile}: ${message(e)}`;
      }
      let m: EmscriptenModule;
      try {
        // Up to 8 threads need at most 7 pthreads: the pool's 8 workers are loaded before `ready`, so
        // pthreadpool_create (synchronous, in BackendWasm's constructor) never waits on a worker still loading.
        m = await startModule(glueFiles(opts.cacheDir), wasmBinary, requested, opts.timeoutMs ?? 30_000);
      } catch (e) {
        return `threads did not start: ${message(e)}`;
      }
      const pt = m.PThread!;
      try {
        bindTfjs(m);
        pkg.setThreadsCount(requested);
        // BackendWasm's constructor calls init_with_threads_count: XNNPACK's pthreadpool
        // starts requested − 1 pthreads on the pool's loaded workers
        const backend = new pkg.BackendWasm(m as unknown as ConstructorParameters<WasmPackage['BackendWasm']>[0]);
        const threads = pkg.getThreadsCount();
        // The pool's threads live as long as the backend: they must not keep the process alive
        // (Emscripten refs a worker while its thread runs). dispose() still terminates them.
        for (const w of pt.runningWorkers) w.unref();
        // XNNPACK's pool is fixed: the idle workers of Emscripten's pre-started pool are never used
        for (const w of pt.unusedWorkers.splice(0)) void w.terminate();
        s.info = {
          threaded: true,
          threads,
          requested,
          workers: pt.runningWorkers.length,
          ...(threads < requested
            ? { reason: `the backend started ${threads} of ${requested} threads` }
            : s.asked > requested
              ? { reason: `tfjs-backend-wasm allows at most ${MAX_WASM_THREADS} threads (asked for ${s.asked})` }
              : {}),
        };
        s.tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
        return backend;
      } catch (e) {
        pt.terminateAllThreads();
        return `the threaded backend failed to initialise: ${message(e)}`;
      }
    };
    const got = await threadedOr();
    if (typeof got !== 'string') return got;
    // The package's own factory: with the flag false it loads the plain SIMD build (or the plain one without SIMD).
    s.tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const backend = await s.original!();
    let threads = 1;
    try {
      threads = pkg.getThreadsCount();
    } catch {
      /* not a BackendWasm: leave 1 */
    }
    s.info = { threaded: false, threads, requested, workers: 0, reason: got };
    return backend;
  };
}

/**
 * Make backend 'wasm' the threaded-SIMD build with `threads` threads, and
 * switch to it (tf.setBackend('wasm')). Falls back to the package's plain SIMD
 * build, with `reason`, when threads cannot start; throws only when no wasm
 * backend comes up at all.
 *
 * Call after importing @tensorflow/tfjs-backend-wasm's kernels and any custom
 * 'wasm' kernels (./kernels/: their setup runs at setBackend), and before any
 * tensor lives on 'wasm': a 'wasm' backend already running is disposed and
 * replaced (unless it is this one with the same thread count, which is kept).
 * setWasmPaths() still applies to the fallback; `wasmDir` to the threaded build.
 */
export function initThreadedWasm(tf: Tf, opts: ThreadedWasmOptions = {}): Promise<ThreadedWasmInfo> {
  const requested = clampThreads(opts.threads ?? defaultWasmThreads());
  const prev = state && state.tf === tf ? state : null;
  if (prev?.pending && prev.requested === requested) return prev.pending;
  // engine().registry holds initialised backends only (findBackend would start one)
  const running = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry['wasm'];
  if (!prev?.pending && prev?.info && prev.requested === requested && running) {
    const info = prev.info;
    return (async () => {
      if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
      return info;
    })();
  }
  const before = prev?.pending ?? null;
  // state is set before the first await: a concurrent call sees this one (and waits for it, or shares it)
  const s: State = { tf, pkg: null, original: null, requested, asked: opts.threads ?? requested, info: null, pending: null };
  state = s;
  const run = async (): Promise<ThreadedWasmInfo> => {
    await before?.catch(() => {});
    s.pkg = await import('@tensorflow/tfjs-backend-wasm'); // registers the package's 'wasm' factory
    // the package's own factory (once ours is registered, findBackendFactory returns ours)
    s.original = prev?.original ?? (tf.findBackendFactory('wasm') as BackendFactory | null);
    if (!s.original) throw new Error('initThreadedWasm: backend wasm is not registered (@tensorflow/tfjs-backend-wasm is not loaded)');
    if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm'); // disposes a running one (and its threads)
    tf.registerBackend('wasm', makeFactory(s, opts), 2);
    const ok = await tf.setBackend('wasm');
    if (!ok || tf.getBackend() !== 'wasm' || !s.info) {
      const why = s.info?.reason ? ` (threaded build: ${s.info.reason})` : '';
      throw new Error(`initThreadedWasm: the wasm backend did not initialise${why}`);
    }
    await tf.ready();
    return s.info;
  };
  s.pending = run().finally(() => {
    s.pending = null;
  });
  return s.pending;
}

/** What the last initThreadedWasm() brought up, or null. */
export function threadedWasmInfo(): ThreadedWasmInfo | null {
  return state?.info ?? null;
}

/**
 * End the threaded backend: dispose 'wasm' (its pthread workers are
 * terminated) and put back the package's own factory. A process may also just
 * exit: the threads never keep it alive.
 */
export function disposeThreadedWasm(tf: Tf): void {
  const s = state;
  if (!s || s.tf !== tf || !s.original) return;
  state = null;
  if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  tf.registerBackend('wasm', s.original, 2);
}
