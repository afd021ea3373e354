/**
 * The runs room: the run queue and supervisor of training workers, the views
 * of trained runs (reconstructions, traversals, latents), and the contract
 * handlers of models/*, runs/* and metrics/*.
 */
import { LabError } from '../../shared/contract.js';
import type { HandlersFor } from '../../shared/dispatch.js';
import type { runRequests } from '../../shared/requests/runs.js';
import type { DatasetService } from '../datasets/service.js';
import type { EventBus } from '../events.js';
import type { Jobs } from '../jobs.js';
import type { Room } from '../room.js';
import type { RunRepository } from '../store/runs.js';
import { modelInfos } from '../models/info.js';
import { EVAL_DEFAULTS, periodicEval, resolveRunConfig } from '../training/config.js';
import { resolveParams } from '../../shared/params.js';
import type { RunConfig } from '../../shared/runs.js';
import { compareRuns } from './compare.js';
import { GEOMETRY_ID } from './evaluate-run.js';
import { RunSupervisor, type WorkerEntry } from './supervisor.js';
import { RunViews } from './views.js';
import { METRIC_IDS, METRICS } from '../metrics/registry.js';

function metricInfos() {
  return [
    ...METRICS.map((m) => ({ id: m.id, name: m.name, description: m.description, estimator: m.estimator, settings: m.settings })),
    {
      id: GEOMETRY_ID,
      name: 'Decoder geometry',
      description: 'Distance of the decoder Jacobian’s right singular vectors from the nearest signed permutation (Rolinek et al. 2019), and the polarised regime of the latents.',
      estimator: 'SVD of the decoder-logit Jacobian at encoded points (central differences)',
      settings: [],
    },
  ];
}

const knownMetric = (m: string) => m === GEOMETRY_ID || METRIC_IDS.includes(m);

/** Refuse a periodic evaluation the worker could not run (unknown metric, bad setting) before the run is queued. */
function checkPeriodicEval(c: RunConfig): void {
  for (const m of c.evalMetrics ?? []) if (!knownMetric(m)) throw new LabError('invalid_payload', `evalMetrics: unknown metric '${m}' (known: ${[...METRIC_IDS, GEOMETRY_ID].join(', ')})`);
  for (const [m, given] of Object.entries(c.evalSettings ?? {})) {
    const entry = METRICS.find((e) => e.id === m);
    if (!entry) throw new LabError('invalid_payload', `evalSettings: unknown metric '${m}'`);
    try {
      resolveParams(entry.settings, given);
    } catch (e) {
      throw new LabError('invalid_payload', `evalSettings.${m}: ${(e as Error).message}`);
    }
  }
}

export interface RunsRoomDeps {
  labDir: string;
  runs: RunRepository;
  datasets: DatasetService;
  events: EventBus;
  jobs: Jobs;
  worker: WorkerEntry;
  maxConcurrent: number;
  threadsPerRun: () => number;
  adoptQueued: boolean;
}

/** A queued run with its place in this supervisor's queue. */
function withQueuePosition<R extends { id: string; status: string }>(supervisor: RunSupervisor, r: R): R & { queuePosition?: number } {
  if (r.status !== 'queued') return r;
  const p = supervisor.queuePosition(r.id);
  return p ? { ...r, queuePosition: p } : r;
}

export function createRunsRoom(deps: RunsRoomDeps): Room<HandlersFor<typeof runRequests>> & { supervisor: RunSupervisor; runViews: RunViews } {
  const supervisor = new RunSupervisor({
    labDir: deps.labDir,
    runs: deps.runs,
    datasets: deps.datasets,
    events: deps.events,
    worker: deps.worker,
    maxConcurrent: deps.maxConcurrent,
    threadsPerRun: deps.threadsPerRun,
    adoptQueued: deps.adoptQueued,
  });
  const runViews = new RunViews(deps.labDir, deps.runs, deps.datasets);
  const lab = { ...deps, supervisor, runViews };
  const run = (id: string) => {
    const r = lab.runs.summary(id);
    if (!r) throw new LabError('not_found', `no run '${id}'`);
    return r;
  };
  const detail = (id: string) => {
    const r = lab.runs.detail(id);
    if (!r) throw new LabError('not_found', `no run '${id}'`);
    return withQueuePosition(supervisor, r);
  };
  const handlers: HandlersFor<typeof runRequests> = {
    'models/list': () => modelInfos(),
    'runs/launch': ({ config, seeds }) => {
      const resolved = seeds.map((seed) => resolveRunConfig({ ...config, seed }));
      resolved.forEach(checkPeriodicEval);
      return resolved.map((c) => lab.supervisor.launch(c));
    },
    'runs/list': (q) => {
      const page = lab.runs.query(q);
      return { ...page, runs: page.runs.map((r) => withQueuePosition(supervisor, r)) };
    },
    'runs/compare': (q) => compareRuns(lab.runs, lab.datasets.list(), q),
    'runs/get': ({ id }) => detail(id),
    'runs/cancel': ({ id }) => lab.supervisor.stop(id, 'cancelled'),
    'runs/pause': ({ id }) => lab.supervisor.stop(id, 'paused'),
    'runs/resume': ({ id, steps }) => lab.supervisor.resume(id, steps !== undefined ? { steps } : {}),
    'runs/scalars': ({ id, keys, sinceStep }) => (run(id), lab.runs.series(id, keys, sinceStep)),
    'runs/tag': ({ id, tag, remove }) => (run(id), lab.runs.setTag(id, tag, remove), run(id)),
    'runs/note': ({ id, text }) => (run(id), lab.runs.addNote(id, text), detail(id)),
    'runs/reconstructions': ({ id, count, seed }) => lab.runViews.reconstructions(run(id), count ?? 16, seed ?? 0),
    'runs/traversals': ({ id, index, range, steps }) => lab.runViews.traversals(run(id), index, range ?? 2, steps ?? 9),
    'runs/latents': ({ id, limit }) => lab.runViews.latents(run(id), limit ?? 5000),
    'metrics/list': () => metricInfos(),
    'runs/evaluate': ({ id, metrics, settings, seed, step, points }) => {
      const r = run(id);
      // at a step or on a sample: the periodic evaluation's scoring, its metrics and settings by default
      const atStep = step !== undefined || points !== undefined;
      const periodic = periodicEval(r.config);
      const ids = metrics ?? (atStep ? (periodic?.metrics ?? [...EVAL_DEFAULTS.metrics]) : [...METRIC_IDS, GEOMETRY_ID]);
      for (const m of ids) if (!knownMetric(m)) throw new LabError('invalid_payload', `unknown metric '${m}' (known: ${[...METRIC_IDS, GEOMETRY_ID].join(', ')})`);
      const sample = atStep
        ? { ...(step !== undefined ? { step } : {}), points: points ?? periodic?.samples ?? EVAL_DEFAULTS.samples }
        : {};
      const useSettings = settings ?? (atStep ? periodic?.settings : undefined);
      return lab.jobs.start('evaluate', `Evaluate ${r.id} (${r.model})`, async (ctx) => {
        ctx.progress(0, `scoring ${ids.length} metrics`);
        const scores = await lab.supervisor.evaluate(
          id,
          { metrics: ids, ...(useSettings ? { settings: useSettings } : {}), seed: seed ?? r.seed, ...sample },
          { signal: ctx.signal, onScore: (s, i, n) => ctx.progress((i + 1) / n, `${s.name}: ${s.value === null ? s.error : s.value.toFixed(3)}`) },
        );
        return { runId: id, scores: Object.fromEntries(scores.map((s) => [s.metric, s.value])) };
      });
    },
    'runs/evaluations': ({ id }) => (run(id), lab.runs.evaluations(id)),
    'runs/metricSeries': ({ id, metric }) =>
      (run(id), lab.runs.metricSeries.points(id, metric).map((p) => ({ ...p, encodeSeconds: p.encodeSeconds ?? 0, evalSeconds: p.evalSeconds ?? p.seconds }))),
    'runs/evaluations/batch': ({ ids, latestOnly }) => {
      const out = lab.runs.evaluationsOf([...new Set(ids)], latestOnly);
      const missing = ids.find((id) => !lab.runs.exists(id));
      if (missing) throw new LabError('not_found', `no run '${missing}'`);
      return out;
    },
  };
  return {
    handlers,
    supervisor,
    runViews,
    close: async () => {
      await supervisor.close();
      runViews.dispose();
    },
  };
}
