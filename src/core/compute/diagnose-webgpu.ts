/**
 * The webgpu (Dawn) half of the compute diagnosis (see ./diagnose.ts): why
 * webgpu is not the backend training here — packages missing, Dawn's module
 * failing, no Vulkan loader, no adapter, a device refused — or how it runs (a
 * software rasteriser, the adapter runs use), and a device lost mid-run; each
 * with what to do. Plus the file probes they use (Vulkan loader, GPU nodes).
 */
import * as path from 'node:path';
import type { DiagnosisFinding } from '../../shared/requests/app.js';
import type { DiagnosisInput, ProbeFs } from './diagnose.js';
import { adapterLabel } from './webgpu.js';
import { errorText, firstLine } from './errors.js';


function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

export const WEBGPU_PACKAGES = { dawn: 'webgpu@0.6.2', tfjs: '@tensorflow/tfjs-backend-webgpu@4.22.0' } as const;

const gpuDriverHint = (platform: string): string =>
  platform === 'darwin'
    ? 'macOS: Metal is built in — nothing to install; update macOS if no adapter is found.'
    : platform === 'win32'
      ? 'Windows: install or update the GPU vendor’s driver (NVIDIA, AMD or Intel); D3D12 comes with Windows.'
      : 'Linux: install the GPU driver with its Vulkan support — NVIDIA: the proprietary driver (e.g. `sudo apt install nvidia-driver`); AMD/Intel: Mesa (`sudo apt install mesa-vulkan-drivers libvulkan1`).';

/** The finding for a run whose GPU device was lost mid-run (the run fails; its last checkpoint is kept). */
export function deviceLostFinding(reason: string): DiagnosisFinding {
  return {
    cause: 'webgpu_device_lost',
    backend: 'webgpu',
    severity: 'warn',
    summary: `The GPU device was lost mid-run (${reason})`,
    actions: [
      'Resume the run: it continues from its last checkpoint (on the GPU once it is back, or on wasm — checkpoints are portable).',
      'If it happens again: update the GPU driver; a GPU reset (driver timeout, another program taking the GPU, sleep) loses the device.',
    ],
  };
}

/** Why the webgpu (Dawn) backend is not the one training here, or how it runs. */
export function webgpuFindings(input: DiagnosisInput): DiagnosisFinding[] {
  const { attempt, machine, backend } = input;
  const w = attempt.webgpu;
  if (!w?.attempted) return [];
  if (backend === 'webgpu' || (w.hostOnly && w.adapter)) {
    const runs: DiagnosisFinding[] =
      backend === 'webgpu' || !w.adapter
        ? []
        : [
            {
              cause: 'webgpu_runs',
              backend: 'webgpu',
              severity: 'info',
              summary: `Training runs compute on WebGPU (${adapterLabel(w.adapter)}); this process computes on ${backend} (it reads tensors synchronously)`,
              actions: ['Nothing to do: every run’s record names the backend it trained on.'],
            },
          ];
    if (w.adapter?.software) {
      return [
        ...runs,
        {
          cause: 'webgpu_software',
          backend: 'webgpu',
          severity: 'info',
          summary: `WebGPU runs on a software rasteriser (${adapterLabel(w.adapter)}): the CPU computes, usually slower than wasm`,
          actions: [gpuDriverHint(machine.platform), 'Without a GPU: unset DLAB_BACKEND (or set the default backend to auto) to train on wasm.'],
        },
      ];
    }
    return runs;
  }
  const err = errorText(w.error);
  const detail = err ? firstLine(err).slice(0, 400) : undefined;
  const withDetail = detail ? { detail } : {};
  if (w.stage === 'import') {
    const code = (w.error as { code?: string } | null)?.code;
    const notFound = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /webgpu/.test(err) && !/dawn\.node/.test(err);
    if (notFound) {
      return [
        {
          cause: 'webgpu_not_installed',
          backend: 'webgpu',
          severity: machine.gpuDevice ? 'warn' : 'info',
          summary: 'The WebGPU packages are not installed (optional dependencies)',
          ...withDetail,
          actions: [`Install them: \`npm install ${WEBGPU_PACKAGES.dawn} ${WEBGPU_PACKAGES.tfjs}\` in the app’s folder (prebuilt; no compiler needed), then restart.`],
        },
      ];
    }
    return [
      {
        cause: 'webgpu_failed',
        backend: 'webgpu',
        severity: 'warn',
        summary: 'Dawn’s native module (webgpu/dist/…/dawn.node) failed to load',
        ...withDetail,
        actions: [`Reinstall it: \`npm install ${WEBGPU_PACKAGES.dawn}\` (linux-x64/arm64, win32-x64/arm64 and macOS builds are in the package).`, 'In a packaged app the .node file must be unpacked from the asar archive (asarUnpack).'],
      },
    ];
  }
  if (w.stage === 'adapter') {
    const log = w.dawnLog ? { detail: w.dawnLog.split('\n').slice(0, 4).join(' | ').slice(0, 400) } : withDetail;
    if (machine.platform === 'linux' && machine.vulkanLoader === false) {
      return [
        {
          cause: 'webgpu_no_vulkan',
          backend: 'webgpu',
          severity: machine.gpuDevice ? 'warn' : 'info',
          summary: 'No Vulkan loader (libvulkan.so.1): Dawn cannot reach a GPU on this machine',
          ...log,
          actions: [
            machine.gpuDevice ? gpuDriverHint('linux') : 'Nothing to fix if this machine has no GPU: wasm is the fastest backend here.',
            'The Vulkan loader is `libvulkan1` on Debian/Ubuntu (`vulkan-loader` on Fedora/Arch); restart after installing.',
            'Without a GPU, DLAB_BACKEND=webgpu still runs on Mesa’s software rasteriser (libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri) — for testing, not speed.',
          ],
        },
      ];
    }
    return [
      {
        cause: 'webgpu_no_adapter',
        backend: 'webgpu',
        severity: machine.gpuDevice ? 'warn' : 'info',
        summary: machine.gpuDevice ? 'WebGPU found no usable adapter although a GPU device exists (driver without Vulkan/Metal/D3D12 support?)' : 'WebGPU found no GPU adapter on this machine',
        ...log,
        actions: [machine.gpuDevice === false ? 'Nothing to fix if this machine has no GPU: wasm is the fastest backend here.' : gpuDriverHint(machine.platform), 'Then restart and check `dlab info`.'],
      },
    ];
  }
  if (w.stage === 'device') {
    return [
      {
        cause: 'webgpu_device_failed',
        backend: 'webgpu',
        severity: 'warn',
        summary: `The WebGPU adapter${w.adapter ? ` (${w.adapter.device || w.adapter.description})` : ''} refused to create a device`,
        ...withDetail,
        actions: ['Update the GPU driver, then restart.', 'Close programs that hold the GPU exclusively, or try another adapter.'],
      },
    ];
  }
  return [
    {
      cause: 'webgpu_failed',
      backend: 'webgpu',
      severity: 'warn',
      summary: 'The webgpu backend failed to start',
      ...withDetail,
      actions: [`Reinstall the WebGPU packages: \`npm install ${WEBGPU_PACKAGES.dawn} ${WEBGPU_PACKAGES.tfjs}\`.`, 'Update the GPU driver, then restart.'],
    },
  ];
}

/** Whether the Vulkan loader Dawn opens (libvulkan.so.1 / vulkan-1.dll) is found (null: not applicable, e.g. macOS). */
export function probeVulkanLoader(platform: string, env: NodeJS.ProcessEnv, pfs: ProbeFs): boolean | null {
  if (platform === 'linux') {
    const lib = 'libvulkan.so.1';
    const cache = safe(() => pfs.readFileSync('/etc/ld.so.cache').toString('latin1'), '');
    const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu'];
    return cache.includes(`${lib}\0`) || dirs.some((d) => pfs.existsSync(path.join(d, lib)));
  }
  if (platform === 'win32') {
    const sysRoot = env.SystemRoot ?? env.windir ?? 'C:\\Windows';
    return pfs.existsSync(path.win32.join(sysRoot, 'System32', 'vulkan-1.dll'));
  }
  return null;
}

/** Whether a GPU device node exists (Linux: /dev/dri/renderD*, /dev/nvidia0; null elsewhere). */
export function probeGpuDevice(platform: string, pfs: ProbeFs): boolean | null {
  if (platform !== 'linux') return null;
  return pfs.existsSync('/dev/nvidia0') || safe(() => pfs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD')), false);
}
