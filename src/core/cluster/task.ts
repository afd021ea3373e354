/**
 * One array task on a compute node: opens the task's own lab
 * (`tasks/<i>/lab`), imports the job's inputs (the study row and its derived
 * datasets; idempotent), trains the cell — resuming its own last checkpoint
 * after a requeue — scores it and writes `tasks/<i>/result.dlab.zip`.
 * SIGTERM (scancel, preemption, the time limit) pauses the run at a
 * checkpoint; the task then exits 143 and a requeue continues from there.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { EventBus } from '../events.js';
import { exportBundle, importBundle, type BundleDeps } from '../export/bundle.js';
import type { RunSupervisor } from '../runs/supervisor.js';
import type { StudyService } from '../studies/service.js';
import { cellRunConfig } from '../studies/spec.js';
import { resolveRunConfig } from '../training/config.js';
import { nowIso } from '../store/db.js';
import { readManifest, readTaskState, resultPath, taskDir, writeTaskState, type TaskState } from './job.js';

export interface TaskLab extends BundleDeps {
  events: EventBus;
  studies: StudyService;
  supervisor: RunSupervisor;
  close(): Promise<void>;
}

export interface TaskOptions {
  jobDir: string;
  index: number;
  open(labDir: string): Promise<TaskLab>;
  log(line: string): void;
  /** Where SIGTERM comes from (default: this process). */
  signals?: NodeJS.EventEmitter;
}

/** Resolves with the exit code: 0 done, 143 paused by a signal, 1 failed. */
export async function runClusterTask(o: TaskOptions): Promise<number> {
  const manifest = readManifest(o.jobDir);
  const cell = manifest.cells.find((c) => c.index === o.index);
  if (!cell) throw new Error(`the job has no array index ${o.index} (0–${manifest.cells.length - 1})`);
  const dir = taskDir(o.jobDir, o.index);
  const prev = readTaskState(o.jobDir, o.index);
  const state: TaskState = {
    state: 'running',
    node: os.hostname(),
    slurmJobId: process.env.SLURM_JOB_ID ?? null,
    startedAt: nowIso(),
    endedAt: null,
    runId: prev?.runId ?? null,
    step: prev?.step ?? null,
    error: null,
  };
  const save = (patch: Partial<TaskState>) => writeTaskState(o.jobDir, o.index, Object.assign(state, patch));
  save({});
  o.log(`task ${o.index}: ${cell.key} on ${state.node}${prev ? ` (again; it was ${prev.state})` : ''}`);
  const lab = await o.open(path.join(dir, 'lab'));
  let signalled = false;
  let runId: string | null = null;
  const onTerm = () => {
    signalled = true;
    o.log(`task ${o.index}: SIGTERM — pausing ${runId ?? 'the task'} at a checkpoint`);
    if (runId) {
      try {
        lab.supervisor.stop(runId, 'paused');
      } catch {
        /* it ended meanwhile */
      }
    }
  };
  const signals = o.signals ?? process;
  signals.on('SIGTERM', onTerm);
  try {
    const imp = await importBundle(lab, path.join(o.jobDir, manifest.inputs));
    if (imp.study !== manifest.studyId) throw new Error(`the inputs hold study '${imp.study ?? 'none'}', the manifest says ${manifest.studyId}`);
    const study = lab.studies.repo.get(manifest.studyId)!;
    const find = () => lab.studies.cells(lab.studies.repo.get(manifest.studyId)!).find((c) => c.key === cell.key);
    let c = find();
    if (!c) throw new Error(`the study has no cell ${cell.key}`);
    if (!c.datasetId) throw new Error(`the dataset of ${cell.key} is not in the job's inputs`);
    const spec = study.spec;
    if (!(c.run?.status === 'finished')) {
      if (!c.run) runId = lab.supervisor.launch(resolveRunConfig(cellRunConfig(spec, c, c.datasetId, study.id))).id;
      else if (c.run.status === 'queued' || c.run.status === 'running') {
        // left so by a task that was killed: settle it as interrupted, then resume
        lab.runs.setStatus(c.run.id, 'interrupted');
        runId = lab.supervisor.resume(c.run.id).id;
      } else runId = lab.supervisor.resume(c.run.id).id;
      save({ runId });
      o.log(`task ${o.index}: training ${runId}${c.run ? ` from step ${c.run.step}` : ''}`);
      if (signalled) onTerm();
      // progress in the log and the state file (status shows it), about every tenth of the run
      let lastTenth = -1;
      const offProgress = lab.events.on('runs/progress', (p) => {
        if (p.id !== runId) return;
        const tenth = Math.floor((10 * p.step) / Math.max(1, p.totalSteps));
        if (tenth === lastTenth) return;
        lastTenth = tenth;
        save({ step: p.step });
        o.log(`task ${o.index}: step ${p.step}/${p.totalSteps} loss ${(p.losses.loss ?? NaN).toFixed(3)} ${p.stepsPerSec.toFixed(1)} steps/s`);
      });
      const end = await lab.supervisor.waitFor(runId, 2 ** 31 - 1).finally(offProgress);
      save({ step: end.step });
      if (end.status !== 'finished') {
        const paused = signalled || end.status === 'paused';
        save({ state: paused ? 'paused' : 'failed', endedAt: nowIso(), error: paused ? null : `run ${runId} ${end.status}${end.error ? `: ${end.error}` : ''}` });
        o.log(`task ${o.index}: run ${end.status} at step ${end.step}`);
        return paused ? 143 : 1;
      }
      c = find()!;
    }
    if (!c.evaluated) {
      o.log(`task ${o.index}: scoring ${c.run!.id}`);
      await lab.supervisor.evaluate(c.run!.id, { metrics: spec.evaluation.metrics, ...(spec.evaluation.settings ? { settings: spec.evaluation.settings } : {}), seed: spec.evaluation.seed ?? c.seed });
    }
    const out = exportBundle(lab, { studyId: study.id }, resultPath(o.jobDir, o.index));
    save({ state: 'done', endedAt: nowIso(), runId: c.run!.id, step: c.run!.step });
    o.log(`task ${o.index}: done — ${out.path} (${out.bytes} bytes, ${out.runs} run)`);
    return 0;
  } catch (e) {
    save({ state: signalled ? 'paused' : 'failed', endedAt: nowIso(), error: (e as Error).message });
    o.log(`task ${o.index}: ${signalled ? 'stopped' : 'failed'}: ${(e as Error).message}`);
    return signalled ? 143 : 1;
  } finally {
    signals.off('SIGTERM', onTerm);
    await lab.close();
  }
}
