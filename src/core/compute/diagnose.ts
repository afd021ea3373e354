/**
 * Why the best compute backend is (not) in use, and what to do about it.
 *
 * `diagnoseCompute(input)` is a pure classifier: it takes what the backend
 * search saw (the error tfjs-node-gpu threw, whether it runs on a GPU device,
 * wasm SIMD) and what the machine probes found (package files, NVIDIA driver
 * and GPUs, which CUDA/cuDNN libraries resolve, TensorFlow's own log) and
 * returns findings, each with the evidence and the steps to fix it.
 * `probeMachine()` gathers the probe half (cheap: files only, no process is
 * started); `recheckTensorflow()` loads the GPU package in a child process to
 * read TensorFlow's log of the libraries it could not open.
 *
 * Requirements of @tensorflow/tfjs-node-gpu 4.22.0 (its README and
 * scripts/deps-constants.js): libtensorflow 2.9.1 GPU builds for Linux x64 and
 * Windows x64 only; NVIDIA driver > 450.x, CUDA Toolkit 11.2, cuDNN 8.1.0.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { ComputeDiagnosis, DiagnosisFinding } from '../../shared/requests/app.js';
import { adapterLabel, type WebgpuAttempt } from './webgpu.js';
import { probeGpuDevice, probeVulkanLoader, webgpuFindings } from './diagnose-webgpu.js';
import { errorText, firstLine } from './errors.js';

export { deviceLostFinding, probeGpuDevice, probeVulkanLoader, WEBGPU_PACKAGES } from './diagnose-webgpu.js';

export type { ComputeDiagnosis, DiagnosisFinding } from '../../shared/requests/app.js';
type Backend = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export const GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';

export const GPU_REQUIREMENTS: ComputeDiagnosis['requirements'] = {
  package: GPU_PACKAGE,
  version: '4.22.0',
  libtensorflow: '2.9.1',
  cuda: '11.2',
  cudnn: '8.1',
  driver: '450.80.02',
  platforms: ['linux-x64', 'win32-x64'],
};

/** The shared libraries TensorFlow 2.9 (CUDA 11.2, cuDNN 8) opens at start, per platform. */
export const CUDA_LIBRARIES = {
  linux: {
    cuda: ['libcudart.so.11.0', 'libcublas.so.11', 'libcublasLt.so.11', 'libcufft.so.10', 'libcurand.so.10', 'libcusolver.so.11', 'libcusparse.so.11'],
    cudnn: ['libcudnn.so.8'],
  },
  win32: {
    cuda: ['cudart64_110.dll', 'cublas64_11.dll', 'cublasLt64_11.dll', 'cufft64_10.dll', 'curand64_10.dll', 'cusolver64_11.dll', 'cusparse64_11.dll'],
    cudnn: ['cudnn64_8.dll'],
  },
} as const;

/** What the backend search saw in this process. */
export interface BackendAttempt {
  /** Where the search started (DLAB_BACKEND, a preference or a run's config). */
  prefer: Backend;
  /** Set when the search started below 'tensorflow' because of this setting. */
  preferSource?: string;
  tensorflow: {
    attempted: boolean;
    /** The error thrown when importing or initialising the package. */
    error?: unknown;
    stage?: 'import' | 'init';
    /** tfjs-node's `isUsingGpuDevice` once loaded. */
    usingGpu?: boolean | null;
  };
  /** The WebGPU (Dawn) attempt: the stage that failed, or the adapter found. */
  webgpu?: WebgpuAttempt;
  wasm: { attempted: boolean; simd?: boolean | null; error?: unknown };
}

/** What the machine probes found. */
export interface MachineProbe {
  platform: NodeJS.Platform;
  arch: string;
  package: {
    installed: boolean;
    version?: string;
    dir?: string;
    /** The native addon (lib/napi-v*\/tfjs_binding.node) exists. */
    addon?: boolean;
    /** libtensorflow (deps/lib or next to the addon) exists. */
    libtensorflow?: boolean;
  };
  nvidia: {
    /** A loaded NVIDIA kernel driver / driver install was found (null: could not tell). */
    driver: boolean | null;
    driverVersion?: string | null;
    gpus: string[];
  };
  /** CUDA/cuDNN libraries that could not be found on the library search path (null: not checked). */
  missingLibraries: string[] | null;
  /** TensorFlow's own log from loading the package in a child process (recheck). */
  tensorflowLog?: string;
  /** The child's verdict (recheck). */
  recheck?: { loaded: boolean; usingGpu: boolean | null; error?: string };
  /** The Vulkan loader (libvulkan.so.1 / vulkan-1.dll) is found (null: not checked, e.g. macOS: Metal). */
  vulkanLoader?: boolean | null;
  /** A GPU device node exists (/dev/dri/renderD*, /dev/nvidia0) (null: not checked). */
  gpuDevice?: boolean | null;
}

export interface DiagnosisInput {
  backend: Backend;
  attempt: BackendAttempt;
  machine: MachineProbe;
}

// ---------------------------------------------------------------------------
// classification


function isModuleNotFound(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  const msg = errorText(e);
  return (
    ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && msg.includes(GPU_PACKAGE) && !/tfjs_binding\.node/.test(msg)) ||
    new RegExp(`Cannot find (module|package) '${GPU_PACKAGE.replace('/', '\\/')}'`).test(msg)
  );
}

const LINUX_LIB = /\b(lib(?:cudart|cublasLt|cublas|cufft|curand|cusolver|cusparse|cudnn(?:_[a-z_]+)?|nvinfer(?:_plugin)?|cupti)\.so(?:\.\d+)*)/g;
const WIN_LIB = /\b((?:cudart|cublasLt|cublas|cufft|curand|cusolver|cusparse|cudnn|cupti)64_\d+\.dll)/gi;
const HAS_LIB = new RegExp(`${LINUX_LIB.source}|${WIN_LIB.source}`, 'i');
const FAILED_LOAD = /could not load dynamic library|cannot open shared object|no such file|not found|could not be found|loadlibrary|dlopen|dlerror|error loading/i;

/**
 * CUDA/cuDNN libraries named as failing to load in an error message or in
 * TensorFlow's log ("Could not load dynamic library 'libcudart.so.11.0';
 * dlerror: libcudart.so.11.0: cannot open shared object file …").
 */
export function missingCudaLibraries(text: string): string[] {
  const found = new Set<string>();
  for (const line of text.split('\n')) {
    if (!FAILED_LOAD.test(line)) continue;
    for (const m of line.matchAll(LINUX_LIB)) found.add(m[1]!);
    for (const m of line.matchAll(WIN_LIB)) found.add(m[1]!);
  }
  return [...found];
}

const isCudnn = (lib: string) => /cudnn/i.test(lib);

function libtensorflowMissing(text: string): boolean {
  return (
    /(libtensorflow(?:_framework)?\.(?:so|dylib)(?:\.\d+)*|tensorflow\.dll)[^\n]*(cannot open|no such file|not found|could not be found|image not found)/i.test(text) ||
    /(cannot open|not found|could not be found)[^\n]*(libtensorflow|tensorflow\.dll)/i.test(text)
  );
}

function addonMissing(text: string): boolean {
  return /tfjs_binding\.node/.test(text) && /(can ?not be found|cannot find|no such file|not found)/i.test(text);
}

function driverLibMissing(text: string): boolean {
  return /libcuda\.so(\.1)?[^\n]*(cannot open|no such file|not found)/i.test(text) || /nvcuda\.dll[^\n]*(not found|could not be found)/i.test(text);
}

function driverTooOld(text: string): boolean {
  return /CUDA driver version is insufficient|CUDA_ERROR_SYSTEM_DRIVER_MISMATCH|driver version [^\n]*(insufficient|too old)/i.test(text);
}

function noDevice(text: string): boolean {
  return /CUDA_ERROR_NO_DEVICE|no CUDA-capable device/i.test(text);
}

const cudaInstall = (r = GPU_REQUIREMENTS) =>
  `Install CUDA Toolkit ${r.cuda} (TensorFlow ${r.libtensorflow} is built against CUDA 11.2; CUDA 12 libraries do not satisfy it — they can be installed side by side).`;
const cudnnInstall = (r = GPU_REQUIREMENTS) => `Install cuDNN ${r.cudnn} for CUDA 11.x (libcudnn.so.8 / cudnn64_8.dll).`;
const libPathHint = (platform: string) =>
  platform === 'win32'
    ? 'Make sure the CUDA and cuDNN bin folders are on PATH (e.g. C:\\Program Files\\NVIDIA GPU Computing Toolkit\\CUDA\\v11.2\\bin), then restart the app.'
    : 'Make sure the loader finds them: add their folder (e.g. /usr/local/cuda-11.2/lib64) to LD_LIBRARY_PATH or run `sudo ldconfig`, then restart the app.';
const installPackage = `Install the GPU package: \`npm install ${GPU_PACKAGE}@${GPU_REQUIREMENTS.version}\` in the app's folder (its install step downloads libtensorflow ${GPU_REQUIREMENTS.libtensorflow}, so it needs the network), then restart.`;

function splitMissing(missing: string[]): { cuda: string[]; cudnn: string[] } {
  return { cuda: missing.filter((l) => !isCudnn(l)), cudnn: missing.filter(isCudnn) };
}

function libraryFindings(missing: string[], platform: string, detail: string | undefined): DiagnosisFinding[] {
  const { cuda, cudnn } = splitMissing(missing);
  const out: DiagnosisFinding[] = [];
  if (cuda.length) {
    out.push({
      cause: 'cuda_missing',
      backend: 'tensorflow',
      severity: 'warn',
      summary: `CUDA ${GPU_REQUIREMENTS.cuda} libraries not found: ${cuda.join(', ')}`,
      ...(detail ? { detail } : {}),
      actions: [cudaInstall(), libPathHint(platform)],
      missing: cuda,
    });
  }
  if (cudnn.length) {
    out.push({
      cause: 'cudnn_missing',
      backend: 'tensorflow',
      severity: 'warn',
      summary: `cuDNN ${GPU_REQUIREMENTS.cudnn} library not found: ${cudnn.join(', ')}`,
      ...(detail ? { detail } : {}),
      actions: [cudnnInstall(), libPathHint(platform)],
      missing: cudnn,
    });
  }
  return out;
}

/** Why the tensorflow (CUDA) backend is not the one training here. */
function tensorflowFindings(input: DiagnosisInput): DiagnosisFinding[] {
  const { attempt, machine, backend } = input;
  const platformKey = `${machine.platform}-${machine.arch}`;
  const supported = GPU_REQUIREMENTS.platforms.includes(platformKey);
  const errText = [errorText(attempt.tensorflow.error), machine.recheck?.error ?? ''].filter(Boolean).join('\n');
  const log = machine.tensorflowLog ?? '';
  const evidence = [errText, log].filter(Boolean).join('\n');
  const detail = errText ? firstLine(errText).slice(0, 400) : undefined;
  const onGpu = backend === 'tensorflow' && (attempt.tensorflow.usingGpu ?? machine.recheck?.usingGpu ?? null) === true;
  if (onGpu) return [];

  if (!supported) {
    return [
      {
        cause: 'platform_unsupported',
        backend: 'tensorflow',
        severity: 'info',
        summary: `No CUDA build of TensorFlow.js exists for ${platformKey} (GPU builds: ${GPU_REQUIREMENTS.platforms.join(', ')})`,
        actions: ['Nothing to fix: wasm is the fastest backend on this machine. For GPU training, run `dlab serve` on a Linux or Windows machine with an NVIDIA GPU and open it in a browser.'],
      },
    ];
  }

  const gpuKnownAbsent = machine.nvidia.driver === false && machine.nvidia.gpus.length === 0;
  const noGpuFinding = (): DiagnosisFinding => ({
    cause: 'no_nvidia_gpu',
    backend: 'tensorflow',
    severity: 'info',
    summary: 'No NVIDIA GPU (or no NVIDIA driver) was found on this machine',
    actions: [
      'Nothing to fix if this machine has no NVIDIA GPU: wasm is the fastest backend here.',
      `If it has one, install the NVIDIA driver (newer than ${GPU_REQUIREMENTS.driver.split('.')[0]}.x) and restart.`,
    ],
  });

  // 1. the package is not there at all
  if ((!machine.package.installed && backend !== 'tensorflow') || (!machine.package.dir && isModuleNotFound(attempt.tensorflow.error))) {
    if (gpuKnownAbsent) return [noGpuFinding()];
    const out: DiagnosisFinding[] = [
      {
        cause: 'not_installed',
        backend: 'tensorflow',
        severity: machine.nvidia.gpus.length || machine.nvidia.driver ? 'warn' : 'info',
        summary: `${GPU_PACKAGE} is not installed (an optional dependency: its install step needs the network and skips itself where it fails)`,
        actions: [
          installPackage,
          `It needs an NVIDIA driver newer than ${GPU_REQUIREMENTS.driver.split('.')[0]}.x, CUDA ${GPU_REQUIREMENTS.cuda} and cuDNN ${GPU_REQUIREMENTS.cudnn}.`,
        ],
      },
    ];
    if (machine.missingLibraries?.length) out.push(...libraryFindings(machine.missingLibraries, machine.platform, undefined));
    return out;
  }

  // 2. installed, but its native parts are missing
  if (addonMissing(evidence) || libtensorflowMissing(evidence) || machine.package.addon === false || machine.package.libtensorflow === false) {
    const what =
      addonMissing(evidence) || machine.package.addon === false
        ? 'its native addon (tfjs_binding.node) is missing'
        : `its TensorFlow library (libtensorflow ${GPU_REQUIREMENTS.libtensorflow}) is missing`;
    return [
      {
        cause: 'native_missing',
        backend: 'tensorflow',
        severity: 'warn',
        summary: `${GPU_PACKAGE} is installed but ${what}`,
        ...(detail ? { detail } : machine.package.dir ? { detail: `package at ${machine.package.dir}` } : {}),
        actions: [
          `Re-run its install step: \`npm rebuild ${GPU_PACKAGE}\` (downloads libtensorflow ${GPU_REQUIREMENTS.libtensorflow} GPU and the addon; needs the network).`,
          'Offline: copy node_modules/@tensorflow/tfjs-node-gpu/deps and lib/ from a machine where it installed (same OS and architecture).',
        ],
      },
    ];
  }

  // 3. the driver
  if (driverLibMissing(evidence) || (machine.nvidia.driver === false && !machine.nvidia.gpus.length)) {
    return [noGpuFinding()];
  }
  if (driverTooOld(evidence)) {
    return [
      {
        cause: 'driver_too_old',
        backend: 'tensorflow',
        severity: 'warn',
        summary: `The NVIDIA driver${machine.nvidia.driverVersion ? ` (${machine.nvidia.driverVersion})` : ''} is too old for CUDA ${GPU_REQUIREMENTS.cuda}`,
        ...(detail ? { detail } : {}),
        actions: [`Update the NVIDIA driver to ${GPU_REQUIREMENTS.driver} or newer, then restart.`],
      },
    ];
  }

  // 4. CUDA / cuDNN libraries
  const missing = [...new Set([...missingCudaLibraries(evidence), ...(machine.missingLibraries ?? [])])];
  if (missing.length) {
    const logDetail = detail ?? (log ? firstLine(log.split('\n').find((l) => FAILED_LOAD.test(l) && HAS_LIB.test(l)) ?? '') : undefined);
    const out = libraryFindings(missing, machine.platform, logDetail || undefined);
    if (backend === 'tensorflow') {
      out.unshift({
        cause: 'tensorflow_on_cpu',
        backend: 'tensorflow',
        severity: 'warn',
        summary: 'The tensorflow backend loaded but runs on the CPU: TensorFlow could not open the CUDA libraries',
        actions: ['Install what is listed below, then restart the app.'],
      });
    }
    return out;
  }
  if (noDevice(evidence)) return [noGpuFinding()];

  // 5. loaded on the CPU for another reason, or failed otherwise
  if (backend === 'tensorflow') {
    return [
      {
        cause: 'tensorflow_on_cpu',
        backend: 'tensorflow',
        severity: 'warn',
        summary: 'The tensorflow backend runs on the CPU: TensorFlow registered no GPU device',
        actions: [
          machine.tensorflowLog === undefined
            ? 'Run `dlab info --recheck` (or About → Check again) to read TensorFlow’s own log of what it could not load.'
            : 'Check TensorFlow’s log below (TF_CPP_MIN_LOG_LEVEL=0) for the reason.',
          `Check the versions: driver > ${GPU_REQUIREMENTS.driver.split('.')[0]}.x, CUDA ${GPU_REQUIREMENTS.cuda}, cuDNN ${GPU_REQUIREMENTS.cudnn}.`,
        ],
      },
    ];
  }
  if (attempt.tensorflow.attempted && attempt.tensorflow.error !== undefined) {
    return [
      {
        cause: 'tensorflow_failed',
        backend: 'tensorflow',
        severity: 'warn',
        summary: `${GPU_PACKAGE} failed to ${attempt.tensorflow.stage === 'init' ? 'initialise' : 'load'}`,
        ...(detail ? { detail } : {}),
        actions: [
          'Run `dlab info --recheck` (or About → Check again) to read TensorFlow’s own log.',
          `Check the versions: driver > ${GPU_REQUIREMENTS.driver.split('.')[0]}.x, CUDA ${GPU_REQUIREMENTS.cuda}, cuDNN ${GPU_REQUIREMENTS.cudnn}.`,
        ],
      },
    ];
  }
  return [];
}

function wasmFindings(input: DiagnosisInput): DiagnosisFinding[] {
  const { attempt, backend } = input;
  if (backend === 'wasm' && attempt.wasm.simd === false) {
    return [
      {
        cause: 'wasm_no_simd',
        backend: 'wasm',
        severity: 'warn',
        summary: 'WebAssembly SIMD is unavailable: the plain wasm build runs (about 2–3× slower)',
        actions: [
          'Use a current Node.js (≥ 16.4) or the desktop app: SIMD is on by default there.',
          'Remove --no-experimental-wasm-simd (or similar V8 flags) from NODE_OPTIONS.',
        ],
      },
    ];
  }
  if (backend === 'cpu' && attempt.wasm.attempted && attempt.wasm.error !== undefined) {
    const d = firstLine(errorText(attempt.wasm.error)).slice(0, 400);
    return [
      {
        cause: 'wasm_failed',
        backend: 'wasm',
        severity: 'warn',
        summary: 'The wasm backend failed to start: training runs on the much slower pure-JS cpu backend',
        ...(d ? { detail: d } : {}),
        actions: [
          'Reinstall the dependencies (`npm ci`): @tensorflow/tfjs-backend-wasm’s .wasm files may be missing.',
          'In a packaged app the .wasm files must be unpacked from the asar archive (asarUnpack).',
        ],
      },
    ];
  }
  return [];
}

function onRealGpuOf(input: DiagnosisInput): boolean {
  const w = input.attempt.webgpu;
  return (input.backend === 'webgpu' || w?.hostOnly === true) && w?.adapter?.software === false;
}

/** Classify what the backend search and the probes saw. */
export function diagnoseCompute(input: DiagnosisInput): ComputeDiagnosis {
  const { attempt, machine, backend } = input;
  const findings: DiagnosisFinding[] = [];
  if (attempt.prefer !== 'tensorflow' && backend !== 'tensorflow' && !(attempt.prefer === 'webgpu' && onRealGpuOf(input))) {
    findings.push({
      cause: 'preference',
      backend: attempt.prefer,
      severity: 'info',
      summary: `The backend search starts at '${attempt.prefer}'${attempt.preferSource ? ` (${attempt.preferSource})` : ''}`,
      actions: [`Set the default backend to 'auto' in Preferences${attempt.preferSource?.includes('DLAB_BACKEND') ? ' and unset DLAB_BACKEND' : ''} to use the best available, then restart.`],
    });
  }
  const onRealGpu = onRealGpuOf(input);
  const tfFindings = (attempt.prefer === 'tensorflow' || backend === 'tensorflow' ? tensorflowFindings(input) : []).map((f) =>
    // WebGPU already trains on the GPU: what tensorflow (CUDA) lacks is then only worth knowing
    onRealGpu ? { ...f, severity: 'info' as const } : f,
  );
  findings.push(...tfFindings, ...webgpuFindings(input), ...wasmFindings(input));

  const usingGpu = backend === 'tensorflow' ? (attempt.tensorflow.usingGpu ?? machine.recheck?.usingGpu ?? null) : backend === 'webgpu' && onRealGpu;
  const fixable = findings.some((f) => f.severity === 'warn');
  const best = !fixable && findings.every((f) => f.cause !== 'preference');
  const top = findings.find((f) => f.severity === 'warn') ?? findings[0];
  const gpuName = attempt.webgpu?.adapter ? adapterLabel(attempt.webgpu.adapter) : '';
  const where =
    backend === 'tensorflow'
      ? usingGpu ? 'tensorflow (CUDA GPU)' : usingGpu === false ? 'tensorflow (CPU)' : 'tensorflow'
      : backend === 'webgpu'
        ? `webgpu (${gpuName || 'GPU'})`
        : backend === 'wasm' ? `wasm${attempt.wasm.simd === false ? '' : ' (SIMD)'}` : 'cpu (pure JS)';
  const headline = top ? `${where} — ${top.summary}` : `${where} — the best backend for this machine`;
  return {
    backend,
    best,
    headline,
    findings,
    requirements: GPU_REQUIREMENTS,
    machine: {
      platform: `${machine.platform}-${machine.arch}`,
      gpus: machine.nvidia.gpus,
      nvidiaDriver: machine.nvidia.driverVersion ?? null,
      tfjsNodeGpu: machine.package.installed ? (machine.package.version ?? 'installed') : null,
      usingGpu,
      wasmSimd: attempt.wasm.simd ?? null,
      webgpu: attempt.webgpu?.adapter ? { ...attempt.webgpu.adapter, limits: { ...attempt.webgpu.adapter.limits } } : null,
    },
    rechecked: machine.tensorflowLog !== undefined,
  };
}

/** The diagnosis as short lines for `BackendInfo.notes` (status bar tooltip, run records). */
export function diagnosisNotes(d: ComputeDiagnosis): string[] {
  return d.findings.map((f) => `${f.backend}: ${f.summary}${f.actions[0] ? ` — ${f.actions[0]}` : ''}`);
}

// ---------------------------------------------------------------------------
// probes (files only; injectable for tests)

export interface ProbeFs {
  existsSync(p: string): boolean;
  readFileSync(p: string): Buffer;
  readdirSync(p: string): string[];
}

export interface ProbeOptions {
  platform?: NodeJS.Platform;
  arch?: string;
  env?: NodeJS.ProcessEnv;
  fs?: ProbeFs;
  /** Folder of the installed GPU package, or null when it is not installed (default: resolved). */
  packageDir?: string | null;
}

/** Folder of the installed @tensorflow/tfjs-node-gpu, or null. */
export function gpuPackageDir(): string | null {
  try {
    const req = createRequire(import.meta.url);
    return path.dirname(req.resolve(`${GPU_PACKAGE}/package.json`));
  } catch {
    return null;
  }
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

function probePackage(dir: string | null, platform: string, pfs: ProbeFs): MachineProbe['package'] {
  if (!dir || !pfs.existsSync(path.join(dir, 'package.json'))) return { installed: false };
  const pkg = safe(() => JSON.parse(pfs.readFileSync(path.join(dir, 'package.json')).toString('utf8')) as { version?: string }, {});
  const libDir = path.join(dir, 'lib');
  const napiDirs = safe(() => pfs.readdirSync(libDir).filter((d) => d.startsWith('napi-v')), [] as string[]);
  const addon = napiDirs.some((d) => pfs.existsSync(path.join(libDir, d, 'tfjs_binding.node')));
  const libName = platform === 'win32' ? 'tensorflow.dll' : platform === 'darwin' ? 'libtensorflow.dylib' : 'libtensorflow.so';
  const depsLib = path.join(dir, 'deps', 'lib');
  const inDeps = safe(() => pfs.readdirSync(depsLib).some((f) => f.startsWith(libName)), false);
  const nextToAddon = napiDirs.some((d) => safe(() => pfs.readdirSync(path.join(libDir, d)).some((f) => f.startsWith(libName)), false));
  return { installed: true, ...(pkg.version ? { version: pkg.version } : {}), dir, addon, libtensorflow: inDeps || nextToAddon };
}

function probeNvidia(platform: string, env: NodeJS.ProcessEnv, pfs: ProbeFs): MachineProbe['nvidia'] {
  if (platform === 'linux') {
    const versionFile = '/proc/driver/nvidia/version';
    const loaded = pfs.existsSync(versionFile);
    const text = loaded ? safe(() => pfs.readFileSync(versionFile).toString('utf8'), '') : '';
    const driverVersion = /Kernel Module\s+(?:for [^\s]+\s+)?([\d.]+)/.exec(text)?.[1] ?? /\b(\d{3}\.\d+(?:\.\d+)?)\b/.exec(text)?.[1] ?? null;
    const gpus: string[] = [];
    const gpuDir = '/proc/driver/nvidia/gpus';
    for (const id of safe(() => pfs.readdirSync(gpuDir), [] as string[])) {
      const info = safe(() => pfs.readFileSync(path.join(gpuDir, id, 'information')).toString('utf8'), '');
      const model = /^Model:\s*(.+)$/m.exec(info)?.[1]?.trim();
      gpus.push(model ?? `NVIDIA GPU ${id}`);
    }
    const device = pfs.existsSync('/dev/nvidia0');
    return { driver: loaded || device, driverVersion, gpus };
  }
  if (platform === 'win32') {
    const sysRoot = env.SystemRoot ?? env.windir ?? 'C:\\Windows';
    const driver = pfs.existsSync(path.win32.join(sysRoot, 'System32', 'nvcuda.dll'));
    return { driver, driverVersion: null, gpus: [] };
  }
  // macOS and others: no CUDA driver exists
  return { driver: false, driverVersion: null, gpus: [] };
}

/** CUDA/cuDNN libraries for TensorFlow 2.9 that the dynamic loader would not find (null: not checkable here). */
export function probeCudaLibraries(platform: string, env: NodeJS.ProcessEnv, pfs: ProbeFs): string[] | null {
  if (platform === 'linux') {
    const want = [...CUDA_LIBRARIES.linux.cuda, ...CUDA_LIBRARIES.linux.cudnn];
    const dirs = [
      ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
      ...(env.CUDA_HOME ? [path.join(env.CUDA_HOME, 'lib64')] : []),
      '/usr/local/cuda-11.2/lib64',
      '/usr/local/cuda/lib64',
      '/usr/lib/x86_64-linux-gnu',
      '/usr/lib64',
      '/usr/lib',
    ];
    // the loader's cache lists every library ldconfig knows, by file name
    const cache = safe(() => pfs.readFileSync('/etc/ld.so.cache').toString('latin1'), '');
    return want.filter((lib) => !cache.includes(`${lib}\0`) && !dirs.some((d) => pfs.existsSync(path.join(d, lib))));
  }
  if (platform === 'win32') {
    const want = [...CUDA_LIBRARIES.win32.cuda, ...CUDA_LIBRARIES.win32.cudnn];
    const dirs = [
      ...(env.PATH ?? env.Path ?? '').split(';').filter(Boolean),
      ...(env.CUDA_PATH ? [path.win32.join(env.CUDA_PATH, 'bin')] : []),
    ];
    return want.filter((lib) => !dirs.some((d) => pfs.existsSync(path.win32.join(d, lib))));
  }
  return null;
}

/** Gather the machine half of the diagnosis (files only: fast, no process started). */
export function probeMachine(opts: ProbeOptions = {}): MachineProbe {
  const platform = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  const env = opts.env ?? process.env;
  const pfs: ProbeFs = opts.fs ?? { existsSync: fs.existsSync, readFileSync: (p) => fs.readFileSync(p), readdirSync: (p) => fs.readdirSync(p) };
  const dir = opts.packageDir === undefined ? gpuPackageDir() : opts.packageDir;
  const nvidia = probeNvidia(platform, env, pfs);
  const supported = GPU_REQUIREMENTS.platforms.includes(`${platform}-${arch}`);
  return {
    platform,
    arch,
    vulkanLoader: probeVulkanLoader(platform, env, pfs),
    gpuDevice: probeGpuDevice(platform, pfs),
    package: probePackage(dir, platform, pfs),
    nvidia,
    // only worth listing where a GPU backend could run
    missingLibraries: supported && nvidia.driver !== false ? probeCudaLibraries(platform, env, pfs) : null,
  };
}

/**
 * Load the GPU package in a child process with TensorFlow's logging on and
 * collect its log: the lines naming the libraries it could not open are the
 * best evidence there is. Resolves within `timeoutMs`.
 */
export function recheckTensorflow(opts: { packageDir?: string | null; timeoutMs?: number; execPath?: string } = {}): Promise<{ log: string; result: NonNullable<MachineProbe['recheck']> }> {
  const dir = opts.packageDir === undefined ? gpuPackageDir() : opts.packageDir;
  if (!dir) return Promise.resolve({ log: '', result: { loaded: false, usingGpu: null, error: `Cannot find module '${GPU_PACKAGE}'` } });
  const script = [
    'let r = {};',
    'try {',
    `  const tf = require(${JSON.stringify(dir)});`,
    '  r.loaded = true;',
    "  const b = tf.backend(); r.usingGpu = !!(b && b.isUsingGpuDevice);",
    '} catch (e) { r.loaded = false; r.error = String(e && e.message || e); }',
    "process.stdout.write('\\n@@DLAB@@' + JSON.stringify(r) + '\\n');",
  ].join('\n');
  return new Promise((resolve) => {
    const child = spawn(opts.execPath ?? process.execPath, ['-e', script], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', TF_CPP_MIN_LOG_LEVEL: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const marker = out.lastIndexOf('@@DLAB@@');
      let result: NonNullable<MachineProbe['recheck']> = { loaded: false, usingGpu: null, error: `the check exited with code ${code ?? 'null'} before reporting` };
      if (marker >= 0) {
        try {
          const r = JSON.parse(out.slice(marker + 8).split('\n')[0]!) as { loaded?: boolean; usingGpu?: boolean; error?: string };
          result = { loaded: r.loaded === true, usingGpu: r.usingGpu ?? null, ...(r.error ? { error: r.error } : {}) };
        } catch {
          /* keep the default */
        }
      }
      resolve({ log: (err + '\n' + out.slice(0, marker >= 0 ? marker : undefined)).slice(-20_000), result });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ log: '', result: { loaded: false, usingGpu: null, error: e.message } });
    });
  });
}
