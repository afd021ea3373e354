/**
 * Talking to Slurm: the sbatch script of a job array, and the few commands
 * the lab runs (`sbatch --parsable`, `squeue`, `sacct`, `scontrol show job`,
 * `scancel`), each parsed into plain records. Nothing here touches the lab.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface SlurmOptions {
  partition?: string;
  gres?: string;
  cpusPerTask?: number;
  mem?: string;
  time?: string;
  account?: string;
  qos?: string;
  /** At most this many array tasks run at once (`%K`). */
  arrayLimit?: number;
  /** More `#SBATCH …` lines, verbatim. */
  extra?: string[];
}

export const SLURM_DEFAULTS = { cpusPerTask: 2, arrayLimit: 8 } as const;

/** `0-3`, `1,3`, `0-2,5`: the indices as a Slurm array range. */
export function arrayRange(indices: number[]): string {
  const xs = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    parts.push(i === j ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Reject what would break a `#SBATCH` line or let a value smuggle in another option. */
function safeValue(name: string, v: string): string {
  if (!/^[A-Za-z0-9_.:,=+/@%-]+$/.test(v)) throw new Error(`--${name} '${v}' has characters Slurm does not take here`);
  return v;
}

export interface ScriptInput {
  jobName: string;
  jobDir: string;
  indices: number[];
  options: SlurmOptions;
  /** Absolute paths resolved at submission time. */
  node: string;
  dlab: string;
  /** Lab-independent environment the tasks need (exported in the script). */
  env: Record<string, string>;
}

export function renderScript(i: ScriptInput): string {
  const o = i.options;
  const limit = o.arrayLimit ?? SLURM_DEFAULTS.arrayLimit;
  const cpus = o.cpusPerTask ?? SLURM_DEFAULTS.cpusPerTask;
  const lines = [
    '#!/bin/bash',
    `# Disentanglement Lab: one study cell per array task (the manifest: ${path.join(i.jobDir, 'job.json')}).`,
    `#SBATCH --job-name=${safeValue('job-name', i.jobName)}`,
    `#SBATCH --array=${arrayRange(i.indices)}%${limit}`,
    `#SBATCH --output=${i.jobDir}/tasks/%a/slurm-%A_%a.out`,
    // a requeued task appends to its log
    '#SBATCH --open-mode=append',
    '#SBATCH --ntasks=1',
    `#SBATCH --cpus-per-task=${cpus}`,
    '#SBATCH --requeue',
    // preemption and the time limit: SIGTERM first, the task pauses at a checkpoint and resumes on requeue
    '#SBATCH --signal=B:TERM@60',
  ];
  if (o.partition) lines.push(`#SBATCH --partition=${safeValue('partition', o.partition)}`);
  if (o.gres) lines.push(`#SBATCH --gres=${safeValue('gres', o.gres)}`);
  if (o.mem) lines.push(`#SBATCH --mem=${safeValue('mem', o.mem)}`);
  if (o.time) lines.push(`#SBATCH --time=${safeValue('time', o.time)}`);
  if (o.account) lines.push(`#SBATCH --account=${safeValue('account', o.account)}`);
  if (o.qos) lines.push(`#SBATCH --qos=${safeValue('qos', o.qos)}`);
  for (const e of o.extra ?? []) {
    const line = e.trim();
    if (!line.startsWith('#SBATCH ') || /[\n\r]/.test(line)) throw new Error(`--extra takes '#SBATCH …' lines, got '${line}'`);
    lines.push(line);
  }
  if (/[\n\r']/.test(i.jobDir)) throw new Error('the job folder path has characters the script cannot quote');
  lines.push('', 'set -euo pipefail');
  for (const [k, v] of Object.entries(i.env).sort(([a], [b]) => a.localeCompare(b))) lines.push(`export ${k}=${shq(v)}`);
  lines.push(
    `cd ${shq(i.jobDir)}`,
    // exec: the task is the batch step's process, so Slurm's SIGTERM reaches it
    `exec ${shq(i.node)} ${shq(i.dlab)} cluster task --job-dir ${shq(i.jobDir)} --index "$SLURM_ARRAY_TASK_ID"`,
    '',
  );
  return lines.join('\n');
}

// ------------------------------------------------------------------ commands

export function which(cmd: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

export const HOW_TO_REACH_SLURM =
  'sbatch is not on PATH here. The lab talks to Slurm through its commands (sbatch, squeue, sacct, scancel) on a login node of the cluster: ' +
  'run `dlab study submit <study> --slurm …` there (the lab folder on the shared file system), or start `dlab serve --port 8731` on the login node and open it from your machine through SSH port forwarding ' +
  '(`ssh -L 8731:127.0.0.1:8731 login-node`, then the URL it printed, token included).';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

/** `sbatch --parsable script` → the job id. */
export function sbatch(script: string, cwd: string): string {
  let out: string;
  try {
    out = execFileSync('sbatch', ['--parsable', script], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`sbatch failed: ${(err.stderr ?? '').trim() || err.message}`);
  }
  const id = out.trim().split(';')[0]!;
  if (!/^\d+$/.test(id)) throw new Error(`sbatch answered '${out.trim()}', not a job id`);
  return id;
}

export function scancel(ids: string[]): void {
  if (ids.length) run('scancel', ids);
}

/** What Slurm says about one array task. */
export interface TaskInfo {
  state: string;
  node: string | null;
  start: string | null;
  end: string | null;
  exitCode: string | null;
}

// sacct's NodeList of a task waiting (again, after a requeue) is 'None assigned'
const clean = (v: string | undefined) => (!v || v === 'N/A' || v === 'Unknown' || v === '(null)' || v === 'None' || v === '(None)' || v === 'None assigned' ? null : v);

/** The tasks of array jobs still in the queue: `${arrayJobId}_${index}` → info. */
export function squeueTasks(jobIds: string[]): Map<string, TaskInfo> {
  const out = new Map<string, TaskInfo>();
  if (!jobIds.length) return out;
  const ask = (ids: string[]) => run('squeue', ['-h', '-r', '-j', ids.join(','), '-o', '%F|%K|%T|%N|%S']);
  let text = '';
  try {
    text = ask(jobIds);
  } catch {
    // squeue refuses the whole list when it no longer knows one id: ask one at a time
    text = jobIds
      .map((id) => {
        try {
          return ask([id]);
        } catch {
          return '';
        }
      })
      .join('\n');
  }
  for (const line of text.split('\n')) {
    const [arr, idx, state, node, start] = line.trim().split('|');
    if (!arr || idx === undefined || !/^\d+$/.test(idx)) continue;
    out.set(`${arr}_${idx}`, { state: state ?? 'UNKNOWN', node: clean(node), start: clean(start), end: null, exitCode: null });
  }
  return out;
}

/** Ended (and running) tasks from accounting (`sacct`), else from the controller's memory (`scontrol show job`). */
export function endedTasks(jobIds: string[]): Map<string, TaskInfo> {
  const out = new Map<string, TaskInfo>();
  if (!jobIds.length) return out;
  try {
    const text = run('sacct', ['-n', '-P', '-X', '-j', jobIds.join(','), '-o', 'JobID,State,NodeList,Start,End,ExitCode']);
    for (const line of text.split('\n')) {
      const [id, state, node, start, end, exit] = line.trim().split('|');
      if (!id || !/^\d+_\d+$/.test(id)) continue;
      out.set(id, { state: (state ?? 'UNKNOWN').split(' ')[0]!, node: clean(node), start: clean(start), end: clean(end), exitCode: clean(exit) });
    }
    if (out.size) return out;
  } catch {
    /* accounting is off: ask the controller */
  }
  for (const j of jobIds) {
    let text = '';
    try {
      text = run('scontrol', ['show', 'job', '-o', j]);
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const kv = new Map<string, string>();
      for (const tok of line.trim().split(/\s+/)) {
        const eq = tok.indexOf('=');
        if (eq > 0) kv.set(tok.slice(0, eq), tok.slice(eq + 1));
      }
      const arr = kv.get('ArrayJobId');
      const idx = kv.get('ArrayTaskId');
      if (!arr || !idx || !/^\d+$/.test(idx)) continue;
      out.set(`${arr}_${idx}`, { state: kv.get('JobState') ?? 'UNKNOWN', node: clean(kv.get('NodeList')), start: clean(kv.get('StartTime')), end: clean(kv.get('EndTime')), exitCode: clean(kv.get('ExitCode')) });
    }
  }
  return out;
}

export const ACTIVE_STATES = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SUSPENDED', 'STAGE_OUT', 'SIGNALING']);
