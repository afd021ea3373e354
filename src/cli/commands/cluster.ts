/**
 * Studies on a Slurm cluster: `dlab study submit|status|cancel|resubmit|collect`
 * and the task each array index runs, `dlab cluster task` (internal: the
 * generated sbatch script calls it).
 */
import * as path from 'node:path';
import type { Lab } from '../../core/lab.js';
import type { ClusterCellStatus } from '../../core/cluster/service.js';
import { UsageError, flagList, flagNumber, flagString, type CliContext, type Command } from '../command.js';
import { flagBool, withLab } from '../helpers.js';

async function cluster(lab: Lab) {
  const { ClusterService } = await import('../../core/cluster/service.js');
  return new ClusterService(lab);
}

function studyArg(ctx: CliContext): string {
  const id = ctx.args.positionals[0];
  if (!id) throw new UsageError('a study id is required (see dlab study list)');
  return id;
}

/** A study id, or a preset (zietlow2021 …) made into a study the way `dlab reproduce` does (the same one again if it exists). */
async function resolveStudy(ctx: CliContext, lab: Lab, idOrPreset: string): Promise<string> {
  if (lab.studies.repo.get(idOrPreset)) return idOrPreset;
  const [{ canonicalJson }, { getPreset, presetToSpec }] = await Promise.all([import('../../core/perturbations/derived.js'), import('../../core/studies/presets.js')]);
  let spec;
  try {
    const datasets = flagList(ctx.args, 'datasets');
    const methods = flagList(ctx.args, 'methods');
    const seeds = flagNumber(ctx.args, 'seeds', { integer: true, min: 1 });
    spec = presetToSpec(getPreset(idOrPreset), { scale: flagString(ctx.args, 'scale') ?? 'quick', ...(datasets ? { datasets } : {}), ...(methods ? { methods } : {}), ...(seeds !== undefined ? { seeds } : {}) });
  } catch (e) {
    throw new UsageError(`'${idOrPreset}' is neither a study here nor a preset: ${(e as Error).message}`);
  }
  const same = lab.studies.repo.list().find((s) => canonicalJson(s.spec) === canonicalJson(spec));
  const study = same ?? lab.studies.create(spec);
  if (!ctx.json) ctx.err(`${same ? 'using' : 'created'} study ${study.id} from preset ${idOrPreset}`);
  return study.id;
}

export const studySubmitCommand: Command = {
  path: ['study', 'submit'],
  summary: 'Run a study on a Slurm cluster: one array task per cell it lacks, in a job folder inside the lab; --dry-run prints the script.',
  usage:
    'dlab study submit <study-id | preset> --slurm [--partition P] [--gres gpu:1] [--cpus-per-task N] [--mem M] [--time HH:MM:SS] [--account A] [--qos Q] [--array-limit K] [--extra "#SBATCH …"] [--dry-run] [--scale quick|demo|demo-10k|full --methods … --datasets … --seeds N] [--json]',
  async run(ctx) {
    const id = studyArg(ctx);
    if (!flagBool(ctx.args, 'slurm')) throw new UsageError('say where: --slurm (the only scheduler so far)');
    const dryRun = flagBool(ctx.args, 'dry-run');
    const cpus = flagNumber(ctx.args, 'cpus-per-task', { integer: true, min: 1 });
    const limit = flagNumber(ctx.args, 'array-limit', { integer: true, min: 1 });
    const time = flagString(ctx.args, 'time');
    if (time && !/^(\d+-)?\d{1,3}(:\d{2}){0,2}$/.test(time)) throw new UsageError(`--time is [D-]HH:MM:SS, got '${time}'`);
    const extraRaw = ctx.args.flags.extra;
    const extra = extraRaw === undefined || extraRaw === false ? undefined : (Array.isArray(extraRaw) ? extraRaw : [extraRaw]).map(String);
    if (extra?.some((e) => e === 'true')) throw new UsageError('--extra needs a value ("#SBATCH …")');
    const opts = {
      dryRun,
      ...Object.fromEntries(
        (['partition', 'gres', 'mem', 'account', 'qos'] as const).flatMap((k) => {
          const v = flagString(ctx.args, k);
          return v ? [[k, v]] : [];
        }),
      ),
      ...(time ? { time } : {}),
      ...(cpus ? { cpusPerTask: cpus } : {}),
      ...(limit ? { arrayLimit: limit } : {}),
      ...(extra ? { extra } : {}),
    };
    return withLab(ctx, async (lab) => {
      const studyId = await resolveStudy(ctx, lab, id);
      const svc = await cluster(lab);
      let r;
      try {
        r = await svc.submit(studyId, opts);
      } catch (e) {
        if (/^(--|sbatch)/.test((e as Error).message)) throw new UsageError((e as Error).message);
        throw e;
      }
      if (ctx.json) ctx.out(JSON.stringify(r, null, 2));
      else if (r.dryRun) ctx.out(r.script);
      else {
        ctx.out(`submitted ${r.cells.length} cells of study ${studyId} as Slurm job ${r.slurmJobId}`);
        ctx.out(`  job folder ${r.jobDir}`);
        ctx.out(`  watch: dlab study status ${studyId}   collect: dlab study collect ${studyId}`);
      }
      return 0;
    });
  },
};

function printCells(ctx: CliContext, cells: ClusterCellStatus[]): void {
  for (const c of cells) {
    const when = c.end ? `ended ${c.end}` : c.start ? `started ${c.start}` : '';
    ctx.out(
      `  ${String(c.index).padStart(3)} ${c.key.padEnd(40)} ${c.state.padEnd(8)}${c.collected ? ' collected' : '          '} ${c.slurmJobId.padEnd(10)} ${(c.slurmState ?? '—').padEnd(10)} ${(c.node ?? '—').padEnd(10)} ${when}${c.step !== null ? ` step ${c.step}` : ''}`,
    );
    if (c.reason) ctx.out(`        ${c.reason}`);
    if (c.logTail && c.state !== 'done') for (const l of c.logTail.split('\n').slice(-3)) ctx.out(`        | ${l}`);
  }
}

export const studyStatusCommand: Command = {
  path: ['study', 'status'],
  summary: 'A cluster study: each cell queued/running/done/failed with its Slurm state, node, times and log tail; collects finished results. --watch polls.',
  usage: 'dlab study status <id> [--watch [--interval S]] [--no-collect] [--json]',
  async run(ctx) {
    const id = studyArg(ctx);
    const watch = flagBool(ctx.args, 'watch');
    const interval = flagNumber(ctx.args, 'interval', { min: 1 }) ?? 10;
    const collect = !flagBool(ctx.args, 'no-collect');
    return withLab(ctx, async (lab) => {
      const svc = await cluster(lab);
      for (;;) {
        const s = await svc.status(id, { collect });
        const counts = { queued: 0, running: 0, done: 0, failed: 0 };
        for (const c of s.cells) counts[c.state]++;
        if (ctx.json) ctx.out(JSON.stringify({ study: id, counts, ...s }));
        else {
          ctx.out(`${id}: ${s.cells.length} cells on the cluster — ${counts.done} done, ${counts.running} running, ${counts.queued} queued, ${counts.failed} failed`);
          if (s.collected?.imported.length) ctx.out(`  collected ${s.collected.imported.map((x) => x.index).join(', ')}`);
          for (const r of s.collected?.refused ?? []) ctx.err(`  cell ${r.index}: ${r.reason}`);
          printCells(ctx, s.cells);
        }
        if (!watch || counts.queued + counts.running === 0) return counts.failed ? 1 : 0;
        await new Promise((r) => setTimeout(r, interval * 1000));
      }
    });
  },
};

export const studyCollectCommand: Command = {
  path: ['study', 'collect'],
  summary: 'Import the finished results of a cluster study (idempotent); a corrupt bundle is refused with its reason and its cell marked failed.',
  usage: 'dlab study collect <id> [--json]',
  async run(ctx) {
    const id = studyArg(ctx);
    return withLab(ctx, async (lab) => {
      const r = await (await cluster(lab)).collect(id);
      if (ctx.json) ctx.out(JSON.stringify(r));
      else {
        ctx.out(`${id}: ${r.imported.length} results imported${r.imported.length ? ` (cells ${r.imported.map((x) => x.index).join(', ')})` : ''}, ${r.refused.length} refused`);
        for (const x of r.refused) ctx.err(`  cell ${x.index}: ${x.reason}`);
      }
      return r.refused.length ? 1 : 0;
    });
  },
};

export const studyCancelCommand: Command = {
  path: ['study', 'cancel'],
  summary: 'Stop a study: scancel its queued and running cluster tasks, and pause its runs in this lab.',
  usage: 'dlab study cancel <id> [--json]',
  async run(ctx) {
    const id = studyArg(ctx);
    return withLab(ctx, async (lab) => {
      const svc = await cluster(lab);
      const slurm = svc.available().ok ? svc.cancel(id) : { cancelled: [] };
      lab.studies.cancel(id);
      if (ctx.json) ctx.out(JSON.stringify(slurm));
      else ctx.out(`${id}: ${slurm.cancelled.length ? `scancel ${slurm.cancelled.join(' ')}` : 'no cluster tasks queued or running'}; local runs paused`);
      return 0;
    });
  },
};

export const studyResubmitCommand: Command = {
  path: ['study', 'resubmit'],
  summary: 'Submit a cluster study’s failed cells again; each resumes its own last checkpoint.',
  usage: 'dlab study resubmit <id> --failed [--json]',
  async run(ctx) {
    const id = studyArg(ctx);
    if (!flagBool(ctx.args, 'failed')) throw new UsageError('say which cells: --failed');
    return withLab(ctx, async (lab) => {
      const r = (await cluster(lab)).resubmit(id, { failed: true });
      if (ctx.json) ctx.out(JSON.stringify(r));
      else if (!r.submissions.length) ctx.out(`${id}: no failed cells`);
      else for (const s of r.submissions) ctx.out(`${id}: cells ${s.indices.join(', ')} of ${s.jobId} submitted again as Slurm job ${s.slurmJobId}`);
      return 0;
    });
  },
};

export const clusterTaskCommand: Command = {
  path: ['cluster', 'task'],
  summary: '(internal) One array task of a cluster job: train, score and bundle its cell in its own lab. The generated sbatch script runs it.',
  usage: 'dlab cluster task --job-dir D --index I',
  async run(ctx) {
    const jobDir = flagString(ctx.args, 'job-dir');
    const index = flagNumber(ctx.args, 'index', { integer: true, min: 0 });
    if (!jobDir || index === undefined) throw new UsageError('--job-dir D and --index I are required');
    const [{ runClusterTask }, { Lab }] = await Promise.all([import('../../core/cluster/task.js'), import('../../core/lab.js')]);
    const cpus = Number(process.env.SLURM_CPUS_PER_TASK);
    return runClusterTask({
      jobDir: path.resolve(jobDir),
      index,
      log: (l) => ctx.out(`[${new Date().toISOString()}] ${l}`),
      open: (labDir) => Lab.open({ labDir, adoptQueuedRuns: false, maxConcurrentRuns: 1, ...(Number.isInteger(cpus) && cpus > 0 ? { threadsPerRun: cpus } : {}) }),
    });
  },
};

export const clusterCommands: Command[] = [studySubmitCommand, studyStatusCommand, studyCollectCommand, studyCancelCommand, studyResubmitCommand, clusterTaskCommand];
