/**
 * The run queue and the supervisor of training workers (main process).
 *
 * Each run trains in its own child process (`worker.ts`); the supervisor is
 * the only SQLite writer. A worker that crashes, runs out of memory or is
 * killed fails only its run: the run becomes `interrupted` and can resume
 * from its last checkpoint. At most `maxConcurrent` runs train at once (one
 * per device by default); the rest wait in the queue.
 *
 * Ownership across processes (the GUI and `dlab` commands on one lab) is a
 * lease in the store: this supervisor's owner id holds each run it trains,
 * renewed every `heartbeatMs`; a run whose lease has run out (or whose owner
 * is provably dead) has lost its worker too (workers exit when their parent
 * goes) and is marked interrupted, here and in every other supervisor.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../../shared/contract.js';
import { RESUMABLE, type RunConfig, type RunSummary } from '../../shared/runs.js';
import { lineage } from '../datasets/open.js';
import type { DatasetService } from '../datasets/service.js';
import type { EventBus } from '../events.js';
import type { LeaseHolder, RunRepository, ScalarPoint } from '../store/runs.js';
import type { MetricScore } from '../metrics/types.js';
import type { EvaluateRequest, FromWorker, StartMessage, ToWorker } from './protocol.js';
import { newOwnerId } from '../util/process.js';

export interface WorkerEntry {
  /** Script the child runs. */
  path: string;
  /** Node flags for the child (e.g. the tsx loader in development). */
  execArgv: string[];
  env?: Record<string, string>;
}

export interface SupervisorOptions {
  labDir: string;
  runs: RunRepository;
  datasets: DatasetService;
  events: EventBus;
  worker: WorkerEntry;
  maxConcurrent?: number;
  /** Compute threads of each training worker (a run's own `threads` wins); default 1. */
  threadsPerRun?: number | (() => number);
  /** Keep this many most recent checkpoints per run (the final one is always kept). */
  keepCheckpoints?: number;
  /** Pick up runs left queued in the store at start (default true). */
  adoptQueued?: boolean;
  /** Called when a run finishes (evaluation on completion). */
  onFinished?(runId: string): Promise<void> | void;
  /** A run's lease lapses after this long without a heartbeat (ms; default 10 000). */
  leaseMs?: number;
  /** Heartbeat, control-request and orphan poll interval (ms; default 1000). */
  heartbeatMs?: number;
}

export const DEFAULT_LEASE_MS = 10_000;
export const DEFAULT_HEARTBEAT_MS = 1000;

interface Active {
  child: ChildProcess;
  stopRequested: 'paused' | 'cancelled' | null;
  terminal: boolean;
  pending: ScalarPoint[];
  lastFlush: number;
  step: number;
  /** Another process declared this run's owner gone and took the run: write nothing more for it. */
  lost: boolean;
}

export class RunSupervisor {
  private active = new Map<string, Active>();
  private queue: string[] = [];
  /** Queued runs another live owner held when this one tried to claim them: retried on the poll. */
  private waiting = new Set<string>();
  private closing = false;
  maxConcurrent: number;
  /** This supervisor's lease identity (`${host}:${pid}:${random}`). */
  readonly holder: LeaseHolder;

  private poll: NodeJS.Timeout;

  constructor(private readonly o: SupervisorOptions) {
    this.maxConcurrent = o.maxConcurrent ?? 1;
    this.holder = { ownerId: newOwnerId(), pid: process.pid, ttlMs: o.leaseMs ?? DEFAULT_LEASE_MS };
    o.runs.markOrphansInterrupted(this.holder.ownerId);
    if (o.adoptQueued ?? true) for (const r of o.runs.list().reverse()) if (r.status === 'queued') this.queue.push(r.id);
    this.poll = setInterval(() => {
      try {
        this.tick();
      } catch {
        /* the store was busy: the next tick tries again */
      }
    }, o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.poll.unref();
  }

  get ownerId(): string {
    return this.holder.ownerId;
  }

  /**
   * The poll: renew this supervisor's leases, act on control requests from
   * other processes (e.g. `dlab run cancel` while the GUI trains), settle
   * runs whose owner is gone, and retry queued runs another owner held.
   */
  private tick(): void {
    if (this.closing) return;
    const now = Date.now();
    for (const id of this.o.runs.renewLeases([...this.active.keys()], this.holder, now)) {
      // another process took us for dead (our event loop stalled past the lease)
      if (this.o.runs.reclaim(id, this.holder, now)) {
        this.emitStatus(id);
        continue;
      }
      const a = this.active.get(id)!;
      a.lost = true;
      a.child.kill('SIGTERM');
    }
    for (const req of this.o.runs.controlRequests(this.holder.ownerId)) {
      const a = this.active.get(req.id);
      if (a && !a.stopRequested) {
        a.stopRequested = req.control;
        this.send(a.child, { type: 'stop', reason: req.control });
      }
    }
    for (const id of this.o.runs.markOrphansInterrupted(this.holder.ownerId, now, (x) => this.active.has(x))) this.emitStatus(id);
    if (this.waiting.size > 0) {
      for (const id of [...this.waiting]) {
        if (this.o.runs.row(id)?.status !== 'queued') this.waiting.delete(id);
        else if (!this.o.runs.heldElsewhere(id, this.holder.ownerId, now)) {
          this.waiting.delete(id);
          this.queue.push(id);
        }
      }
      this.pump();
    }
  }

  /** 1-based place of a queued run in this supervisor's queue (undefined when not queued here). */
  queuePosition(id: string): number | undefined {
    const i = this.queue.indexOf(id);
    return i >= 0 ? i + 1 : undefined;
  }

  /** Change how many runs train at once (more start now; fewer take effect as runs end). */
  setMaxConcurrent(n: number): void {
    this.maxConcurrent = Math.max(1, Math.floor(n));
    this.pump();
  }

  runDir(id: string): string {
    return path.join(this.o.labDir, 'runs', id);
  }

  launch(config: RunConfig): RunSummary {
    this.o.datasets.get(config.datasetId);
    const id = `run-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${crypto.randomBytes(4).toString('hex')}`;
    this.o.runs.insert(id, config);
    fs.mkdirSync(this.runDir(id), { recursive: true });
    this.queue.push(id);
    this.emitStatus(id);
    this.pump();
    return this.o.runs.summary(id)!;
  }

  stop(id: string, reason: 'paused' | 'cancelled'): RunSummary {
    let run = this.o.runs.summary(id);
    if (!run) throw new LabError('not_found', `no run '${id}'`);
    const a = this.active.get(id);
    let orphan = false;
    if (!a && run.status === 'running' && !this.o.runs.heldElsewhere(id, this.holder.ownerId)) {
      // its owner is gone, and its worker with it: settle it, then stop it where its last checkpoint is
      this.o.runs.markOrphansInterrupted(this.holder.ownerId, Date.now(), (x) => this.active.has(x));
      run = this.o.runs.summary(id)!;
      orphan = run.status === 'interrupted';
    }
    if (a) {
      a.stopRequested = reason;
      this.send(a.child, { type: 'stop', reason });
    } else if (run.status === 'running') {
      // trained by another process of this lab: ask it through the store
      this.o.runs.requestControl(id, reason);
    } else if (orphan) {
      this.o.runs.setStatus(id, reason);
      this.emitStatus(id);
    } else if (run.status === 'queued') {
      this.queue = this.queue.filter((q) => q !== id);
      this.waiting.delete(id);
      this.o.runs.setStatus(id, reason);
      this.emitStatus(id);
    } else if (!(reason === 'cancelled' && run.status === 'paused')) {
      throw new LabError('conflict', `run ${id} is ${run.status}; only queued or running runs can be ${reason}`);
    } else {
      this.o.runs.setStatus(id, 'cancelled');
      this.emitStatus(id);
    }
    return this.o.runs.summary(id)!;
  }

  /**
   * Queue a stopped run again; it continues from its last checkpoint. With
   * `steps`, its training budget becomes that total first (stored as its
   * config's steps): it must be above the run's step and at least its total.
   * A finished run resumes only so, from the checkpoint of its final step
   * (its codes are dropped: they are written again, and the final
   * evaluation done again, at the new end). A run of a study keeps the
   * study's budget: its results compare runs at one number of steps.
   */
  resume(id: string, opts: { steps?: number } = {}): RunSummary {
    const run = this.o.runs.summary(id);
    if (!run) throw new LabError('not_found', `no run '${id}'`);
    const { steps } = opts;
    const finished = run.status === 'finished';
    if (finished && steps === undefined) {
      throw new LabError('conflict', `run ${id} is finished at step ${run.step}; to train it further, resume it with a larger total of steps (above ${run.step}, e.g. ${run.step * 2})`);
    }
    if (!RESUMABLE.includes(run.status) && run.status !== 'failed' && !finished) {
      throw new LabError('conflict', `run ${id} is ${run.status}; only paused, cancelled, interrupted or failed runs resume (and finished ones with a larger total of steps)`);
    }
    if (steps !== undefined) {
      // a study compares its runs at one budget: one run trained longer would pool unequal budgets in its results
      if (run.experimentId && steps !== run.totalSteps) {
        throw new LabError(
          'conflict',
          `run ${id} belongs to study ${run.experimentId}, whose runs train ${run.totalSteps} steps each: extending one run would mix budgets in the study's results (make a study at the larger budget instead)`,
        );
      }
      if (!Number.isInteger(steps) || steps <= run.step || steps < run.totalSteps) {
        throw new LabError('invalid_payload', `steps must be an integer above the run's step ${run.step} and at least its total ${run.totalSteps}, got ${steps}`);
      }
      if (finished) {
        const last = this.latestCheckpointStep(id);
        if (last !== run.step) {
          throw new LabError(
            'conflict',
            `run ${id} has no checkpoint at its final step ${run.step} (${last === null ? 'none kept' : `the last kept is at step ${last}`}); it cannot be trained further`,
          );
        }
        // written again at the new end (the evaluation reuses codes it finds)
        fs.rmSync(path.join(this.runDir(id), 'codes'), { recursive: true, force: true });
        this.o.runs.removeArtifacts(id, 'codes', '');
      }
      this.o.runs.setTotalSteps(id, steps, { reopen: finished });
    }
    this.o.runs.setStatus(id, 'queued', { error: null });
    this.queue.push(id);
    this.emitStatus(id);
    this.pump();
    return this.o.runs.summary(id)!;
  }

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  /** Process id of a run's worker (while it trains). */
  workerPid(id: string): number | undefined {
    return this.active.get(id)?.child.pid;
  }

  /** Wait until a run reaches a terminal or resumable state (tests, CLI). */
  waitFor(id: string, timeoutMs = 600_000): Promise<RunSummary> {
    timeoutMs = Math.min(timeoutMs, 2 ** 31 - 1);
    return new Promise((resolve, reject) => {
      const done = () => {
        const s = this.o.runs.summary(id);
        if (s && !['queued', 'running'].includes(s.status) && !this.active.has(id)) {
          off();
          clearTimeout(timer);
          resolve(s);
          return true;
        }
        return false;
      };
      const off = this.o.events.on('runs/status', (p) => {
        if (p.run.id === id) queueMicrotask(done);
      });
      const timer = setTimeout(() => {
        off();
        reject(new Error(`run ${id} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      done();
    });
  }

  private pump(): void {
    while (!this.closing && this.active.size < this.maxConcurrent && this.queue.length > 0) {
      const id = this.queue.shift()!;
      try {
        this.start(id);
      } catch (e) {
        this.o.runs.setStatus(id, 'failed', { error: (e as Error).message, finished: true });
        this.emitStatus(id);
      }
    }
  }

  private latestCheckpoint(id: string): string | null {
    const cps = this.o.runs.checkpoints(id);
    for (let i = cps.length - 1; i >= 0; i--) {
      const dir = path.join(this.o.labDir, cps[i]!.path);
      if (fs.existsSync(dir)) return dir;
    }
    return null;
  }

  /** The step of the checkpoint a resume would start from (null when none is kept). */
  private latestCheckpointStep(id: string): number | null {
    const dir = this.latestCheckpoint(id);
    return dir ? this.o.runs.checkpoints(id).find((c) => path.join(this.o.labDir, c.path) === dir)!.step : null;
  }

  private start(id: string): void {
    if (!this.o.runs.claim(id, this.holder)) {
      // another live owner holds it (or has just taken it): look again on the poll
      if (this.o.runs.row(id)?.status === 'queued') this.waiting.add(id);
      return;
    }
    const run = this.o.runs.summary(id)!;
    const resumeFrom = this.latestCheckpoint(id);
    const resumeStep = this.latestCheckpointStep(id) ?? 0;
    // the steps after the checkpoint are trained again: drop their old points
    this.o.runs.truncateSeries(id, resumeStep);
    this.o.runs.metricSeries.truncate(id, resumeStep);
    const msg: StartMessage = {
      ...this.startMessage(run, resumeFrom),
      ...(run.config.evaluate.length
        ? { evaluate: { metrics: run.config.evaluate, seed: run.config.seed, ...(run.config.evaluateSettings ? { settings: run.config.evaluateSettings } : {}) } }
        : {}),
    };
    const child = this.forkWorker();
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr = (stderr + String(d)).slice(-4000);
    });
    const a: Active = { child, stopRequested: null, terminal: false, pending: [], lastFlush: Date.now(), step: resumeStep, lost: false };
    this.active.set(id, a);
    this.o.runs.setStatus(id, 'running', { started: true, error: null });
    this.emitStatus(id);
    child.on('message', (m: FromWorker) => this.onMessage(id, a, m));
    child.on('exit', (code, signal) => this.onExit(id, a, code, signal, stderr));
    child.on('error', () => undefined);
    this.send(child, msg);
  }

  private forkWorker(): ChildProcess {
    return fork(this.o.worker.path, [], {
      execArgv: this.o.worker.execArgv,
      env: { ...process.env, ...this.o.worker.env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
  }

  /**
   * Score a finished (or stopped) run from its latest checkpoint in a worker
   * process; every score is stored with its provenance as it arrives.
   */
  evaluate(id: string, req: EvaluateRequest, opts: { signal?: AbortSignal; onScore?(score: MetricScore, index: number, total: number): void } = {}): Promise<MetricScore[]> {
    const run = this.o.runs.summary(id);
    if (!run) throw new LabError('not_found', `no run '${id}'`);
    let checkpoint = this.latestCheckpoint(id);
    if (req.step !== undefined) {
      const at = this.o.runs.checkpoints(id).find((c) => c.step === req.step);
      checkpoint = at && fs.existsSync(path.join(this.o.labDir, at.path)) ? path.join(this.o.labDir, at.path) : null;
      if (!checkpoint) throw new LabError('conflict', `run ${id} has no checkpoint at step ${req.step} (kept: ${this.o.runs.checkpoints(id).map((c) => c.step).join(', ') || 'none'})`);
    }
    if (!checkpoint) throw new LabError('conflict', `run ${id} has no checkpoint to evaluate`);
    const child = this.forkWorker();
    const scores: MetricScore[] = [];
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
    return new Promise((resolve, reject) => {
      let failure: string | null = null;
      const onAbort = () => child.kill('SIGTERM');
      opts.signal?.addEventListener('abort', onAbort);
      child.on('message', (m: FromWorker) => {
        if (m.type === 'evaluation') {
          this.o.runs.addEvaluation(id, m.score);
          scores.push(m.score);
          opts.onScore?.(m.score, m.index, m.total);
          this.o.events.emit('runs/evaluation', { id, metric: m.score.metric, value: m.score.value });
        } else if (m.type === 'series') {
          // a checkpoint scored on the fixed sample: that step's point of the series
          this.storeSeries(id, m);
          m.scores.forEach((s, i) => {
            scores.push(s);
            opts.onScore?.(s, i, m.scores.length);
          });
        } else if (m.type === 'failed') failure = m.error;
      });
      child.on('exit', (code, signal) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (opts.signal?.aborted) reject(new Error('cancelled'));
        else if (failure) reject(new Error(failure));
        else if (code !== 0) reject(new Error(`the evaluation worker ${signal ? `was killed (${signal})` : `exited with code ${code}`}: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`));
        else resolve(scores);
      });
      this.send(child, {
        ...this.startMessage(run, checkpoint),
        mode: 'evaluate',
        evaluate: req,
      });
    });
  }

  /** One step's periodic scores: stored in one transaction, then announced. */
  private storeSeries(id: string, m: Extract<FromWorker, { type: 'series' }>): void {
    this.o.runs.metricSeries.add(id, m.step, m.scores);
    this.o.events.emit('runs/seriesPoint', {
      id,
      step: m.step,
      values: Object.fromEntries(m.scores.map((s) => [s.metric, s.value])),
      evalSeconds: m.evalSeconds,
      encodeSeconds: m.encodeSeconds,
    });
  }

  /** What a worker needs to open a run, for training and for scoring alike. */
  private startMessage(run: RunSummary, resumeFrom: string | null): StartMessage {
    return {
      type: 'start',
      runId: run.id,
      config: run.config,
      labDir: this.o.labDir,
      runDir: this.runDir(run.id),
      datasetRows: lineage(run.datasetId, (x) => this.o.datasets.storedRow(x)),
      resumeFrom,
      threads: run.config.threads ?? this.threadsPerRun(),
    };
  }

  /** Threads a worker computes with unless its run asks for a number. */
  threadsPerRun(): number {
    const t = this.o.threadsPerRun;
    return Math.max(1, Math.floor((typeof t === 'function' ? t() : t) ?? 1));
  }

  private send(child: ChildProcess, msg: ToWorker): void {
    if (child.connected) child.send(msg);
  }

  private flush(id: string, a: Active): void {
    this.o.runs.recordProgress(id, a.step, a.pending.splice(0));
    a.lastFlush = Date.now();
  }

  private onMessage(id: string, a: Active, m: FromWorker): void {
    if (a.lost) return;
    switch (m.type) {
      case 'started':
        this.o.runs.setStatus(id, 'running', { backend: m.threads && m.threads > 1 ? `${m.backend} (${m.threads} threads)` : m.backend });
        this.emitStatus(id);
        break;
      case 'progress': {
        a.step = m.step;
        for (const [k, v] of Object.entries(m.losses)) a.pending.push({ key: k, step: m.step, value: v });
        m.klPerDim?.forEach((v, j) => a.pending.push({ key: `kl_dim/${j}`, step: m.step, value: v }));
        a.pending.push({ key: 'steps_per_sec', step: m.step, value: m.stepsPerSec });
        // scalar series are written in batches (at most about once a second)
        if (Date.now() - a.lastFlush > 1000 || a.pending.length > 2000) this.flush(id, a);
        const run = this.o.runs.row(id)!;
        this.o.events.emit('runs/progress', {
          id,
          step: m.step,
          totalSteps: run.total_steps,
          losses: m.losses,
          ...(m.klPerDim ? { klPerDim: m.klPerDim } : {}),
          stepsPerSec: m.stepsPerSec,
          etaSec: m.etaSec,
        });
        break;
      }
      case 'checkpoint': {
        a.step = Math.max(a.step, m.step);
        this.flush(id, a);
        for (const f of m.files) this.o.runs.addArtifact(id, 'checkpoint', f.path, f.size, f.sha256);
        this.pruneCheckpoints(id);
        break;
      }
      case 'codes':
        for (const f of m.files) this.o.runs.addArtifact(id, 'codes', f.path, f.size, f.sha256);
        break;
      case 'evaluation':
        this.o.runs.addEvaluation(id, m.score);
        this.o.events.emit('runs/evaluation', { id, metric: m.score.metric, value: m.score.value });
        break;
      case 'series':
        this.storeSeries(id, m);
        break;
      case 'stopped':
        a.terminal = true;
        a.step = m.step;
        this.flush(id, a);
        this.o.runs.setStatus(id, m.reason);
        break;
      case 'done':
        a.terminal = true;
        a.step = m.step;
        this.flush(id, a);
        this.o.runs.setStatus(id, 'finished', { finished: true });
        break;
      case 'failed':
        a.terminal = true;
        this.flush(id, a);
        this.o.runs.setStatus(id, 'failed', {
          error:
            m.kind === 'nonfinite'
              ? `${m.error} — stopped at step ${m.step}; the last good checkpoint is kept (resume continues from it)`
              : m.error,
          finished: true,
        });
        break;
    }
  }

  private onExit(id: string, a: Active, code: number | null, signal: NodeJS.Signals | null, stderr: string): void {
    this.active.delete(id);
    if (a.lost) {
      // the run is another process's now: leave its record alone
      this.emitStatus(id);
      this.pump();
      return;
    }
    this.o.runs.clearOwner(id, this.holder.ownerId);
    if (!a.terminal) {
      this.flush(id, a);
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      const last = stderr.trim().split('\n').slice(-1)[0] ?? '';
      this.o.runs.setStatus(id, 'interrupted', {
        error: `the training worker ${how}${last ? `: ${last.slice(0, 300)}` : ''}; resume continues from the last checkpoint`,
      });
    }
    this.emitStatus(id);
    const finished = this.o.runs.summary(id)?.status === 'finished';
    if (finished && this.o.onFinished) void Promise.resolve(this.o.onFinished(id)).catch(() => undefined);
    this.pump();
  }

  private pruneCheckpoints(id: string): void {
    const keep = this.o.keepCheckpoints ?? 2;
    const cps = this.o.runs.checkpoints(id);
    for (const c of cps.slice(0, Math.max(0, cps.length - keep))) {
      fs.rmSync(path.join(this.o.labDir, c.path), { recursive: true, force: true });
      this.o.runs.removeArtifacts(id, 'checkpoint', c.path + '/');
    }
  }

  private emitStatus(id: string): void {
    const run = this.o.runs.summary(id);
    if (run) this.o.events.emit('runs/status', { run });
  }

  /** Stop every worker (app quit): their runs become interrupted and resumable. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.poll);
    const exits = [...this.active.values()].map(
      (a) =>
        new Promise<void>((resolve) => {
          a.child.once('exit', () => resolve());
          a.child.kill('SIGTERM');
          setTimeout(() => {
            a.child.kill('SIGKILL');
            resolve();
          }, 5000).unref();
        }),
    );
    await Promise.all(exits);
  }
}
