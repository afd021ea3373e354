/**
 * The Lab: the engine behind every transport, and the only wiring place.
 * It builds each room from narrow dependencies, in order — store, jobs,
 * datasets, runs, perturbations, studies, export, app — merges their
 * contract handlers, and closes them in reverse (see `docs/ARCHITECTURE.md`).
 * Everything the app can do, the Lab can do headless.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Handlers } from '../shared/dispatch.js';
import type { LabInfo } from '../shared/domain.js';
import pkg from '../../package.json' with { type: 'json' };
import { readPrefs, trainingPlan } from './app/prefs.js';
import { createAppRoom } from './app/room.js';
import { createDatasetsRoom } from './datasets/room.js';
import type { ImportService } from './datasets/import-service.js';
import type { DatasetService } from './datasets/service.js';
import { EventBus } from './events.js';
import { createExportRoom } from './export/handlers.js';
import { Jobs } from './jobs.js';
import { createPerturbationsRoom } from './perturbations/handlers.js';
import { openDerived } from './perturbations/open.js';
import { openDb, schemaVersion, type Db } from './store/db.js';
import { RunRepository } from './store/runs.js';
import { createStudiesRoom } from './studies/handlers.js';
import { createClusterRoom } from './cluster/room.js';
import type { StudyService } from './studies/service.js';
import { backendLabel, initBackend, type BackendInfo } from './compute/backend.js';
import type { RunSupervisor, WorkerEntry } from './runs/supervisor.js';
import type { RunViews } from './runs/views.js';
import { createRunsRoom } from './runs/room.js';
import { defaultWorkerEntry } from './runs/worker-entry.js';
import { Wiring, type WiringTrace } from './wiring.js';

export interface LabOptions {
  labDir: string;
  /** Use this backend answer instead of initialising one (tests). */
  backend?: BackendInfo;
  /** The training worker script (default: built worker.js, else the TS source via tsx). */
  worker?: WorkerEntry;
  /** Runs training at once (default: the Preferences' training plan). */
  maxConcurrentRuns?: number;
  /** Compute threads of each training run (default: the Preferences' training plan). */
  threadsPerRun?: number;
  /** Start runs left queued in the store (the app: yes; a one-shot CLI command: no). */
  adoptQueuedRuns?: boolean;
  /** Called as each room is built and closed (tests: the order, and a failure half-way). */
  trace?: WiringTrace;
}

export class Lab {
  readonly events = new EventBus();
  readonly handlers: Handlers;
  readonly jobs: Jobs;
  readonly datasets: DatasetService;
  readonly imports: ImportService;
  readonly runs: RunRepository;
  readonly supervisor: RunSupervisor;
  readonly runViews: RunViews;
  readonly studies: StudyService;
  private readonly wiring: Wiring;

  private constructor(
    readonly labDir: string,
    readonly db: Db,
    private readonly compute: BackendInfo,
    opts: LabOptions,
  ) {
    const w = (this.wiring = new Wiring(opts.trace));
    try {
      w.add('store', () => ({ close: () => void db.close() }));
      const jobs = w.add('jobs', () => {
        const j = new Jobs(this.events);
        return { jobs: j, handlers: j.handlers(), close: () => j.close() };
      });
      this.jobs = jobs.jobs;
      const datasets = w.add('datasets', () => createDatasetsRoom({ db, labDir, jobs: this.jobs, openDerived }));
      this.datasets = datasets.datasets;
      this.imports = datasets.imports;
      this.runs = new RunRepository(db);
      const runs = w.add('runs', () =>
        createRunsRoom({
          labDir,
          runs: this.runs,
          datasets: this.datasets,
          events: this.events,
          jobs: this.jobs,
          worker: opts.worker ?? defaultWorkerEntry(),
          maxConcurrent: opts.maxConcurrentRuns ?? trainingPlan(readPrefs(labDir).training).maxConcurrentRuns,
          threadsPerRun: () => opts.threadsPerRun ?? trainingPlan(readPrefs(labDir).training).threadsPerRun,
          adoptQueued: opts.adoptQueuedRuns ?? true,
        }),
      );
      this.supervisor = runs.supervisor;
      this.runViews = runs.runViews;
      const perturbations = w.add('perturbations', () => createPerturbationsRoom({ db, labDir, datasets: this.datasets, jobs: this.jobs }));
      const studies = w.add('studies', () =>
        createStudiesRoom({
          db,
          labDir,
          datasets: this.datasets,
          jobs: this.jobs,
          runs: this.runs,
          supervisor: this.supervisor,
          info: () => this.info(),
          saveDerived: (req) => perturbations.perturbations.save(req),
        }),
      );
      this.studies = studies.studies;
      const cluster = w.add('cluster', () => createClusterRoom({ db, labDir, runs: this.runs, datasets: this.datasets, studies: this.studies, info: () => this.info() }));
      const exporting = w.add('export', () => createExportRoom({ labDir }));
      const app = w.add('app', () =>
        createAppRoom({
          labDir,
          info: () => this.info(),
          onPrefs: (p) => {
            if (opts.maxConcurrentRuns === undefined) this.supervisor.setMaxConcurrent(trainingPlan(p.training).maxConcurrentRuns);
          },
        }),
      );
      this.handlers = {
        ...datasets.handlers,
        ...runs.handlers,
        ...jobs.handlers,
        ...perturbations.handlers,
        ...studies.handlers,
        ...cluster.handlers,
        ...exporting.handlers,
        ...app.handlers,
      };
    } catch (e) {
      void w.close().catch(() => undefined);
      throw e;
    }
  }

  static async open(opts: LabOptions): Promise<Lab> {
    const labDir = path.resolve(opts.labDir);
    fs.mkdirSync(labDir, { recursive: true });
    for (const sub of ['datasets', 'runs', 'exports', 'tmp']) fs.mkdirSync(path.join(labDir, sub), { recursive: true });
    const db = openDb(path.join(labDir, 'lab.sqlite'));
    let compute: BackendInfo;
    try {
      compute = opts.backend ?? (await initBackend());
    } catch (e) {
      db.close();
      throw e;
    }
    return new Lab(labDir, db, compute, opts);
  }

  info(): LabInfo {
    return {
      name: 'Disentanglement Lab',
      version: pkg.version,
      backend: this.compute.backend,
      backendLabel: backendLabel(this.compute),
      backendNotes: this.compute.notes,
      labDir: this.labDir,
      schemaVersion: schemaVersion(this.db),
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
    };
  }

  /** Close every room once, in reverse build order. */
  close(): Promise<void> {
    return this.wiring.close();
  }
}
