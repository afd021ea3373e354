import type { Lab } from '../../core/lab.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { migPerFactorSeries } from '../../shared/curves.js';
import type { RunConfig, RunQuery, RunSummary } from '../../shared/runs.js';
import { UsageError, flagList, flagNumber, flagString, type CliContext, type Command } from '../command.js';
import { parseSets, withLab } from '../helpers.js';
import { formatDuration, progressLine } from '../progress.js';

/** Follow a run in the foreground until it stops; Ctrl+C pauses it at a checkpoint. */
async function follow(ctx: CliContext, lab: Lab, id: string): Promise<RunSummary> {
  // MIG per factor at each periodic score (stored before it is announced), named by the dataset's factors
  const datasetId = lab.runs.summary(id)?.datasetId;
  let factorNames: string[] = [];
  try {
    if (datasetId) factorNames = (await lab.handlers['datasets/get']({ id: datasetId })).factors.map((f) => f.name);
  } catch {
    /* unnamed: 'factor k' */
  }
  const migPerFactor = (step: number): Record<string, number> | undefined => {
    const at = lab.runs.metricSeries.points(id, 'mig').filter((q) => q.step === step);
    const per = migPerFactorSeries(at, factorNames);
    return per.length ? Object.fromEntries(per.map((f) => [f.name, f.points[0]![1]])) : undefined;
  };
  const offProgress = lab.events.on('runs/progress', (p) => {
    if (p.id !== id) return;
    if (ctx.json) ctx.out(JSON.stringify({ type: 'progress', ...p }));
    else if (ctx.tty) {
      const loss = p.losses.loss ?? Object.values(p.losses)[0] ?? NaN;
      process.stdout.write(progressLine(id, p.step / p.totalSteps, `step ${p.step}/${p.totalSteps} loss ${loss.toFixed(2)} ${p.stepsPerSec.toFixed(2)} it/s eta ${formatDuration(p.etaSec)}`));
    } else if (p.step % Math.max(1, Math.round(p.totalSteps / 20)) === 0) {
      ctx.out(`${id} step ${p.step}/${p.totalSteps} loss ${(p.losses.loss ?? NaN).toFixed(3)} ${p.stepsPerSec.toFixed(2)} steps/s`);
    }
  });
  const offSeries = lab.events.on('runs/seriesPoint', (p) => {
    if (p.id !== id) return;
    const perFactor = 'mig' in p.values ? migPerFactor(p.step) : undefined;
    if (ctx.json) ctx.out(JSON.stringify({ type: 'metrics', ...p, ...(perFactor ? { migPerFactor: perFactor } : {}) }));
    else {
      const vals = Object.entries(p.values).map(([m, v]) => `${m} ${v === null ? 'failed' : v.toFixed(4)}`).join(', ');
      const per = perFactor ? ` · MIG per factor: ${Object.entries(perFactor).map(([f, v]) => `${f} ${v.toFixed(3)}`).join(', ')}` : '';
      ctx.out(`${ctx.tty ? '\n' : ''}${id} step ${p.step}: ${vals} (${p.evalSeconds.toFixed(1)} s)${per}`);
    }
  });
  const offStatus = lab.events.on('runs/status', (p) => {
    if (p.run.id === id && ctx.json) ctx.out(JSON.stringify({ type: 'status', id, status: p.run.status, step: p.run.step, error: p.run.error }));
  });
  const onSigint = () => {
    ctx.err(`\npausing ${id} at a checkpoint (resume: dlab run resume ${id})…`);
    try {
      lab.supervisor.stop(id, 'paused');
    } catch {
      /* already stopping */
    }
  };
  process.once('SIGINT', onSigint);
  try {
    const s = await lab.supervisor.waitFor(id, 2 ** 31 - 1);
    if (ctx.tty && !ctx.json) process.stdout.write('\n');
    return s;
  } finally {
    process.off('SIGINT', onSigint);
    offProgress();
    offSeries();
    offStatus();
  }
}

function printSummary(ctx: CliContext, s: RunSummary): void {
  if (ctx.json) ctx.out(JSON.stringify({ type: 'result', run: s }));
  else ctx.out(`${s.id}: ${s.status} at step ${s.step}/${s.totalSteps}${s.error ? ` — ${s.error}` : ''}`);
}

export const trainCommand: Command = {
  path: ['train'],
  summary: 'Train a model in the foreground (progress bar; JSON lines with --json). Ctrl+C pauses at a checkpoint.',
  usage:
    'dlab train --model M --dataset D [--steps N --batch B --latent Z --seed S --arch conv|fc --lr LR --threads N --set key=value …] [--eval-every N [--eval-metrics mig,dci,… --eval-samples P]] [--evaluate mig,dci,…] [--checkpoint-every N] [--codes N] [--backend tensorflow|webgpu|wasm|cpu] [--json]',
  flags: ['progress-every'],
  async run(ctx) {
    // loaded here, not at start-up: the run defaults come with the model registry (tfjs)
    const { RUN_DEFAULTS } = await import('../../core/training/config.js');
    const model = flagString(ctx.args, 'model');
    const datasetId = flagString(ctx.args, 'dataset');
    if (!model) throw new UsageError('--model is required (see dlab models)');
    if (!datasetId) throw new UsageError('--dataset is required (see dlab datasets)');
    const arch = flagString(ctx.args, 'arch') ?? RUN_DEFAULTS.arch;
    if (arch !== 'conv' && arch !== 'fc') throw new UsageError(`--arch must be conv or fc, got '${arch}'`);
    const steps = flagNumber(ctx.args, 'steps', { integer: true, min: 1 }) ?? RUN_DEFAULTS.steps;
    const config: RunConfig = {
      model,
      params: parseSets(ctx.args),
      datasetId,
      arch,
      latent: flagNumber(ctx.args, 'latent', { integer: true, min: 1 }) ?? RUN_DEFAULTS.latent,
      steps,
      batch: flagNumber(ctx.args, 'batch', { integer: true, min: 2 }) ?? RUN_DEFAULTS.batch,
      seed: flagNumber(ctx.args, 'seed', { integer: true, min: 0 }) ?? 0,
      lr: flagNumber(ctx.args, 'lr', { min: 0 }) ?? RUN_DEFAULTS.lr,
      progressEvery: flagNumber(ctx.args, 'progress-every', { integer: true, min: 1 }) ?? Math.max(1, Math.min(RUN_DEFAULTS.progressEvery, Math.ceil(steps / 100))),
      checkpointEvery: flagNumber(ctx.args, 'checkpoint-every', { integer: true, min: 1 }) ?? Math.min(RUN_DEFAULTS.checkpointEvery, steps),
      codesSamples: flagNumber(ctx.args, 'codes', { integer: true, min: 0 }) ?? RUN_DEFAULTS.codesSamples,
      evaluate: flagList(ctx.args, 'evaluate') ?? [],
    };
    // metric curves: score on a fixed sample every N steps
    const evalEvery = flagNumber(ctx.args, 'eval-every', { integer: true, min: 0 });
    const evalMetrics = flagList(ctx.args, 'eval-metrics');
    const evalSamples = flagNumber(ctx.args, 'eval-samples', { integer: true, min: 16 });
    if (evalEvery === undefined && (evalMetrics || evalSamples !== undefined)) throw new UsageError('--eval-metrics and --eval-samples need --eval-every N');
    if (evalEvery) {
      config.evalEvery = evalEvery;
      if (evalMetrics) config.evalMetrics = evalMetrics;
      if (evalSamples !== undefined) config.evalSamples = evalSamples;
    }
    const threads = flagNumber(ctx.args, 'threads', { integer: true, min: 1 });
    if (threads !== undefined) config.threads = threads;
    const backend = flagString(ctx.args, 'backend');
    if (backend) {
      if (!['tensorflow', 'webgpu', 'wasm', 'cpu'].includes(backend)) throw new UsageError('--backend must be tensorflow, webgpu, wasm or cpu');
      config.backend = backend as RunConfig['backend'];
    }
    return withLab(ctx, async (lab) => {
      const [run] = await lab.handlers['runs/launch']({ config: { ...config, seed: undefined } as never, seeds: [config.seed] });
      if (!ctx.json) ctx.out(`run ${run!.id}: ${model} on ${datasetId}, ${steps} steps, backend ${lab.info().backendLabel ?? lab.info().backend}`);
      const s = await follow(ctx, lab, run!.id);
      printSummary(ctx, s);
      return s.status === 'finished' ? 0 : s.status === 'paused' ? 130 : 1;
    });
  },
};

/** The run query of `dlab runs` flags, checked by the contract's schema. */
export async function runQueryOf(ctx: CliContext): Promise<RunQuery> {
  const { RunQuery } = await import('../../shared/runs.js');
  const list = (f: string) => flagList(ctx.args, f)?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const study = flagString(ctx.args, 'study');
  const raw = {
    text: flagString(ctx.args, 'filter'),
    status: list('status'),
    model: list('model'),
    dataset: list('dataset'),
    tags: list('tag'),
    study: study === 'none' ? null : study,
    from: flagString(ctx.args, 'from'),
    to: flagString(ctx.args, 'to'),
    sort: flagString(ctx.args, 'sort'),
    sortMetric: flagString(ctx.args, 'metric'),
    desc: ctx.args.flags.asc === true ? false : ctx.args.flags.desc === true ? true : undefined,
    offset: flagNumber(ctx.args, 'offset', { integer: true, min: 0 }),
    limit: flagNumber(ctx.args, 'limit', { integer: true, min: 1 }),
  };
  const parsed = RunQuery.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `--${String(i.path[0] ?? '')}: ${i.message}`).join('; '));
  return parsed.data;
}

export const runsCommand: Command = {
  path: ['runs'],
  summary: 'List runs, newest first; filters, sort and pages run in the store (every matching run unless --limit).',
  usage:
    'dlab runs [--filter TEXT] [--status S,S] [--model M] [--dataset D] [--tag T] [--study ID|none] [--from ISO] [--to ISO] [--sort created|started|status|model|dataset|seed|progress|speed|score [--metric M]] [--asc|--desc] [--limit N] [--offset N] [--json]',
  async run(ctx) {
    const q = await runQueryOf(ctx);
    // the store only: listing needs neither the compute backend nor the training supervisor
    const dir = await ctx.labDir();
    const file = path.join(dir, 'lab.sqlite');
    const [{ openDb }, { RunRepository }] = await Promise.all([import('../../core/store/db.js'), import('../../core/store/runs.js')]);
    const db = fs.existsSync(file) ? openDb(file) : null;
    try {
      const repo = db ? new RunRepository(db) : null;
      if (ctx.json) {
        // the full summaries, 500 at a time
        const all: RunSummary[] = [];
        for (let offset = q.offset ?? 0; repo; offset += 500) {
          const p = repo.query({ ...q, offset, limit: q.limit !== undefined ? Math.min(500, q.limit - (offset - (q.offset ?? 0))) : 500 });
          all.push(...p.runs);
          if (p.runs.length < 500 || (q.limit !== undefined && all.length >= q.limit)) break;
        }
        ctx.out(JSON.stringify(all, null, 2));
      } else {
        // a line per run needs only the run's own columns: one pass for every match
        const { runs, total } = repo ? repo.brief({ ...q, limit: q.limit ?? null }) : { runs: [], total: 0 };
        const lines = runs.map((r) => `${r.id}  ${r.status.padEnd(11)} ${r.model.padEnd(12)} ${r.datasetId.padEnd(20)} ${String(r.step).padStart(8)}/${r.totalSteps}  seed ${r.seed}`);
        if (lines.length) ctx.out(lines.join('\n'));
        if (runs.length < total) ctx.err(`${runs.length} of ${total} matching runs shown (--offset/--limit for more)`);
      }
      return 0;
    } finally {
      db?.close();
    }
  },
};

function runId(ctx: CliContext): string {
  const id = ctx.args.positionals[0];
  if (!id) throw new UsageError('a run id is required (see dlab runs)');
  return id;
}

export const runShowCommand: Command = {
  path: ['run', 'show'],
  summary: 'One run: config, status, checkpoints, latest values.',
  usage: 'dlab run show <id> [--json]',
  async run(ctx) {
    const id = runId(ctx);
    return withLab(ctx, async (lab) => {
      const d = await lab.handlers['runs/get']({ id });
      if (ctx.json) ctx.out(JSON.stringify(d, null, 2));
      else {
        ctx.out(`${d.id}: ${d.status}, step ${d.step}/${d.totalSteps}, backend ${d.backend ?? '—'}`);
        ctx.out(`model ${d.model} ${JSON.stringify(d.config.params)} on ${d.datasetId}, ${d.config.arch}, latent ${d.config.latent}, batch ${d.config.batch}, seed ${d.seed}`);
        if (d.error) ctx.out(`error: ${d.error}`);
        for (const [k, v] of Object.entries(d.latest).filter(([k]) => !k.startsWith('kl_dim/'))) ctx.out(`  ${k.padEnd(20)} ${v.toFixed(4)}`);
        for (const c of d.checkpoints) ctx.out(`  checkpoint step ${c.step}: ${c.path} (${(c.size / 1e6).toFixed(1)} MB, sha256 ${c.sha256.slice(0, 12)}…)`);
      }
      return 0;
    });
  },
};

function controlCommand(action: 'cancel' | 'pause'): Command {
  return {
    path: ['run', action],
    summary: action === 'cancel' ? 'Stop a run (its last checkpoint is kept; it can resume).' : 'Pause a run at a checkpoint.',
    usage: `dlab run ${action} <id> [--json]`,
    async run(ctx) {
      const id = runId(ctx);
      return withLab(ctx, async (lab) => {
        const s = await lab.handlers[action === 'cancel' ? 'runs/cancel' : 'runs/pause']({ id });
        if (ctx.json) ctx.out(JSON.stringify(s));
        else ctx.out(s.status === 'running' ? `${id}: ${action} requested; the process training it stops at the next step` : `${id}: ${s.status}`);
        return 0;
      });
    },
  };
}

export const runCancelCommand = controlCommand('cancel');
export const runPauseCommand = controlCommand('pause');

export const runResumeCommand: Command = {
  path: ['run', 'resume'],
  summary:
    'Continue a paused, cancelled or interrupted run from its last checkpoint, in the foreground; --steps N extends its training budget to N steps in all (also a finished run, from its final checkpoint).',
  usage: 'dlab run resume <id> [--steps N] [--json]',
  async run(ctx) {
    const id = runId(ctx);
    const steps = flagNumber(ctx.args, 'steps', { integer: true, min: 1 });
    return withLab(ctx, async (lab) => {
      await lab.handlers['runs/resume']({ id, ...(steps !== undefined ? { steps } : {}) });
      const s = await follow(ctx, lab, id);
      printSummary(ctx, s);
      return s.status === 'finished' ? 0 : s.status === 'paused' ? 130 : 1;
    });
  },
};

export const modelsCommand: Command = {
  path: ['models'],
  summary: 'The trainable methods and their hyperparameters (defaults, ranges, paper values).',
  usage: 'dlab models [--json]',
  async run(ctx) {
    const { modelInfos } = await import('../../core/models/info.js');
    const models = modelInfos();
    if (ctx.json) ctx.out(JSON.stringify(models, null, 2));
    else
      for (const m of models) {
        ctx.out(`${m.id.padEnd(14)} ${m.name} — ${m.description}`);
        for (const p of m.params) ctx.out(`    --set ${p.key}=${p.default}   ${p.label}${p.paperValues ? `  (paper: ${JSON.stringify(p.paperValues)})` : ''}`);
      }
    return 0;
  },
};
