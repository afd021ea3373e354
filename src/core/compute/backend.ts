/**
 * Compute backend selection for training (TensorFlow.js).
 *
 * Best first:
 *   1. `tensorflow` — @tensorflow/tfjs-node-gpu (optional dependency; needs its
 *      native library and CUDA),
 *   2. `webgpu` — @tensorflow/tfjs-backend-webgpu on Dawn (the `webgpu`
 *      package; optional dependencies, prebuilt; needs only a GPU driver —
 *      or Mesa's software rasteriser, see ./webgpu.ts),
 *   3. `wasm` — @tensorflow/tfjs-backend-wasm (SIMD where the runtime has it),
 *      with the training kernels it lacks supplied by `./kernels/`,
 *   4. `cpu` — the pure-JS backend.
 *
 * `initBackend()` is idempotent: the first call picks and initialises a
 * backend, later calls return the same answer (a call that names a different
 * `prefer` switches). `notes` say in words why a better backend is not in use.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tfjs from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from './kernels/index.js';
import { disposeThreadedWasm, initThreadedWasm, MAX_WASM_THREADS, parseWasmThreads, threadedWasmInfo } from './wasm-threads.js';
// --- compute diagnosis (app packaging room) ---
import { diagnoseCompute, diagnosisNotes, probeMachine, type BackendAttempt, type ComputeDiagnosis } from './diagnose.js';
// --- end compute diagnosis ---
import { adapterLabel, initWebgpu, type WebgpuAdapterInfo } from './webgpu.js';
import { probeVulkanLoader } from './diagnose-webgpu.js';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type Tf = typeof tfjs;

export interface BackendInfo {
  backend: BackendName;
  notes: string[];
  /** Threads the backend computes with (wasm: XNNPACK's pool, the calling thread included; others 1). */
  threads?: number;
  /** Why the best backend is (not) in use, with what to do (see ./diagnose.ts). */
  diagnosis?: ComputeDiagnosis;
  /** The WebGPU adapter (webgpu backend only). */
  adapter?: WebgpuAdapterInfo;
  /** In a process that reads synchronously (the app, views): the adapter training workers will use. */
  webgpuForRuns?: WebgpuAdapterInfo;
}

/** The backend as runs record it: 'webgpu (llvmpipe)', 'wasm', … */
export function backendLabel(info: Pick<BackendInfo, 'backend' | 'adapter' | 'webgpuForRuns'>): string {
  if (info.backend === 'webgpu') return info.adapter ? `webgpu (${adapterLabel(info.adapter)})` : 'webgpu';
  return info.webgpuForRuns ? `${info.backend}; runs train on webgpu (${adapterLabel(info.webgpuForRuns)})` : info.backend;
}

/** Backends whose reads are asynchronous only: the trainer steps with `stepAsync()` there. */
export function isAsyncBackend(name: BackendName | null): boolean {
  return name === 'webgpu';
}

export interface InitBackendOptions {
  /**
   * Start the search at this backend (falling back to the ones below it).
   * Defaults to the environment variable DLAB_BACKEND, else 'tensorflow'.
   */
  prefer?: BackendName;
  /**
   * wasm threads (threaded-SIMD build; 1 = the single-threaded SIMD build).
   * Defaults to DLAB_WASM_THREADS (a count, 'auto' or 'off'), else 1. A
   * different count than the running backend's re-initialises wasm.
   */
  threads?: number;
  /**
   * The caller reads tensors only asynchronously (`await data()`, the
   * trainer's `stepAsync()`): only then may an async-only backend (webgpu) be
   * chosen. Otherwise webgpu is still probed where the search reaches it (its
   * adapter is reported in `webgpuForRuns`) and the search goes on to wasm.
   * Training workers pass true.
   */
  asyncReads?: boolean;
}

/** The thread count asked for by DLAB_WASM_THREADS (1 when unset or off). */
export function envWasmThreads(env: NodeJS.ProcessEnv = process.env): number {
  const v = env['DLAB_WASM_THREADS'];
  if (v === undefined || v.trim() === '') return 1;
  return parseWasmThreads(v) ?? 1;
}

/** Threads a training run uses by default: the cores less one (the supervisor's), at least 1, at most 8. */
export function defaultRunThreads(cores = os.availableParallelism()): number {
  return Math.max(1, Math.min(MAX_WASM_THREADS, cores - 1));
}

const ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

let tfInUse: Tf = tfjs;
let current: { prefer: BackendName; threads: number; asyncReads: boolean; info: Promise<BackendInfo> } | null = null;
let resolvedName: BackendName | null = null;
let wasmModule: typeof import('@tensorflow/tfjs-backend-wasm') | null = null;

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  return msg.split('\n')[0]?.trim() || 'unknown error';
}

function isNotInstalled(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  const msg = firstLine(e);
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && msg.includes('@tensorflow/tfjs-node-gpu')
  );
}

async function tryTensorflow(notes: string[], attempt: BackendAttempt): Promise<boolean> {
  const pkg = '@tensorflow/tfjs-node-gpu';
  let mod: Tf;
  attempt.tensorflow.attempted = true;
  try {
    // A variable specifier keeps bundlers and the type checker from requiring the optional package.
    mod = (await import(/* @vite-ignore */ pkg)) as Tf;
  } catch (e) {
    attempt.tensorflow.error = e;
    attempt.tensorflow.stage = 'import';
    notes.push(
      isNotInstalled(e)
        ? `tensorflow: ${pkg} is not installed (optional dependency; it needs its native library and CUDA)`
        : `tensorflow: ${pkg} failed to load: ${firstLine(e)}`,
    );
    return false;
  }
  try {
    const ok = await mod.setBackend('tensorflow');
    if (!ok || mod.getBackend() !== 'tensorflow') {
      notes.push(`tensorflow: ${pkg} loaded but its backend did not initialise`);
      attempt.tensorflow.error = new Error(`${pkg} loaded but its backend did not initialise`);
      attempt.tensorflow.stage = 'init';
      return false;
    }
    await mod.ready();
    tfInUse = mod;
    attempt.tensorflow.usingGpu = (mod.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice ?? null;
    return true;
  } catch (e) {
    attempt.tensorflow.error = e;
    attempt.tensorflow.stage = 'init';
    notes.push(`tensorflow: ${pkg} failed to initialise: ${firstLine(e)}`);
    return false;
  }
}

/** Folder holding the installed wasm binaries (…/tfjs-backend-wasm/dist/). */
export function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('@tensorflow/tfjs-backend-wasm');
  // --- packaged app: the .wasm files are unpacked next to app.asar (electron-builder.yml asarUnpack) ---
  const asar = `${path.sep}app.asar${path.sep}`;
  const dir = path.dirname(main) + path.sep;
  if (dir.includes(asar)) {
    const unpacked = dir.replace(asar, `${path.sep}app.asar.unpacked${path.sep}`);
    try {
      if (fs.existsSync(path.join(unpacked, 'tfjs-backend-wasm.wasm'))) return unpacked;
    } catch {
      /* fall back to the archive path */
    }
  }
  // --- end packaged app ---
  return dir;
}

async function tryWasm(notes: string[], attempt: BackendAttempt, threads: number): Promise<number | false> {
  attempt.wasm.attempted = true;
  try {
    if (!wasmModule) {
      wasmModule = await import('@tensorflow/tfjs-backend-wasm');
      wasmModule.setWasmPaths(wasmDistDir());
    }
    registerWasmTrainingKernels(tfjs);
    let used = 1;
    let ok: boolean;
    if (threads > 1) {
      const t = await initThreadedWasm(tfjs, { threads, wasmDir: wasmDistDir() });
      if (!t.threaded) notes.push(`wasm: threads unavailable (${t.reason ?? 'unknown'}); computing on one thread`);
      used = t.threaded ? t.threads : 1;
      ok = tfjs.getBackend() === 'wasm';
    } else {
      if (threadedWasmInfo()) disposeThreadedWasm(tfjs);
      ok = await tfjs.setBackend('wasm');
    }
    if (!ok || tfjs.getBackend() !== 'wasm') {
      notes.push('wasm: the backend did not initialise');
      return false;
    }
    await tfjs.ready();
    tfInUse = tfjs;
    const simd = await tfjs.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    attempt.wasm.simd = Boolean(simd);
    if (!simd) notes.push('wasm: this runtime has no WebAssembly SIMD; using the plain wasm build (slower)');
    return used;
  } catch (e) {
    attempt.wasm.error = e;
    notes.push(`wasm: failed: ${firstLine(e)}`);
    return false;
  }
}

async function tryWebgpu(notes: string[], attempt: BackendAttempt, asyncReads: boolean, forRuns: { adapter?: WebgpuAdapterInfo }): Promise<WebgpuAdapterInfo | false> {
  const w = (attempt.webgpu ??= { attempted: false });
  if (attempt.prefer !== 'webgpu' && probeVulkanLoader(process.platform, process.env, fs) === false) {
    // Without the Vulkan loader Dawn can only reach a software rasteriser, which the search would not use anyway;
    // loading it would only print its "Couldn't load Vulkan" warning on stderr of every command.
    w.attempted = true;
    w.stage = 'adapter';
    w.error = new Error('no Vulkan loader (libvulkan.so.1); Dawn was not loaded');
    notes.push('webgpu: no Vulkan loader (libvulkan.so.1)');
    return false;
  }
  try {
    // A software rasteriser (llvmpipe) is slower than wasm: only when webgpu is asked for by name.
    const adapter = await initWebgpu(tfjs, w, { allowSoftware: attempt.prefer === 'webgpu' });
    if (!asyncReads) {
      // this process reads tensors synchronously: report the adapter, compute on the next backend
      forRuns.adapter = adapter;
      w.hostOnly = true;
      return false;
    }
    const ok = await tfjs.setBackend('webgpu');
    if (!ok || tfjs.getBackend() !== 'webgpu') {
      w.stage = 'init';
      w.error = new Error('the webgpu backend did not initialise');
      notes.push('webgpu: the backend did not initialise');
      return false;
    }
    await tfjs.ready();
    tfInUse = tfjs;
    return adapter;
  } catch (e) {
    if (w.error === undefined) w.error = e;
    w.stage ??= 'init';
    notes.push(`webgpu: ${firstLine(e)}`);
    return false;
  }
}

async function tryCpu(notes: string[]): Promise<boolean> {
  try {
    const ok = await tfjs.setBackend('cpu');
    if (!ok) {
      notes.push('cpu: the backend did not initialise');
      return false;
    }
    quietCpuBackend();
    await tfjs.ready();
    tfInUse = tfjs;
    return true;
  } catch (e) {
    notes.push(`cpu: failed: ${firstLine(e)}`);
    return false;
  }
}

async function pick(prefer: BackendName, threads: number, asyncReads: boolean, preferSource?: string): Promise<BackendInfo> {
  const notes: string[] = [];
  const forRuns: { adapter?: WebgpuAdapterInfo } = {};
  const attempt: BackendAttempt = { prefer, ...(preferSource ? { preferSource } : {}), tensorflow: { attempted: false }, webgpu: { attempted: false }, wasm: { attempted: false } };
  lastAttempt = attempt;
  const start = ORDER.indexOf(prefer);
  if (start > 0) notes.push(`search started at '${prefer}' by request`);
  for (const name of ORDER.slice(start)) {
    const ok =
      name === 'tensorflow'
        ? await tryTensorflow(notes, attempt)
        : name === 'webgpu'
          ? await tryWebgpu(notes, attempt, asyncReads, forRuns)
          : name === 'wasm'
            ? await tryWasm(notes, attempt, threads)
            : await tryCpu(notes);
    if (ok) {
      resolvedName = name;
      const used = typeof ok === 'number' ? ok : 1;
      const adapter = typeof ok === 'object' ? { adapter: ok } : forRuns.adapter ? { webgpuForRuns: forRuns.adapter } : {};
      // --- compute diagnosis: the notes say why a better backend is not in use, and what to do ---
      try {
        const diagnosis = diagnoseCompute({ backend: name, attempt, machine: probeMachine() });
        const threadNotes = notes.filter((n) => n.startsWith('wasm: threads unavailable'));
        return { backend: name, notes: [...diagnosisNotes(diagnosis), ...threadNotes], diagnosis, threads: used, ...adapter };
      } catch {
        return { backend: name, notes, threads: used, ...adapter };
      }
      // --- end compute diagnosis ---
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised: ${notes.join('; ')}`);
}

function defaultPrefer(): BackendName {
  const env = process.env['DLAB_BACKEND'];
  if (env === 'tensorflow' || env === 'webgpu' || env === 'wasm' || env === 'cpu') return env;
  return 'tensorflow';
}

let lastAttempt: BackendAttempt | null = null;

/** What the last backend search in this process saw (for the compute diagnosis), or null before one. */
export function backendAttempt(): BackendAttempt | null {
  return lastAttempt;
}

/**
 * Silence the cpu backend's one-time "install our node backend" banner (the
 * notes already say why no faster backend is in use). Safe to call any time.
 */
export function quietCpuBackend(): void {
  try {
    const b = tfjs.findBackend('cpu') as { firstUse?: boolean } | null;
    if (b && 'firstUse' in b) b.firstUse = false;
  } catch {
    // the cpu backend is not registered: nothing to silence
  }
}

/** Pick and initialise the best available backend (idempotent). */
export function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const prefer = opts.prefer ?? (current ? current.prefer : defaultPrefer());
  const threads = Math.max(1, Math.min(MAX_WASM_THREADS, Math.floor(opts.threads ?? (current ? current.threads : envWasmThreads()))));
  const asyncReads = opts.asyncReads ?? (current ? current.asyncReads : false);
  if (current && current.prefer === prefer && current.threads === threads && current.asyncReads === asyncReads) return current.info;
  const source = opts.prefer === undefined && process.env['DLAB_BACKEND'] === prefer ? `DLAB_BACKEND=${prefer}` : opts.prefer !== undefined ? 'requested' : undefined;
  const info = pick(prefer, threads, asyncReads, source).then((r) => ({ ...r, notes: [...r.notes] }));
  current = { prefer, threads, asyncReads, info };
  info.catch(() => {
    if (current?.info === info) current = null;
  });
  return info;
}

/**
 * Run `f` with a synchronous-read backend active (wasm, else cpu), then switch
 * back: a process training on webgpu scores and encodes there (the trainer's
 * host copy). Tensors made inside belong to that backend.
 */
export async function withHostBackend<T>(f: () => Promise<T>): Promise<T> {
  const before = tfjs.getBackend();
  if (before !== 'webgpu') return f();
  let ok = false;
  try {
    if (!wasmModule) {
      wasmModule = await import('@tensorflow/tfjs-backend-wasm');
      wasmModule.setWasmPaths(wasmDistDir());
    }
    registerWasmTrainingKernels(tfjs);
    ok = await tfjs.setBackend('wasm');
  } catch {
    ok = false;
  }
  if (!ok) {
    await tfjs.setBackend('cpu');
    quietCpuBackend();
  }
  try {
    return await f();
  } finally {
    await tfjs.setBackend(before);
  }
}

/** The tf namespace in use (call after `initBackend()`). */
export function getTf(): Tf {
  return tfInUse;
}

/** Name of the backend in use, or null before `initBackend()` has finished. */
export function backendName(): BackendName | null {
  return resolvedName;
}
