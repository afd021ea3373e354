import { describe, expect, it } from 'vitest';
import { LabError, parseInput, requestNames, requests, type RequestName } from '../../../src/shared/contract.js';
import { dispatch, type Handlers } from '../../../src/shared/dispatch.js';
import { studyContractCases } from '../studies/contract-cases.js'; // studies room

const runConfig = {
  model: 'beta_vae',
  params: { beta: 4 },
  datasetId: 'dsprites',
  arch: 'conv',
  latent: 10,
  steps: 1000,
  batch: 64,
  lr: 1e-4,
  progressEvery: 10,
  checkpointEvery: 500,
  codesSamples: 1000,
  evaluate: ['mig'],
};

/** One valid payload and several malformed ones for every request; a new request must add its row. */
const cases: Record<RequestName, { valid: unknown[]; invalid: unknown[] }> = {
  'lab/info': { valid: [{}], invalid: [null, 'x', { extra: 1 }, []] },
  'datasets/list': { valid: [{}], invalid: [null, { id: 'dsprites' }, 7] },
  'datasets/get': {
    valid: [{ id: 'dsprites' }, { id: 'derived.abc-1.2' }],
    // ':' is refused since ids are path segments (Windows); '.' and '..' name folders
    invalid: [{}, { id: 5 }, { id: '' }, { id: 'x'.repeat(129) }, { id: '../etc/passwd' }, { id: 'a b' }, { id: 'ok', more: true }, { id: '.' }, { id: '..' }, { id: 'derived:abc' }],
  },
  'datasets/samples': {
    valid: [{ id: 'dsprites', count: 16, seed: 3 }, { id: 'dsprites', indices: [0, 5, 737279] }],
    invalid: [
      { id: 'dsprites' },
      { id: 'dsprites', count: 16, indices: [1] },
      { id: 'dsprites', count: 0 },
      { id: 'dsprites', count: 257 },
      { id: 'dsprites', count: 1.5 },
      { id: 'dsprites', indices: [] },
      { id: 'dsprites', indices: Array.from({ length: 257 }, (_, i) => i) },
      { id: 'dsprites', indices: [-1] },
      { id: 'dsprites', indices: ['1'] },
      { id: 'dsprites', count: 4, seed: -1 },
      { count: 4 },
    ],
  },
  'datasets/traverse': {
    valid: [{ id: 'dsprites', index: 10, factor: 2 }, { id: 'dsprites', factors: [0, 1, 2, 3, 4], factor: 4, steps: 8 }],
    invalid: [
      { id: 'dsprites', factor: 2 },
      { id: 'dsprites', index: 1, factors: [0, 0, 0, 0, 0], factor: 1 },
      { id: 'dsprites', index: 1 },
      { id: 'dsprites', index: 1, factor: -1 },
      { id: 'dsprites', index: 1, factor: 'x' },
      { id: 'dsprites', index: 1, factor: 0, steps: 1 },
      { id: 'dsprites', factors: Array.from({ length: 33 }, () => 0), factor: 0 },
    ],
  },
  'models/list': { valid: [{}], invalid: [null, { id: 'x' }] },
  'runs/launch': {
    valid: [{ config: runConfig, seeds: [0, 1, 2] }, { config: { ...runConfig, evalEvery: 500, evalMetrics: ['mig', 'dci'], evalSettings: { dci: { num_train: 500 } }, evalSamples: 2000 }, seeds: [0] }],
    invalid: [
      { config: { ...runConfig, evalEvery: -1 }, seeds: [0] },
      { config: { ...runConfig, evalEvery: 2.5 }, seeds: [0] },
      { config: { ...runConfig, evalSamples: 8 }, seeds: [0] },
      { config: { ...runConfig, evalMetrics: 'mig' }, seeds: [0] },
      { config: runConfig, seeds: [] },
      { config: runConfig, seeds: [-1] },
      { config: { ...runConfig, latent: 0 }, seeds: [0] },
      { config: { ...runConfig, steps: 1.5 }, seeds: [0] },
      { config: { ...runConfig, batch: 100000 }, seeds: [0] },
      { config: { ...runConfig, datasetId: '../../x' }, seeds: [0] },
      { config: { ...runConfig, arch: 'transformer' }, seeds: [0] },
      { config: { ...runConfig, params: { beta: { nested: 1 } } }, seeds: [0] },
      { config: { ...runConfig, evaluate: Array.from({ length: 33 }, () => 'mig') }, seeds: [0] },
      { config: runConfig, seeds: Array.from({ length: 101 }, (_, i) => i) },
      { seeds: [0] },
    ],
  },
  'runs/list': {
    valid: [
      {},
      { offset: 100, limit: 50 },
      { text: 'beta_vae beta=4', status: ['finished', 'failed'], model: ['beta_vae'], dataset: ['dsprites'], tags: ['best'], study: 's1', from: '2024-01-01', to: '2025-01-01' },
      { study: null, sort: 'score', sortMetric: 'mig', desc: true },
      { sort: 'started', desc: false },
    ],
    invalid: [
      { all: true },
      { limit: 0 },
      { limit: 501 },
      { offset: -1 },
      { offset: 1.5 },
      { status: ['done'] },
      { status: 'finished' },
      { sort: 'loss' },
      { text: 'x'.repeat(201) },
      { dataset: ['../etc'] },
      { tags: [''] },
      { tags: Array.from({ length: 17 }, (_, i) => `t${i}`) },
    ],
  },
  'runs/compare': {
    valid: [{}, { metric: 'mig', finishedOnly: false, exclude: ['r1', 'r2'], expand: ['beta_vae|dsprites|original'], scatterParam: 'beta', expandSmall: 200 }, { filter: { model: ['pcl'], study: 's' } }],
    invalid: [{ metric: 5 }, { exclude: ['a b'] }, { expand: Array.from({ length: 51 }, () => 'k') }, { expandSmall: 2001 }, { filter: { nope: 1 } }, { extra: true }],
  },
  'runs/get': { valid: [{ id: 'run-1' }], invalid: [{}, { id: 3 }, { id: 'a/b' }] },
  'runs/cancel': { valid: [{ id: 'run-1' }], invalid: [{}, { id: '' }] },
  'runs/pause': { valid: [{ id: 'run-1' }], invalid: [{ id: null }] },
  'runs/resume': { valid: [{ id: 'run-1' }, { id: 'run-1', steps: 20_000 }], invalid: [{ id: ['run-1'] }, { id: 'run-1', steps: 0 }, { id: 'run-1', steps: 1.5 }, { id: 'run-1', steps: 10_000_001 }, { id: 'run-1', steps: '100' }] },
  'runs/scalars': {
    valid: [{ id: 'run-1' }, { id: 'run-1', keys: ['loss'], sinceStep: 10 }],
    invalid: [{ id: 'run-1', keys: 'loss' }, { id: 'run-1', sinceStep: 0.5 }, { id: 'run-1', keys: Array.from({ length: 257 }, () => 'k') }],
  },
  'runs/tag': { valid: [{ id: 'r', tag: 'baseline' }, { id: 'r', tag: 'x', remove: true }], invalid: [{ id: 'r', tag: '' }, { id: 'r', tag: 'x'.repeat(65) }] },
  'runs/note': { valid: [{ id: 'r', text: 'looks disentangled' }], invalid: [{ id: 'r', text: '' }, { id: 'r', text: 'x'.repeat(10_001) }] },
  'runs/reconstructions': { valid: [{ id: 'r' }, { id: 'r', count: 8, seed: 1 }], invalid: [{ id: 'r', count: 65 }, { id: 'r', seed: -2 }] },
  'runs/traversals': { valid: [{ id: 'r' }, { id: 'r', index: 5, range: 3, steps: 7 }], invalid: [{ id: 'r', range: 0 }, { id: 'r', steps: 16 }, { id: 'r', index: -1 }] },
  'runs/latents': { valid: [{ id: 'r' }, { id: 'r', limit: 100 }], invalid: [{ id: 'r', limit: 0 }, { id: 'r', limit: 1e9 }] },
  'jobs/list': { valid: [{}], invalid: [{ status: 'running' }] },
  'metrics/list': { valid: [{}], invalid: [{ id: 'mig' }] },
  'runs/evaluate': {
    valid: [{ id: 'r' }, { id: 'r', metrics: ['mig', 'dci'], settings: { factor_vae: { num_train: 500 } }, seed: 3 }, { id: 'r', step: 400, points: 1000 }, { id: 'r', points: 16 }],
    invalid: [{ id: 'r', metrics: [] }, { id: 'r', settings: { mig: { num_bins: { x: 1 } } } }, { id: 'r', seed: -1 }, { id: 'r', step: -1 }, { id: 'r', step: 1.5 }, { id: 'r', points: 8 }, { id: 'r', points: 100_001 }],
  },
  'runs/metricSeries': {
    valid: [{ id: 'r' }, { id: 'r', metric: 'mig' }],
    invalid: [{}, { id: 'r', metric: '' }, { id: 'r', metric: 'x'.repeat(65) }, { id: 'r', metric: 3 }, { id: 'r', metrics: ['mig'] }],
  },
  'runs/evaluations': { valid: [{ id: 'r' }], invalid: [{}] },
  'runs/evaluations/batch': {
    valid: [{ ids: ['r'] }, { ids: ['a', 'b'], latestOnly: true }],
    invalid: [{}, { ids: [] }, { ids: Array.from({ length: 501 }, (_, i) => `r${i}`) }, { ids: ['r'], latestOnly: 'yes' }, { id: 'r' }],
  },
  'jobs/get': { valid: [{ id: 'job-1' }], invalid: [{}, { id: 'x'.repeat(65) }] },
  'jobs/cancel': { valid: [{ id: 'job-1' }], invalid: [{ id: 1 }] },
  // imports (datasets/import, datasets/delete, dialog/openFile)
  'datasets/import': {
    valid: [
      { path: '/data/dsprites.npz' },
      { path: '/data/3dshapes.h5', kind: 'shapes3d', name: 'Shapes3D (official)' },
      { uploadId: 'up-' + '0123456789abcdef'.repeat(2), kind: 'mpi3d' },
    ],
    invalid: [
      {},
      { path: '/a.npz', uploadId: 'up-' + '0'.repeat(32) },
      { path: '' },
      { path: 'x'.repeat(4097) },
      { uploadId: 'up-../../etc' },
      { uploadId: 'up-' + '0'.repeat(31) },
      { path: '/a.npz', kind: 'celeba' },
      { path: '/a.npz', name: '' },
      { path: '/a.npz', name: '   ' },
      { path: '/a.npz', name: 'x'.repeat(201) },
      { path: '/a.npz', overwrite: true },
      { path: 7 },
    ],
  },
  'datasets/delete': { valid: [{ id: 'dsprites-import-0123456789ab' }], invalid: [{}, { id: '' }, { id: '../x' }, { id: 'a', force: true }] },
  'dialog/openFile': { valid: [{}, { title: 'Import a dataset file' }], invalid: [null, { title: 'x'.repeat(201) }, { path: '/etc/passwd' }] },
  // perturbations (perturbations/*, datasets/analyze)
  'perturbations/list': { valid: [{}], invalid: [null, { kind: 'uniform-noise' }] },
  'perturbations/preview': {
    valid: [
      { baseId: 'dsprites', kind: 'uniform-noise' },
      { baseId: 'dsprites', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 3, count: 8, sampleSeed: 2, statsSamples: 64 },
      { baseId: 'dsprites', kind: 'compose', params: { epsilon: 0.1 }, blocks: [{ kind: 'pattern', params: { texture: 'checker', gain: 1 } }], indices: [0, 1, 737279] },
      { baseId: 'dsprites', kind: 'manipulation', draftId: 'draft-0123456789', count: 4 },
    ],
    invalid: [
      { kind: 'uniform-noise' },
      { baseId: 'dsprites' },
      { baseId: 'dsprites', kind: 'Uniform Noise' },
      { baseId: '../x', kind: 'uniform-noise' },
      { baseId: 'dsprites', kind: 'uniform-noise', count: 4, indices: [1] },
      { baseId: 'dsprites', kind: 'uniform-noise', count: 33 },
      { baseId: 'dsprites', kind: 'uniform-noise', indices: [] },
      { baseId: 'dsprites', kind: 'uniform-noise', seed: -1 },
      { baseId: 'dsprites', kind: 'uniform-noise', seed: 1.5 },
      { baseId: 'dsprites', kind: 'uniform-noise', params: { epsilon: { value: 0.1 } } },
      { baseId: 'dsprites', kind: 'uniform-noise', draftId: 'draft-xyz' },
      { baseId: 'dsprites', kind: 'compose', blocks: [] },
      { baseId: 'dsprites', kind: 'uniform-noise', statsSamples: 1 },
      { baseId: 'dsprites', kind: 'uniform-noise', extra: 1 },
    ],
  },
  'perturbations/train': {
    valid: [{ baseId: 'dsprites', kind: 'manipulation' }, { baseId: 'dsprites', kind: 'manipulation', params: { epsilon: 0.1, steps: 50 }, seed: 1 }],
    invalid: [{ kind: 'manipulation' }, { baseId: 'dsprites', kind: 'manipulation', seed: -3 }, { baseId: 'dsprites', kind: 'manipulation', count: 3 }],
  },
  'perturbations/save': {
    valid: [
      { name: 'noisy dSprites', baseId: 'dsprites', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 0 },
      { name: 'manipulated', draftId: 'draft-abcdef0123' },
      { name: 'composed', baseId: 'dsprites', kind: 'compose', blocks: [{ kind: 'blur', params: {} }], statsSamples: 500 },
    ],
    invalid: [
      { baseId: 'dsprites', kind: 'uniform-noise' },
      { name: '', baseId: 'dsprites', kind: 'uniform-noise' },
      { name: '   ', baseId: 'dsprites', kind: 'uniform-noise' },
      { name: 'x'.repeat(201), baseId: 'dsprites', kind: 'uniform-noise' },
      { name: 'n' },
      { name: 'n', baseId: 'dsprites' },
      { name: 'n', draftId: 'draft-abcdef0123', baseId: 'dsprites', kind: 'manipulation' },
      { name: 'n', draftId: 'draft-abcdef0123', seed: 2 },
      { name: 'n', baseId: 'dsprites', kind: 'uniform-noise', statsSamples: 1e6 },
    ],
  },
  'perturbations/discard': { valid: [{ draftId: 'draft-0123456789' }], invalid: [{}, { draftId: 'job-1' }, { draftId: 'draft-0123456789', all: true }] },
  'datasets/analyze': {
    valid: [
      { id: 'dsprites' },
      { id: 'dsprites', samples: 100, seed: 2, compareTo: 'dsprites.uniform-noise.0123456789ab' },
      { id: 'dsprites', draftId: 'draft-0123456789' },
      { id: 'dsprites', perturbation: { kind: 'uniform-noise', params: { epsilon: 0.05 }, seed: 1 } },
    ],
    invalid: [
      {},
      { id: 'dsprites', samples: 5 },
      { id: 'dsprites', samples: 5001 },
      { id: 'dsprites', seed: -1 },
      { id: 'dsprites', compareTo: '../x' },
      { id: 'dsprites', compareTo: 'a', draftId: 'draft-0123456789' },
      { id: 'dsprites', perturbation: { kind: 'uniform-noise', extra: 1 } },
    ],
  },
  // end perturbations
  // app (preferences, compute diagnosis, desktop menu)
  'app/prefs/get': { valid: [{}], invalid: [null, { theme: 'dark' }] },
  'app/prefs/set': {
    valid: [
      {},
      { theme: 'light' },
      { defaultBackend: 'wasm', figures: { format: 'png', dpi: 600 } },
      { guide: { dismissed: true, done: ['datasets', 'perturb'] } },
      { nextLabDir: '/data/my-lab' },
      { nextLabDir: 'D:\\labs\\lab1' },
      { nextLabDir: null },
    ],
    invalid: [
      { theme: 'blue' },
      { defaultBackend: 'webgl' },
      { figures: { dpi: 71 } },
      { figures: { dpi: 1201 } },
      { figures: { dpi: 300.5 } },
      { figures: { format: 'jpg' } },
      { guide: { done: ['datasets', 'fly'] } },
      { nextLabDir: 'relative/path' },
      { nextLabDir: '' },
      { nextLabDir: '/a\0b' },
      { labDir: '/x' },
      { theme: 'light', extra: 1 },
    ],
  },
  'app/compute': { valid: [{}, { recheck: true }], invalid: [{ recheck: 'yes' }, { deep: true }] },
  'app/menu': {
    valid: [{ screens: [{ id: 'datasets', label: 'Datasets' }, { id: 'run', label: 'Run detail' }] }],
    invalid: [{}, { screens: [] }, { screens: [{ id: 'Datasets', label: 'x' }] }, { screens: [{ id: 'a', label: '' }] }, { screens: Array.from({ length: 21 }, (_, i) => ({ id: `s${i}`, label: 'x' })) }],
  },
  // end app
  ...studyContractCases, // studies room
  // compare/export room
  'export/chart': {
    valid: [
      { chart: { kind: 'bar', title: 'MIG', xLabel: 'method', yLabel: 'MIG', categories: ['β-VAE'], series: [{ name: 'original', values: [0.2], errors: [[0.1, 0.3]] }] }, format: 'png', dpi: 150 },
      { chart: { kind: 'box', title: 't', xLabel: 'x', yLabel: 'y', groups: [{ label: 'a', values: [1, 2, 3] }] }, format: 'svg' },
      { chart: { kind: 'scatter', title: 't', xLabel: 'β', yLabel: 'MIG', series: [{ name: 's', points: [[1, 0.2]], labels: ['run-1'] }] }, format: 'csv' },
    ],
    invalid: [
      { chart: { kind: 'bar', title: 't', xLabel: 'x', yLabel: 'y', categories: ['a', 'b'], series: [{ name: 's', values: [1] }] }, format: 'svg' },
      { chart: { kind: 'pie', title: 't', xLabel: 'x', yLabel: 'y', series: [] }, format: 'svg' },
      { chart: { kind: 'box', title: 't', xLabel: 'x', yLabel: 'y', groups: [{ label: 'a', values: [1] }] }, format: 'gif' },
      { chart: { kind: 'box', title: 't', xLabel: 'x', yLabel: 'y', groups: [{ label: 'a', values: [1] }] }, format: 'png', dpi: 5000 },
      { chart: { kind: 'line', title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: Array.from({ length: 20_001 }, (_, i) => [i, i]) }] }, format: 'json' },
      { chart: { kind: 'scatter', title: 'x'.repeat(201), xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [] }] }, format: 'svg' },
      { format: 'svg' },
    ],
  },
  'export/table': {
    valid: [{ title: 'Table 1', columns: ['method', 'MIG'], rows: [['β-VAE', 0.21], ['AE', null]], format: 'tex' }],
    invalid: [
      { title: 't', columns: ['a', 'b'], rows: [['x']], format: 'csv' },
      { title: 't', columns: ['a'], rows: [[{}]], format: 'csv' },
      { title: 't', columns: [], rows: [], format: 'csv' },
      { title: 't', columns: ['a'], rows: [], format: 'xlsx' },
    ],
  },
  'exports/file': { valid: [{ path: 'study-1/table1.tex' }], invalid: [{}, { path: '' }, { path: 'x'.repeat(1025) }, { path: 3 }] },
  // end compare/export
  // cluster room
  'cluster/check': { valid: [{}], invalid: [null, { sbatch: '/usr/bin/sbatch' }, 'x'] },
  'cluster/preview': {
    valid: [{ studyId: 'study-1' }, { studyId: 'study-1', options: { partition: 'gpu', gres: 'gpu:1', cpusPerTask: 4, mem: '16G', time: '02:00:00', account: 'lab', qos: 'normal', arrayLimit: 8, extra: ['#SBATCH --constraint=a100'] } }],
    invalid: [{}, { studyId: '../x' }, { studyId: 'study-1', options: { partition: 'a b' } }, { studyId: 'study-1', options: { time: 'soon' } }, { studyId: 'study-1', options: { extra: ['rm -rf /'] } }, { studyId: 'study-1', options: { extra: ['#SBATCH --x\n#SBATCH --y'] } }, { studyId: 'study-1', options: { cpusPerTask: 0 } }, { studyId: 'study-1', options: { nodes: 3 } }],
  },
  'cluster/submit': {
    valid: [{ studyId: 'study-1' }, { studyId: 'study-1', options: { arrayLimit: 2, partition: 'debug' } }],
    invalid: [{}, { studyId: 5 }, { studyId: 'study-1', options: { arrayLimit: -1 } }, { studyId: 'study-1', options: { gres: 'gpu:1;reboot' } }, { studyId: 'study-1', dryRun: true }],
  },
  'cluster/status': { valid: [{ studyId: 'study-1' }, { studyId: 'study-1', collect: false }], invalid: [{}, { studyId: 'study-1', collect: 'yes' }, { studyId: '' }] },
  'cluster/cancel': { valid: [{ studyId: 'study-1' }], invalid: [{}, { studyId: 'study-1', index: 2 }, { studyId: null }] },
  'cluster/resubmit': { valid: [{ studyId: 'study-1' }], invalid: [{}, { studyId: 'study-1', failed: 'all' }, { id: 'study-1' }] },
  // end cluster
};

describe('contract schemas', () => {
  it('every request has test cases', () => {
    expect(Object.keys(cases).sort()).toEqual([...requestNames].sort());
  });

  for (const name of requestNames) {
    it(`${name}: accepts valid payloads and rejects malformed ones`, () => {
      for (const v of cases[name].valid) expect(() => parseInput(name, v)).not.toThrow();
      for (const bad of cases[name].invalid) {
        let err: unknown;
        try {
          parseInput(name, bad);
        } catch (e) {
          err = e;
        }
        expect(err, JSON.stringify(bad)).toBeInstanceOf(LabError);
        expect((err as LabError).code).toBe('invalid_payload');
      }
    });
  }

  it('every request declares input and output schemas', () => {
    for (const name of requestNames) {
      expect(typeof requests[name].input.safeParse).toBe('function');
      expect(typeof requests[name].output.safeParse).toBe('function');
    }
  });
});

describe('dispatch', () => {
  const handlers = {
    'lab/info': () => {
      throw new Error('boom');
    },
    'datasets/get': ({ id }: { id: string }) => {
      if (id !== 'dsprites') throw new LabError('not_found', `no dataset '${id}'`);
      return { id } as never;
    },
  } as unknown as Handlers;

  it('wraps results, typed errors and crashes in the envelope', async () => {
    expect(await dispatch(handlers, 'datasets/get', { id: 'dsprites' })).toEqual({ ok: true, result: { id: 'dsprites' } });
    expect(await dispatch(handlers, 'datasets/get', { id: 'nope' })).toEqual({
      ok: false,
      error: { code: 'not_found', message: "no dataset 'nope'" },
    });
    expect(await dispatch(handlers, 'lab/info', {})).toEqual({ ok: false, error: { code: 'internal', message: 'boom' } });
    const bad = await dispatch(handlers, 'datasets/get', { id: 42 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('invalid_payload');
      expect(bad.error.issues?.[0]?.path).toBe('id');
    }
    const unknown = await dispatch(handlers, 'fs/readFile', {});
    expect(unknown).toMatchObject({ ok: false, error: { code: 'unknown_request' } });
  });
});

describe('invalid payload replies stay small', () => {
  it('lists at most 20 issues and says how many more there were', () => {
    const bad = () => parseInput('app/prefs/set', { guide: { done: Array(20001).fill(0) } });
    let err: LabError | null = null;
    try {
      bad();
    } catch (e) {
      err = e as LabError;
    }
    expect(err).toBeInstanceOf(LabError);
    expect(err!.issues).toHaveLength(20);
    expect(err!.message).toMatch(/… and \d+ more$/);
    expect(JSON.stringify(err!.toJSON()).length).toBeLessThan(20_000);
  });
});
