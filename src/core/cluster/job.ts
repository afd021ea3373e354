/**
 * A cluster job folder (`<lab>/cluster/<job>/`): self-contained, so a compute
 * node needs nothing but it and the project's `dlab`:
 *   job.json            the manifest: array index → study cell
 *   inputs.dlab.zip     the study row and the derived datasets its cells train on (a bundle)
 *   submit-<n>.sbatch   the script of each submission
 *   tasks/<i>/lab/      the task's own lab (never one SQLite file across nodes)
 *   tasks/<i>/state.json, result.dlab.zip, slurm-<job>_<i>.out
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

export const JOB_FORMAT = 'dlab-cluster-job';

export const JobCell = z
  .object({
    index: z.number().int().nonnegative(),
    key: z.string().max(500),
    method: z.string().max(200),
    model: z.string().max(64),
    dataset: z.string().max(200),
    variant: z.string().max(64),
    seed: z.number().int(),
    datasetId: z.string().max(200),
  })
  .strict();
export type JobCell = z.infer<typeof JobCell>;

export const JobManifest = z
  .object({
    format: z.literal(JOB_FORMAT),
    version: z.literal(1),
    jobId: z.string().max(100),
    studyId: z.string().max(100),
    createdAt: z.string(),
    inputs: z.literal('inputs.dlab.zip'),
    cells: z.array(JobCell),
  })
  .strict();
export type JobManifest = z.infer<typeof JobManifest>;

export const TaskState = z
  .object({
    state: z.enum(['running', 'paused', 'done', 'failed']),
    node: z.string().nullable(),
    slurmJobId: z.string().nullable(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    runId: z.string().nullable(),
    step: z.number().int().nullable(),
    error: z.string().nullable(),
  })
  .strict();
export type TaskState = z.infer<typeof TaskState>;

export const taskDir = (jobDir: string, index: number) => path.join(jobDir, 'tasks', String(index));
export const resultPath = (jobDir: string, index: number) => path.join(taskDir(jobDir, index), 'result.dlab.zip');
export const statePath = (jobDir: string, index: number) => path.join(taskDir(jobDir, index), 'state.json');

export function readManifest(jobDir: string): JobManifest {
  const file = path.join(jobDir, 'job.json');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read the job manifest ${file}: ${(e as Error).message}`);
  }
  const r = JobManifest.safeParse(raw);
  if (!r.success) throw new Error(`${file} is not a cluster job manifest: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

export function readTaskState(jobDir: string, index: number): TaskState | null {
  try {
    const r = TaskState.safeParse(JSON.parse(fs.readFileSync(statePath(jobDir, index), 'utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export function writeTaskState(jobDir: string, index: number, s: TaskState): void {
  const file = statePath(jobDir, index);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(s, null, 1));
  fs.renameSync(tmp, file);
}

/** The last lines of a task's newest Slurm log. */
export function logTail(jobDir: string, index: number, lines = 5): string | null {
  const dir = taskDir(jobDir, index);
  let logs: { f: string; t: number }[];
  try {
    logs = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('slurm-') && f.endsWith('.out'))
      .map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs }));
  } catch {
    return null;
  }
  const newest = logs.sort((a, b) => b.t - a.t)[0];
  if (!newest) return null;
  const fd = fs.openSync(path.join(dir, newest.f), 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const n = Math.min(size, 8192);
    const buf = Buffer.alloc(n);
    fs.readSync(fd, buf, 0, n, size - n);
    return buf
      .toString('utf8')
      .split(/\r?\n|\r/)
      .filter((l) => l.trim())
      .slice(-lines)
      .join('\n');
  } finally {
    fs.closeSync(fd);
  }
}
