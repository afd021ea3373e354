import type { BackendName } from '../../core/compute/backend.js';
import { UsageError, flagList, flagNumber, flagString, type Command } from '../command.js';
import { flagBool } from '../helpers.js';

export const benchTrainCommand: Command = {
  path: ['bench', 'train'],
  summary: 'Time training steps of a model on this machine (backend, ms/step, steps/s, peak RSS), with the PyTorch reference alongside where available.',
  usage:
    'dlab bench train [--model beta_vae] [--arch conv|fc] [--batch 64] [--steps 10] [--warmup 2] [--latent 10] [--dataset dsprites] [--backend tensorflow|wasm|cpu] [--threads 1,N] [--scaling] [--torch PATH|none] [--torch-threads N] [--profile] [--json]',
  async run(ctx) {
    // loaded here, not at start-up: the model registry brings tfjs
    const [{ objectives }, { runTrainBench }] = await Promise.all([import('../../core/models/registry.js'), import('../../core/training/bench.js')]);
    const model = flagString(ctx.args, 'model') ?? 'beta_vae';
    if (!objectives.some((o) => o.id === model)) throw new UsageError(`unknown model '${model}' (known: ${objectives.map((o) => o.id).join(', ')})`);
    const arch = flagString(ctx.args, 'arch') ?? 'conv';
    if (arch !== 'conv' && arch !== 'fc') throw new UsageError(`--arch must be conv or fc, got '${arch}'`);
    const backend = flagString(ctx.args, 'backend');
    if (backend !== undefined && backend !== 'tensorflow' && backend !== 'wasm' && backend !== 'cpu') {
      throw new UsageError(`--backend must be tensorflow, wasm or cpu, got '${backend}'`);
    }
    const torch = flagString(ctx.args, 'torch');
    const torchThreads = flagNumber(ctx.args, 'torch-threads', { integer: true, min: 1 });
    const threads = flagList(ctx.args, 'threads')?.map((t) => {
      const n = Number(t);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--threads takes whole numbers ≥ 1, got '${t}'`);
      return n;
    });
    const r = await runTrainBench({
      model,
      arch,
      batch: flagNumber(ctx.args, 'batch', { integer: true, min: 2 }) ?? 64,
      steps: flagNumber(ctx.args, 'steps', { integer: true, min: 1 }) ?? 10,
      warmup: flagNumber(ctx.args, 'warmup', { integer: true, min: 0 }) ?? 2,
      latent: flagNumber(ctx.args, 'latent', { integer: true, min: 1 }) ?? 10,
      dataset: flagString(ctx.args, 'dataset') ?? 'dsprites',
      ...(backend ? { backend: backend as BackendName } : {}),
      ...(torch !== undefined ? { torchScript: torch === 'none' ? null : torch } : {}),
      ...(torchThreads ? { torchThreads } : {}),
      ...(threads ? { threads } : {}),
      scaling: flagBool(ctx.args, 'scaling'),
      profile: flagBool(ctx.args, 'profile'),
    });
    if (ctx.json) {
      ctx.out(JSON.stringify(r, null, 2));
      return 0;
    }
    ctx.out(`backend:     ${r.backend}`);
    for (const n of r.backendNotes) ctx.out(`  - ${n}`);
    ctx.out(`model:       ${r.model} (${r.arch}, latent ${r.latent}, ${r.parameters.toLocaleString('en')} weights) on ${r.dataset}, batch ${r.batch}`);
    ctx.out(`steps:       ${r.steps} timed after ${r.warmup} warm-up, per thread count`);
    ctx.out('  threads  ours ms/step  cpu ms  steps/s   pytorch ms/step  steps/s');
    const rows = [...new Set([...r.ours.map((o) => o.threads), ...r.torchRuns.map((t) => t.threads ?? 1)])].sort((a, b) => a - b);
    for (const t of rows) {
      const o = r.ours.find((x) => x.threads === t);
      const p = r.torchRuns.find((x) => x.threads === t);
      const oursText = o ? `${o.msPerStep.toFixed(1).padStart(12)}  ${o.cpuMsPerStep.toFixed(1).padStart(6)}  ${o.stepsPerSec.toFixed(2).padStart(7)}${o.threadsUsed !== o.threads ? ` (ran on ${o.threadsUsed})` : ''}` : '           –       –        –';
      const torchText = p ? (p.error ? '   failed' : `${p.msPerStep!.toFixed(1).padStart(16)}  ${p.stepsPerSec!.toFixed(2).padStart(7)}`) : '';
      ctx.out(`  ${String(t).padStart(7)}  ${oursText}   ${torchText}`);
    }
    if (r.ours.length > 1) {
      const base = r.ours[0]!.stepsPerSec;
      ctx.out(`speed-up:    ${r.ours.map((o) => `${o.threads}: ${(o.stepsPerSec / base).toFixed(2)}×`).join('  ')}`);
    }
    if (r.ratio) ctx.out(`ours ÷ pytorch: ${r.ratio.value.toFixed(2)}  (ours best ${r.ratio.oursBest.toFixed(2)} steps/s vs the faster PyTorch ${r.ratio.torchBest.toFixed(2)} steps/s)`);
    ctx.out(`peak RSS:    ${r.peakRssMB.toFixed(0)} MB`);
    ctx.out(`load:        ${r.loadAverage.map((x) => x.toFixed(2)).join(' ')} on ${r.cpus} CPUs`);
    if (r.profile) {
      const p = r.profile;
      const f = (x: number) => x.toFixed(1).padStart(7);
      ctx.out(`profile:     one step, ms (${p.steps} steps, kernels wrapped; total ${p.totalMs.toFixed(1)} ms/step)`);
      ctx.out(`  phase        total  kernels  other (tfjs bookkeeping, our JS)`);
      for (const ph of ['batch', 'forward', 'backward', 'read', 'optimiser'] as const) {
        ctx.out(`  ${ph.padEnd(10)} ${f(p.phases[ph])}  ${f(p.kernelMs[ph])}  ${f(p.phases[ph] - p.kernelMs[ph])}`);
      }
      ctx.out('  kernel family by phase (ms/step, calls/step):');
      for (const x of p.families.filter((x) => x.ms >= 0.05)) ctx.out(`    ${x.family.padEnd(36)} ${x.phase.padEnd(9)} ${f(x.ms)}  ${x.calls.toFixed(0).padStart(4)}`);
      ctx.out('  top kernels:');
      for (const k of p.kernels.slice(0, 10)) ctx.out(`    ${k.kernel.padEnd(24)} ${k.phase.padEnd(9)} ${f(k.ms)}  ${k.calls.toFixed(0).padStart(4)}`);
    }
    if (r.torch) {
      if (r.torch.error) ctx.out(`pytorch:     failed: ${r.torch.error}`);
      else {
        if (!r.torch.comparable) ctx.out('pytorch:     (the reference trains a β-VAE: not the same method)');
        for (const t of r.torchRuns) ctx.out(`  ${t.command}`);
      }
    } else ctx.out('pytorch:     skipped (no reference script; --torch PATH or DLAB_TORCH_BENCH)');
    return 0;
  },
};
