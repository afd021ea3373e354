/**
 * Studies on a Slurm cluster.
 *
 * `submit` makes the study's derived datasets here (once), writes a
 * self-contained job folder (see `job.ts`) with one array task per cell the
 * study still lacks, and submits it with `sbatch --parsable`; the job and
 * each submission are rows (`cluster_jobs`, `cluster_submissions`). Each
 * task trains its cell in its own lab and leaves a bundle (`task.ts`).
 * `status` joins what Slurm says (squeue, then sacct or scontrol), the
 * task's state file and log; `collect` imports finished bundles through
 * `importBundle` (idempotent, validated): a refused bundle marks its cell
 * failed with the reason and changes nothing else. `resubmit` submits the
 * failed cells again into the same folder: each task resumes its own lab.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '../../shared/contract.js';
import type { DatasetService } from '../datasets/service.js';
import { exportBundle, importBundle } from '../export/bundle.js';
import { findBuiltin } from '../datasets/registry.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { RunRepository } from '../store/runs.js';
import type { StudyService } from '../studies/service.js';
import { JOB_FORMAT, logTail, readTaskState, resultPath, taskDir, type JobCell, type JobManifest } from './job.js';
import { ACTIVE_STATES, endedTasks, HOW_TO_REACH_SLURM, renderScript, sbatch, scancel, squeueTasks, which, type SlurmOptions, type TaskInfo } from './slurm.js';

export interface ClusterDeps {
  db: Db;
  labDir: string;
  runs: RunRepository;
  datasets: DatasetService;
  studies: StudyService;
  info(): { version: string };
}

export interface SubmitOptions extends SlurmOptions {
  dryRun?: boolean;
  /** Absolute paths of node and bin/dlab.js the tasks run (default: this process's). */
  node?: string;
  dlab?: string;
}

export interface SubmitResult {
  jobId: string;
  jobDir: string;
  studyId: string;
  script: string;
  cells: JobCell[];
  slurmJobId: string | null;
  dryRun: boolean;
}

export type CellState = 'queued' | 'running' | 'done' | 'failed';

export interface ClusterCellStatus {
  jobId: string;
  index: number;
  key: string;
  state: CellState;
  collected: boolean;
  slurmJobId: string;
  slurmState: string | null;
  node: string | null;
  start: string | null;
  end: string | null;
  reason: string | null;
  step: number | null;
  logTail: string | null;
}

export interface CollectResult {
  imported: { index: number; runs: string[] }[];
  refused: { index: number; reason: string }[];
}

interface JobRow {
  id: string;
  study_id: string;
  job_dir: string;
  options_json: string;
  cells_json: string;
  created_at: string;
}
interface SubmissionRow {
  id: number;
  job_id: string;
  slurm_job_id: string;
  indices_json: string;
  submitted_at: string;
}
interface MarkRow {
  job_id: string;
  idx: number;
  state: 'collected' | 'failed';
  reason: string | null;
  run_id: string | null;
  updated_at: string;
}

/** Where this checkout's `dlab` lives: bin/dlab.js in the first folder up from this module that has one (the sources or a build). */
export function defaultDlabBin(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const p = path.join(dir, 'bin', 'dlab.js');
    if (fs.existsSync(p)) return p;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new LabError('conflict', 'cannot find bin/dlab.js next to this build: the tasks need the project’s dlab (submit from a checkout)');
}

/** The environment a task needs that does not depend on the lab: the DLAB_* settings (not DLAB_HOME: each task has its own lab). */
export function taskEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('DLAB_') && k !== 'DLAB_HOME' && v !== undefined) out[k] = v;
  return out;
}

export class ClusterService {
  constructor(private readonly lab: ClusterDeps) {}

  private jobRows(studyId: string): JobRow[] {
    return this.lab.db.prepare('SELECT * FROM cluster_jobs WHERE study_id = ? ORDER BY created_at, id').all(studyId) as JobRow[];
  }
  private submissions(jobId: string): SubmissionRow[] {
    return this.lab.db.prepare('SELECT * FROM cluster_submissions WHERE job_id = ? ORDER BY id').all(jobId) as SubmissionRow[];
  }
  private marks(jobId: string): Map<number, MarkRow> {
    const rows = this.lab.db.prepare('SELECT * FROM cluster_cells WHERE job_id = ?').all(jobId) as MarkRow[];
    return new Map(rows.map((r) => [r.idx, r]));
  }
  private mark(jobId: string, idx: number, state: 'collected' | 'failed', reason: string | null, runId: string | null): void {
    this.lab.db
      .prepare('INSERT INTO cluster_cells (job_id, idx, state, reason, run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, idx) DO UPDATE SET state = excluded.state, reason = excluded.reason, run_id = excluded.run_id, updated_at = excluded.updated_at')
      .run(jobId, idx, state, reason, runId, nowIso());
  }

  /** Whether this machine can reach Slurm; the explanation when not. */
  available(): { ok: boolean; sbatch: string | null; message: string } {
    const p = which('sbatch');
    return { ok: !!p, sbatch: p, message: p ? `sbatch at ${p}` : HOW_TO_REACH_SLURM };
  }

  private need(studyId: string) {
    const s = this.lab.studies.repo.get(studyId);
    if (!s) throw new LabError('not_found', `no study '${studyId}'`);
    return s;
  }

  async submit(studyId: string, opts: SubmitOptions = {}): Promise<SubmitResult> {
    let study = this.need(studyId);
    const jobId = `c${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${crypto.randomBytes(3).toString('hex')}`;
    const jobDir = path.join(this.lab.labDir, 'cluster', jobId);
    const node = opts.node ?? process.execPath;
    const dlab = opts.dlab ?? defaultDlabBin();
    if (!opts.dryRun) {
      if (!which('sbatch')) throw new LabError('conflict', HOW_TO_REACH_SLURM);
      // derived datasets are made once, here, never once per task
      await this.lab.studies.ensureDatasets(study);
      study = this.need(studyId);
    }
    const lacking = this.lab.studies.cells(study).filter((c) => !(c.run?.status === 'finished' && c.evaluated));
    if (lacking.length === 0) throw new LabError('conflict', `study ${studyId} has every cell finished and scored: nothing to submit`);
    const cells: JobCell[] = lacking.map((c, index) => ({ index, key: c.key, method: c.method, model: c.model, dataset: c.dataset, variant: c.variant, seed: c.seed, datasetId: c.datasetId ?? '(made at submission)' }));
    const slurm: SlurmOptions = { ...opts };
    for (const k of ['dryRun', 'node', 'dlab'] as const) delete (slurm as Record<string, unknown>)[k];
    const script = renderScript({ jobName: `dlab-${studyId}`.slice(0, 60), jobDir, indices: cells.map((c) => c.index), options: slurm, node, dlab, env: taskEnv() });
    if (opts.dryRun) return { jobId, jobDir, studyId, script, cells, slurmJobId: null, dryRun: true };

    for (const c of cells) fs.mkdirSync(taskDir(jobDir, c.index), { recursive: true });
    const derived = [...new Set(cells.map((c) => c.datasetId))].filter((id) => !findBuiltin(id) && this.lab.datasets.storedRow(id));
    exportBundle(this.lab, { studyId, studyRuns: false, datasetIds: derived }, path.join(jobDir, 'inputs.dlab.zip'));
    const manifest: JobManifest = { format: JOB_FORMAT, version: 1, jobId, studyId, createdAt: nowIso(), inputs: 'inputs.dlab.zip', cells };
    fs.writeFileSync(path.join(jobDir, 'job.json'), JSON.stringify(manifest, null, 1));
    const scriptPath = path.join(jobDir, 'submit-1.sbatch');
    fs.writeFileSync(scriptPath, script, { mode: 0o755 });
    this.lab.db.prepare('INSERT INTO cluster_jobs (id, study_id, job_dir, options_json, cells_json, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(jobId, studyId, jobDir, JSON.stringify({ ...slurm, node, dlab }), JSON.stringify(cells), manifest.createdAt);
    const slurmJobId = sbatch(scriptPath, jobDir);
    this.lab.db.prepare('INSERT INTO cluster_submissions (job_id, slurm_job_id, indices_json, submitted_at) VALUES (?, ?, ?, ?)').run(jobId, slurmJobId, JSON.stringify(cells.map((c) => c.index)), nowIso());
    return { jobId, jobDir, studyId, script, cells, slurmJobId, dryRun: false };
  }

  /** Every submitted cell of the study with its state (newest job last). Collects finished bundles first unless `collect: false`. */
  async status(studyId: string, opts: { collect?: boolean } = {}): Promise<{ cells: ClusterCellStatus[]; collected: CollectResult | null }> {
    this.need(studyId);
    const collected = opts.collect === false ? null : await this.collect(studyId);
    return { cells: this.cellStates(studyId), collected };
  }

  private cellStates(studyId: string): ClusterCellStatus[] {
    const jobs = this.jobRows(studyId);
    const subsByJob = new Map(jobs.map((j) => [j.id, this.submissions(j.id)]));
    const slurmIds = [...subsByJob.values()].flat().map((s) => s.slurm_job_id);
    const queued = squeueTasks(slurmIds);
    let ended: Map<string, TaskInfo> | null = null;
    const endedOf = () => (ended ??= endedTasks(slurmIds));
    const out: ClusterCellStatus[] = [];
    for (const j of jobs) {
      const cells = JSON.parse(j.cells_json) as JobCell[];
      const subs = subsByJob.get(j.id)!;
      const marks = this.marks(j.id);
      for (const c of cells) {
        const sub = [...subs].reverse().find((s) => (JSON.parse(s.indices_json) as number[]).includes(c.index));
        if (!sub) continue;
        const sid = `${sub.slurm_job_id}_${c.index}`;
        const ts = readTaskState(j.job_dir, c.index);
        const q = queued.get(sid);
        const info: TaskInfo | undefined = q ?? endedOf().get(sid);
        const m = marks.get(c.index);
        const base = {
          jobId: j.id,
          index: c.index,
          key: c.key,
          slurmJobId: sid,
          slurmState: info?.state ?? null,
          node: info?.node ?? ts?.node ?? null,
          start: info?.start ?? ts?.startedAt ?? null,
          end: info?.end ?? ts?.endedAt ?? null,
          step: ts?.step ?? null,
          logTail: logTail(j.job_dir, c.index),
        };
        let state: CellState;
        let reason: string | null = null;
        const hasResult = fs.existsSync(resultPath(j.job_dir, c.index)) && ts?.state === 'done';
        if (m?.state === 'collected') state = 'done';
        else if (m?.state === 'failed' && m.updated_at >= sub.submitted_at) {
          state = 'failed';
          reason = m.reason;
        } else if (q && ACTIVE_STATES.has(q.state)) state = q.state === 'PENDING' || q.state.startsWith('REQUEUE') ? 'queued' : 'running';
        else if (hasResult) state = 'done';
        else {
          state = 'failed';
          reason = ts?.error ?? (info ? `Slurm: ${info.state}${info.exitCode ? ` (exit ${info.exitCode})` : ''}, no result` : 'Slurm no longer knows the task and it left no result');
        }
        out.push({ ...base, state, collected: m?.state === 'collected', reason });
      }
    }
    return out;
  }

  /** Import every finished, not yet collected bundle of the study's cluster jobs. */
  async collect(studyId: string): Promise<CollectResult> {
    this.need(studyId);
    const res: CollectResult = { imported: [], refused: [] };
    for (const j of this.jobRows(studyId)) {
      const cells = JSON.parse(j.cells_json) as JobCell[];
      const marks = this.marks(j.id);
      const subs = this.submissions(j.id);
      for (const c of cells) {
        const m = marks.get(c.index);
        if (m?.state === 'collected') continue;
        const sub = [...subs].reverse().find((s) => (JSON.parse(s.indices_json) as number[]).includes(c.index));
        if (m?.state === 'failed' && sub && m.updated_at >= sub.submitted_at) continue;
        const file = resultPath(j.job_dir, c.index);
        const ts = readTaskState(j.job_dir, c.index);
        if (!fs.existsSync(file) || ts?.state !== 'done') continue;
        try {
          const r = await importBundle(this.lab, file);
          if (r.study !== studyId) throw new Error(`the bundle holds study '${r.study ?? 'none'}', not ${studyId}`);
          const runs = [...r.runsImported, ...r.runsSkipped];
          this.mark(j.id, c.index, 'collected', null, runs[0] ?? null);
          res.imported.push({ index: c.index, runs: r.runsImported });
        } catch (e) {
          const reason = `bundle refused: ${(e as Error).message}`;
          this.mark(j.id, c.index, 'failed', reason, null);
          res.refused.push({ index: c.index, reason });
        }
      }
    }
    return res;
  }

  /** scancel the study's queued and running tasks. */
  cancel(studyId: string): { cancelled: string[] } {
    const active = this.cellStates(studyId).filter((c) => c.state === 'queued' || c.state === 'running');
    const ids = [...new Set(active.map((c) => c.slurmJobId))];
    scancel(ids);
    return { cancelled: ids };
  }

  /** Submit the failed cells again (same job folders: each task resumes its own lab). */
  resubmit(studyId: string, opts: { failed?: boolean } = {}): { submissions: { jobId: string; slurmJobId: string; indices: number[]; script: string }[] } {
    if (opts.failed === false) throw new LabError('invalid_payload', 'only --failed is supported');
    if (!which('sbatch')) throw new LabError('conflict', HOW_TO_REACH_SLURM);
    const states = this.cellStates(studyId).filter((c) => c.state === 'failed');
    const out: { jobId: string; slurmJobId: string; indices: number[]; script: string }[] = [];
    for (const j of this.jobRows(studyId)) {
      const indices = states.filter((s) => s.jobId === j.id).map((s) => s.index);
      if (!indices.length) continue;
      const o = JSON.parse(j.options_json) as SlurmOptions & { node: string; dlab: string };
      const { node, dlab, ...slurm } = o;
      for (const i of indices) {
        fs.rmSync(resultPath(j.job_dir, i), { force: true });
        fs.rmSync(path.join(taskDir(j.job_dir, i), 'state.json'), { force: true });
        fs.mkdirSync(taskDir(j.job_dir, i), { recursive: true });
        this.lab.db.prepare('DELETE FROM cluster_cells WHERE job_id = ? AND idx = ?').run(j.id, i);
      }
      const script = renderScript({ jobName: `dlab-${studyId}`.slice(0, 60), jobDir: j.job_dir, indices, options: slurm, node, dlab, env: taskEnv() });
      const n = this.submissions(j.id).length + 1;
      const file = path.join(j.job_dir, `submit-${n}.sbatch`);
      fs.writeFileSync(file, script, { mode: 0o755 });
      const slurmJobId = sbatch(file, j.job_dir);
      this.lab.db.prepare('INSERT INTO cluster_submissions (job_id, slurm_job_id, indices_json, submitted_at) VALUES (?, ?, ?, ?)').run(j.id, slurmJobId, JSON.stringify(indices), nowIso());
      out.push({ jobId: j.id, slurmJobId, indices, script });
    }
    return { submissions: out };
  }
}
