/**
 * The one contract between the UI and the Lab: every request the UI can make
 * and every event it can receive, each with a runtime schema. The Electron
 * adapter, the browser-mode server and the renderer's client are all derived
 * from this table; nothing else names a channel.
 */
import { z } from 'zod';
import { RunProgress, RunSummary } from './runs.js';
import { datasetRequests } from './requests/datasets.js';
import { runRequests } from './requests/runs.js';
import { jobRequests } from './requests/jobs.js';
import { importRequests } from './requests/imports.js';
import { perturbRequests } from './requests/perturb.js';
import { appRequests } from './requests/app.js';
import { exportRequests } from './requests/exporting.js'; // compare/export room
import { studyRequests } from './requests/studies.js'; // studies room
import { clusterRequests } from './requests/cluster.js'; // cluster room
import { JobInfo } from './jobs.js';
export type { SampleResult } from './requests/datasets.js';

/**
 * Every request, by room. A new request is a schema entry in its room's file
 * under requests/; a new room adds one spread line here.
 */
export const requests = {
  ...datasetRequests,
  ...runRequests,
  ...jobRequests,
  ...perturbRequests,
  ...importRequests,
  ...appRequests,
  ...studyRequests, // studies room
  ...clusterRequests, // cluster room
  ...exportRequests, // compare/export room
} as const;

export const events = {
  'lab/log': {
    summary: 'A line for the status bar / log panel.',
    payload: z.object({ level: z.enum(['info', 'warn', 'error']), message: z.string() }),
  },
  'runs/progress': { summary: 'A training step report.', payload: RunProgress },
  'runs/status': { summary: 'A run changed status (queued, running, finished…).', payload: z.object({ run: RunSummary }) },
  'jobs/progress': { summary: 'A long task moved on (or ended).', payload: JobInfo },
  'runs/evaluation': { summary: 'A score of a run was stored.', payload: z.object({ id: z.string(), metric: z.string(), value: z.number().nullable() }) },
  'runs/seriesPoint': {
    summary: 'A periodic evaluation during training was stored: the metric values at that step (read the points with runs/metricSeries).',
    payload: z.object({ id: z.string(), step: z.number().int(), values: z.record(z.string(), z.number().nullable()), evalSeconds: z.number(), encodeSeconds: z.number() }),
  },
} as const;

export type Requests = typeof requests;
export type RequestName = keyof Requests;
export type RequestInput<N extends RequestName> = z.input<Requests[N]['input']>;
export type RequestOutput<N extends RequestName> = z.output<Requests[N]['output']>;
export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]['payload']>;

export const requestNames = Object.keys(requests) as RequestName[];
export const eventNames = Object.keys(events) as EventName[];

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(requests, name);
}
export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(events, name);
}

/** Errors cross the transports as data, never as crashes. */
export const ErrorCode = z.enum(['invalid_payload', 'unknown_request', 'not_found', 'conflict', 'cancelled', 'unauthorized', 'internal']);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const LabErrorShape = z.object({
  code: ErrorCode,
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type LabErrorShape = z.infer<typeof LabErrorShape>;

export class LabError extends Error {
  readonly code: ErrorCode;
  readonly issues?: { path: string; message: string }[];
  constructor(code: ErrorCode, message: string, issues?: { path: string; message: string }[]) {
    super(message);
    this.name = 'LabError';
    this.code = code;
    if (issues) this.issues = issues;
  }
  toJSON(): LabErrorShape {
    return { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) };
  }
  static from(shape: LabErrorShape): LabError {
    return new LabError(shape.code, shape.message, shape.issues);
  }
}

/** The envelope every transport returns. */
export type Reply<T> = { ok: true; result: T } | { ok: false; error: LabErrorShape };

/** What the renderer (and tests) program against, whichever transport carries it. */
export interface LabApi {
  request<N extends RequestName>(name: N, input: RequestInput<N>): Promise<RequestOutput<N>>;
  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/** Channel names are derived, never written by hand elsewhere. */
export const channel = {
  request: (name: RequestName) => `lab:req:${name}`,
  event: 'lab:event',
  /** HTTP path of a request in browser mode. */
  httpPath: (name: RequestName) => `/api/${name}`,
  ws: '/ws',
} as const;

const MAX_ISSUES = 20;

/** Validate an inbound payload; throws LabError('invalid_payload') with the (first 20) issues. */
export function parseInput<N extends RequestName>(name: N, payload: unknown): z.output<Requests[N]['input']> {
  const res = requests[name].input.safeParse(payload);
  if (!res.success) {
    // at most MAX_ISSUES, each cut short: a small malformed array must not earn a reply many times its size
    const all = res.error.issues;
    const issues = all.slice(0, MAX_ISSUES).map((i) => ({ path: i.path.join('.').slice(0, 200), message: i.message.slice(0, 300) }));
    const more = all.length > MAX_ISSUES ? `; … and ${all.length - MAX_ISSUES} more` : '';
    throw new LabError('invalid_payload', `invalid payload for ${name}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}${more}`, issues);
  }
  return res.data as z.output<Requests[N]['input']>;
}

/** What the preload exposes as `window.lab` (envelopes, not exceptions, cross the bridge). */
export interface LabBridge {
  request(name: string, payload: unknown): Promise<Reply<unknown>>;
  on(name: string, listener: (payload: unknown) => void): () => void;
}
