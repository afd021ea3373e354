/**
 * The Lab: the engine behind every transport. Everything the app can do, the
 * Lab can do headless; its `handlers` implement the contract.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Handlers } from '../shared/dispatch.js';
import { LabError, type SampleResult } from '../shared/contract.js';
import type { LabInfo } from '../shared/domain.js';
import pkg from '../../package.json' with { type: 'json' };
import { DatasetService } from './datasets/service.js';
import { ImportService } from './datasets/import-service.js';
import { factorsOf, factorsToIndex, indexToFactors, renderBatch, sampleIndices } from './datasets/grid.js';
import type { GroundTruthDataset } from './datasets/types.js';
import { EventBus } from './events.js';
import { Jobs } from './jobs.js';
import { toImageBatch } from './images.js';
import { openDb, schemaVersion, type Db } from './store/db.js';
import { RunRepository } from './store/runs.js';
import { initBackend, type BackendInfo } from './training/backend.js';
import { RunSupervisor, type WorkerEntry } from './training/supervisor.js';
import { defaultWorkerEntry } from './training/worker-entry.js';
import { RunViews } from './training/views.js';
import { runHandlers } from './training/handlers.js';
import { appHandlers } from './prefs.js';
import { closePerturbService, perturbHandlers } from './perturbations/handlers.js';
import { Rng } from './util/rng.js';
import { exportHandlers } from './export/handlers.js'; // compare/export room
import { studyHandlers } from './studies/handlers.js'; // studies room

export interface LabOptions {
  labDir: string;
  /** Use this backend answer instead of initialising one (tests). */
  backend?: BackendInfo;
  /** The training worker script (default: built worker.js, else the TS source via tsx). */
  worker?: WorkerEntry;
  /** Runs training at once (default 1: one per device). */
  maxConcurrentRuns?: number;
  /** Start runs left queued in the store (the app: yes; a one-shot CLI command: no). */
  adoptQueuedRuns?: boolean;
}

export class Lab {
  readonly events = new EventBus();
  readonly datasets: DatasetService;
  readonly handlers: Handlers;
  readonly runs: RunRepository;
  readonly supervisor: RunSupervisor;
  readonly runViews: RunViews;
  readonly jobs: Jobs;
  readonly imports: ImportService;
  private closed = false;

  private constructor(
    readonly labDir: string,
    readonly db: Db,
    private readonly compute: BackendInfo,
    opts: LabOptions,
  ) {
    this.datasets = new DatasetService(db, labDir);
    this.runs = new RunRepository(db);
    this.supervisor = new RunSupervisor({
      labDir,
      runs: this.runs,
      datasets: this.datasets,
      events: this.events,
      worker: opts.worker ?? defaultWorkerEntry(),
      maxConcurrent: opts.maxConcurrentRuns ?? 1,
      adoptQueued: opts.adoptQueuedRuns ?? true,
    });
    this.runViews = new RunViews(labDir, this.runs, this.datasets);
    this.jobs = new Jobs(this.events);
    this.imports = new ImportService({ db, labDir, datasets: this.datasets, jobs: this.jobs });
    this.handlers = {
      'lab/info': () => this.info(),
      'datasets/list': () => this.datasets.list(),
      'datasets/get': ({ id }) => this.datasets.get(id),
      'datasets/samples': (input) => this.samples(input),
      'datasets/traverse': (input) => this.traverse(input),
      ...runHandlers(this),
      ...this.jobs.handlers(),
      ...perturbHandlers(this),
      ...this.imports.handlers(),
      ...appHandlers(this),
      ...studyHandlers(this), // studies room
      ...exportHandlers(this), // compare/export room
    };
  }

  static async open(opts: LabOptions): Promise<Lab> {
    const labDir = path.resolve(opts.labDir);
    fs.mkdirSync(labDir, { recursive: true });
    for (const sub of ['datasets', 'runs', 'exports', 'tmp']) fs.mkdirSync(path.join(labDir, sub), { recursive: true });
    const db = openDb(path.join(labDir, 'lab.sqlite'));
    const compute = opts.backend ?? (await initBackend());
    return new Lab(labDir, db, compute, opts);
  }

  info(): LabInfo {
    return {
      name: 'Disentanglement Lab',
      version: pkg.version,
      backend: this.compute.backend,
      backendNotes: this.compute.notes,
      labDir: this.labDir,
      schemaVersion: schemaVersion(this.db),
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
    };
  }

  private result(ds: GroundTruthDataset, indices: number[]): SampleResult {
    const sizes = ds.info.factors.map((f) => f.size);
    const factors = factorsOf(sizes, indices);
    const K = sizes.length;
    const images = renderBatch(ds, indices);
    return {
      datasetId: ds.info.id,
      indices,
      factors: indices.map((_, i) => Array.from(factors.subarray(i * K, (i + 1) * K))),
      images: toImageBatch(images, indices.length, ds.info.imageShape),
    };
  }

  async samples(input: { id: string; indices?: number[]; count?: number; seed?: number }): Promise<SampleResult> {
    const ds = await this.datasets.open(input.id);
    let indices: number[];
    if (input.indices) {
      const bad = input.indices.find((i) => i >= ds.info.count);
      if (bad !== undefined) throw new LabError('invalid_payload', `index ${bad} outside 0…${ds.info.count - 1}`);
      indices = input.indices;
    } else {
      const sizes = ds.info.factors.map((f) => f.size);
      indices = Array.from(sampleIndices(sizes, input.count ?? 16, new Rng(input.seed ?? 0)));
    }
    return this.result(ds, indices);
  }

  async traverse(input: { id: string; index?: number; factors?: number[]; factor: number; steps?: number }): Promise<SampleResult> {
    const ds = await this.datasets.open(input.id);
    const sizes = ds.info.factors.map((f) => f.size);
    if (input.factor >= sizes.length) {
      throw new LabError('invalid_payload', `factor ${input.factor} outside 0…${sizes.length - 1}`);
    }
    let start: number[];
    try {
      start = input.factors ? (factorsToIndex(sizes, input.factors), [...input.factors]) : indexToFactors(sizes, input.index!);
    } catch (e) {
      throw new LabError('invalid_payload', (e as Error).message);
    }
    const n = sizes[input.factor]!;
    const steps = Math.min(n, input.steps ?? n);
    const indices: number[] = [];
    for (let s = 0; s < steps; s++) {
      const cls = steps === 1 ? 0 : Math.round((s * (n - 1)) / (steps - 1));
      const f = [...start];
      f[input.factor] = cls;
      indices.push(factorsToIndex(sizes, f));
    }
    return this.result(ds, indices);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.supervisor.close();
    await this.jobs.close();
    closePerturbService(this);
    this.imports.close();
    this.runViews.dispose();
    this.db.close();
  }
}
