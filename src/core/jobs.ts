/**
 * Long tasks run in the main process with progress events and cancellation
 * (AbortSignal). Each job reports a fraction, a message and optional series
 * (e.g. a training curve); its result is kept for the session.
 */
import * as crypto from 'node:crypto';
import { LabError } from '../shared/contract.js';
import type { HandlersFor } from '../shared/dispatch.js';
import type { JobInfo } from '../shared/jobs.js';
import type { jobRequests } from '../shared/requests/jobs.js';
import type { EventBus } from './events.js';

export interface JobContext {
  signal: AbortSignal;
  progress(fraction: number, message?: string): void;
  /** Append a point to a named series. */
  point(series: string, x: number, y: number): void;
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export class Jobs {
  private jobs = new Map<string, { info: JobInfo; abort: AbortController; done: Promise<JobInfo> }>();
  private lastEmit = new Map<string, number>();

  constructor(private readonly events: EventBus) {}

  start(kind: string, title: string, fn: (ctx: JobContext) => Promise<Record<string, unknown>>): JobInfo {
    const id = `job-${crypto.randomBytes(5).toString('hex')}`;
    const info: JobInfo = {
      id,
      kind,
      title,
      status: 'running',
      fraction: 0,
      message: 'starting',
      series: {},
      error: null,
      result: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    };
    const abort = new AbortController();
    const ctx: JobContext = {
      signal: abort.signal,
      progress: (fraction, message) => {
        info.fraction = Math.max(0, Math.min(1, fraction));
        if (message !== undefined) info.message = message;
        this.emit(info);
      },
      point: (series, x, y) => {
        (info.series[series] ??= []).push([x, y]);
        this.emit(info);
      },
    };
    const done = (async () => {
      try {
        const result = await fn(ctx);
        if (abort.signal.aborted) throw new CancelledError();
        info.result = result;
        info.status = 'done';
        info.fraction = 1;
        info.message = 'done';
      } catch (e) {
        const cancelled = abort.signal.aborted || e instanceof CancelledError || (e as Error)?.name === 'AbortError';
        info.status = cancelled ? 'cancelled' : 'failed';
        info.error = cancelled ? null : ((e as Error)?.message ?? String(e)).split('\n')[0]!;
        info.message = cancelled ? 'cancelled' : 'failed';
      }
      info.finishedAt = new Date().toISOString();
      this.emit(info, true);
      return info;
    })();
    this.jobs.set(id, { info, abort, done });
    this.emit(info, true);
    return { ...info };
  }

  private emit(info: JobInfo, force = false): void {
    const now = Date.now();
    if (!force && now - (this.lastEmit.get(info.id) ?? 0) < 100) return;
    this.lastEmit.set(info.id, now);
    this.events.emit('jobs/progress', structuredClone(info));
  }

  get(id: string): JobInfo {
    const j = this.jobs.get(id);
    if (!j) throw new LabError('not_found', `no job '${id}'`);
    return structuredClone(j.info);
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => structuredClone(j.info)).reverse();
  }

  cancel(id: string): JobInfo {
    const j = this.jobs.get(id);
    if (!j) throw new LabError('not_found', `no job '${id}'`);
    j.abort.abort();
    return structuredClone(j.info);
  }

  /** Resolves when the job ends (CLI, tests). */
  wait(id: string): Promise<JobInfo> {
    const j = this.jobs.get(id);
    if (!j) throw new LabError('not_found', `no job '${id}'`);
    return j.done.then((i) => structuredClone(i));
  }

  async close(): Promise<void> {
    for (const j of this.jobs.values()) j.abort.abort();
    await Promise.all([...this.jobs.values()].map((j) => j.done));
  }

  handlers(): HandlersFor<typeof jobRequests> {
    return {
      'jobs/list': () => this.list(),
      'jobs/get': ({ id }) => this.get(id),
      'jobs/cancel': ({ id }) => this.cancel(id),
    };
  }
}
