/**
 * What many commands share: opening and closing the lab around a command,
 * `--set key=value` pairs, boolean flags, and following a job in the
 * foreground.
 */
import type { Lab } from '../core/lab.js';
import type { JobInfo } from '../shared/jobs.js';
import { UsageError, flagList, type CliContext, type ParsedArgs } from './command.js';
import { progressLine } from './progress.js';

/** Open the lab, run `fn` with it, and close it whatever happens. */
export async function withLab<T>(ctx: CliContext, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await ctx.openLab();
  try {
    return await fn(lab);
  } finally {
    await lab.close();
  }
}

/** `--set key=value` (repeatable, comma-separated) as a record. */
export function parseSets(args: ParsedArgs, flag = 'set'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of flagList(args, flag) ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${flag} expects key=value, got '${kv}'`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** A boolean flag: `--x`, `--x=true|1|yes` on, `--x=false|0|no` off, absent → `dflt`. */
export function flagBool(args: ParsedArgs, name: string, dflt = false): boolean {
  const v = args.flags[name];
  if (v === undefined) return dflt;
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  if (s === true || s === 'true' || s === '1' || s === 'yes') return true;
  if (s === false || s === 'false' || s === '0' || s === 'no') return false;
  throw new UsageError(`--${name} is on or off (true/false), got '${String(s)}'`);
}

/** Follow a job until it ends: a progress bar on a terminal, JSON lines with --json, a few lines otherwise. Ctrl+C cancels it. */
export async function followJob(ctx: CliContext, lab: Lab, job: JobInfo, label: string): Promise<JobInfo> {
  let lastTenth = -1;
  const off = lab.events.on('jobs/progress', (j) => {
    if (j.id !== job.id || j.status !== 'running') return;
    if (ctx.json) return;
    if (ctx.tty) process.stdout.write(progressLine(label, j.fraction, j.message.slice(0, 40)));
    else {
      const tenth = Math.floor(j.fraction * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        ctx.out(`${label} ${(j.fraction * 100).toFixed(0)}% ${j.message}`);
      }
    }
  });
  const onSigint = () => {
    ctx.err(`\ncancelling ${label} (nothing is stored)…`);
    lab.jobs.cancel(job.id);
  };
  process.once('SIGINT', onSigint);
  try {
    const end = await lab.jobs.wait(job.id);
    if (ctx.tty && !ctx.json) process.stdout.write('\n');
    return end;
  } finally {
    process.off('SIGINT', onSigint);
    off();
  }
}
