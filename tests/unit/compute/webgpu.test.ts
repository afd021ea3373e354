/**
 * The webgpu backend (src/core/compute/webgpu.ts) on whatever adapter this
 * machine has — in CI Mesa's software rasteriser (llvmpipe) through Dawn's
 * OpenGL ES backend (.ci/run installs the Mesa packages) — each case in a
 * child process of its own (the active tfjs backend is per process; this
 * process's stays untouched):
 *
 * - every kernel the nets and objectives use exists on webgpu, and one step's
 *   loss terms and every gradient agree with cpu (and the losses with wasm),
 *   for each objective on both architectures;
 * - 30 steps on webgpu (stepAsync, Adam on the device) lower the loss; a
 *   checkpoint resumes on webgpu and on wasm, and a wasm checkpoint on webgpu;
 * - a device lost mid-run fails the step with DeviceLostError and keeps the
 *   step counter;
 * - without any adapter the search goes on to wasm and the diagnosis says why.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { objectives } from '../../../src/core/models/registry.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const script = path.join(repoRoot, 'src', 'core', 'training', 'webgpu-check.ts');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function check<T>(args: string[], limitMs: number, env: NodeJS.ProcessEnv = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, script, ...args], {
      cwd: repoRoot,
      env: { ...process.env, DLAB_BACKEND: '', DLAB_WEBGPU_FAIL: '', DLAB_WEBGPU_LOSE_AT_STEP: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`check ${args.join(' ')} exited with ${code ?? signal}: ${stderr.slice(-3000)}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as T);
      } catch (e) {
        reject(new Error(`check ${args.join(' ')}: no JSON result (${String(e)}); stderr: ${stderr.slice(-3000)}`));
      }
    });
  });
}

interface KernelCheck {
  kernelsUsed: string[];
  missingKernels: string[];
  cases: Record<string, { lossVsCpu: number; lossVsWasm: number; gradVsCpu: number; worstGrad: string; grads: number; terms: string[] }>;
}

describe('webgpu backend (child processes)', () => {
  it('runs every kernel of every objective and both nets, forward and gradients, as cpu does (losses as wasm)', { timeout: 420_000 }, async () => {
    const r = await check<KernelCheck>(['--mode', 'kernels'], 400_000);
    expect(r.missingKernels).toEqual([]);
    for (const k of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul', 'Relu', 'Exp', 'Log1p', 'Sum']) expect(r.kernelsUsed).toContain(k);
    const expected = objectives.flatMap((o) => [`${o.id}/conv`, `${o.id}/fc`]).sort();
    expect(Object.keys(r.cases).sort()).toEqual(expected);
    for (const [key, c] of Object.entries(r.cases)) {
      expect(c.grads, `${key}: gradients`).toBeGreaterThan(0);
      expect(c.lossVsCpu, `${key}: loss terms ${c.terms.join(', ')} vs cpu`).toBeLessThan(1e-4);
      expect(c.lossVsWasm, `${key}: loss terms vs wasm`).toBeLessThan(1e-4);
      expect(c.gradVsCpu, `${key}: worst gradient ${c.worstGrad} vs cpu (relative to its scale)`).toBeLessThan(1e-3);
    }
  });

  it('trains 30 steps (loss falls) and checkpoints resume on webgpu and on wasm, and back', { timeout: 420_000 }, async () => {
    const r = await check<{ losses: number[]; resumedGpu: number[]; resumedWasm: number[]; wasmNext: number; gpuNext: number; stepAfter: number }>(['--mode', 'train'], 400_000);
    expect(r.losses).toHaveLength(30);
    for (const l of r.losses) expect(Number.isFinite(l)).toBe(true);
    const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
    expect(mean(r.losses.slice(-5)), r.losses.map((v) => v.toFixed(2)).join(' ')).toBeLessThan(mean(r.losses.slice(0, 5)));
    // the same device from the same checkpoint: the same steps
    expect(r.resumedGpu).toHaveLength(15);
    r.resumedGpu.forEach((l, i) => expect(Math.abs(l - r.losses[15 + i]!) / Math.abs(r.losses[15 + i]!), `webgpu resumed step ${15 + i}`).toBeLessThan(1e-5));
    // another backend from the same checkpoint: the same run up to float rounding
    expect(r.resumedWasm).toHaveLength(15);
    r.resumedWasm.forEach((l, i) => expect(Math.abs(l - r.losses[15 + i]!) / Math.abs(r.losses[15 + i]!), `wasm resumed step ${15 + i}`).toBeLessThan(1e-3));
    expect(Math.abs(r.gpuNext - r.wasmNext) / Math.abs(r.wasmNext), 'a wasm checkpoint continued on webgpu').toBeLessThan(1e-3);
    expect(r.stepAfter).toBe(31);
  });

  it('fails a step whose device is lost with DeviceLostError, keeping the last good step', { timeout: 120_000 }, async () => {
    const r = await check<{ done: number[]; error: string | null; name: string | null; stepAfter: number }>(['--mode', 'lost'], 110_000);
    expect(r.done).toEqual([0, 1]);
    expect(r.name).toBe('DeviceLostError');
    expect(r.error).toMatch(/GPU device was lost \(destroyed/);
    expect(r.error).toMatch(/last checkpoint/);
    expect(r.stepAfter).toBe(2);
  });

  it('without an adapter goes on to wasm and says why, with what to do', { timeout: 120_000 }, async () => {
    const r = await check<{ backend: string; headline: string; findings: { cause: string; backend: string; summary: string; detail?: string; actions: string[] }[] }>(['--mode', 'noadapter'], 110_000);
    expect(r.backend).toBe('wasm');
    const f = r.findings.find((x) => x.backend === 'webgpu' && x.cause !== 'preference');
    expect(f, JSON.stringify(r.findings)).toBeTruthy();
    expect(['webgpu_no_vulkan', 'webgpu_no_adapter']).toContain(f!.cause);
    expect(f!.detail).toMatch(/requestAdapter returned null/);
    expect(f!.actions.join(' ')).toMatch(/driver|Vulkan|wasm/);
  });
});
