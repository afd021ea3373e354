/**
 * The compute diagnosis: each cause simulated by injecting the error the
 * backend search saw and a fake machine (files), and the explanation checked.
 */
import { describe, expect, it } from 'vitest';
import {
  diagnoseCompute,
  diagnosisNotes,
  missingCudaLibraries,
  probeMachine,
  type BackendAttempt,
  type MachineProbe,
  type ProbeFs,
} from '../../../src/core/compute/diagnose.js';

/** A fake file system: paths to contents ('' for files whose contents do not matter). */
function fakeFs(files: Record<string, string>): ProbeFs {
  const all = Object.keys(files);
  return {
    existsSync: (p) => p in files || all.some((f) => f.startsWith(p.endsWith('/') ? p : p + '/')),
    readFileSync: (p) => {
      if (!(p in files)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return Buffer.from(files[p]!, 'latin1');
    },
    readdirSync: (p) => {
      const prefix = p.endsWith('/') ? p : p + '/';
      const names = new Set(all.filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length).split('/')[0]!));
      if (!names.size) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return [...names];
    },
  };
}

const PKG = '/app/node_modules/@tensorflow/tfjs-node-gpu';
const pkgFiles = (opts: { addon?: boolean; lib?: boolean } = {}): Record<string, string> => ({
  [`${PKG}/package.json`]: JSON.stringify({ name: '@tensorflow/tfjs-node-gpu', version: '4.22.0' }),
  [`${PKG}/lib/napi-v8/${opts.addon === false ? 'README' : 'tfjs_binding.node'}`]: '',
  [`${PKG}/deps/lib/${opts.lib === false ? 'LICENSE' : 'libtensorflow.so.2.9.1'}`]: '',
});
const nvidiaFiles: Record<string, string> = {
  '/proc/driver/nvidia/version': 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\nGCC version:  gcc version 12.2.0\n',
  '/proc/driver/nvidia/gpus/0000:01:00.0/information': 'Model: \t\t NVIDIA GeForce RTX 3090\nIRQ:   \t\t 140\n',
  '/dev/nvidia0': '',
};
const CUDA_DIR = '/usr/local/cuda-11.2/lib64';
const cudaFiles: Record<string, string> = Object.fromEntries(
  ['libcudart.so.11.0', 'libcublas.so.11', 'libcublasLt.so.11', 'libcufft.so.10', 'libcurand.so.10', 'libcusolver.so.11', 'libcusparse.so.11'].map((l) => [`${CUDA_DIR}/${l}`, '']),
);
const cudnnFiles = { [`${CUDA_DIR}/libcudnn.so.8`]: '' };

function linux(files: Record<string, string>, env: NodeJS.ProcessEnv = {}, packageDir: string | null = PKG): MachineProbe {
  return probeMachine({ platform: 'linux', arch: 'x64', env, fs: fakeFs(files), packageDir });
}

function attempt(over: Partial<BackendAttempt> = {}): BackendAttempt {
  return { prefer: 'tensorflow', tensorflow: { attempted: true }, wasm: { attempted: true, simd: true }, ...over };
}

const notFound = Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node-gpu' imported from /app/out/main/index.js"), { code: 'ERR_MODULE_NOT_FOUND' });

describe('missingCudaLibraries', () => {
  it('reads the library names out of TensorFlow log lines and dlopen errors', () => {
    const log = [
      "2024-01-01 W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or directory; LD_LIBRARY_PATH: /usr/lib",
      "2024-01-01 W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file or directory",
      '2024-01-01 I tensorflow/core/platform/cpu_feature_guard.cc:193] This TensorFlow binary is optimized with oneDNN',
      'I tensorflow/stream_executor/platform/default/dso_loader.cc:53] Successfully opened dynamic library libcublas.so.11',
    ].join('\n');
    expect(missingCudaLibraries(log)).toEqual(['libcudart.so.11.0', 'libcudnn.so.8']);
    expect(missingCudaLibraries('Error: libcublasLt.so.11: cannot open shared object file: No such file or directory')).toEqual(['libcublasLt.so.11']);
    expect(missingCudaLibraries("Could not load dynamic library 'cudart64_110.dll'; dlerror: cudart64_110.dll not found")).toEqual(['cudart64_110.dll']);
    // a successful load is no evidence of anything missing
    expect(missingCudaLibraries('Successfully opened dynamic library libcudart.so.11.0')).toEqual([]);
  });
});

describe('diagnoseCompute: one cause at a time', () => {
  it('GPU in use: nothing to fix', () => {
    const d = diagnoseCompute({
      backend: 'tensorflow',
      attempt: attempt({ tensorflow: { attempted: true, usingGpu: true } }),
      machine: linux({ ...pkgFiles(), ...nvidiaFiles, ...cudaFiles, ...cudnnFiles }),
    });
    expect(d.best).toBe(true);
    expect(d.findings).toEqual([]);
    expect(d.headline).toBe('tensorflow (CUDA GPU) — the best backend for this machine');
    expect(d.machine.gpus).toEqual(['NVIDIA GeForce RTX 3090']);
    expect(d.machine.nvidiaDriver).toBe('535.104.05');
    expect(d.machine.tfjsNodeGpu).toBe('4.22.0');
  });

  it('tfjs-node-gpu not installed on a machine with an NVIDIA GPU: install it (and what it needs)', () => {
    const d = diagnoseCompute({
      backend: 'wasm',
      attempt: attempt({ tensorflow: { attempted: true, error: notFound, stage: 'import' } }),
      machine: linux({ ...nvidiaFiles, ...cudaFiles, ...cudnnFiles }, {}, null),
    });
    expect(d.best).toBe(false);
    expect(d.findings.map((f) => f.cause)).toEqual(['not_installed']);
    const f = d.findings[0]!;
    expect(f.severity).toBe('warn');
    expect(f.actions[0]).toContain('npm install @tensorflow/tfjs-node-gpu@4.22.0');
    expect(f.actions[1]).toContain('CUDA 11.2');
    expect(f.actions[1]).toContain('cuDNN 8.1');
    expect(d.headline).toMatch(/^wasm \(SIMD\) — @tensorflow\/tfjs-node-gpu is not installed/);
  });

  it('not installed and the CUDA libraries absent too: both are listed', () => {
    const d = diagnoseCompute({
      backend: 'wasm',
      attempt: attempt({ tensorflow: { attempted: true, error: notFound, stage: 'import' } }),
      machine: linux({ ...nvidiaFiles }, {}, null),
    });
    expect(d.findings.map((f) => f.cause)).toEqual(['not_installed', 'cuda_missing', 'cudnn_missing']);
    expect(d.findings[1]!.missing).toEqual(['libcudart.so.11.0', 'libcublas.so.11', 'libcublasLt.so.11', 'libcufft.so.10', 'libcurand.so.10', 'libcusolver.so.11', 'libcusparse.so.11']);
    expect(d.findings[2]!.missing).toEqual(['libcudnn.so.8']);
  });

  it('installed but the native addon is missing (the install step could not download it)', () => {
    const err = new Error(
      "The Node.js native addon module (tfjs_binding.node) can not be found at path: /app/node_modules/@tensorflow/tfjs-node-gpu/lib/napi-v8/tfjs_binding.node. \nPlease run command 'npm rebuild @tensorflow/tfjs-node-gpu build-addon-from-source' to rebuild the native addon module.",
    );
    const d = diagnoseCompute({
      backend: 'wasm',
      attempt: attempt({ tensorflow: { attempted: true, error: err, stage: 'import' } }),
      machine: linux({ ...pkgFiles({ addon: false }), ...nvidiaFiles, ...cudaFiles, ...cudnnFiles }),
    });
    expect(d.findings.map((f) => f.cause)).toEqual(['native_missing']);
    expect(d.findings[0]!.summary).toBe('@tensorflow/tfjs-node-gpu is installed but its native addon (tfjs_binding.node) is missing');
    expect(d.findings[0]!.detail).toContain('tfjs_binding.node) can not be found at path');
    expect(d.findings[0]!.actions[0]).toContain('npm rebuild @tensorflow/tfjs-node-gpu');
  });

  it('installed but libtensorflow is missing (dlopen of the addon fails)', () => {
    const err = new Error('libtensorflow.so.2: cannot open shared object file: No such file or directory');
    const d = diagnoseCompute({
      backend: 'wasm',
      attempt: attempt({ tensorflow: { attempted: true, error: err, stage: 'import' } }),
      machine: linux({ ...pkgFiles({ lib: false }), ...nvidiaFiles, ...cudaFiles, ...cudnnFiles }),
    });
    expect(d.findings.map((f) => f.cause)).toEqual(['native_missing']);
    expect(d.findings[0]!.summary).toContain('its TensorFlow library (libtensorflow 2.9.1) is missing');
  });

  it('CUDA runtime and cuDNN not found: parsed from the dlopen error, with the versions needed', () => {
    const err = new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
    const d = diagnoseCompute({
      backend: 'wasm',
      attempt: attempt({ tensorflow: { attempted: true, error: err, stage: 'import' } }),
      // libcudart is not on disk; cuDNN is not either: the file probe adds it
      machine: linux({ ...pkgFiles(), ...nvidiaFiles }),
    });
    const causes = d.findings.map((f) => f.cause);
    expect(causes).toEqual(['cuda_missing', 'cudnn_missing']);
    const cuda = d.findings[0]!;
    expect(cuda.missing![0]).toBe('libcudart.so.11.0');
    expect(cuda.summary).toMatch(/^CUDA 11\.2 libraries not found: libcudart\.so\.11\.0/);
    expect(cuda.actions[0]).toContain('CUDA Toolkit 11.2');
    expect(cuda.actions[1]).toContain('LD_LIBRARY_PATH');
    expect(cuda.detail).toBe('libcudart.so.11.0: cannot open shared object file: No such file or directory');
    expect(d.findings[1]!.summary).toBe('cuDNN 8.1 library not found: libcudnn.so.8');
    expect(d.findings[1]!.actions[0]).toContain('cuDNN 8.1');
  });

  it('loaded but on the CPU: the libraries TensorFlow could not open are read from its log (recheck)', () => {
    const machine = linux({ ...pkgFiles(), ...nvidiaFiles, ...cudaFiles, ...cudnnFiles });
    machine.tensorflowLog =
      "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file or directory\n" +
      'W tensorflow/core/common_runtime/gpu/gpu_device.cc:1850] Cannot dlopen some GPU libraries. Skipping registering GPU devices...';
    machine.recheck = { loaded: true, usingGpu: false };
    const d = diagnoseCompute({ backend: 'tensorflow', attempt: attempt({ tensorflow: { attempted: true, usingGpu: false } }), machine });
    expect(d.findings.map((f) => f.cause)).toEqual(['tensorflow_on_cpu', 'cudnn_missing']);
    expect(d.findings[1]!.detail).toContain("Could not load dynamic library 'libcudnn.so.8'");
    expect(d.rechecked).toBe(true);
    expect(d.headline).toMatch(/^tensorflow \(CPU\) — /);
  });

  it('libraries found by the file probe: LD_LIBRARY_PATH and the loader cache count', () => {
    const cache = ['libcudart.so.11.0', 'libcublas.so.11', 'libcublasLt.so.11', 'libcufft.so.10', 'libcurand.so.10', 'libcusolver.so.11', 'libcusparse.so.11']
      .map((l) => `${l}\0/usr/lib/x86_64-linux-gnu/${l}\0`)
      .join('');
    const m = linux({ ...nvidiaFiles, '/etc/ld.so.cache': 'ld.so-1.7.0' + cache, '/opt/cudnn/lib/libcudnn.so.8': '' }, { LD_LIBRARY_PATH: '/opt/cudnn/lib' }, null);
    expect(m.missingLibraries).toEqual([]);
    const m2 = linux({ ...nvidiaFiles, '/etc/ld.so.cache': 'ld.so-1.7.0' + cache }, {}, null);
    expect(m2.missingLibraries).toEqual(['libcudnn.so.8']);
  });

  it('no NVIDIA GPU: nothing to fix, wasm is the best here', () => {
    const d = diagnoseCompute({
      backend: 'wasm',
      attempt: attempt({ tensorflow: { attempted: true, error: notFound, stage: 'import' } }),
      machine: linux({}, {}, null),
    });
    expect(d.findings.map((f) => f.cause)).toEqual(['no_nvidia_gpu']);
    expect(d.findings[0]!.severity).toBe('info');
    expect(d.best).toBe(true);
    expect(d.headline).toBe('wasm (SIMD) — No NVIDIA GPU (or no NVIDIA driver) was found on this machine');
  });

  it('GPU package installed but the driver library is absent: no usable GPU', () => {
    const err = new Error('libcuda.so.1: cannot open shared object file: No such file or directory');
    const d = diagnoseCompute({ backend: 'wasm', attempt: attempt({ tensorflow: { attempted: true, error: err, stage: 'import' } }), machine: linux({ ...pkgFiles() }) });
    expect(d.findings.map((f) => f.cause)).toEqual(['no_nvidia_gpu']);
  });

  it('driver too old for CUDA 11.2', () => {
    const err = new Error('failed call to cuInit: CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: CUDA driver version is insufficient for CUDA runtime version');
    const d = diagnoseCompute({
      backend: 'wasm',
      attempt: attempt({ tensorflow: { attempted: true, error: err, stage: 'init' } }),
      machine: linux({ ...pkgFiles(), ...nvidiaFiles, ...cudaFiles, ...cudnnFiles }),
    });
    expect(d.findings.map((f) => f.cause)).toEqual(['driver_too_old']);
    expect(d.findings[0]!.summary).toBe('The NVIDIA driver (535.104.05) is too old for CUDA 11.2');
  });

  it('macOS: no CUDA build exists', () => {
    const machine = probeMachine({ platform: 'darwin', arch: 'arm64', env: {}, fs: fakeFs({}), packageDir: null });
    const d = diagnoseCompute({ backend: 'wasm', attempt: attempt({ tensorflow: { attempted: true, error: notFound } }), machine });
    expect(d.findings.map((f) => f.cause)).toEqual(['platform_unsupported']);
    expect(d.findings[0]!.summary).toContain('darwin-arm64');
    expect(machine.missingLibraries).toBeNull();
  });

  it('Windows: missing DLLs found on PATH or not', () => {
    const env = { PATH: 'C:\\CUDA\\bin;C:\\Windows', SystemRoot: 'C:\\Windows' };
    const files = { 'C:\\Windows\\System32\\nvcuda.dll': '', 'C:\\CUDA\\bin\\cudart64_110.dll': '' };
    const machine = probeMachine({ platform: 'win32', arch: 'x64', env, fs: fakeFs(files), packageDir: null });
    expect(machine.nvidia.driver).toBe(true);
    expect(machine.missingLibraries).toEqual(['cublas64_11.dll', 'cublasLt64_11.dll', 'cufft64_10.dll', 'curand64_10.dll', 'cusolver64_11.dll', 'cusparse64_11.dll', 'cudnn64_8.dll']);
    const d = diagnoseCompute({ backend: 'wasm', attempt: attempt({ tensorflow: { attempted: true, error: notFound } }), machine });
    expect(d.findings.map((f) => f.cause)).toEqual(['not_installed', 'cuda_missing', 'cudnn_missing']);
    expect(d.findings[1]!.actions[1]).toContain('PATH');
  });

  it('wasm without SIMD', () => {
    const d = diagnoseCompute({
      backend: 'wasm',
      attempt: attempt({ tensorflow: { attempted: true, error: notFound }, wasm: { attempted: true, simd: false } }),
      machine: linux({}, {}, null),
    });
    expect(d.findings.map((f) => f.cause)).toEqual(['no_nvidia_gpu', 'wasm_no_simd']);
    expect(d.best).toBe(false);
    expect(d.headline).toBe('wasm — WebAssembly SIMD is unavailable: the plain wasm build runs (about 2–3× slower)');
  });

  it('wasm failed: cpu fallback explained', () => {
    const d = diagnoseCompute({
      backend: 'cpu',
      attempt: attempt({ tensorflow: { attempted: true, error: notFound }, wasm: { attempted: true, error: new Error("ENOENT: no such file or directory, open '/app/tfjs-backend-wasm-simd.wasm'") } }),
      machine: linux({}, {}, null),
    });
    expect(d.findings.map((f) => f.cause)).toEqual(['no_nvidia_gpu', 'wasm_failed']);
    expect(d.findings[1]!.detail).toContain('tfjs-backend-wasm-simd.wasm');
  });

  it('a preference (DLAB_BACKEND) starts the search lower: said as such, tensorflow not judged', () => {
    const d = diagnoseCompute({
      backend: 'cpu',
      attempt: { prefer: 'cpu', preferSource: 'DLAB_BACKEND=cpu', tensorflow: { attempted: false }, wasm: { attempted: false } },
      machine: linux({ ...nvidiaFiles }, {}, null),
    });
    expect(d.findings.map((f) => f.cause)).toEqual(['preference']);
    expect(d.findings[0]!.summary).toBe("The backend search starts at 'cpu' (DLAB_BACKEND=cpu)");
    expect(d.best).toBe(false);
    expect(diagnosisNotes(d)).toEqual([`cpu: The backend search starts at 'cpu' (DLAB_BACKEND=cpu) — Set the default backend to 'auto' in Preferences and unset DLAB_BACKEND to use the best available, then restart.`]);
  });

  it('package files: addon and libtensorflow detected; the driver version and GPU model read from /proc', () => {
    const m = linux({ ...pkgFiles(), ...nvidiaFiles });
    expect(m.package).toEqual({ installed: true, version: '4.22.0', dir: PKG, addon: true, libtensorflow: true });
    expect(m.nvidia).toEqual({ driver: true, driverVersion: '535.104.05', gpus: ['NVIDIA GeForce RTX 3090'] });
    const m2 = linux({ ...pkgFiles({ addon: false, lib: false }) });
    expect(m2.package.addon).toBe(false);
    expect(m2.package.libtensorflow).toBe(false);
    expect(m2.nvidia.driver).toBe(false);
    expect(m2.missingLibraries).toBeNull();
  });
});
