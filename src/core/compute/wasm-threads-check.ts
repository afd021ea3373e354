/**
 * Self-check of the threaded-SIMD wasm backend, meant to run in a process of
 * its own (tfjs state is per process):
 *
 *   node --import tsx src/core/compute/wasm-threads-check.ts --threads 2 [--dispose] [--timeout-ms N] [--wasm-dir DIR]
 *
 * Brings up 'wasm' through initThreadedWasm() with the project's training
 * kernels registered (as backend.ts does), computes a 256×256 matMul, a conv2d
 * and their gradients (the project's BatchMatMul / Conv2DBackprop* kernels) on
 * seeded inputs, and the same on 'cpu', then prints one JSON line: the
 * backend's report, the largest difference from cpu relative to the result's
 * scale, and a hash of each wasm result's bytes (to compare thread counts).
 * It then returns without process.exit(): the process must end by itself.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from './kernels/index.js';
import { disposeThreadedWasm, initThreadedWasm, type ThreadedWasmInfo } from './wasm-threads.js';

export interface ThreadedWasmCheck {
  info: ThreadedWasmInfo;
  backend: string;
  /** max |wasm − cpu| / max(1, max |cpu|), per result */
  relDiff: Record<string, number>;
  /** sha256 (first 16 hex digits) of each wasm result's float32 bytes */
  hashes: Record<string, string>;
  /**
   * Linux only (else null): CPU time, in clock ticks, that threads started by
   * initThreadedWasm() spent during 20 matMuls of 512×512 — above 0 when the
   * pthreads really share the work.
   */
  pthreadCpuTicks: number | null;
  /** pthread workers left running after --dispose (0 expected) */
  workersAfterDispose?: number;
}

/** A small seeded generator (mulberry32 + Box–Muller): the same inputs in every process. */
function normals(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const uni = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(uni() + 1e-12)) * Math.cos(2 * Math.PI * uni());
  return out;
}

function compute(): Record<string, Float32Array> {
  const a = tf.tensor2d(normals(256 * 256, 1), [256, 256]);
  const b = tf.tensor2d(normals(256 * 256, 2), [256, 256]);
  const x = tf.tensor4d(normals(2 * 16 * 16 * 3, 3), [2, 16, 16, 3]);
  const f = tf.tensor4d(normals(3 * 3 * 3 * 8, 4), [3, 3, 3, 8]);
  const out: Record<string, tf.Tensor> = {
    matMul: tf.matMul(a, b),
    conv2d: tf.conv2d(x, f, 1, 'same'),
    conv2dStride2: tf.conv2d(x, f, 2, 'valid'),
  };
  // gradients: matMul's are transposed matMuls; conv2d's are Conv2DBackpropInput / Filter
  const [ga, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q).square().mean())([a, b]);
  const [gx, gf] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, 'same').square().sum())([x, f]);
  Object.assign(out, { matMulGradA: ga, matMulGradB: gb, conv2dGradX: gx, conv2dGradF: gf });
  const vals: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(out)) vals[k] = Float32Array.from(t.dataSync() as Float32Array);
  tf.dispose([a, b, x, f, ...Object.values(out)]);
  return vals;
}

/** CPU ticks (user + system) of each thread of this process, by thread id (Linux /proc; null elsewhere). */
function threadTicks(): Map<string, number> | null {
  try {
    const out = new Map<string, number>();
    for (const tid of fs.readdirSync('/proc/self/task')) {
      try {
        const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(tid, Number(fields[11]) + Number(fields[12])); // utime, stime
      } catch {
        /* the thread ended meanwhile */
      }
    }
    return out;
  } catch {
    return null;
  }
}

export async function checkThreadedWasm(args: { threads: number; dispose?: boolean; timeoutMs?: number; wasmDir?: string }): Promise<ThreadedWasmCheck> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dist = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
  wasm.setWasmPaths(dist); // the fallback's binaries (as backend.ts does)
  registerWasmTrainingKernels(tf);
  const before = threadTicks();
  const info = await initThreadedWasm(tf, {
    threads: args.threads,
    ...(args.timeoutMs !== undefined ? { timeoutMs: args.timeoutMs } : {}),
    ...(args.wasmDir !== undefined ? { wasmDir: args.wasmDir } : {}),
  });
  const backend = tf.getBackend();
  const onWasm = compute();
  let pthreadCpuTicks: number | null = null;
  const started = threadTicks();
  if (before && started) {
    const a = tf.tensor2d(normals(512 * 512, 5), [512, 512]);
    for (let i = 0; i < 20; i++) {
      const r = tf.matMul(a, a);
      r.dataSync();
      r.dispose();
    }
    a.dispose();
    const after = threadTicks()!;
    pthreadCpuTicks = 0;
    for (const [tid, t] of after) if (!before.has(tid) && started.has(tid)) pthreadCpuTicks += t - started.get(tid)!;
  }
  await tf.setBackend('cpu');
  const cpuBackend = tf.backend() as { firstUse?: boolean };
  if ('firstUse' in cpuBackend) cpuBackend.firstUse = false;
  const onCpu = compute();
  const relDiff: Record<string, number> = {};
  const hashes: Record<string, string> = {};
  for (const [k, w] of Object.entries(onWasm)) {
    const c = onCpu[k]!;
    let scale = 1;
    let worst = w.length === c.length ? 0 : Infinity;
    for (let i = 0; i < c.length; i++) {
      scale = Math.max(scale, Math.abs(c[i]!));
      worst = Math.max(worst, Math.abs(w[i]! - c[i]!));
    }
    relDiff[k] = worst / scale;
    hashes[k] = createHash('sha256').update(Buffer.from(w.buffer, w.byteOffset, w.byteLength)).digest('hex').slice(0, 16);
  }
  const result: ThreadedWasmCheck = { info, backend, relDiff, hashes, pthreadCpuTicks };
  if (args.dispose) {
    const b = tf.findBackend('wasm') as { wasm?: { PThread?: { runningWorkers: unknown[] } } } | null;
    const pt = b?.wasm?.PThread;
    disposeThreadedWasm(tf);
    result.workersAfterDispose = pt ? pt.runningWorkers.length : 0;
  }
  return result;
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const argv = process.argv.slice(2);
  const timeout = flag(argv, '--timeout-ms');
  const wasmDir = flag(argv, '--wasm-dir');
  checkThreadedWasm({
    threads: Number(flag(argv, '--threads') ?? '2'),
    dispose: argv.includes('--dispose'),
    ...(timeout !== undefined ? { timeoutMs: Number(timeout) } : {}),
    ...(wasmDir !== undefined ? { wasmDir } : {}),
  }).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
