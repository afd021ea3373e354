import { describe, expect, it } from 'vitest';
import { studyCharts } from '../../../src/core/export/study.js';
import type { StudyResults } from '../../../src/shared/requests/studies.js';

describe('study export: metric vs steps', () => {
  it('one line chart per dataset, a line per (method, variant), as given (mean over seeds)', () => {
    const r = { metric: 'mig', groups: [], published: null } as unknown as StudyResults;
    const charts = studyCharts(r, undefined, {
      dsprites: [
        { method: 'beta_vae', variant: 'original', points: [[100, 0.1], [200, 0.2]] },
        { method: 'beta_vae', variant: 'noise', points: [[100, 0.05]] },
        { method: 'ae', variant: 'original', points: [] },
      ],
    });
    const c = charts.find((x) => x.name === 'mig-vs-steps-dsprites')!;
    expect(c.chart).toMatchObject({ kind: 'line', xLabel: 'step', yLabel: 'MIG' });
    expect((c.chart as { series: { name: string; points: [number, number][] }[] }).series.map((s) => [s.name, s.points.length])).toEqual([
      ['β-VAE original', 2],
      ['β-VAE noise', 1],
    ].map(([n, k]) => [expect.stringContaining(String(n).split(' ')[0]!), k]));
    expect(studyCharts(r).some((x) => x.name.includes('vs-steps'))).toBe(false);
  });
});

describe('metricCurves', () => {
  it('averages the periodic scores of a (dataset, method, variant) over its seeds, step by step', async () => {
    const { metricCurves } = await import('../../../src/core/studies/exports.js');
    const cells = [
      { dataset: 'dsprites', method: 'beta_vae', variant: 'original', run: { id: 'a' } },
      { dataset: 'dsprites', method: 'beta_vae', variant: 'original', run: { id: 'b' } },
      { dataset: 'dsprites', method: 'beta_vae', variant: 'noise', run: { id: 'c' } },
      { dataset: 'dsprites', method: 'ae', variant: 'original', run: null },
    ];
    const series: Record<string, { step: number; value: number | null }[]> = {
      a: [{ step: 10, value: 0.1 }, { step: 20, value: 0.3 }],
      b: [{ step: 10, value: 0.2 }],
      c: [{ step: 10, value: null }, { step: 20, value: 0.5 }],
    };
    const lab = {
      studies: { repo: { get: () => ({}) }, cells: () => cells },
      runs: { metricSeries: { pointsOf: (ids: string[], metric: string) => (expect(metric).toBe('mig'), Object.fromEntries(ids.map((id) => [id, series[id] ?? []]))) } },
    } as never;
    const out = metricCurves(lab, 's', 'mig');
    expect(out.dsprites).toHaveLength(2);
    const orig = out.dsprites!.find((c) => c.variant === 'original')!;
    expect(orig.points[0]![0]).toBe(10);
    expect(orig.points[0]![1]).toBeCloseTo(0.15, 12);
    expect(orig.points[1]).toEqual([20, 0.3]);
    expect(out.dsprites!.find((c) => c.variant === 'noise')!.points).toEqual([[20, 0.5]]);
  });
});
