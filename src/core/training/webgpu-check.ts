/**
 * Self-check of the webgpu backend, meant to run in a process of its own
 * (the active tfjs backend is per process):
 *
 *   node --import tsx src/core/training/webgpu-check.ts --mode kernels|train|lost|noadapter [--models a,b] [--archs conv,fc]
 *
 * - kernels: for each objective and architecture, the loss terms and every
 *   gradient of one step on cpu, wasm and webgpu from the same weights and
 *   batch (so every kernel the nets and objectives use runs forward and
 *   backward), the kernels used (tf.profile on cpu) and whether webgpu has
 *   each; differences relative to cpu's scale.
 * - train: 30 steps of beta_vae on webgpu (stepAsync, Adam on the device)
 *   with a checkpoint at 15; 15 steps resumed from it on webgpu and on wasm;
 *   a wasm checkpoint continued on webgpu.
 * - lost: the device destroyed mid-run (DLAB_WEBGPU_LOSE_AT_STEP): the step
 *   fails with DeviceLostError and the step counter keeps its last value.
 * - noadapter: the adapter request fails (DLAB_WEBGPU_FAIL=adapter): the
 *   search goes on to wasm and the diagnosis says why, with what to do.
 * Prints one JSON line, then exits.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DSprites } from '../datasets/dsprites.js';
import { objectives } from '../models/registry.js';
import type { ArchKind } from '../models/architectures.js';
import { createTrainer, type Trainer } from './trainer.js';
import { initBackend, type BackendName } from '../compute/backend.js';
import { DeviceLostError } from '../compute/webgpu.js';

const dataset = new DSprites();

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function on(backend: BackendName): Promise<string> {
  const info = await initBackend({ prefer: backend, asyncReads: true });
  if (info.backend !== backend) throw new Error(`${backend} did not start: ${info.notes.join('; ')}`);
  return tf.getBackend();
}

function make(modelId: string, arch: ArchKind, batch = 2, latent = 3): Trainer {
  return createTrainer({ modelId, dataset, latent, batch, seed: 3, arch, lr: 1e-3 });
}

function relDiff(a: Float32Array, b: Float32Array): number {
  let scale = 1;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!));
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  return a.length === b.length ? d / scale : Infinity;
}

async function kernels() {
  const models = arg('models')?.split(',') ?? objectives.map((o) => o.id);
  const archs = (arg('archs')?.split(',') ?? ['conv', 'fc']) as ArchKind[];
  type Res = { losses: Record<string, number>; grads: Record<string, Float32Array> };
  const ref = new Map<string, Res>();
  const wasm = new Map<string, Res>();
  const used = new Set<string>();
  await on('cpu');
  for (const m of models)
    for (const a of archs) {
      const t = make(m, a);
      let r: Res | null = null;
      const prof = await tf.profile(async () => {
        r = await t.gradientsAsync();
      });
      for (const k of prof.kernelNames) used.add(k);
      ref.set(`${m}/${a}`, r!);
      t.dispose();
    }
  await on('wasm');
  for (const m of models)
    for (const a of archs) {
      const t = make(m, a);
      wasm.set(`${m}/${a}`, await t.gradientsAsync());
      t.dispose();
    }
  await on('webgpu');
  // tf.profile also names composite ops ('logSoftmax__op'): only kernels are looked up
  const missingKernels = [...used].filter((k) => !k.endsWith('__op') && !tf.getKernel(k, 'webgpu')).sort();
  const cases: Record<string, { lossVsCpu: number; lossVsWasm: number; gradVsCpu: number; worstGrad: string; grads: number; terms: string[] }> = {};
  for (const m of models)
    for (const a of archs) {
      const key = `${m}/${a}`;
      const t = make(m, a);
      const g = await t.gradientsAsync();
      t.dispose();
      const c = ref.get(key)!;
      const w = wasm.get(key)!;
      const rel = (x: number, y: number) => Math.abs(x - y) / Math.max(1, Math.abs(y));
      let lossVsCpu = 0;
      let lossVsWasm = 0;
      for (const [k, v] of Object.entries(c.losses)) {
        lossVsCpu = Math.max(lossVsCpu, rel(g.losses[k] ?? NaN, v));
        lossVsWasm = Math.max(lossVsWasm, rel(g.losses[k] ?? NaN, w.losses[k]!));
      }
      let gradVsCpu = 0;
      let worstGrad = '';
      for (const [k, v] of Object.entries(c.grads)) {
        const d = g.grads[k] ? relDiff(v, g.grads[k]) : Infinity;
        if (!(d <= gradVsCpu)) {
          gradVsCpu = d;
          worstGrad = k;
        }
      }
      if (Object.keys(g.grads).length !== Object.keys(c.grads).length) gradVsCpu = Infinity;
      cases[key] = { lossVsCpu, lossVsWasm, gradVsCpu, worstGrad, grads: Object.keys(c.grads).length, terms: Object.keys(c.losses) };
    }
  return { kernelsUsed: [...used].sort(), missingKernels, cases };
}

async function train() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webgpu-check-'));
  try {
    const steps = Number(arg('steps') ?? 30);
    const half = Math.floor(steps / 2);
    const cfg = ['beta_vae', 'conv', 4, 4] as const;
    await on('webgpu');
    const a = make(...cfg);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      if (i === half) await a.save(path.join(dir, 'gpu-half'));
      losses.push((await a.stepAsync()).losses['loss']!);
    }
    a.dispose();
    const b = make(...cfg);
    await b.restore(path.join(dir, 'gpu-half'));
    const resumedGpu: number[] = [];
    while (b.globalStep < steps) resumedGpu.push((await b.stepAsync()).losses['loss']!);
    b.dispose();
    await on('wasm');
    const c = make(...cfg);
    await c.restore(path.join(dir, 'gpu-half'));
    const resumedWasm: number[] = [];
    while (c.globalStep < steps) resumedWasm.push(c.step().losses['loss']!);
    await c.save(path.join(dir, 'wasm-end'));
    const wasmNext = c.step().losses['loss']!;
    c.dispose();
    await on('webgpu');
    const d = make(...cfg);
    await d.restore(path.join(dir, 'wasm-end'));
    const gpuNext = (await d.stepAsync()).losses['loss']!;
    const stepAfter = d.globalStep;
    d.dispose();
    return { losses, resumedGpu, resumedWasm, wasmNext, gpuNext, stepAfter };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function lost() {
  process.env['DLAB_WEBGPU_LOSE_AT_STEP'] = '2';
  await on('webgpu');
  const t = make('beta_vae', 'fc');
  const done: number[] = [];
  let error: string | null = null;
  let name: string | null = null;
  try {
    for (let i = 0; i < 4; i++) done.push((await t.stepAsync()).step);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    name = e instanceof DeviceLostError ? 'DeviceLostError' : e instanceof Error ? e.name : typeof e;
  }
  return { done, error, name, stepAfter: t.globalStep };
}

async function noadapter() {
  process.env['DLAB_WEBGPU_FAIL'] = 'adapter';
  const info = await initBackend({ prefer: 'webgpu', asyncReads: true });
  return { backend: info.backend, findings: info.diagnosis?.findings ?? [], headline: info.diagnosis?.headline ?? '' };
}

const mode = arg('mode');
const run = mode === 'kernels' ? kernels : mode === 'train' ? train : mode === 'lost' ? lost : mode === 'noadapter' ? noadapter : null;
if (!run) {
  process.stderr.write('usage: webgpu-check.ts --mode kernels|train|lost|noadapter\n');
  process.exit(2);
}
run()
  .then((r) => {
    process.stdout.write('\n' + JSON.stringify(r) + '\n');
    process.exit(0);
  })
  .catch((e: unknown) => {
    process.stderr.write(`webgpu-check failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
