import { describe, expect, it } from 'vitest';
import { getObjective } from '../../../src/core/models/registry.js';
import { getPreset, presetInfos, presetToSpec } from '../../../src/core/studies/presets.js';
import { countCells, expandCells } from '../../../src/core/studies/spec.js';
import { PUBLISHED } from '../../../src/core/studies/published.js';
import type { StudySpec } from '../../../src/shared/requests/studies.js';

const base: StudySpec = {
  name: 't',
  methods: [{ id: 'beta_vae', model: 'beta_vae', grid: { beta: [1, 4] } }, { id: 'ae', model: 'ae' }],
  datasets: [{ base: 'dsprites', variants: [{ role: 'original' }, { role: 'noise', kind: 'uniform-noise', params: { epsilon: 0.1 } }] }],
  seeds: [3, 5],
  training: { arch: 'fc', latent: 4, steps: 10, batch: 8, lr: 1e-3, progressEvery: 5, checkpointEvery: 5, codesSamples: 100 },
  evaluation: { metrics: ['mig'] },
};

describe('study grids', () => {
  it('expand methods × grid × datasets × variants × seeds', () => {
    const cells = expandCells(base);
    expect(cells).toHaveLength((2 + 1) * 2 * 2);
    expect(countCells(base)).toBe(12);
    expect(cells.map((c) => c.key)).toContain('beta_vae(beta=4)|dsprites|noise|5');
    expect(cells.find((c) => c.method === 'beta_vae(beta=1)')!.params).toEqual({ beta: 1 });
    expect(new Set(cells.map((c) => c.key)).size).toBe(12);
  });

  it('refuses a repeated cell', () => {
    expect(() => expandCells({ ...base, seeds: [1, 1] })).toThrow(/twice/);
  });
});

describe('the zietlow2021 preset', () => {
  const preset = getPreset('zietlow2021');

  it('holds the paper’s grid with the registry’s paper values', () => {
    const full = presetToSpec(preset, { scale: 'full' });
    expect(full.methods.map((m) => m.id)).toEqual(['ae', 'beta_vae', 'factor_vae', 'beta_tcvae', 'slow_vae', 'pcl']);
    expect(full.seeds).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(full.training).toMatchObject({ arch: 'conv', steps: 300_000, batch: 64, lr: 1e-4 });
    expect(countCells(full)).toBe(6 * 2 * 3 * 10);
    for (const m of full.methods) {
      for (const [ds, params] of Object.entries(m.paramsByDataset ?? {})) {
        for (const [k, v] of Object.entries(params)) {
          const spec = getObjective(m.model).params.find((p) => p.key === k)!;
          expect(spec.paperValues?.[ds], `${m.id}.${k} on ${ds}`).toBe(v);
        }
      }
    }
    const d = Object.fromEntries(full.datasets.map((x) => [x.base, x]));
    expect(d.dsprites!.latent).toBe(5);
    expect(d.shapes3d!.latent).toBe(6);
    expect(d.dsprites!.variants.map((v) => [v.role, v.kind ?? null, v.params?.epsilon ?? null])).toEqual([
      ['original', null, null],
      ['manipulated', 'manipulation', 0.1],
      ['noise', 'uniform-noise', 0.1],
    ]);
    expect(d.shapes3d!.variants.map((v) => v.params?.epsilon ?? null)).toEqual([null, 0.175, 0.175]);
    // every method and column of the published table is in the grid
    for (const p of PUBLISHED) expect(expandCells(full).some((c) => c.method === p.method && c.dataset === p.dataset && c.variant === p.variant)).toBe(true);
  });

  it('has a smaller quick scale and honours subsets', () => {
    const q = presetToSpec(preset, { scale: 'quick' });
    expect(q.seeds.length).toBeLessThan(10);
    expect(q.training.steps).toBeLessThan(10_000);
    expect(q.evaluation.metrics).toContain('mig');
    // three seeds: the fewest with which a group gets a verdict rather than "insufficient data"
    expect(q.seeds).toEqual([0, 1, 2]);
    expect(countCells(q)).toBe(6 * 2 * 3 * 3);
    const sub = presetToSpec(preset, { scale: 'quick', datasets: ['dsprites'], methods: ['beta_vae', 'pcl'], seeds: 5 });
    expect(sub.seeds).toEqual([0, 1, 2, 3, 4]);
    expect(countCells(sub)).toBe(2 * 3 * 5);
    expect(() => presetToSpec(preset, { methods: ['nope'] })).toThrow(/no method nope/);
    expect(() => presetToSpec(preset, { scale: 'huge' })).toThrow(/no scale/);
    const info = presetInfos().find((p) => p.id === 'zietlow2021')!;
    expect(info.scales.find((s) => s.id === 'full')!.runs).toBe(360);
  });

  it('has a demo scale: β-TCVAE, β-VAE and PCL at their paper values on dSprites, 2,000 steps, MIG every 500, with the measured time', () => {
    const demo = presetToSpec(preset, { scale: 'demo' });
    expect(demo.methods.map((m) => m.id)).toEqual(['beta_vae', 'beta_tcvae', 'pcl']);
    expect(demo.datasets.map((d) => [d.base, d.latent, d.variants.map((v) => v.role)])).toEqual([['dsprites', 10, ['original', 'manipulated', 'noise']]]);
    expect(demo.training).toMatchObject({ steps: 2000, batch: 64, lr: 5e-4, latent: 10, checkpointEvery: 500 });
    expect(demo.evaluation.periodic).toEqual({ every: 500, metrics: ['mig'], samples: 10000 });
    expect(countCells(demo)).toBe(3 * 3 * 3);
    expect(demo.notes![0]).toMatch(/^Measured: \d+ min a run on /);
    // each method trains with the paper's dSprites value (β 8, β 6; PCL has none) at the scale's latent size
    const cell = (method: string) => expandCells(demo).find((c) => c.method === method && c.variant === 'manipulated' && c.seed === 2)!;
    expect([cell('beta_vae').params, cell('beta_tcvae').params, cell('pcl').params]).toEqual([{ beta: 8 }, { beta: 6 }, {}]);
    expect(cell('beta_tcvae').latent).toBe(10);
    // the nine runs that show the effect alone
    expect(countCells(presetToSpec(preset, { scale: 'demo', methods: ['beta_tcvae'] }))).toBe(9);
    expect(presetInfos().find((p) => p.id === 'zietlow2021')!.scales.map((s) => s.id)).toEqual(['full', 'demo', 'demo-10k', 'quick']);
  });

  it('has a demo-10k scale: its own methods, datasets, hyperparameters and latent size, with the measured time in its notes', () => {
    const demo = presetToSpec(preset, { scale: 'demo-10k' });
    expect(demo.methods.map((m) => m.id)).toEqual(['beta_vae', 'pcl']);
    expect(demo.datasets.map((d) => [d.base, d.latent])).toEqual([['dsprites', 10]]);
    expect(demo.methods[0]!.paramsByDataset!.dsprites).toEqual({ beta: 4 });
    expect(demo.training).toMatchObject({ steps: 10_000, batch: 64, lr: 5e-4, latent: 10 });
    expect(demo.evaluation.periodic).toEqual({ every: 1000, metrics: ['mig'], samples: 10000 });
    expect(countCells(demo)).toBe(2 * 3 * 3);
    expect(demo.notes![0]).toMatch(/^Measured: 43 min a run on /);
    // the cells carry the scale's β and latent size
    const cell = expandCells(demo).find((c) => c.method === 'beta_vae' && c.variant === 'original' && c.seed === 0)!;
    expect(cell.params).toEqual({ beta: 4 });
    expect(cell.latent).toBe(10);
    // asking for other methods still works, and the quick scale keeps the paper's β 8 and latent 5
    expect(presetToSpec(preset, { scale: 'demo-10k', methods: ['ae'] }).methods.map((m) => m.id)).toEqual(['ae']);
    const q = presetToSpec(preset, { scale: 'quick' });
    expect(q.methods.find((m) => m.id === 'beta_vae')!.paramsByDataset!.dsprites).toEqual({ beta: 8 });
    expect(q.datasets.find((d) => d.base === 'dsprites')!.latent).toBe(5);
    expect(presetInfos().find((p) => p.id === 'zietlow2021')!.scales.find((s) => s.id === 'demo-10k')!.runs).toBe(18);
  });
});
