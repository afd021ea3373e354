/**
 * The threaded-SIMD wasm backend in Node (src/core/compute/wasm-threads.ts),
 * each case in a child process of its own (tfjs state is per process; this
 * process's stays untouched): it comes up with the thread count asked for,
 * agrees with the cpu backend, gives the same bytes at 1 and 2 threads, falls
 * back to the plain SIMD build with a reason when threads cannot start, and
 * the child ends by itself (no pthread worker keeps it alive).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ThreadedWasmCheck } from '../../../src/core/compute/wasm-threads-check.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const script = path.join(repoRoot, 'src', 'core', 'compute', 'wasm-threads-check.ts');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const CHILD_LIMIT_MS = 45_000;

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  hung: boolean;
  stdout: string;
  stderr: string;
}

/** Run the check in a child; kill it (and report `hung`) if it has not exited by CHILD_LIMIT_MS. */
function runCheck(args: string[]): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, script, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, CHILD_LIMIT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, hung, stdout, stderr });
    });
  });
}

async function check(args: string[]): Promise<ThreadedWasmCheck> {
  const r = await runCheck(args);
  const what = `check ${args.join(' ')}: stderr: ${r.stderr.slice(-2000)}`;
  expect(r.hung, `${what} — the child did not exit by itself within ${CHILD_LIMIT_MS} ms`).toBe(false);
  expect(r.code, what).toBe(0);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ThreadedWasmCheck;
}

function expectAgreesWithCpu(r: ThreadedWasmCheck): void {
  expect(r.backend).toBe('wasm');
  expect(Object.keys(r.relDiff).sort()).toEqual(['conv2d', 'conv2dGradF', 'conv2dGradX', 'conv2dStride2', 'matMul', 'matMulGradA', 'matMulGradB']);
  for (const [k, d] of Object.entries(r.relDiff)) expect(d, `${k}: max |wasm − cpu| / scale`).toBeLessThan(1e-4);
}

const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-threads-test-'));
afterAll(() => fs.rmSync(emptyDir, { recursive: true, force: true }));

describe('threaded-SIMD wasm backend (child processes)', () => {
  let two: ThreadedWasmCheck | undefined;
  let one: ThreadedWasmCheck | undefined;

  it('starts 2 threads, matches cpu, and the pthreads do share the work', async () => {
    two = await check(['--threads', '2']);
    expect(two.info).toMatchObject({ threaded: true, threads: 2, requested: 2, workers: 1 });
    expect(two.info.reason).toBeUndefined();
    expectAgreesWithCpu(two);
    if (process.platform === 'linux') expect(two.pthreadCpuTicks, 'CPU time of the pthread workers during 20 matMuls').toBeGreaterThan(0);
  });

  it('starts 1 thread, matches cpu, and dispose ends every pthread worker', async () => {
    one = await check(['--threads', '1', '--dispose']);
    expect(one.info).toMatchObject({ threaded: true, threads: 1, requested: 1, workers: 0 });
    expectAgreesWithCpu(one);
    expect(one.workersAfterDispose).toBe(0);
  });

  it('gives bit-identical results at 1 and 2 threads', () => {
    expect(two && one, 'needs both runs above').toBeTruthy();
    expect(two!.hashes).toEqual(one!.hashes);
  });

  it('falls back to the plain SIMD build with a reason when the threaded binary is missing', async () => {
    const r = await check(['--threads', '2', '--wasm-dir', emptyDir]);
    expect(r.info).toMatchObject({ threaded: false, threads: 1, requested: 2, workers: 0 });
    expect(r.info.reason).toMatch(/cannot read .*tfjs-backend-wasm-threaded-simd\.wasm/);
    expectAgreesWithCpu(r);
  });

  it('falls back, and still exits by itself, when the pthread pool does not start in time', async () => {
    const r = await check(['--threads', '2', '--timeout-ms', '1']);
    expect(r.info).toMatchObject({ threaded: false, threads: 1, workers: 0 });
    expect(r.info.reason).toMatch(/did not start within 1 ms/);
    expectAgreesWithCpu(r);
  });
});
