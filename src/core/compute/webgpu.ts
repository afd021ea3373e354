/**
 * The WebGPU backend in Node: Dawn's N-API binding (the `webgpu` npm package,
 * prebuilt Dawn inside) under @tensorflow/tfjs-backend-webgpu. Both are
 * optional dependencies; nothing here is needed by wasm/cpu.
 *
 * Order of things matters: the tfjs webgpu package registers its backend only
 * if `navigator.gpu` exists when it is imported, so `initWebgpu()` creates the
 * Dawn GPU object and sets `globalThis.navigator.gpu` first, then imports the
 * backend, and then registers its own factory for 'webgpu' with the adapter
 * and device requested here (default adapter first — Vulkan/Metal/D3D12 —
 * then the software fallback: Dawn's OpenGL ES backend in compatibility mode,
 * e.g. Mesa's llvmpipe).
 *
 * Reads from the device are asynchronous only (`await t.data()`): tfjs's
 * `dataSync()` needs OffscreenCanvas, which Node has not.
 *
 * `DLAB_WEBGPU_FAIL=import|adapter|device` makes that stage fail (tests of the
 * diagnosis); `DLAB_WEBGPU_ADAPTER=default|software` tries only that adapter.
 */
import type { Tf } from './backend.js';

export interface WebgpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** 'default' (the platform's own API: Vulkan, Metal, D3D12) or 'software' (OpenGL ES, compatibility mode). */
  via: 'default' | 'software';
  /** A CPU (software) rasteriser such as llvmpipe / SwiftShader, not a GPU. */
  software: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number; maxComputeWorkgroupSizeX: number; maxComputeInvocationsPerWorkgroup: number };
}

/** What the webgpu attempt saw (for the diagnosis). */
export interface WebgpuAttempt {
  attempted: boolean;
  stage?: 'import' | 'adapter' | 'device' | 'init';
  error?: unknown;
  /** What each adapter request answered. */
  dawnLog?: string;
  adapter?: WebgpuAdapterInfo;
  /** Found, but not used here: this process reads synchronously (training workers use it). */
  hostOnly?: boolean;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|software|microsoft basic render/i;

/** A short label of the adapter for run records and the status bar: 'NVIDIA GeForce RTX 4090', 'llvmpipe'. */
export function adapterLabel(a: Pick<WebgpuAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'>): string {
  const all = `${a.device} ${a.description} ${a.vendor} ${a.architecture}`;
  const soft = /llvmpipe|lavapipe|swiftshader|softpipe/i.exec(all);
  if (soft) return soft[0].toLowerCase();
  const text = [a.device, a.description, `${a.vendor} ${a.architecture}`].map((x) => x.trim()).find(Boolean) ?? 'unknown adapter';
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function adapterInfo(adapter: GPUAdapter, via: 'default' | 'software'): WebgpuAdapterInfo {
  const info = (adapter as unknown as { info?: GPUAdapterInfo }).info;
  const l = adapter.limits;
  const a = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    via,
    limits: {
      maxBufferSize: Number(l.maxBufferSize),
      maxStorageBufferBindingSize: Number(l.maxStorageBufferBindingSize),
      maxComputeWorkgroupSizeX: Number(l.maxComputeWorkgroupSizeX),
      maxComputeInvocationsPerWorkgroup: Number(l.maxComputeInvocationsPerWorkgroup),
    },
  };
  return { ...a, software: via === 'software' || SOFTWARE.test(`${a.vendor} ${a.device} ${a.description}`) };
}

type DawnModule = { create(options: string[]): GPU; globals: object };

let state: { device: GPUDevice; adapter: WebgpuAdapterInfo; lost: Promise<GPUDeviceLostInfo>; gpu: GPU } | null = null;
let lostReason: string | null = null;

async function attempt_<T>(f: () => Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await f() };
  } catch (error) {
    return { error };
  }
}

/**
 * Create the Dawn GPU, pick an adapter and device, and register tfjs's
 * 'webgpu' backend on them. Throws with `stage` set on the attempt.
 */
export async function initWebgpu(tf: Tf, attempt: WebgpuAttempt, opts: { allowSoftware?: boolean } = {}): Promise<WebgpuAdapterInfo> {
  attempt.attempted = true;
  if (state) {
    attempt.adapter = state.adapter;
    if (state.adapter.software && opts.allowSoftware === false) {
      attempt.stage = 'adapter';
      throw (attempt.error = new Error('only a software adapter was found'));
    }
    return state.adapter;
  }
  const fail = process.env['DLAB_WEBGPU_FAIL'];
  let dawn: DawnModule;
  try {
    if (fail === 'import') throw Object.assign(new Error("Cannot find package 'webgpu' (simulated by DLAB_WEBGPU_FAIL=import)"), { code: 'ERR_MODULE_NOT_FOUND' });
    const name = 'webgpu';
    dawn = (await import(/* @vite-ignore */ name)) as DawnModule;
  } catch (e) {
    attempt.stage = 'import';
    attempt.error = e;
    throw e;
  }
  // Headless Linux: Mesa's EGL must not look for an X server.
  if (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY'] && !process.env['EGL_PLATFORM']) {
    process.env['EGL_PLATFORM'] = 'surfaceless';
  }
  const want = process.env['DLAB_WEBGPU_ADAPTER'];
  const tries: { via: 'default' | 'software'; flags: string[]; options: Record<string, unknown> }[] = [];
  if (want !== 'software') tries.push({ via: 'default', flags: [], options: { powerPreference: 'high-performance' } });
  if (want !== 'default' && opts.allowSoftware !== false) tries.push({ via: 'software', flags: ['backend=opengles'], options: { featureLevel: 'compatibility' } });
  let chosen: { gpu: GPU; adapter: GPUAdapter; via: 'default' | 'software' } | null = null;
  const log: string[] = [];
  for (const t of tries) {
    if (fail === 'adapter') {
      log.push(`${t.via}: requestAdapter returned null (simulated by DLAB_WEBGPU_FAIL=adapter)`);
      continue;
    }
    const gpu = dawn.create(t.flags);
    const r = await attempt_(() => gpu.requestAdapter(t.options as GPURequestAdapterOptions));
    if (r.error) log.push(`${t.via}: ${r.error instanceof Error ? r.error.message : String(r.error)}`);
    if (!r.value && !r.error) log.push(`${t.via}${t.flags.length ? ` (${t.flags.join(' ')})` : ''}: no adapter`);
    if (r.value) {
      chosen = { gpu, adapter: r.value, via: t.via };
      break;
    }
  }
  attempt.dawnLog = log.join('\n');
  if (!chosen) {
    attempt.stage = 'adapter';
    const e = new Error(`no WebGPU adapter${attempt.dawnLog ? `: ${attempt.dawnLog.split('\n')[0]}` : ''}`);
    attempt.error = e;
    throw e;
  }
  const info = adapterInfo(chosen.adapter, chosen.via);
  attempt.adapter = info;
  let device: GPUDevice;
  try {
    if (fail === 'device') throw new Error('requestDevice failed (simulated by DLAB_WEBGPU_FAIL=device)');
    const l = chosen.adapter.limits;
    const requiredFeatures: GPUFeatureName[] = [];
    if (chosen.adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
    device = await chosen.adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      },
    });
  } catch (e) {
    attempt.stage = 'device';
    attempt.error = e;
    throw e;
  }
  const lost = device.lost;
  void lost.then((l) => {
    lostReason = `${l.reason ?? 'unknown'}${l.message ? `: ${l.message}` : ''}`;
  });
  try {
    // navigator.gpu must exist before the tfjs package is imported (it registers only then).
    const g = globalThis as unknown as { navigator?: { gpu?: GPU } };
    Object.assign(globalThis, dawn.globals);
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    try {
      g.navigator!.gpu = chosen.gpu;
    } catch {
      Object.defineProperty(g.navigator, 'gpu', { value: chosen.gpu, configurable: true });
    }
    // a variable specifier: the optional package is loaded from node_modules, never bundled
    const tfjsWebgpu = '@tensorflow/tfjs-backend-webgpu';
    const mod = (await import(/* @vite-ignore */ tfjsWebgpu)) as { WebGPUBackend: new (d: GPUDevice, info?: GPUAdapterInfo) => unknown };
    const adapterInfoObj = (chosen.adapter as unknown as { info?: GPUAdapterInfo }).info;
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new mod.WebGPUBackend(device, adapterInfoObj) as never, 3);
  } catch (e) {
    attempt.stage = 'init';
    attempt.error = e;
    throw e;
  }
  state = { device, adapter: info, lost, gpu: chosen.gpu };
  return info;
}

/** The adapter in use, or null. */
export function webgpuAdapter(): WebgpuAdapterInfo | null {
  return state?.adapter ?? null;
}

/** Why the device was lost ('destroyed: …', 'unknown: …'), or null while it is alive. */
export function webgpuLost(): string | null {
  return lostReason;
}

/** Error thrown by a step when the GPU device is gone (the run fails with its last checkpoint kept). */
export class DeviceLostError extends Error {
  constructor(readonly reason: string) {
    super(`the GPU device was lost (${reason}); the run stopped at its last checkpoint — resume it to continue (on the GPU once the driver recovers, or on wasm)`);
    this.name = 'DeviceLostError';
  }
}

/** Throw DeviceLostError if the device is gone. */
export function assertDeviceAlive(): void {
  if (lostReason !== null) throw new DeviceLostError(lostReason);
}

/**
 * `await t.data()` that fails with DeviceLostError when the device is lost
 * before (or while) the read completes, instead of hanging.
 */
export async function readOnDevice(t: { data(): Promise<unknown> }): Promise<Float32Array> {
  assertDeviceAlive();
  const lost = state?.lost;
  const read = t.data() as Promise<Float32Array>;
  if (!lost) return read;
  const v = await Promise.race([read, lost.then((l) => Promise.reject(new DeviceLostError(`${l.reason ?? 'unknown'}${l.message ? `: ${l.message}` : ''}`)))]);
  assertDeviceAlive();
  return v;
}

/** Destroy the device (tests of the lost-device path; DLAB_WEBGPU_LOSE_AT_STEP). */
export function loseWebgpuDevice(): void {
  state?.device.destroy();
}
