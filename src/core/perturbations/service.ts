/**
 * The Lab-facing side of perturbations and dataset analysis: what the
 * `perturbations/*` and `datasets/analyze` requests do (see
 * src/shared/requests/perturb.ts).
 *
 * PREVIEW (a request, answered from a worker thread): checks kind, params and
 * blocks here (invalid_payload), then a worker thread (src/core/threads.ts,
 * src/core/perturbations/preview.ts) builds the perturbation on the base
 * dataset (or restores the trained draft from its spec and weights), renders
 * a few seeded or chosen images, their perturbed versions and |Δ|/ε, and runs
 * `perturbationStats` on a small seeded sample. The serving loop stays free
 * meanwhile. The statistics of SAVE and the variance structures of ANALYZE
 * are computed in a worker thread the same way (a cancelled job stops it).
 *
 * DRAFTS: `perturbations/train` trains a learned perturbation as a job, with
 * its artifact (weights) written to `<labDir>/tmp/perturb-drafts/<pid>-<rand>/
 * <draftId>/`; the result is `{ draftId }`, kept in memory for this Lab (at
 * most MAX_DRAFTS, oldest dropped). A cancelled or failed training leaves
 * nothing. Folders of processes that are gone are removed at start.
 *
 * SAVE (a job): builds the dataset (from the draft, or creating it — training
 * a learned one inside the job), computes `perturbationStats` on a seeded
 * sample, then in ONE SQLite transaction checks for a duplicate name or an
 * identical spec, inserts the `datasets` row (+ `artifacts` rows for the
 * weights) and renames the artifact folder to `datasetDir(labDir, id)`; a
 * failed rename rolls the rows back, a failed commit moves the folder back.
 * The id is `derivedId(spec)` = `<parent>.<kind>.<hash of kind, params, seed,
 * parent, blocks>`, the name the user's. Result `{ datasetId }`.
 *
 * ANALYZE (a job): `varianceStructure` of the dataset (or of an unsaved
 * perturbation of it) and of the one it is compared with, on the same seeded
 * grid points.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../../shared/contract.js';
import type { JobInfo } from '../../shared/jobs.js';
import { resolveParams } from '../../shared/params.js';
import type { AnalysisResult, PerturbationEntryInfo, PerturbationStatsWire, PreviewResult, VarianceStructureWire } from '../../shared/requests/perturb.js';
import { datasetDir, lineage } from '../datasets/open.js';
import type { DatasetService } from '../datasets/service.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import type { JobContext, Jobs } from '../jobs.js';
import { nowIso, type Db } from '../store/db.js';
import { runInThread } from '../threads.js';
import { derivedId, specHash } from './derived.js';
import type { DatasetSource, DerivedSource } from './preview.js';
import { createPerturbation, findPerturbation, perturbations } from './registry.js';
import { PerturbationSpec as PerturbationSpecSchema, type BlockSpec, type DerivedDataset, type PerturbationProgress, type PerturbationSpec } from './types.js';
import { pidAlive } from '../util/process.js';

export { statsToWire } from './preview.js';

export const MAX_DRAFTS = 8;
const DRAFTS_DIR = 'perturb-drafts';

export interface PerturbServiceOptions {
  db: Db;
  labDir: string;
  datasets: DatasetService;
  jobs: Jobs;
}

/** What a perturbation is made of, as a request gives it. */
export interface PerturbationRequest {
  baseId: string;
  kind: string;
  params?: Record<string, number | boolean | string>;
  seed?: number;
  blocks?: BlockSpec[];
}

interface Draft {
  id: string;
  baseId: string;
  kind: string;
  dir: string;
  dataset: DerivedDataset;
  createdAt: number;
}

function invalid(e: unknown): LabError {
  if (e instanceof LabError) return e;
  return new LabError('invalid_payload', (e as Error)?.message ?? String(e));
}

/** The identity of a spec (what makes two derived datasets the same). */
function identity(spec: Pick<PerturbationSpec, 'kind' | 'params' | 'seed' | 'parentId' | 'blocks'>): string {
  return specHash(spec);
}

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

export class PerturbService {
  private readonly drafts = new Map<string, Draft>();
  private readonly db: Db;
  private readonly labDir: string;
  private readonly draftRoot: string;

  constructor(private readonly opts: PerturbServiceOptions) {
    this.db = opts.db;
    this.labDir = opts.labDir;
    const root = path.join(this.labDir, 'tmp', DRAFTS_DIR);
    mkdirSync(root, { recursive: true });
    // folders of Lab processes that are gone (each process has its own)
    for (const name of readdirSync(root)) {
      const pid = Number(name.split('-')[0]);
      if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) rmSync(path.join(root, name), { recursive: true, force: true });
    }
    this.draftRoot = path.join(root, `${process.pid}-${randomBytes(4).toString('hex')}`);
    // drafts do not outlive the process, even one that exits without closing its Lab; close() takes this back
    process.once('exit', this.onExit);
  }

  private readonly onExit = (): void => rmSync(this.draftRoot, { recursive: true, force: true });

  list(): PerturbationEntryInfo[] {
    return perturbations.map((p) => ({
      id: p.id,
      name: p.name,
      description: p.description,
      params: p.params.map((s) => ({ ...s })),
      block: p.block === true,
      learned: p.learned === true,
      composite: p.composite === true,
    }));
  }

  // ------------------------------------------------------------ building

  private entry(kind: string) {
    const e = findPerturbation(kind);
    if (!e) throw new LabError('invalid_payload', `unknown perturbation '${kind}' (known: ${perturbations.map((p) => p.id).join(', ')})`);
    return e;
  }

  /** Resolve params (and check blocks) without building anything: invalid_payload on any mistake. */
  private check(req: PerturbationRequest): { params: Record<string, number | boolean | string> } {
    const e = this.entry(req.kind);
    let params;
    try {
      params = resolveParams(e.params, req.params ?? {});
    } catch (err) {
      throw invalid(err);
    }
    if (req.blocks && !e.composite) throw new LabError('invalid_payload', `'${req.kind}' does not take blocks`);
    if (e.composite && !req.blocks?.length) throw new LabError('invalid_payload', `'${req.kind}' needs at least one block`);
    for (const b of req.blocks ?? []) {
      const be = findPerturbation(b.kind);
      if (!be?.block) throw new LabError('invalid_payload', `'${b.kind}' is not a building block (blocks: ${perturbations.filter((p) => p.block).map((p) => p.id).join(', ')})`);
      const given = { ...b.params };
      delete given.epsilon;
      try {
        resolveParams(
          be.params.filter((s) => s.key !== 'epsilon'),
          given,
        );
      } catch (err) {
        throw new LabError('invalid_payload', `block ${b.kind}: ${(err as Error).message}`);
      }
    }
    return { params };
  }

  private async parent(id: string): Promise<GroundTruthDataset> {
    this.opts.datasets.get(id); // not_found as a typed error
    return this.opts.datasets.open(id);
  }

  /** Build a non-learned perturbation (fast). */
  private async build(req: PerturbationRequest): Promise<{ parent: GroundTruthDataset; derived: DerivedDataset }> {
    const e = this.entry(req.kind);
    if (e.learned) {
      throw new LabError('invalid_payload', `'${req.kind}' is learned: train it first (perturbations/train) and use the draftId`);
    }
    this.check(req);
    const parent = await this.parent(req.baseId);
    try {
      const derived = await createPerturbation(req.kind, parent, req.params ?? {}, req.seed ?? 0, {}, req.blocks);
      return { parent, derived };
    } catch (err) {
      throw invalid(err);
    }
  }

  private draft(id: string): Draft {
    const d = this.drafts.get(id);
    if (!d) throw new LabError('not_found', `no draft '${id}' (drafts live as long as the Lab process that trained them)`);
    return d;
  }

  // ------------------------------------------------------------ preview

  /** A dataset as a worker thread opens it: its id and the store rows of it and its ancestors. */
  private source(id: string): DatasetSource {
    this.opts.datasets.get(id); // not_found as a typed error
    try {
      return { labDir: this.labDir, id, rows: lineage(id, (x) => this.opts.datasets.storedRow(x)) };
    } catch (e) {
      throw new LabError('internal', `cannot open dataset '${id}': ${(e as Error).message}`);
    }
  }

  /** How a worker thread re-creates a derived dataset built here: from its spec (and its artifact folder). */
  private static restore(derived: DerivedDataset, artifactDir?: string | null): DerivedSource {
    return { restore: { spec: derived.spec, ...(artifactDir ? { artifactDir } : {}) } };
  }

  async preview(input: PerturbationRequest & { indices?: number[]; count?: number; sampleSeed?: number; statsSamples?: number; draftId?: string }): Promise<PreviewResult> {
    let derived: DerivedSource;
    let draftId: string | null = null;
    let baseId = input.baseId;
    if (input.draftId) {
      const d = this.draft(input.draftId);
      if (d.baseId !== input.baseId || d.kind !== input.kind) {
        throw new LabError('invalid_payload', `draft ${d.id} is ${d.kind} on '${d.baseId}', not ${input.kind} on '${input.baseId}'`);
      }
      baseId = d.baseId;
      derived = PerturbService.restore(d.dataset, d.dir);
      draftId = d.id;
    } else {
      const e = this.entry(input.kind);
      if (e.learned) {
        throw new LabError('invalid_payload', `'${input.kind}' is learned: train it first (perturbations/train) and use the draftId`);
      }
      this.check(input);
      derived = { create: { kind: input.kind, params: input.params, seed: input.seed, blocks: input.blocks } };
    }
    const base = this.source(baseId);
    if (input.indices) {
      const count = this.opts.datasets.get(baseId).count;
      const bad = input.indices.find((i) => i >= count);
      if (bad !== undefined) throw new LabError('invalid_payload', `index ${bad} outside 0…${count - 1}`);
    }
    // rendering and the statistics (seconds for thousands of samples) happen in a worker thread
    const p = await runInThread('perturb-preview', {
      base,
      derived,
      indices: input.indices,
      count: input.count,
      sampleSeed: input.sampleSeed,
      statsSamples: input.statsSamples,
    });
    return {
      baseId,
      kind: p.spec.kind,
      datasetId: derivedId(p.spec),
      name: p.name,
      epsilon: p.epsilon,
      params: { ...p.spec.params },
      ...(p.spec.blocks ? { blocks: p.spec.blocks.map((b) => ({ kind: b.kind, params: { ...b.params } })) } : {}),
      seed: p.spec.seed,
      draftId,
      indices: p.indices,
      factors: p.factors,
      originals: p.originals,
      perturbed: p.perturbed,
      difference: p.difference,
      maxAbsDelta: p.maxAbsDelta,
      stats: p.stats,
    };
  }

  // ------------------------------------------------------------ training (drafts)

  /** Train a learned perturbation into a temporary folder, reporting progress and the curve on the job. */
  private async trainInto(req: PerturbationRequest, dir: string, ctx: JobContext, span: [number, number]): Promise<{ parent: GroundTruthDataset; derived: DerivedDataset }> {
    const parent = await this.parent(req.baseId);
    const [a, b] = span;
    let lastPoint = 0;
    const onProgress = (fraction: number, info: PerturbationProgress) => {
      if (info.stage === 'training' && info.step !== undefined && info.steps !== undefined) {
        const every = Math.max(1, Math.floor(info.steps / 200));
        if (info.step === 1 || info.step % every === 0 || info.step === info.steps) {
          if (info.step !== lastPoint) {
            lastPoint = info.step;
            if (info.objective !== undefined) ctx.point('objective', info.step, info.objective);
            if (info.entangledLoss !== undefined) ctx.point('entangledLoss', info.step, info.entangledLoss);
            if (info.disentangledLoss !== undefined) ctx.point('disentangledLoss', info.step, info.disentangledLoss);
            if (info.structureLoss !== undefined) ctx.point('structureLoss', info.step, info.structureLoss);
          }
        }
        ctx.progress(a + (b - a) * fraction, `training step ${info.step}/${info.steps}`);
      } else ctx.progress(a + (b - a) * fraction, info.stage);
    };
    mkdirSync(dir, { recursive: true });
    const derived = await createPerturbation(req.kind, parent, req.params ?? {}, req.seed ?? 0, { onProgress, signal: ctx.signal, artifactDir: dir }, req.blocks);
    ctx.signal.throwIfAborted();
    return { parent, derived };
  }

  train(req: PerturbationRequest): JobInfo {
    const e = this.entry(req.kind);
    if (!e.learned) throw new LabError('invalid_payload', `'${req.kind}' is not learned: preview and save it directly`);
    this.check(req);
    this.opts.datasets.get(req.baseId);
    const draftId = `draft-${randomBytes(5).toString('hex')}`;
    const dir = path.join(this.draftRoot, draftId);
    return this.opts.jobs.start('perturbation-train', `Train ${e.name} on ${req.baseId}`, async (ctx) => {
      await yieldNow();
      try {
        const { derived } = await this.trainInto(req, dir, ctx, [0, 1]);
        const draft: Draft = { id: draftId, baseId: req.baseId, kind: req.kind, dir, dataset: derived, createdAt: Date.now() };
        this.drafts.set(draftId, draft);
        while (this.drafts.size > MAX_DRAFTS) {
          const oldest = [...this.drafts.values()].sort((x, y) => x.createdAt - y.createdAt)[0]!;
          this.discard(oldest.id);
        }
        const report = { ...(derived.report ?? {}) };
        delete report.history; // the curve is already the job's series
        return { draftId, datasetId: derivedId(derived.spec), report };
      } catch (err) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    });
  }

  discard(draftId: string): { draftId: string; discarded: boolean } {
    const d = this.drafts.get(draftId);
    if (!d) return { draftId, discarded: false };
    this.drafts.delete(draftId);
    rmSync(d.dir, { recursive: true, force: true });
    return { draftId, discarded: true };
  }

  // ------------------------------------------------------------ save

  /** A conflict with an existing dataset (same name, same id, or an identical spec), or undefined. */
  private conflict(name: string, spec: PerturbationSpec): string | undefined {
    const lower = name.trim().toLowerCase();
    const id = derivedId(spec);
    const hash = identity(spec);
    for (const d of this.opts.datasets.list()) {
      if (d.name.trim().toLowerCase() === lower) return `a dataset named '${d.name}' already exists (${d.id}); choose another name`;
    }
    for (const r of this.opts.datasets.storedRows()) {
      if (r.source !== 'derived') continue;
      const parsed = PerturbationSpecSchema.safeParse(r.spec);
      if (r.id === id || (parsed.success && identity(parsed.data) === hash)) {
        return `this perturbation (same base, kind, parameters and seed) is already saved as '${r.info.name}' (${r.id})`;
      }
    }
    return undefined;
  }

  async save(input: { name: string; draftId?: string; statsSamples?: number } & Partial<PerturbationRequest>): Promise<JobInfo> {
    const name = input.name.trim();
    let req: PerturbationRequest | undefined;
    let draft: Draft | undefined;
    let prebuilt: { parent: GroundTruthDataset; derived: DerivedDataset } | undefined;
    if (input.draftId) {
      draft = this.draft(input.draftId);
      const c = this.conflict(name, draft.dataset.spec);
      if (c) throw new LabError('conflict', c);
    } else {
      if (!input.baseId || !input.kind) throw new LabError('invalid_payload', 'give either draftId or baseId and kind');
      req = { baseId: input.baseId, kind: input.kind, params: input.params, seed: input.seed, blocks: input.blocks };
      const e = this.entry(req.kind);
      const { params } = this.check(req);
      this.opts.datasets.get(req.baseId);
      if (e.learned) {
        // the spec's identity is known before training: refuse duplicates now
        const c = this.conflict(name, { kind: req.kind, params, seed: req.seed ?? 0, parentId: req.baseId });
        if (c) throw new LabError('conflict', c);
      } else {
        prebuilt = await this.build(req);
        const c = this.conflict(name, prebuilt.derived.spec);
        if (c) throw new LabError('conflict', c);
      }
    }
    const title = `Save ${name}`;
    return this.opts.jobs.start('perturbation-save', title, async (ctx) => {
      await yieldNow();
      const tmp = path.join(this.labDir, 'tmp', `perturb-save-${randomBytes(6).toString('hex')}`);
      try {
        let parent: GroundTruthDataset;
        let derived: DerivedDataset;
        let artifactSource: string | null = null;
        let statsFrom = 0;
        if (draft) {
          parent = await this.parent(draft.baseId);
          derived = draft.dataset;
          artifactSource = draft.dir;
        } else if (prebuilt) {
          ({ parent, derived } = prebuilt);
        } else {
          ({ parent, derived } = await this.trainInto(req!, tmp, ctx, [0, 0.85]));
          artifactSource = tmp;
          statsFrom = 0.85;
        }
        const n = input.statsSamples ?? 1000;
        ctx.progress(statsFrom, `statistics on ${n} seeded samples`);
        await yieldNow();
        ctx.signal.throwIfAborted();
        // in a worker thread (thousands of images); cancelling the job stops it
        const stats = await runInThread(
          'perturb-stats',
          { base: this.source(parent.info.id), derived: PerturbService.restore(derived, artifactSource), samples: n, pairSamples: Math.min(200, n), seed: 0 },
          { signal: ctx.signal, timeoutMs: 6 * 3600_000 },
        );
        ctx.progress(statsFrom + (1 - statsFrom) * 0.9, 'storing');
        await yieldNow();
        ctx.signal.throwIfAborted();
        // From here on everything is synchronous: a cancel cannot slip in between the commit and the job's end.
        const id = this.commit(name, parent, derived, stats, artifactSource);
        if (draft) this.drafts.delete(draft.id);
        return { datasetId: id };
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }

  /** Row, artifact rows and folder in one step: either all are there afterwards, or none. */
  private commit(name: string, parent: GroundTruthDataset, derived: DerivedDataset, stats: PerturbationStatsWire, artifactSource: string | null): string {
    const spec = PerturbationSpecSchema.parse(derived.spec);
    const id = derivedId(spec);
    const info = { ...derived.info, id, name, parent: parent.info.id, source: 'derived' as const };
    const final = datasetDir(this.labDir, id);
    const rel = (p: string) => path.relative(this.labDir, p).split(path.sep).join('/');
    const now = nowIso();
    const report = derived.report ? { ...derived.report } : undefined;
    const storedStats = { ...stats, ...(report ? { training: report } : {}) };
    let renamed = false;
    const tx = this.db.transaction(() => {
      const c = this.conflict(name, spec);
      if (c) throw new LabError('conflict', c);
      if (this.db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(id)) throw new LabError('conflict', `a dataset '${id}' already exists`);
      this.db
        .prepare(
          `INSERT INTO datasets (id, name, source, info_json, spec_json, stats_json, parent_id, created_at)
           VALUES (?, ?, 'derived', ?, ?, ?, ?, ?)`,
        )
        .run(id, name, JSON.stringify(info), JSON.stringify(spec), JSON.stringify(storedStats), parent.info.id, now);
      const insert = this.db.prepare(
        "INSERT INTO artifacts (owner_kind, owner_id, kind, path, size, sha256, created_at) VALUES ('dataset', ?, ?, ?, ?, ?, ?)",
      );
      for (const [role, ref] of Object.entries(spec.artifacts ?? {})) {
        if (!artifactSource) throw new Error(`the spec names an artifact '${ref.file}' but there is no artifact folder`);
        const size = statSync(path.join(artifactSource, ref.file)).size;
        if (size !== ref.bytes) throw new Error(`artifact '${ref.file}' has ${size} bytes, the spec says ${ref.bytes}`);
        insert.run(id, `perturbation-${role}`, rel(path.join(final, ref.file)), ref.bytes, ref.sha256, now);
      }
      if (artifactSource && spec.artifacts && Object.keys(spec.artifacts).length > 0) {
        // A folder without a row can only be left by a crash between rename and commit: replace it.
        if (existsSync(final)) rmSync(final, { recursive: true, force: true });
        mkdirSync(path.dirname(final), { recursive: true });
        renameSync(artifactSource, final);
        renamed = true;
      }
    });
    try {
      tx();
    } catch (e) {
      if (renamed && artifactSource && !this.db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(id)) renameSync(final, artifactSource);
      throw e;
    }
    this.opts.datasets.evict(id);
    return id;
  }

  // ------------------------------------------------------------ analysis

  async analyze(input: {
    id: string;
    samples?: number;
    seed?: number;
    compareTo?: string;
    draftId?: string;
    perturbation?: { kind: string; params?: Record<string, number | boolean | string>; seed?: number; blocks?: BlockSpec[] };
  }): Promise<JobInfo> {
    const samples = input.samples ?? 500;
    const seed = input.seed ?? 0;
    const info = this.opts.datasets.get(input.id);
    // what to analyse, as a worker thread opens it (the variance structure of 5000 points takes seconds)
    type Subject = { id: string; name: string; base: string; derived?: DerivedSource };
    let target: Subject;
    let reference: Subject | null = null;
    const plain = (id: string): Subject => ({ id, name: this.opts.datasets.get(id).name, base: id });
    if (input.draftId) {
      const d = this.draft(input.draftId);
      if (d.baseId !== input.id) throw new LabError('invalid_payload', `draft ${d.id} perturbs '${d.baseId}', not '${input.id}'`);
      target = { id: d.id, name: `${d.dataset.info.name} (draft)`, base: d.baseId, derived: PerturbService.restore(d.dataset, d.dir) };
      reference = plain(input.id);
    } else if (input.perturbation) {
      const built = await this.build({ baseId: input.id, ...input.perturbation });
      target = { id: derivedId(built.derived.spec), name: `${built.derived.info.name} (unsaved)`, base: input.id, derived: PerturbService.restore(built.derived) };
      reference = plain(input.id);
    } else {
      target = plain(input.id);
      const other = input.compareTo ?? (info.source === 'derived' ? info.parent : undefined);
      if (other) {
        const o = this.opts.datasets.get(other);
        if (o.factors.map((f) => f.size).join(',') !== info.factors.map((f) => f.size).join(',')) {
          throw new LabError('invalid_payload', `'${input.id}' and '${other}' have different factor grids`);
        }
        reference = plain(other);
      }
    }
    return this.opts.jobs.start('dataset-analyze', `Analyse ${info.name}`, async (ctx) => {
      await yieldNow();
      const structure = async (x: Subject) =>
        (await runInThread(
          'variance',
          { base: this.source(x.base), ...(x.derived ? { derived: x.derived } : {}), samples, seed },
          { signal: ctx.signal, timeoutMs: 6 * 3600_000 },
        )) as VarianceStructureWire;
      ctx.progress(0.05, `variance structure of ${target.name} (${samples} points)`);
      ctx.signal.throwIfAborted();
      const analysis = await structure(target);
      let compareTo: AnalysisResult['compareTo'] = null;
      if (reference) {
        ctx.progress(0.5, `variance structure of ${reference.name} (${samples} points)`);
        ctx.signal.throwIfAborted();
        compareTo = { datasetId: reference.id, name: reference.name, analysis: await structure(reference) };
      }
      const result: AnalysisResult = { datasetId: target.id, name: target.name, samples, seed, analysis, compareTo };
      return result as unknown as Record<string, unknown>;
    });
  }

  /**
   * Forget every draft and delete this process's draft folder; the process
   * then holds nothing of this service (its exit listener is removed: a
   * process that opens and closes labs, such as the cluster's tasks or the
   * tests, would otherwise keep every closed lab's service alive).
   */
  close(): void {
    process.removeListener('exit', this.onExit);
    this.drafts.clear();
    this.onExit();
  }
}
