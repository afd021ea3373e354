/**
 * The perturbation editor and the analysis through the Lab's handlers, on a
 * temporary lab dir: preview, save (row + artifacts + reopen), the learned
 * manipulation as a job (train, cancel, save, restore), analyze, bad payloads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { DSprites } from '../../src/core/datasets/dsprites.js';
import { renderBatch, sampleIndices } from '../../src/core/datasets/grid.js';
import { datasetDir } from '../../src/core/datasets/open.js';
import { createPerturbation } from '../../src/core/perturbations/registry.js';
import { Rng } from '../../src/core/util/rng.js';
import { dispatch } from '../../src/shared/dispatch.js';
import type { AnalysisResult } from '../../src/shared/requests/perturb.js';
import type { JobInfo } from '../../src/shared/jobs.js';
import { tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir();
let lab: Lab;
const dsprites = new DSprites();
const sizes = dsprites.info.factors.map((f) => f.size);
/** A tiny learned manipulation (a second or two on one core). */
const tinyManip = { epsilon: 0.1, train_points: 32, steps: 12, hidden: 4, resolution: 4 };

beforeAll(async () => {
  lab = await Lab.open({ labDir: path.join(tmp.dir, 'lab'), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
});
afterAll(async () => {
  await lab.close();
  tmp.cleanup();
});

const decode = (b64: string) => Buffer.from(b64, 'base64');
const done = (job: JobInfo) => lab.jobs.wait(job.id);
const rowCount = () => (lab.db.prepare('SELECT COUNT(*) AS n FROM datasets').get() as { n: number }).n;
const draftFiles = () => {
  const root = path.join(lab.labDir, 'tmp', 'perturb-drafts');
  return fs.existsSync(root) ? fs.readdirSync(root, { recursive: true }).filter((f) => String(f).endsWith('.json')) : [];
};

describe('perturbations/list', () => {
  it('lists the registry with ParamSpecs and flags', async () => {
    const list = await lab.handlers['perturbations/list']({});
    const byId = Object.fromEntries(list.map((e) => [e.id, e]));
    expect(Object.keys(byId)).toEqual(expect.arrayContaining(['uniform-noise', 'manipulation', 'pattern', 'intensity', 'blur', 'background', 'compose']));
    expect(byId.manipulation!.learned).toBe(true);
    expect(byId.compose!.composite).toBe(true);
    expect(byId.pattern!.block).toBe(true);
    expect(byId['uniform-noise']!.block).toBe(false);
    const eps = byId['uniform-noise']!.params.find((p) => p.key === 'epsilon')!;
    expect(eps).toMatchObject({ min: 0, max: 1, paperValues: { dsprites: 0.1, shapes3d: 0.175 } });
  });
});

describe('perturbations/preview (uniform noise on dSprites)', () => {
  const req = { baseId: 'dsprites', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 5, count: 6, sampleSeed: 3 };

  it('shows the seeded sample, perturbed within ε, with the amplified difference and statistics', async () => {
    const p = await lab.handlers['perturbations/preview'](req);
    // the same indices as a seeded sample of the grid
    expect(p.indices).toEqual(Array.from(sampleIndices(sizes, 6, new Rng(3))));
    expect(p.originals.shape).toEqual([6, 64, 64, 1]);
    const X = decode(p.originals.dataBase64);
    const Y = decode(p.perturbed.dataBase64);
    const D = decode(p.difference.dataBase64);
    // originals are the parent's binary images
    const ref = renderBatch(dsprites, p.indices);
    for (let j = 0; j < X.length; j++) expect(X[j]).toBe(ref[j]! > 0.5 ? 255 : 0);
    // perturbed bytes within ε·255 (+1 for rounding) of the original, inside [0, 255]
    let maxByte = 0;
    let changed = 0;
    for (let j = 0; j < X.length; j++) {
      const d = Math.abs(Y[j]! - X[j]!);
      maxByte = Math.max(maxByte, d);
      if (d > 0) changed++;
      // |Δ|/ε in bytes: |Y − X|/255/0.1·255 = |Y − X|·10 (±rounding of both)
      expect(Math.abs(D[j]! - Math.min(255, d * 10))).toBeLessThanOrEqual(8);
    }
    expect(maxByte).toBeLessThanOrEqual(Math.ceil(0.1 * 255) + 1);
    expect(changed / X.length).toBeGreaterThan(0.4); // about half the pixels move (the others are clipped at 0/1)
    for (const m of p.maxAbsDelta) {
      expect(m).toBeLessThanOrEqual(0.1);
      expect(m).toBeGreaterThan(0.09); // 4096 uniform draws: the largest is within 1% of ε
    }
    expect(p.epsilon).toBe(0.1);
    expect(p.stats.boundHolds).toBe(true);
    expect(p.stats.maxAbsDelta).toBeLessThanOrEqual(0.1);
    expect(p.stats.samples).toBe(128);
    expect(p.stats.preservation.collisions).toBe(0);
    // binary parent: a pixel at 0 can only go up, at 1 only down; half the noise is clipped away
    expect(p.stats.clipped).toBe(true);
    expect(p.stats.clippedFraction).toBeGreaterThan(0.4);
    expect(p.stats.clippedFraction).toBeLessThan(0.6);
    expect(p.datasetId).toMatch(/^dsprites\.uniform-noise\.[0-9a-f]{12}$/);
  });

  it('the same seed gives the same bytes; another seed other noise', async () => {
    const a = await lab.handlers['perturbations/preview'](req);
    const b = await lab.handlers['perturbations/preview'](req);
    expect(b.perturbed.dataBase64).toBe(a.perturbed.dataBase64);
    expect(b.difference.dataBase64).toBe(a.difference.dataBase64);
    expect(b.stats).toEqual(a.stats);
    const c = await lab.handlers['perturbations/preview']({ ...req, seed: 6 });
    expect(c.originals.dataBase64).toBe(a.originals.dataBase64);
    expect(c.perturbed.dataBase64).not.toBe(a.perturbed.dataBase64);
    // the perturbed bytes are the quantised createPerturbation images
    const d = await createPerturbation('uniform-noise', dsprites, { epsilon: 0.1 }, 5);
    const Y = renderBatch(d, a.indices);
    const bytes = decode(a.perturbed.dataBase64);
    for (let j = 0; j < Y.length; j++) expect(bytes[j]).toBe(Math.round(Y[j]! * 255));
  });

  it('explicit indices and a composed perturbation', async () => {
    const p = await lab.handlers['perturbations/preview']({
      baseId: 'dsprites',
      kind: 'compose',
      params: { epsilon: 0.2 },
      blocks: [{ kind: 'background', params: {} }, { kind: 'blur', params: {} }],
      indices: [0, 737279],
    });
    expect(p.indices).toEqual([0, 737279]);
    expect(p.blocks?.map((b) => b.kind)).toEqual(['background', 'blur']);
    for (const m of p.maxAbsDelta) expect(m).toBeLessThanOrEqual(0.2);
  });

  it('bad params, unknown kinds and learned kinds without a draft are invalid_payload', async () => {
    const bad = async (payload: unknown) => {
      const r = await dispatch(lab.handlers, 'perturbations/preview', payload);
      expect(r.ok, JSON.stringify(payload)).toBe(false);
      return r.ok ? '' : `${r.error.code}: ${r.error.message}`;
    };
    expect(await bad({ ...req, params: { epsilon: 1.5 } })).toMatch(/^invalid_payload: .*epsilon.*≤ 1/);
    expect(await bad({ ...req, params: { epsilon: -0.1 } })).toMatch(/^invalid_payload: .*≥ 0/);
    expect(await bad({ ...req, kind: 'gaussian-noise' })).toMatch(/^invalid_payload: unknown perturbation 'gaussian-noise'/);
    expect(await bad({ ...req, params: { sigma: 1 } })).toMatch(/^invalid_payload: unknown setting 'sigma'/);
    expect(await bad({ ...req, kind: 'manipulation', params: {} })).toMatch(/^invalid_payload: .*train it first/);
    expect(await bad({ ...req, kind: 'compose', params: {}, blocks: [{ kind: 'uniform-noise', params: {} }] })).toMatch(/^invalid_payload: .*not a building block/);
    expect(await bad({ ...req, kind: 'pattern', params: { factor: 9 } })).toMatch(/^invalid_payload: .*not a factor/);
    expect(await bad({ ...req, count: undefined, indices: [737280] })).toMatch(/^invalid_payload: index 737280/);
    expect(await bad({ ...req, baseId: 'nope' })).toMatch(/^not_found/);
    const tr = await dispatch(lab.handlers, 'perturbations/train', { baseId: 'dsprites', kind: 'manipulation', params: { steps: 0 } });
    expect(tr).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    const tr2 = await dispatch(lab.handlers, 'perturbations/train', { baseId: 'dsprites', kind: 'uniform-noise' });
    expect(tr2).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    const sv = await dispatch(lab.handlers, 'perturbations/save', { name: 'x', baseId: 'dsprites', kind: 'uniform-noise', params: { epsilon: 2 } });
    expect(sv).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
  });
});

describe('perturbations/save (uniform noise)', () => {
  let id = '';

  it('stores a row that opens with the same images as createPerturbation', async () => {
    const before = rowCount();
    const job = await lab.handlers['perturbations/save']({ name: 'noisy dSprites', baseId: 'dsprites', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 5, statsSamples: 200 });
    const fractions: number[] = [];
    const off = lab.events.on('jobs/progress', (j) => j.id === job.id && fractions.push(j.fraction));
    const end = await done(job);
    off();
    expect(end.status).toBe('done');
    id = String(end.result!.datasetId);
    expect(id).toMatch(/^dsprites\.uniform-noise\.[0-9a-f]{12}$/);
    expect(rowCount()).toBe(before + 1);
    expect(fractions[fractions.length - 1]).toBe(1);

    const info = await lab.handlers['datasets/get']({ id });
    expect(info).toMatchObject({ id, name: 'noisy dSprites', source: 'derived', parent: 'dsprites', count: 737280 });
    const row = lab.datasets.storedRow(id)!;
    expect(row.parentId).toBe('dsprites');
    expect(row.spec).toMatchObject({ kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 5, parentId: 'dsprites' });
    expect(row.stats).toMatchObject({ samples: 200, epsilon: 0.1, boundHolds: true, preservation: { collisions: 0 } });
    expect((row.stats as { maxAbsDelta: number }).maxAbsDelta).toBeLessThanOrEqual(0.1);

    // identical images to a fresh createPerturbation, through the lab and through datasets/samples
    const fresh = await createPerturbation('uniform-noise', dsprites, { epsilon: 0.1 }, 5);
    const opened = await lab.datasets.open(id);
    const idx = Array.from(sampleIndices(sizes, 20, new Rng(99)));
    expect(Buffer.from(renderBatch(opened, idx).buffer)).toEqual(Buffer.from(renderBatch(fresh, idx).buffer));
    const s = await lab.handlers['datasets/samples']({ id, indices: idx.slice(0, 4) });
    const bytes = decode(s.images.dataBase64);
    const Y = renderBatch(fresh, idx.slice(0, 4));
    for (let j = 0; j < Y.length; j++) expect(bytes[j]).toBe(Math.round(Y[j]! * 255));
    // and it is listed
    expect((await lab.handlers['datasets/list']({})).map((d) => d.id)).toContain(id);
  });

  it('refuses a duplicate name and an identical spec, writing nothing', async () => {
    const before = rowCount();
    const dupName = await dispatch(lab.handlers, 'perturbations/save', { name: 'Noisy dSprites', baseId: 'dsprites', kind: 'uniform-noise', params: { epsilon: 0.05 }, seed: 1 });
    expect(dupName).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(!dupName.ok && dupName.error.message).toMatch(/named 'noisy dSprites' already exists/);
    const builtinName = await dispatch(lab.handlers, 'perturbations/save', { name: 'dSprites', baseId: 'dsprites', kind: 'uniform-noise', params: { epsilon: 0.05 }, seed: 1 });
    expect(builtinName).toMatchObject({ ok: false, error: { code: 'conflict' } });
    // same spec under another name (epsilon given explicitly or left at its default 0.1)
    const dupSpec = await dispatch(lab.handlers, 'perturbations/save', { name: 'again', baseId: 'dsprites', kind: 'uniform-noise', seed: 5 });
    expect(dupSpec).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(!dupSpec.ok && dupSpec.error.message).toMatch(/already saved as 'noisy dSprites'/);
    expect(rowCount()).toBe(before);
  });

  it('analyze: per-factor numbers for the derived dataset and its parent', async () => {
    const job = await lab.handlers['datasets/analyze']({ id, samples: 40, seed: 1 });
    const end = await done(job);
    expect(end.status).toBe('done');
    const r = end.result as unknown as AnalysisResult;
    expect(r.datasetId).toBe(id);
    expect(r.compareTo?.datasetId).toBe('dsprites');
    for (const a of [r.analysis, r.compareTo!.analysis]) {
      expect(a.factors).toEqual(['shape', 'scale', 'orientation', 'pos_x', 'pos_y']);
      expect(a.meanSquaredChange).toHaveLength(5);
      expect(a.overlap).toHaveLength(5);
      expect(a.samples).toBe(40);
      expect(Number.isFinite(a.alignmentDistance)).toBe(true);
    }
    // the noise dataset's per-image noise is cancelled with a second draw of it; the parent is deterministic
    expect(r.analysis.estimator).toBe('cross-replica');
    expect(r.compareTo!.analysis.estimator).toBe('single');
    // noise on every image: no step leaves a noisy image unchanged, while the clean parent has unchanged steps
    expect(r.analysis.zeroStepFraction.every((z) => z === 0)).toBe(true);
    // Expected from the definition (binary parent, clipped noise): a pixel at 0 gets n = max(0, u), one at 1
    // gets −max(0, −u), u ~ U[−ε, ε]: E n = ε/4, E n² = ε²/6. A pixel the step leaves alone differs by n − n′:
    // E = 2·ε²/6 − 2·(ε/4)² = 5ε²/24. A pixel it flips differs by 1 − n − n′: E = 1 − ε + ε²/3 + ε²/8.
    // With M = the parent's mean squared change (= flipped pixels per step):
    //   E‖d‖² = M·(1 − ε + 11ε²/24) + (4096 − M)·5ε²/24.
    const eps = 0.1;
    for (let k = 0; k < 5; k++) {
      const M = r.compareTo!.analysis.meanSquaredChange[k]!;
      const want = M * (1 - eps + (11 * eps * eps) / 24) + (4096 - M) * ((5 * eps * eps) / 24);
      expect(Math.abs(r.analysis.meanSquaredChange[k]! - want) / want, `factor ${k}`).toBeLessThan(0.02);
    }
    // the same as varianceStructure directly on the parent
    const { varianceStructure } = await import('../../src/core/analysis/variance.js');
    expect(r.compareTo!.analysis).toEqual(JSON.parse(JSON.stringify(varianceStructure(dsprites, { samples: 40, seed: 1 }))));
    // a built-in alone: no comparison; an unsaved perturbation: compared with its base
    const alone = (await done(await lab.handlers['datasets/analyze']({ id: 'dsprites', samples: 10 }))).result as unknown as AnalysisResult;
    expect(alone.compareTo).toBeNull();
    const unsaved = (await done(await lab.handlers['datasets/analyze']({ id: 'dsprites', samples: 10, perturbation: { kind: 'uniform-noise', seed: 5 } })))
      .result as unknown as AnalysisResult;
    expect(unsaved.datasetId).toBe(id);
    expect(unsaved.compareTo?.datasetId).toBe('dsprites');
  });
});

describe('the learned manipulation as a job', () => {
  it('trains a draft with its curve, previews it, saves it, and the saved one restores identical images', async () => {
    const params = { ...tinyManip };
    const job = await lab.handlers['perturbations/train']({ baseId: 'dsprites', kind: 'manipulation', params, seed: 3 });
    expect(job.status).toBe('running');
    const end = await done(job);
    expect(end.status, end.error ?? '').toBe('done');
    const draftId = String(end.result!.draftId);
    expect(draftId).toMatch(/^draft-[0-9a-f]{10}$/);
    // the curve: one point per step (12 steps) for each series, objective = entangled − disentangled
    expect(end.series.objective!.map(([s]) => s)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (let i = 0; i < 12; i++) {
      const [, o] = end.series.objective![i]!;
      expect(o).toBeCloseTo(end.series.entangledLoss![i]![1] - end.series.disentangledLoss![i]![1], 12);
    }
    expect(draftFiles()).toHaveLength(1);
    expect(rowCount()).toBe(1); // nothing saved yet (the noisy dataset above)

    const p = await lab.handlers['perturbations/preview']({ baseId: 'dsprites', kind: 'manipulation', draftId, count: 4 });
    expect(p.draftId).toBe(draftId);
    for (const m of p.maxAbsDelta) expect(m).toBeLessThanOrEqual(0.1);
    expect(p.stats.boundHolds).toBe(true);

    const a = (await done(await lab.handlers['datasets/analyze']({ id: 'dsprites', samples: 10, draftId }))).result as unknown as AnalysisResult;
    expect(a.datasetId).toBe(draftId);
    expect(a.compareTo?.datasetId).toBe('dsprites');

    const save = await done(await lab.handlers['perturbations/save']({ name: 'manipulated tiny', draftId, statsSamples: 50 }));
    expect(save.status, save.error ?? '').toBe('done');
    const id = String(save.result!.datasetId);
    expect(id).toMatch(/^dsprites\.manipulation\.[0-9a-f]{12}$/);
    expect(draftFiles()).toHaveLength(0); // moved, not copied
    const row = lab.datasets.storedRow(id)!;
    const weights = (row.spec as { artifacts: { weights: { file: string; sha256: string; bytes: number } } }).artifacts.weights;
    const file = path.join(datasetDir(lab.labDir, id), weights.file);
    expect(fs.statSync(file).size).toBe(weights.bytes);
    const arts = lab.db.prepare("SELECT kind, path, size, sha256 FROM artifacts WHERE owner_kind = 'dataset' AND owner_id = ?").all(id);
    expect(arts).toEqual([{ kind: 'perturbation-weights', path: path.relative(lab.labDir, file).split(path.sep).join('/'), size: weights.bytes, sha256: weights.sha256 }]);
    expect((row.stats as { training: { steps: number } }).training.steps).toBe(12);
    // the draft is gone from memory
    expect(await dispatch(lab.handlers, 'perturbations/preview', { baseId: 'dsprites', kind: 'manipulation', draftId, count: 2 })).toMatchObject({ ok: false, error: { code: 'not_found' } });

    // a second Lab on the same dir (fresh caches) restores it from the row and the weights file
    const idx = Array.from(sampleIndices(sizes, 12, new Rng(4)));
    const lab2 = await Lab.open({ labDir: lab.labDir, backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
    try {
      const reopened = await lab2.datasets.open(id);
      const retrained = await createPerturbation('manipulation', dsprites, params, 3);
      const want = renderBatch(retrained, idx);
      expect(Buffer.from(renderBatch(reopened, idx).buffer)).toEqual(Buffer.from(want.buffer));
      // and the preview bytes of the draft were the same images
      const pbytes = decode(p.perturbed.dataBase64);
      const Yp = renderBatch(retrained, p.indices);
      for (let j = 0; j < Yp.length; j++) expect(pbytes[j]).toBe(Math.round(Yp[j]! * 255));
    } finally {
      await lab2.close();
    }

    // saving the same spec again (trained from scratch) is refused before training
    const again = await dispatch(lab.handlers, 'perturbations/save', { name: 'other', baseId: 'dsprites', kind: 'manipulation', params, seed: 3 });
    expect(again).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('training can be cancelled: no draft, no files, no row', async () => {
    const before = rowCount();
    const job = await lab.handlers['perturbations/train']({ baseId: 'dsprites', kind: 'manipulation', params: { ...tinyManip, steps: 20000 }, seed: 9 });
    for (let i = 0; i < 200 && (lab.jobs.get(job.id).series.objective?.length ?? 0) < 3; i++) await new Promise((r) => setTimeout(r, 25));
    expect(lab.jobs.get(job.id).series.objective!.length).toBeGreaterThanOrEqual(3);
    lab.jobs.cancel(job.id);
    const end = await done(job);
    expect(end.status).toBe('cancelled');
    expect(end.result).toBeNull();
    expect(draftFiles()).toHaveLength(0);
    expect(rowCount()).toBe(before);
  });

  it('a save that trains inside the job can be cancelled too: nothing saved', async () => {
    const before = rowCount();
    const job = await lab.handlers['perturbations/save']({ name: 'never', baseId: 'dsprites', kind: 'manipulation', params: { ...tinyManip, steps: 20000 }, seed: 10 });
    for (let i = 0; i < 200 && (lab.jobs.get(job.id).series.objective?.length ?? 0) < 2; i++) await new Promise((r) => setTimeout(r, 25));
    lab.jobs.cancel(job.id);
    const end = await done(job);
    expect(end.status).toBe('cancelled');
    expect(rowCount()).toBe(before);
    expect(fs.readdirSync(path.join(lab.labDir, 'tmp')).filter((f) => f.startsWith('perturb-save-'))).toEqual([]);
    expect(fs.readdirSync(path.join(lab.labDir, 'datasets')).filter((f) => f.includes('manipulation'))).toHaveLength(1); // only the saved one
  });
});

describe('CLI: dlab perturb and dlab analyze', () => {
  it('stores a derived dataset, prints its id and statistics, then analyses it against its parent', async () => {
    const { runDlab: run } = await import('../helpers/cli.js');
    const runDlab = (args: string[]) => run(args, { DLAB_BACKEND: 'cpu' }); // no compute needed: skip the wasm start
    const dir = path.join(tmp.dir, 'cli-lab');
    const p = runDlab(['perturb', 'dsprites', '--kind', 'uniform-noise', '--epsilon', '0.05', '--seed', '2', '--stats-samples', '64', '--name', 'cli noise', '--json', '--lab-dir', dir]);
    expect(p.code, p.stderr).toBe(0);
    const out = JSON.parse(p.stdout) as { datasetId: string; name: string; parent: string; stats: { epsilon: number; maxAbsDelta: number; samples: number } };
    expect(out.datasetId).toMatch(/^dsprites\.uniform-noise\.[0-9a-f]{12}$/);
    expect(out).toMatchObject({ name: 'cli noise', parent: 'dsprites', stats: { epsilon: 0.05, samples: 64 } });
    expect(out.stats.maxAbsDelta).toBeLessThanOrEqual(0.05);
    const a = runDlab(['analyze', out.datasetId, '--samples', '20', '--lab-dir', dir]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('B = dSprites (dsprites)');
    for (const f of ['shape', 'scale', 'orientation', 'pos_x', 'pos_y']) expect(a.stdout).toMatch(new RegExp(`^  ${f} +[0-9.]+`, 'm'));
    expect(a.stdout).toMatch(/A: global [0-9.]+ +local/);
    expect(a.stdout).toMatch(/off-diagonal overlap/);
  });
});
