/**
 * Training-speed benchmark: time optimisation steps of one model on the
 * current backend, and (where available) the PyTorch reference step of the
 * same β-VAE architecture in the same run, so both numbers see the same load.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBuiltin } from '../datasets/registry.js';
import type { ArchKind } from '../models/architectures.js';
import type { BackendName } from '../compute/backend.js';
import { initBackend } from '../compute/backend.js';
import { MAX_WASM_THREADS } from '../compute/wasm-threads.js';
import { createTrainer } from './trainer.js';
import { kernelFamily, profileKernels, type KernelTime, type StepPhase } from '../compute/profile.js';

/**
 * The project's PyTorch reference script, `scripts/bench/torch_vae_step.py`,
 * found by walking up from this module to the folder with package.json
 * (override with --torch PATH or DLAB_TORCH_BENCH).
 */
export function defaultTorchScript(from = path.dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from, i = 0; i < 8; i++, dir = path.dirname(dir)) {
    const p = path.join(dir, 'scripts', 'bench', 'torch_vae_step.py');
    if (fs.existsSync(p) && fs.existsSync(path.join(dir, 'package.json'))) return p;
    if (path.dirname(dir) === dir) break;
  }
  return null;
}

export interface TrainBenchOptions {
  model: string;
  arch: ArchKind;
  batch: number;
  steps: number;
  warmup?: number;
  latent?: number;
  dataset?: string;
  seed?: number;
  params?: Record<string, unknown>;
  backend?: BackendName;
  /** Path of the PyTorch reference script, or null to skip it. Default: DLAB_TORCH_BENCH, else the project's scripts/bench/torch_vae_step.py. */
  torchScript?: string | null;
  torchThreads?: number;
  python?: string;
  /** Time one step per kernel and phase (a separate pass after the timed steps, on the first thread count). */
  profile?: boolean;
  /** Thread counts to time ours at (default: 1 and all cores, or the scaling series). */
  threads?: number[];
  /** 1, 2, 4, … up to the cores, ours and PyTorch. */
  scaling?: boolean;
}

export interface TorchResult {
  command: string;
  msPerStep?: number;
  stepsPerSec?: number;
  error?: string;
  /** Same method (β-VAE), architecture, batch, latent size and channels as ours. */
  comparable: boolean;
  threads?: number;
}

export interface TrainBenchResult {
  backend: BackendName;
  backendNotes: string[];
  model: string;
  arch: ArchKind;
  dataset: string;
  batch: number;
  latent: number;
  steps: number;
  warmup: number;
  parameters: number;
  msPerStep: number;
  stepsPerSec: number;
  /** CPU time of this process per step (≈ wall time on an idle machine; the wasm backend is single-threaded). */
  cpuMsPerStep: number;
  peakRssMB: number;
  loadAverage: number[];
  cpus: number;
  node: string;
  lastLosses: Record<string, number>;
  /** Ours at each thread count (the top-level ms/step figures are the first, 1 thread). */
  ours: OursTiming[];
  /** The faster PyTorch run. */
  torch: TorchResult | null;
  /** PyTorch at each thread count. */
  torchRuns: TorchResult[];
  /** Ours (best thread count) ÷ the faster PyTorch, in steps/s. */
  ratio: { oursBest: number; torchBest: number; value: number } | null;
  profile?: StepProfile;
}

/** ms per step by phase, by kernel family within each phase, and the top kernels. */
export interface StepProfile {
  steps: number;
  totalMs: number;
  phases: Record<StepPhase, number>;
  /** Time inside kernels per phase; the rest of a phase is tfjs bookkeeping and our own JS. */
  kernelMs: Record<StepPhase, number>;
  families: { family: string; phase: StepPhase; ms: number; calls: number }[];
  kernels: KernelTime[];
}

function summarise(steps: number, phases: Record<StepPhase, number>, kernels: KernelTime[]): StepProfile {
  const per = (x: number) => x / steps;
  const kernelMs: Record<StepPhase, number> = { batch: 0, forward: 0, backward: 0, read: 0, optimiser: 0 };
  const fam = new Map<string, { family: string; phase: StepPhase; ms: number; calls: number }>();
  for (const k of kernels) {
    kernelMs[k.phase] += per(k.ms);
    const key = `${kernelFamily(k.kernel)}|${k.phase}`;
    const f = fam.get(key) ?? { family: kernelFamily(k.kernel), phase: k.phase, ms: 0, calls: 0 };
    f.ms += per(k.ms);
    f.calls += k.calls / steps;
    fam.set(key, f);
  }
  const ph = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, per(v)])) as Record<StepPhase, number>;
  return {
    steps,
    totalMs: Object.values(ph).reduce((a, b) => a + b, 0),
    phases: ph,
    kernelMs,
    families: [...fam.values()].sort((a, b) => b.ms - a.ms),
    kernels: kernels.map((k) => ({ ...k, ms: per(k.ms), calls: k.calls / steps })).slice(0, 15),
  };
}

export function torchScriptPath(given?: string | null): string | null {
  if (given === null) return null;
  const p = given ?? process.env['DLAB_TORCH_BENCH'] ?? defaultTorchScript();
  return p && fs.existsSync(p) ? p : null;
}

export interface TorchWorkload {
  arch: ArchKind;
  threads: number;
  steps: number;
  batch: number;
  latent: number;
  channels: number;
}

/** Run the PyTorch reference on the same workload and parse its line; a missing PyTorch is said in one line. */
export function runTorchReference(script: string, w: TorchWorkload, python = process.env['DLAB_PYTHON'] ?? 'python3'): Promise<TorchResult> {
  const args = [script, '--arch', w.arch, '--threads', String(w.threads), '--steps', String(w.steps), '--batch', String(w.batch), '--latent', String(w.latent), '--channels', String(w.channels)];
  const command = [python, ...args].join(' ');
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => resolve({ command, error: e.message, comparable: false }));
    child.on('close', (code) => {
      const m = /ms\/step=([\d.]+)\s+steps\/s=([\d.]+)/.exec(out);
      if (code !== 0 || !m) {
        const missing = /No module named '?torch'?/.test(err);
        resolve({ command, error: missing ? 'PyTorch is not installed for this python (Debian: apt-get install python3-torch)' : (err.trim().split('\n').pop() ?? '') || `exit code ${code}`, comparable: false });
        return;
      }
      resolve({ command, msPerStep: Number(m[1]), stepsPerSec: Number(m[2]), comparable: false });
    });
  });
}

/**
 * The reference on the first python that has PyTorch: DLAB_PYTHON or the
 * given one, else `python3` on PATH, else the system's (Debian's
 * python3-torch installs for /usr/bin/python3, which a pyenv or venv python3
 * on PATH shadows).
 */
export async function torchReference(script: string, w: TorchWorkload, python?: string): Promise<TorchResult> {
  const candidates = python ? [python] : process.env['DLAB_PYTHON'] ? [process.env['DLAB_PYTHON']] : ['python3', '/usr/bin/python3'];
  let last: TorchResult | null = null;
  for (const py of [...new Set(candidates)]) {
    last = await runTorchReference(script, w, py);
    if (!last.error || !/PyTorch is not installed|ENOENT/.test(last.error)) return last;
  }
  return last!;
}

/** Thread counts of a bench: 1 and all usable cores (at most the wasm build's 8), or 1, 2, 4, … up to them for the scaling table. */
export function benchThreadCounts(cores: number, scaling: boolean): number[] {
  const n = Math.max(1, Math.min(MAX_WASM_THREADS, cores));
  if (!scaling) return [...new Set([1, n])];
  const out: number[] = [];
  for (let t = 1; t < n; t *= 2) out.push(t);
  out.push(n);
  return [...new Set(out)];
}

interface OursTiming {
  threads: number;
  /** What the backend really used (the threaded build may be unavailable). */
  threadsUsed: number;
  msPerStep: number;
  stepsPerSec: number;
  cpuMsPerStep: number;
}

export async function runTrainBench(opts: TrainBenchOptions): Promise<TrainBenchResult> {
  const datasetId = opts.dataset ?? 'dsprites';
  const entry = findBuiltin(datasetId);
  if (!entry) throw new Error(`unknown built-in dataset '${datasetId}'`);
  const latent = opts.latent ?? 10;
  const warmup = opts.warmup ?? 2;
  const cores = os.availableParallelism();
  const counts = opts.threads ?? benchThreadCounts(cores, opts.scaling ?? false);
  const ours: OursTiming[] = [];
  let info: Awaited<ReturnType<typeof initBackend>> | null = null;
  let parameters = 0;
  let last: Record<string, number> = {};
  let profile: StepProfile | undefined;
  for (const threads of counts) {
    info = await initBackend({ ...(opts.backend ? { prefer: opts.backend } : {}), threads });
    const trainer = createTrainer({ modelId: opts.model, params: opts.params ?? {}, dataset: entry.create(), latent, batch: opts.batch, seed: opts.seed ?? 0, arch: opts.arch });
    try {
      parameters = trainer.parameterCount;
      for (let i = 0; i < warmup; i++) last = trainer.step().losses;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < opts.steps; i++) last = trainer.step().losses;
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(c0);
      ours.push({ threads, threadsUsed: info.threads ?? 1, msPerStep: wall / opts.steps, stepsPerSec: (1000 * opts.steps) / wall, cpuMsPerStep: (cpu.user + cpu.system) / 1000 / opts.steps });
      if (opts.profile && !profile) profile = profileStep(trainer, opts.steps);
    } finally {
      trainer.dispose();
    }
  }
  const first = ours[0]!;
  const result: TrainBenchResult = {
    backend: info!.backend,
    backendNotes: info!.notes,
    model: opts.model,
    arch: opts.arch,
    dataset: datasetId,
    batch: opts.batch,
    latent,
    steps: opts.steps,
    warmup,
    parameters,
    msPerStep: first.msPerStep,
    stepsPerSec: first.stepsPerSec,
    cpuMsPerStep: first.cpuMsPerStep,
    ours,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    loadAverage: os.loadavg(),
    cpus: cores,
    node: process.version,
    lastLosses: last,
    torch: null,
    torchRuns: [],
    ratio: null,
    ...(profile ? { profile } : {}),
  };
  const script = torchScriptPath(opts.torchScript);
  if (script) {
    const channels = entry.info.imageShape[2];
    const torchCounts = opts.torchThreads ? [opts.torchThreads] : counts;
    for (const threads of torchCounts) {
      const t = await torchReference(script, { arch: opts.arch, threads, steps: Math.max(3, opts.steps), batch: opts.batch, latent, channels }, opts.python);
      t.comparable = opts.model === 'beta_vae';
      t.threads = threads;
      result.torchRuns.push(t);
    }
    const ok = result.torchRuns.filter((t) => t.stepsPerSec !== undefined);
    result.torch = ok.length ? ok.reduce((a, b) => (b.stepsPerSec! > a.stepsPerSec! ? b : a)) : result.torchRuns[0] ?? null;
    if (result.torch?.stepsPerSec) {
      const best = Math.max(...ours.map((o) => o.stepsPerSec));
      result.ratio = { oursBest: best, torchBest: result.torch.stepsPerSec, value: best / result.torch.stepsPerSec };
    }
  }
  return result;
}

function profileStep(trainer: ReturnType<typeof createTrainer>, steps: number): StepProfile {
  const prof = profileKernels(trainer.tf);
  try {
    trainer.probe = prof;
    trainer.step(); // once with the wrappers in place before counting
    prof.reset();
    for (let i = 0; i < steps; i++) trainer.step();
    prof.enter('batch');
    return summarise(steps, prof.phases(), prof.kernels());
  } finally {
    trainer.probe = null;
    prof.restore();
  }
}
