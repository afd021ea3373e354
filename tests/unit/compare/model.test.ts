import { describe, expect, it } from 'vitest';
import { barModel, boxModel, differingParams, groupRows, lineage, meanSd, quartiles, scatterModel, type RunRow } from '../../../src/renderer/src/components/compare/model.js';
import type { RunSummary } from '../../../src/shared/runs.js';

const ds = new Map([
  ['dsprites', { id: 'dsprites', source: 'procedural' as const }],
  ['dsprites.manipulation.ab12', { id: 'dsprites.manipulation.ab12', parent: 'dsprites', source: 'derived' as const }],
  ['dsprites.uniform-noise.cd34', { id: 'dsprites.uniform-noise.cd34', parent: 'dsprites', source: 'derived' as const }],
  ['dsprites.blur.ef56', { id: 'dsprites.blur.ef56', parent: 'dsprites', source: 'derived' as const }],
  // a derived dataset of a derived dataset: the base is the root
  ['dsprites.blur.ef56.uniform-noise.9999', { id: 'dsprites.blur.ef56.uniform-noise.9999', parent: 'dsprites.blur.ef56', source: 'derived' as const }],
]);

function run(id: string, model: string, datasetId: string, params: Record<string, number | string | boolean>, seed = 0): RunSummary {
  return { id, model, datasetId, seed, config: { params } } as unknown as RunSummary;
}

describe('lineage', () => {
  it('names the variant from the perturbation kind in the derived id and follows parents to the base', () => {
    expect(lineage('dsprites', ds)).toEqual({ base: 'dsprites', variant: 'original', kind: null });
    expect(lineage('dsprites.manipulation.ab12', ds)).toEqual({ base: 'dsprites', variant: 'manipulated', kind: 'manipulation' });
    expect(lineage('dsprites.uniform-noise.cd34', ds)).toEqual({ base: 'dsprites', variant: 'noise', kind: 'uniform-noise' });
    expect(lineage('dsprites.blur.ef56', ds)).toEqual({ base: 'dsprites', variant: 'other', kind: 'blur' });
    expect(lineage('dsprites.blur.ef56.uniform-noise.9999', ds)).toEqual({ base: 'dsprites', variant: 'noise', kind: 'uniform-noise' });
    // unknown datasets count as originals of themselves
    expect(lineage('mystery', ds)).toEqual({ base: 'mystery', variant: 'original', kind: null });
  });
});

describe('meanSd', () => {
  it('uses the sample sd (n − 1)', () => {
    // 0.1, 0.2, 0.6: mean 0.3; squared deviations 0.04 + 0.01 + 0.09 = 0.14; /2 = 0.07
    const s = meanSd([0.1, 0.2, 0.6]);
    expect(s.n).toBe(3);
    expect(s.mean).toBeCloseTo(0.3, 12);
    expect(s.sd).toBeCloseTo(Math.sqrt(0.07), 12);
    expect(meanSd([0.5])).toEqual({ n: 1, mean: 0.5, sd: null });
    expect(meanSd([])).toEqual({ n: 0, mean: null, sd: null });
  });
  it('quartiles interpolate linearly', () => {
    expect(quartiles([4, 1, 3, 2])).toEqual({ min: 1, q1: 1.75, med: 2.5, q3: 3.25, max: 4 });
  });
});

describe('grouping and chart models', () => {
  const rows: RunRow[] = [
    { run: run('r1', 'beta_vae', 'dsprites', { beta: 4 }, 0), base: 'dsprites', variant: 'original', scores: { mig: 0.2 } },
    { run: run('r2', 'beta_vae', 'dsprites', { beta: 8 }, 1), base: 'dsprites', variant: 'original', scores: { mig: 0.4 } },
    { run: run('r3', 'beta_vae', 'dsprites.uniform-noise.cd34', { beta: 4 }, 0), base: 'dsprites', variant: 'noise', scores: { mig: 0.1 } },
    { run: run('r4', 'ae', 'dsprites', {}, 0), base: 'dsprites', variant: 'original', scores: { mig: null } },
  ];

  it('groups by method, base and variant in a stable order', () => {
    expect(groupRows(rows).map((g) => [g.key, g.rows.map((r) => r.run.id)])).toEqual([
      ['ae|dsprites|original', ['r4']],
      ['beta_vae|dsprites|original', ['r1', 'r2']],
      ['beta_vae|dsprites|noise', ['r3']],
    ]);
  });

  it('lists only the hyperparameters that differ', () => {
    expect(differingParams(rows.slice(0, 3).map((r) => r.run))).toEqual(['beta']);
    expect(differingParams([rows[0]!.run, rows[2]!.run])).toEqual([]);
    // a key missing on one run differs
    expect(differingParams([rows[0]!.run, rows[3]!.run])).toEqual(['beta']);
  });

  it('bar: mean ± sd per method and variant; box: the seed values; scatter: param vs metric per method', () => {
    const g = groupRows(rows);
    const b = barModel(g, 'mig', 't');
    expect(b.categories).toEqual(['ae', 'beta_vae']);
    expect(b.series.map((s) => s.name)).toEqual(['original', 'noise']);
    // beta_vae original: 0.2, 0.4 → mean 0.3, sd √0.02
    const sd = Math.sqrt(0.02);
    expect(b.series[0]!.values[1]).toBeCloseTo(0.3, 12);
    expect(b.series[0]!.errors![1]![0]).toBeCloseTo(0.3 - sd, 12);
    expect(b.series[0]!.errors![1]![1]).toBeCloseTo(0.3 + sd, 12);
    // ae has no score; noise has one run: no sd, no error bar
    expect(b.series[0]!.values[0]).toBeNull();
    expect(b.series[1]!.values).toEqual([null, 0.1]);
    expect(b.series[1]!.errors).toEqual([null, null]);
    expect(boxModel(g, 'mig', 't').groups.map((x) => [x.label, x.values])).toEqual([
      ['ae · original', []],
      ['beta_vae · original', [0.2, 0.4]],
      ['beta_vae · noise', [0.1]],
    ]);
    const s = scatterModel(rows, 'beta', 'mig', 't');
    expect(s.series).toEqual([
      { name: 'ae', points: [], labels: [] },
      { name: 'beta_vae', points: [[4, 0.2], [8, 0.4], [4, 0.1]], labels: ['r1', 'r2', 'r3'] },
    ]);
  });
});
