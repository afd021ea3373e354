/**
 * The webgpu part of the compute diagnosis (pure classifier, no GPU needed):
 * not installed, Dawn's module failing, no Vulkan loader, no adapter, a
 * device refused, a software adapter, the adapter used by runs, a device
 * lost mid-run — each explained with what to do; plus the adapter label
 * runs record and the Vulkan/GPU-device probes.
 */
import { describe, expect, it } from 'vitest';
import { deviceLostFinding, diagnoseCompute, probeMachine, type BackendAttempt, type MachineProbe, type ProbeFs } from '../../../src/core/compute/diagnose.js';
import { adapterLabel, type WebgpuAdapterInfo, type WebgpuAttempt } from '../../../src/core/compute/webgpu.js';
import { backendLabel } from '../../../src/core/compute/backend.js';
import { ComputeDiagnosis } from '../../../src/shared/requests/app.js';

const machine = (over: Partial<MachineProbe> = {}): MachineProbe => ({
  platform: 'linux',
  arch: 'x64',
  package: { installed: false },
  nvidia: { driver: false, driverVersion: null, gpus: [] },
  missingLibraries: null,
  vulkanLoader: true,
  gpuDevice: false,
  ...over,
});

const notInstalled = Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node-gpu' imported from /app/x.js"), { code: 'ERR_MODULE_NOT_FOUND' });

const attempt = (webgpu: WebgpuAttempt, prefer: BackendAttempt['prefer'] = 'tensorflow'): BackendAttempt => ({
  prefer,
  tensorflow: { attempted: prefer === 'tensorflow', ...(prefer === 'tensorflow' ? { error: notInstalled, stage: 'import' as const } : {}) },
  webgpu,
  wasm: { attempted: true, simd: true },
});

const gpu: WebgpuAdapterInfo = {
  vendor: 'nvidia',
  architecture: 'ampere',
  device: 'NVIDIA GeForce RTX 3090',
  description: 'NVIDIA: 535.104.05',
  via: 'default',
  software: false,
  limits: { maxBufferSize: 2 ** 32, maxStorageBufferBindingSize: 2 ** 31, maxComputeWorkgroupSizeX: 1024, maxComputeInvocationsPerWorkgroup: 1024 },
};
const llvmpipe: WebgpuAdapterInfo = { ...gpu, vendor: '', architecture: '', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version OpenGL ES 3.2 Mesa 22.3.6', via: 'software', software: true };

function finding(d: ComputeDiagnosis, cause: string) {
  const f = d.findings.find((x) => x.cause === cause);
  expect(f, `${cause} in ${JSON.stringify(d.findings.map((x) => x.cause))}`).toBeTruthy();
  return f!;
}

describe('webgpu diagnosis', () => {
  it('the packages are not installed: says which to install', () => {
    const e = Object.assign(new Error("Cannot find package 'webgpu' imported from /app/out/x.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    const d = diagnoseCompute({ backend: 'wasm', attempt: attempt({ attempted: true, stage: 'import', error: e }), machine: machine({ gpuDevice: true }) });
    const f = finding(d, 'webgpu_not_installed');
    expect(f.severity).toBe('warn');
    expect(f.actions[0]).toMatch(/npm install webgpu@0\.6\.2 @tensorflow\/tfjs-backend-webgpu@4\.22\.0/);
    expect(ComputeDiagnosis.parse(d)).toBeTruthy();
  });

  it("Dawn's native module fails to load: reinstall, asarUnpack", () => {
    const e = new Error('/app/node_modules/webgpu/dist/linux-x64/dawn.node: invalid ELF header');
    const d = diagnoseCompute({ backend: 'wasm', attempt: attempt({ attempted: true, stage: 'import', error: e }), machine: machine() });
    const f = finding(d, 'webgpu_failed');
    expect(f.detail).toMatch(/invalid ELF header/);
    expect(f.actions.join(' ')).toMatch(/asarUnpack/);
  });

  it('no Vulkan loader on Linux: names libvulkan.so.1 and the driver to install', () => {
    const w: WebgpuAttempt = { attempted: true, stage: 'adapter', error: new Error('no WebGPU adapter'), dawnLog: 'default: no adapter' };
    const d = diagnoseCompute({ backend: 'wasm', attempt: attempt(w), machine: machine({ vulkanLoader: false, gpuDevice: true }) });
    const f = finding(d, 'webgpu_no_vulkan');
    expect(f.severity).toBe('warn');
    expect(f.summary).toMatch(/libvulkan\.so\.1/);
    expect(f.actions.join(' ')).toMatch(/nvidia-driver|mesa-vulkan-drivers/);
    expect(f.actions.join(' ')).toMatch(/libvulkan1/);
    expect(f.detail).toMatch(/default: no adapter/);
  });

  it('no adapter and no GPU device: nothing to fix, wasm is the fastest here', () => {
    const w: WebgpuAttempt = { attempted: true, stage: 'adapter', error: new Error('no WebGPU adapter') };
    const d = diagnoseCompute({ backend: 'wasm', attempt: attempt(w), machine: machine({ gpuDevice: false }) });
    const f = finding(d, 'webgpu_no_adapter');
    expect(f.severity).toBe('info');
    expect(f.actions[0]).toMatch(/no GPU: wasm is the fastest/);
  });

  it('no adapter although a GPU exists (macOS, Windows): the driver to update', () => {
    const w: WebgpuAttempt = { attempted: true, stage: 'adapter', error: new Error('no WebGPU adapter') };
    for (const [platform, want] of [['win32', /GPU vendor’s driver/], ['darwin', /Metal/]] as const) {
      const d = diagnoseCompute({ backend: 'wasm', attempt: attempt(w), machine: machine({ platform, vulkanLoader: null, gpuDevice: null }) });
      expect(finding(d, 'webgpu_no_adapter').actions[0]).toMatch(want);
    }
  });

  it('the adapter refuses a device: update the driver', () => {
    const w: WebgpuAttempt = { attempted: true, stage: 'device', error: new Error('requestDevice: limit exceeded'), adapter: gpu };
    const d = diagnoseCompute({ backend: 'wasm', attempt: attempt(w), machine: machine({ gpuDevice: true }) });
    const f = finding(d, 'webgpu_device_failed');
    expect(f.summary).toMatch(/RTX 3090/);
    expect(f.detail).toMatch(/limit exceeded/);
  });

  it('training on a software adapter: says so and reports the adapter', () => {
    const d = diagnoseCompute({ backend: 'webgpu', attempt: attempt({ attempted: true, adapter: llvmpipe }, 'webgpu'), machine: machine() });
    expect(finding(d, 'webgpu_software').summary).toMatch(/llvmpipe/);
    expect(d.headline).toMatch(/^webgpu \(llvmpipe\)/);
    expect(d.machine.webgpu).toMatchObject({ device: llvmpipe.device, software: true, via: 'software' });
    expect(d.machine.usingGpu).toBe(false);
    expect(ComputeDiagnosis.parse(d).machine.webgpu?.limits['maxStorageBufferBindingSize']).toBe(2 ** 31);
  });

  it('training on a real GPU: the best there is, CUDA findings only informative', () => {
    const d = diagnoseCompute({ backend: 'webgpu', attempt: attempt({ attempted: true, adapter: gpu }), machine: machine({ gpuDevice: true, nvidia: { driver: true, driverVersion: '535.104.05', gpus: ['NVIDIA GeForce RTX 3090'] } }) });
    expect(d.findings.every((f) => f.severity === 'info')).toBe(true);
    expect(d.best).toBe(true);
    expect(d.machine.usingGpu).toBe(true);
    expect(d.headline).toMatch(/^webgpu \(NVIDIA GeForce RTX 3090\)/);
  });

  it('a process that reads synchronously reports the adapter its runs train on', () => {
    const d = diagnoseCompute({ backend: 'wasm', attempt: attempt({ attempted: true, adapter: gpu, hostOnly: true }), machine: machine({ gpuDevice: true }) });
    expect(finding(d, 'webgpu_runs').summary).toMatch(/Training runs compute on WebGPU \(NVIDIA GeForce RTX 3090\)/);
    expect(d.machine.webgpu?.device).toBe('NVIDIA GeForce RTX 3090');
    expect(backendLabel({ backend: 'wasm', webgpuForRuns: gpu })).toBe('wasm; runs train on webgpu (NVIDIA GeForce RTX 3090)');
  });

  it('a device lost mid-run: resume from the last checkpoint', () => {
    const f = deviceLostFinding('unknown: GPU hung');
    expect(f.severity).toBe('warn');
    expect(f.summary).toMatch(/lost mid-run \(unknown: GPU hung\)/);
    expect(f.actions[0]).toMatch(/Resume the run.*last checkpoint/);
  });

  it('labels adapters as runs record them', () => {
    expect(adapterLabel(llvmpipe)).toBe('llvmpipe');
    expect(adapterLabel(gpu)).toBe('NVIDIA GeForce RTX 3090');
    expect(adapterLabel({ vendor: 'apple', architecture: 'metal-3', device: '', description: '' })).toBe('apple metal-3');
    expect(backendLabel({ backend: 'webgpu', adapter: llvmpipe })).toBe('webgpu (llvmpipe)');
    expect(backendLabel({ backend: 'wasm' })).toBe('wasm');
  });

  it('probes the Vulkan loader and GPU device nodes from files', () => {
    const files = (list: string[]): ProbeFs => ({
      existsSync: (p) => list.some((f) => f === p || f.startsWith(p + '/')),
      readFileSync: () => {
        throw new Error('ENOENT');
      },
      readdirSync: (p) => {
        const names = list.filter((f) => f.startsWith(p + '/')).map((f) => f.slice(p.length + 1).split('/')[0]!);
        if (!names.length) throw new Error('ENOENT');
        return names;
      },
    });
    const yes = probeMachine({ platform: 'linux', arch: 'x64', env: {}, packageDir: null, fs: files(['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/dev/dri/renderD128']) });
    expect(yes.vulkanLoader).toBe(true);
    expect(yes.gpuDevice).toBe(true);
    const no = probeMachine({ platform: 'linux', arch: 'x64', env: {}, packageDir: null, fs: files(['/dev/dri/card0']) });
    expect(no.vulkanLoader).toBe(false);
    expect(no.gpuDevice).toBe(false);
    expect(probeMachine({ platform: 'darwin', arch: 'arm64', env: {}, packageDir: null, fs: files([]) }).vulkanLoader).toBeNull();
  });
});
