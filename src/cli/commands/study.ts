/** `dlab study list|show|resume|results`: studies from the command line. */
import type { Lab } from '../../core/lab.js';
import { formatTable1 } from '../../core/studies/text.js';
import type { StudyCounts } from '../../shared/requests/studies.js';
import { UsageError, flagNumber, flagString, type CliContext, type Command } from '../command.js';
import { flagBool, withLab } from '../helpers.js';
import { etaSeconds, formatDuration, progressLine } from '../progress.js';

function studyId(ctx: CliContext): string {
  const id = ctx.args.positionals[0];
  if (!id) throw new UsageError('a study id is required (see dlab study list)');
  return id;
}

export const countsLine = (c: StudyCounts) =>
  `${c.evaluated}/${c.cells} scored, ${c.finished} finished, ${c.running} running, ${c.queued} queued, ${c.missing} not started${c.failed ? `, ${c.failed} failed` : ''}${c.stopped ? `, ${c.stopped} stopped` : ''}`;

/**
 * Run (or resume) a study in the foreground: progress on the terminal (JSON
 * lines with --json); Ctrl+C pauses its runs (a later resume continues).
 * Resolves with the job's final status.
 */
export async function runStudyForeground(ctx: CliContext, lab: Lab, id: string, opts: { retryFailed?: boolean; concurrency?: number } = {}): Promise<'done' | 'failed' | 'cancelled'> {
  // default: the Preferences' training plan (cores ÷ threads per run)
  if (opts.concurrency) lab.supervisor.setMaxConcurrent(opts.concurrency);
  const svc = lab.studies;
  const t0 = Date.now();
  const job = svc.start(id, opts.retryFailed ? { retryFailed: true } : {});
  let lastLine = '';
  let lastPrint = 0;
  const off = lab.events.on('jobs/progress', (j) => {
    if (j.id !== job.id) return;
    if (ctx.json) {
      if (Date.now() - lastPrint > 2000 || j.status !== 'running') {
        lastPrint = Date.now();
        ctx.out(JSON.stringify({ type: 'progress', study: id, fraction: j.fraction, message: j.message.slice(0, 300), elapsedSec: (Date.now() - t0) / 1000 }));
      }
    } else if (ctx.tty) {
      const el = (Date.now() - t0) / 1000;
      process.stdout.write(progressLine('study', j.fraction, `${formatDuration(el)} eta ${formatDuration(etaSeconds(el, j.fraction))} ${j.message.slice(0, 40)}`));
    } else {
      const head = j.message.split(' — ')[0]!;
      if (head !== lastLine) {
        lastLine = head;
        const el = (Date.now() - t0) / 1000;
        // the same estimate as the progress bar, once a little is done
        const eta = etaSeconds(el, j.fraction);
        ctx.out(`[${formatDuration(el)}] ${head}${eta > 0 ? ` (eta ${formatDuration(eta)})` : ''}`);
      }
    }
  });
  const onSigint = () => {
    ctx.err(`\npausing the study's runs (resume: dlab study resume ${id})…`);
    lab.jobs.cancel(job.id);
  };
  process.once('SIGINT', onSigint);
  try {
    const done = await lab.jobs.wait(job.id);
    if (ctx.tty && !ctx.json) process.stdout.write('\n');
    if (done.status === 'failed') ctx.err(`study ${id}: ${done.error}`);
    return done.status === 'done' ? 'done' : done.status === 'cancelled' ? 'cancelled' : 'failed';
  } finally {
    process.off('SIGINT', onSigint);
    off();
  }
}

export const studyListCommand: Command = {
  path: ['study', 'list'],
  summary: 'List studies (newest first) with their progress.',
  usage: 'dlab study list [--json]',
  async run(ctx) {
    return withLab(ctx, async (lab) => {
      const list = lab.studies.list();
      if (ctx.json) ctx.out(JSON.stringify(list, null, 2));
      else if (list.length === 0) ctx.out('no studies (start one with dlab reproduce zietlow2021)');
      else for (const s of list) ctx.out(`${s.id}  ${s.name}\n    ${s.preset ? `${s.preset.id}/${s.preset.scale}, ` : ''}${countsLine(s.counts)}`);
      return 0;
    });
  },
};

export const studyShowCommand: Command = {
  path: ['study', 'show'],
  summary: 'One study: its grid, every cell’s run and status, and the results so far.',
  usage: 'dlab study show <id> [--metric M] [--json]',
  async run(ctx) {
    const id = studyId(ctx);
    const metric = flagString(ctx.args, 'metric');
    return withLab(ctx, async (lab) => {
      const svc = lab.studies;
      const d = svc.detail(id);
      const results = d.counts.evaluated > 0 ? svc.results(id, metric ? { metric } : {}) : null;
      if (ctx.json) {
        ctx.out(JSON.stringify({ study: d, results }, null, 2));
        return 0;
      }
      ctx.out(`${d.id}: ${d.name}`);
      ctx.out(`  ${countsLine(d.counts)}`);
      ctx.out(`  training ${JSON.stringify(d.spec.training)}`);
      ctx.out(`  evaluation ${JSON.stringify(d.spec.evaluation)}; seeds ${d.spec.seeds.join(', ')}`);
      for (const c of d.cells) ctx.out(`  ${c.key.padEnd(42)} ${c.status.padEnd(11)} ${c.evaluated ? 'scored' : '      '} ${c.runId ?? ''}`);
      if (results) ctx.out(formatTable1(results));
      return 0;
    });
  },
};

export const studyResumeCommand: Command = {
  path: ['study', 'resume'],
  summary: 'Run what a study still lacks (missing, interrupted, unscored runs) in the foreground; finished runs are never repeated. Ctrl+C pauses.',
  usage: 'dlab study resume <id> [--concurrency N] [--retry-failed] [--json]',
  async run(ctx) {
    const id = studyId(ctx);
    const concurrency = flagNumber(ctx.args, 'concurrency', { integer: true, min: 1 });
    const retryFailed = flagBool(ctx.args, 'retry-failed');
    return withLab(ctx, async (lab) => {
      const status = await runStudyForeground(ctx, lab, id, { retryFailed, ...(concurrency ? { concurrency } : {}) });
      const svc = lab.studies;
      const d = svc.detail(id);
      if (ctx.json) ctx.out(JSON.stringify({ type: 'result', study: id, status, counts: d.counts }));
      else {
        ctx.out(`${id}: ${status} — ${countsLine(d.counts)}`);
        if (d.counts.evaluated > 0) ctx.out(formatTable1(svc.results(id)));
      }
      return status === 'done' ? 0 : status === 'cancelled' ? 130 : 1;
    });
  },
};

export const studyResultsCommand: Command = {
  path: ['study', 'results'],
  summary: 'Seed aggregation of a study: mean ± sd, N, bootstrap CIs, differences, verdicts, published numbers side by side.',
  usage: 'dlab study results <id> [--metric M] [--resamples B] [--seed S] [--json]',
  async run(ctx) {
    const id = studyId(ctx);
    const metric = flagString(ctx.args, 'metric');
    const resamples = flagNumber(ctx.args, 'resamples', { integer: true, min: 100 });
    const seed = flagNumber(ctx.args, 'seed', { integer: true, min: 0 });
    return withLab(ctx, async (lab) => {
      const r = lab.studies.results(id, { ...(metric ? { metric } : {}), ...(resamples ? { resamples } : {}), ...(seed !== undefined ? { seed } : {}) });
      ctx.out(ctx.json ? JSON.stringify(r, null, 2) : formatTable1(r));
      return 0;
    });
  },
};

export const studyCommands: Command[] = [studyListCommand, studyShowCommand, studyResumeCommand, studyResultsCommand];
