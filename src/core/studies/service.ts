/**
 * Running studies.
 *
 * A study is stored once (experiments row); running it is a job that
 * 1. creates or looks up the derived datasets its variants need (by the
 *    derived id of their spec: the same perturbation is never made twice),
 * 2. matches the study's runs to its cells (model, resolved hyperparameters,
 *    dataset id, seed) and launches a run for every cell without one,
 *    resumes interrupted/paused/cancelled runs (and failed ones when asked),
 *    and re-queues runs left queued by a process that is gone,
 * 3. waits until every cell is finished (or failed), scoring finished runs
 *    that lack the study's metrics (inline at the end of training when the
 *    study gives no per-metric settings, else by a separate evaluation).
 * Finished runs are never launched again, so after a restart `resume` only
 * does what is missing. Cancelling the job pauses the study's runs that this
 * process queued or trains; they continue on the next resume.
 */
import { LabError } from '../../shared/contract.js';
import type { JobInfo } from '../../shared/jobs.js';
import { resolveParams } from '../../shared/params.js';
import type { StudyCell, StudyCounts, StudyDetail, StudyResults, StudySpec, StudySummary } from '../../shared/requests/studies.js';
import { StudySpec as StudySpecSchema } from '../../shared/requests/studies.js';
import type { RunStatus } from '../../shared/runs.js';
import type { JobContext } from '../jobs.js';
import type { DatasetService } from '../datasets/service.js';
import type { Jobs } from '../jobs.js';
import type { Db } from '../store/db.js';
import type { RunRepository } from '../store/runs.js';
import type { RunSupervisor } from '../runs/supervisor.js';
import { findObjective, resolveModelParams } from '../models/registry.js';
import { canonicalJson, derivedId } from '../perturbations/derived.js';
import { findPerturbation } from '../perturbations/registry.js';
import { resolveRunConfig } from '../training/config.js';
import { GEOMETRY_ID } from '../runs/evaluate-run.js';
import { metricCurves } from '../runs/compare.js';
import { METRIC_IDS } from '../metrics/registry.js';
import { aggregate, type Observation } from './aggregate.js';
import { cellRunConfig, expandCells, runIdentity, type PlannedCell } from './spec.js';
import { StudyRepository, newStudyId, type StoredStudy, type StudyRunRow } from './store.js';

const STATUS_RANK: Record<RunStatus, number> = { finished: 0, running: 1, queued: 2, paused: 3, interrupted: 4, cancelled: 5, failed: 6 };
const RESUMABLE: RunStatus[] = ['paused', 'interrupted', 'cancelled'];

export interface CellState extends PlannedCell {
  datasetId: string | null;
  run: StudyRunRow | null;
  evaluated: boolean;
}

export interface ExecuteOptions {
  retryFailed?: boolean;
  signal?: AbortSignal;
  onProgress?(fraction: number, message: string): void;
  /** Polling interval of the wait loop (ms). */
  pollMs?: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Whether stored provenance settings agree with the study's settings for a metric. */
function settingsMatch(stored: Record<string, unknown>, wanted: Record<string, unknown> | undefined): boolean {
  if (!wanted) return true;
  return Object.entries(wanted).every(([k, v]) => stored[k] === v);
}

/** What the study service needs from the rest of the lab. */
export interface StudyDeps {
  db: Db;
  datasets: DatasetService;
  jobs: Jobs;
  runs: RunRepository;
  supervisor: RunSupervisor;
  /** Save a derived dataset (the perturbation room's `perturbations/save`): a job. */
  saveDerived(req: { name: string; baseId: string; kind: string; params?: Record<string, string | number | boolean>; seed: number }): Promise<JobInfo> | JobInfo;
}

export class StudyService {
  readonly repo: StudyRepository;
  private readonly activeJobs = new Map<string, string>();

  constructor(private readonly lab: StudyDeps) {
    this.repo = new StudyRepository(lab.db);
  }

  private need(id: string): StoredStudy {
    const s = this.repo.get(id);
    if (!s) throw new LabError('not_found', `no study '${id}'`);
    return s;
  }

  /** Check a spec against the registries (models, params, metrics, datasets, perturbations); invalid_payload on a mistake. */
  validate(spec: StudySpec): StudySpec {
    const res = StudySpecSchema.safeParse(spec);
    if (!res.success) throw new LabError('invalid_payload', `invalid study: ${res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const s = res.data;
    let cells: PlannedCell[];
    try {
      cells = expandCells(s);
    } catch (e) {
      throw new LabError('invalid_payload', (e as Error).message);
    }
    for (const c of cells) {
      if (!findObjective(c.model)) throw new LabError('invalid_payload', `unknown model '${c.model}'`);
      try {
        resolveModelParams(c.model, c.params);
      } catch (e) {
        throw new LabError('invalid_payload', `${c.method} on ${c.dataset}: ${(e as Error).message}`);
      }
    }
    for (const m of [...s.evaluation.metrics, ...(s.evaluation.periodic?.metrics ?? [])]) {
      if (m !== GEOMETRY_ID && !METRIC_IDS.includes(m)) throw new LabError('invalid_payload', `unknown metric '${m}' (known: ${[...METRIC_IDS, GEOMETRY_ID].join(', ')})`);
    }
    for (const d of s.datasets) {
      this.lab.datasets.get(d.base);
      const roles = new Set<string>();
      for (const v of d.variants) {
        if (roles.has(v.role)) throw new LabError('invalid_payload', `dataset ${d.base} has the variant '${v.role}' twice`);
        roles.add(v.role);
        if (v.kind) {
          const e = findPerturbation(v.kind);
          if (!e) throw new LabError('invalid_payload', `unknown perturbation '${v.kind}'`);
          try {
            resolveParams(e.params, v.params ?? {});
          } catch (err) {
            throw new LabError('invalid_payload', `${d.base}/${v.role}: ${(err as Error).message}`);
          }
        }
      }
    }
    return s;
  }

  create(spec: StudySpec): StoredStudy {
    const s = this.validate(spec);
    return this.repo.insert(newStudyId(), s);
  }

  /** Dataset id of each variant: known ones from the store, derived ones by the id of their spec (null while not created). */
  private variantIds(study: StoredStudy): Record<string, Record<string, string | null>> {
    const out: Record<string, Record<string, string | null>> = {};
    for (const d of study.spec.datasets) {
      const m: Record<string, string | null> = {};
      for (const v of d.variants) {
        if (!v.kind) m[v.role] = d.base;
        else {
          const id = this.derivedIdOf(d.base, v.kind, v.params ?? {}, v.seed ?? 0);
          m[v.role] = this.lab.datasets.storedRow(id) ? id : (study.datasetIds[d.base]?.[v.role] ?? null);
          if (m[v.role] && !this.lab.datasets.storedRow(m[v.role]!)) m[v.role] = null;
        }
      }
      out[d.base] = m;
    }
    return out;
  }

  private derivedIdOf(base: string, kind: string, params: Record<string, unknown>, seed: number): string {
    const e = findPerturbation(kind);
    if (!e) throw new LabError('invalid_payload', `unknown perturbation '${kind}'`);
    return derivedId({ kind, params: resolveParams(e.params, params), seed, parentId: base });
  }

  /** Every cell with its dataset id, its run (the best one when several match) and whether it is scored. */
  cells(study: StoredStudy): CellState[] {
    const ids = this.variantIds(study);
    const runs = this.repo.runs(study.id);
    const byIdentity = new Map<string, StudyRunRow[]>();
    for (const r of runs) {
      const k = runIdentity(r.model, r.config.params, r.datasetId, r.seed);
      const list = byIdentity.get(k) ?? [];
      list.push(r);
      byIdentity.set(k, list);
    }
    return expandCells(study.spec).map((c) => {
      const datasetId = ids[c.dataset]?.[c.variant] ?? null;
      let run: StudyRunRow | null = null;
      if (datasetId) {
        let params;
        try {
          params = resolveModelParams(c.model, c.params);
        } catch {
          params = c.params;
        }
        const matches = byIdentity.get(runIdentity(c.model, params, datasetId, c.seed)) ?? [];
        run = [...matches].sort((a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || a.createdAt.localeCompare(b.createdAt))[0] ?? null;
      }
      return { ...c, datasetId, run, evaluated: run?.status === 'finished' ? this.isEvaluated(study.spec, run.id, c.model) : false };
    });
  }

  /** Every study metric stored for the run (with the study's settings); decoder geometry is not asked of models without a decoder. */
  private isEvaluated(spec: StudySpec, runId: string, model: string): boolean {
    const have = this.repo.evaluatedMetrics(runId);
    const decoder = findObjective(model)?.decoder ?? true;
    return spec.evaluation.metrics.every(
      (m) => (m === GEOMETRY_ID && !decoder) || (have.get(m) ?? []).some((s) => settingsMatch(s, spec.evaluation.settings?.[m])),
    );
  }

  counts(cells: CellState[]): StudyCounts {
    const c: StudyCounts = { cells: cells.length, missing: 0, queued: 0, running: 0, finished: 0, evaluated: 0, failed: 0, stopped: 0 };
    for (const x of cells) {
      const s = x.run?.status;
      if (!s) c.missing++;
      else if (s === 'queued') c.queued++;
      else if (s === 'running') c.running++;
      else if (s === 'finished') {
        c.finished++;
        if (x.evaluated) c.evaluated++;
      } else if (s === 'failed') c.failed++;
      else c.stopped++;
    }
    return c;
  }

  summary(study: StoredStudy, cells = this.cells(study)): StudySummary {
    return {
      id: study.id,
      name: study.name,
      description: study.description,
      preset: study.spec.preset ?? null,
      createdAt: study.createdAt,
      counts: this.counts(cells),
    };
  }

  list(): StudySummary[] {
    return this.repo.list().map((s) => this.summary(s));
  }

  detail(id: string): StudyDetail {
    const study = this.need(id);
    const cells = this.cells(study);
    const ids = this.variantIds(study);
    const datasetIds: Record<string, Record<string, string>> = {};
    for (const [b, m] of Object.entries(ids)) for (const [r, v] of Object.entries(m)) if (v) (datasetIds[b] ??= {})[r] = v;
    return {
      ...this.summary(study, cells),
      spec: study.spec,
      datasetIds,
      cells: cells.map(
        (c): StudyCell => ({
          key: c.key,
          method: c.method,
          model: c.model,
          params: c.params,
          dataset: c.dataset,
          variant: c.variant,
          datasetId: c.datasetId,
          seed: c.seed,
          runId: c.run?.id ?? null,
          status: c.run?.status ?? 'missing',
          evaluated: c.evaluated,
        }),
      ),
    };
  }

  // ------------------------------------------------------------ execution

  /** Create (or find) the derived datasets of the study's variants. */
  async ensureDatasets(study: StoredStudy, ctx: { signal?: AbortSignal; onProgress?(message: string): void } = {}): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = {};
    for (const d of study.spec.datasets) {
      const base = this.lab.datasets.get(d.base);
      for (const v of d.variants) {
        ctx.signal?.throwIfAborted();
        let id: string;
        if (!v.kind) id = d.base;
        else {
          id = this.derivedIdOf(d.base, v.kind, v.params ?? {}, v.seed ?? 0);
          if (!this.lab.datasets.storedRow(id)) {
            ctx.onProgress?.(`creating ${d.base} ${v.role} (${v.kind})`);
            const eps = v.params?.epsilon;
            const name = `${base.name} — ${v.label ?? v.role}${eps !== undefined && !(v.label ?? '').includes('ε') ? ` ε=${String(eps)}` : ''} [${id.slice(-12)}]`;
            const job = await this.lab.saveDerived({
              name,
              baseId: d.base,
              kind: v.kind,
              ...(v.params ? { params: v.params } : {}),
              seed: v.seed ?? 0,
            });
            const onAbort = () => this.lab.jobs.cancel(job.id);
            ctx.signal?.addEventListener('abort', onAbort, { once: true });
            const done = await this.lab.jobs.wait(job.id);
            ctx.signal?.removeEventListener('abort', onAbort);
            ctx.signal?.throwIfAborted();
            if (done.status !== 'done') {
              // another process may have saved the same perturbation meanwhile
              if (!this.lab.datasets.storedRow(id)) throw new Error(`creating ${d.base}/${v.role} failed: ${done.error ?? done.status}`);
            } else if ((done.result as { datasetId?: string }).datasetId !== id) {
              throw new Error(`creating ${d.base}/${v.role} gave '${String((done.result as { datasetId?: string }).datasetId)}', expected '${id}'`);
            }
          }
        }
        (out[d.base] ??= {})[v.role] = id;
      }
    }
    this.repo.setDatasetIds(study.id, out);
    return out;
  }

  /**
   * Run what the study lacks and wait for it (see the file's header).
   * Resolves with the final counts.
   */
  async execute(id: string, opts: ExecuteOptions = {}): Promise<StudyCounts> {
    let study = this.need(id);
    const signal = opts.signal;
    const report = (f: number, m: string) => opts.onProgress?.(f, m);
    report(0, 'preparing datasets');
    await this.ensureDatasets(study, { ...(signal ? { signal } : {}), onProgress: (m) => report(0, m) });
    study = this.need(id);
    const spec = study.spec;
    const mine = new Set<string>();
    const sup = this.lab.supervisor;

    // 1. launch / resume / re-queue
    for (const c of this.cells(study)) {
      signal?.throwIfAborted();
      const r = c.run;
      if (!r) {
        const cfg = resolveRunConfig(cellRunConfig(spec, c, c.datasetId!, study.id));
        mine.add(sup.launch(cfg).id);
      } else if (RESUMABLE.includes(r.status) || (r.status === 'failed' && opts.retryFailed)) {
        mine.add(sup.resume(r.id).id);
      } else if (r.status === 'queued' && !sup.isActive(r.id)) {
        // left queued by a process that is gone (or by this one): queue it here; claiming a run is atomic, so it never trains twice
        if (!this.lab.runs.heldElsewhere(r.id, sup.ownerId)) {
          this.lab.runs.setStatus(r.id, 'interrupted');
          mine.add(sup.resume(r.id).id);
        }
      }
    }

    // 2. wait, scoring finished runs that lack the study's metrics
    const failedEval = new Set<string>();
    const onAbort = () => {
      for (const rid of mine) {
        const s = this.lab.runs.summary(rid)?.status;
        if (s === 'queued' || s === 'running') {
          try {
            sup.stop(rid, 'paused');
          } catch {
            /* it ended meanwhile */
          }
        }
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        signal?.throwIfAborted();
        study = this.need(id);
        const cells = this.cells(study);
        const counts = this.counts(cells);
        let stepsDone = 0;
        let stepsAll = 0;
        for (const c of cells) {
          stepsAll += spec.training.steps;
          stepsDone += c.run ? Math.min(c.run.step, spec.training.steps) : 0;
        }
        const running = cells.filter((c) => c.run?.status === 'running').map((c) => `${c.method}/${c.dataset}/${c.variant}/s${c.seed} ${c.run!.step}/${spec.training.steps}`);
        report(
          stepsAll ? (0.9 * stepsDone) / stepsAll + (0.1 * counts.evaluated) / Math.max(1, counts.cells) : 1,
          `${counts.evaluated}/${counts.cells} runs scored, ${counts.finished} finished, ${counts.running} running, ${counts.queued} queued${counts.failed ? `, ${counts.failed} failed` : ''}${running.length ? ` — ${running.join(', ')}` : ''}`,
        );
        // with inline scoring the training worker scores a run before it reports 'finished': only runs
        // scored elsewhere with other settings, or whose scoring failed, need a separate pass (tried once)
        const toScore = cells.filter((c) => c.run?.status === 'finished' && !c.evaluated && !failedEval.has(c.run.id));
        for (const c of toScore) {
          signal?.throwIfAborted();
          report(stepsAll ? (0.9 * stepsDone) / stepsAll : 1, `scoring ${c.method}/${c.dataset}/${c.variant}/s${c.seed}`);
          try {
            await sup.evaluate(
              c.run!.id,
              { metrics: spec.evaluation.metrics, ...(spec.evaluation.settings ? { settings: spec.evaluation.settings } : {}), seed: spec.evaluation.seed ?? c.seed },
              signal ? { signal } : {},
            );
          } catch (e) {
            if (signal?.aborted) throw e;
            failedEval.add(c.run!.id);
          }
          if (!this.isEvaluated(spec, c.run!.id, c.model)) failedEval.add(c.run!.id);
        }
        const pending = cells.filter(
          (c) =>
            c.run &&
            (c.run.status === 'queued' ||
              c.run.status === 'running' ||
              (c.run.status === 'finished' && !c.evaluated && !failedEval.has(c.run.id))),
        );
        // runs someone else stopped (paused/cancelled) while we waited are not restarted here
        if (pending.length === 0) return this.counts(this.cells(this.need(id)));
        await sleep(opts.pollMs ?? 1000, signal);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Run (or resume) a study as a job; one job per study at a time. */
  start(id: string, opts: { retryFailed?: boolean } = {}): JobInfo {
    const study = this.need(id);
    const running = this.activeJobs.get(id);
    if (running) {
      const j = this.lab.jobs.get(running);
      if (j.status === 'running') return j;
    }
    const job = this.lab.jobs.start('study', `Study ${study.name}`, async (ctx: JobContext) => {
      try {
        const counts = await this.execute(id, { ...opts, signal: ctx.signal, onProgress: (f, m) => ctx.progress(f, m) });
        return { studyId: id, counts };
      } finally {
        this.activeJobs.delete(id);
      }
    });
    this.activeJobs.set(id, job.id);
    return job;
  }

  /** Pause the study's queued and running runs. */
  cancel(id: string): StudySummary {
    const study = this.need(id);
    const j = this.activeJobs.get(id);
    if (j) this.lab.jobs.cancel(j);
    for (const r of this.repo.runs(id)) {
      if (r.status === 'queued' || r.status === 'running') {
        try {
          this.lab.supervisor.stop(r.id, 'paused');
        } catch {
          /* ended meanwhile */
        }
      }
    }
    return this.summary(study);
  }

  // ------------------------------------------------------------ results

  observations(study: StoredStudy, metric: string): Observation[] {
    const wanted = study.spec.evaluation.settings?.[metric];
    const out: Observation[] = [];
    for (const c of this.cells(study)) {
      if (c.run?.status !== 'finished') continue;
      const evals = this.lab.runs.evaluations(c.run.id).filter((e) => e.metric === metric && e.value !== null && Number.isFinite(e.value));
      const matching = evals.filter((e) => settingsMatch(e.provenance.settings, wanted));
      const e = matching[matching.length - 1];
      if (!e) continue;
      out.push({
        method: c.method,
        dataset: c.dataset,
        variant: c.variant,
        seed: c.seed,
        runId: c.run.id,
        value: e.value!,
        signature: canonicalJson({ settings: e.provenance.settings, samples: e.provenance.samples, codesAreMeans: e.provenance.codesAreMeans }),
      });
    }
    return out;
  }

  results(id: string, opts: { metric?: string; resamples?: number; seed?: number } = {}): StudyResults {
    const study = this.need(id);
    const metric = opts.metric ?? study.spec.primaryMetric ?? study.spec.evaluation.metrics[0]!;
    const cells = this.cells(study);
    const counts = this.counts(cells);
    const warnings: string[] = [];
    if (counts.evaluated < counts.cells) warnings.push(`${counts.cells - counts.evaluated} of ${counts.cells} runs are not (yet) scored: they are left out`);
    if (study.spec.preset?.scale && study.spec.preset.scale !== 'full') warnings.push(`scale '${study.spec.preset.scale}' deviates from the paper's training (see the study's notes)`);
    const methodOrder = [...new Set(cells.map((c) => c.method))];
    const curves = this.curves(study, metric, cells);
    const results = aggregate(this.observations(study, metric), {
      studyId: id,
      name: study.name,
      metric,
      ...(opts.resamples !== undefined ? { resamples: opts.resamples } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      order: {
        methods: methodOrder,
        datasets: study.spec.datasets.map((d) => d.base),
        variants: ['original', 'manipulated', 'noise', ...study.spec.datasets.flatMap((d) => d.variants.map((v) => v.role))],
      },
      warnings,
    });
    return curves.length ? { ...results, curves } : results;
  }

  /**
   * The metric during training per (method, dataset, variant role): the
   * periodic scores of every run of the study's cells (also those still
   * training), mean over seeds with its 95 % t interval at each step, by the
   * function runs/compare uses; in the study's order of methods, datasets and roles.
   */
  curves(study: StoredStudy, metric: string, cells = this.cells(study)): NonNullable<StudyResults['curves']> {
    const withRun = cells.filter((c): c is CellState & { run: StudyRunRow } => c.run !== null);
    const rows = withRun.map((c) => ({ id: c.run.id, model: c.method, dataset_id: c.dataset, variant: c.variant }));
    const methods = [...new Set(cells.map((c) => c.method))];
    const datasets = study.spec.datasets.map((d) => d.base);
    const roles = [...new Set(['original', 'manipulated', 'noise', ...study.spec.datasets.flatMap((d) => d.variants.map((v) => v.role))])];
    const at = (order: readonly string[], x: string) => (order.includes(x) ? order.indexOf(x) : order.length);
    return metricCurves(this.lab.runs, rows, new Set(), (r) => ({ base: r.dataset_id, variant: r.variant }), metric, roles)
      .sort((a, b) => at(methods, a.method) - at(methods, b.method) || at(datasets, a.base) - at(datasets, b.base))
      .map(({ base, ...c }) => ({ ...c, dataset: base }));
  }
}
