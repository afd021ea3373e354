/** Contract test cases of the studies room's requests (spread into tests/unit/shared/contract.test.ts `cases`). */
export const studyContractCases = {
  'studies/presets': { valid: [{}], invalid: [null, { id: 'x' }] },
  'studies/create': {
    valid: [
      { from: { preset: 'zietlow2021', scale: 'quick', datasets: ['dsprites'], methods: ['beta_vae', 'pcl'], seeds: 3 } },
      {
        spec: {
          name: 'tiny',
          methods: [{ id: 'beta_vae', model: 'beta_vae', paramsByDataset: { dsprites: { beta: 4 } }, grid: { beta: [1, 4] } }],
          datasets: [{ base: 'dsprites', latent: 5, variants: [{ role: 'original' }, { role: 'noise', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 0 }] }],
          seeds: [0, 1],
          training: { arch: 'fc', latent: 5, steps: 20, batch: 8, lr: 1e-3, progressEvery: 5, checkpointEvery: 10, codesSamples: 100 },
          evaluation: { metrics: ['mig'], settings: { mig: { num_train: 500 } } },
        },
        start: false,
      },
    ],
    invalid: [
      {},
      { from: { preset: 'zietlow2021' }, spec: { name: 'x' } },
      { from: { preset: 'zietlow2021', seeds: 0 } },
      { from: { preset: 'zietlow2021', datasets: ['../x'] } },
      { spec: { name: 'x', methods: [], datasets: [], seeds: [], training: {}, evaluation: { metrics: [] } } },
      { spec: { name: 'x', methods: [{ id: 'Bad Id', model: 'ae' }], datasets: [{ base: 'dsprites', variants: [{ role: 'original' }] }], seeds: [0], training: { arch: 'fc', latent: 5, steps: 20, batch: 8, lr: 1e-3, progressEvery: 5, checkpointEvery: 10, codesSamples: 100 }, evaluation: { metrics: ['mig'] } } },
      { from: { preset: 'zietlow2021' }, start: 'yes' },
    ],
  },
  'studies/list': { valid: [{}], invalid: [null, { all: true }] },
  'studies/get': { valid: [{ id: 'study-20260101-0a1b2c3d' }], invalid: [{}, { id: '../x' }, { id: 'a', more: 1 }] },
  'studies/resume': { valid: [{ id: 'study-1' }, { id: 'study-1', retryFailed: true }], invalid: [{}, { id: 'study-1', retryFailed: 'yes' }] },
  'studies/cancel': { valid: [{ id: 'study-1' }], invalid: [{}, { id: '' }] },
  'studies/results': {
    valid: [{ id: 'study-1' }, { id: 'study-1', metric: 'dci', resamples: 5000, seed: 3 }],
    invalid: [{}, { id: 'study-1', resamples: 10 }, { id: 'study-1', seed: -1 }],
  },
  'studies/export': {
    valid: [{ id: 'study-1', formats: ['svg', 'pdf', 'png', 'csv', 'json', 'tex', 'html'], dpi: 300 }],
    invalid: [{ id: 'study-1' }, { id: 'study-1', formats: [] }, { id: 'study-1', formats: ['gif'] }, { id: 'study-1', formats: ['png'], dpi: 5000 }],
  },
  'bundles/export': {
    valid: [{ studyId: 'study-1' }, { runIds: ['run-1', 'run-2'], checkpoints: false }],
    invalid: [{}, { studyId: 'study-1', runIds: ['run-1'] }, { runIds: [] }, { runIds: ['../x'] }],
  },
  'bundles/import': { valid: [{ path: '/home/u/study.dlab.zip' }, { path: 'C:\\Users\\u\\s.zip' }], invalid: [{}, { path: '' }, { path: 3 }, { path: 'study.dlab.zip' }, { path: '../up/study.zip' }] },
};
