/**
 * The chart model of the metric during training (Compare, Table 1 and
 * `dlab runs curves`, src/shared/curves.ts): a line of means per curve and its
 * 95 % interval as two series named '<name> (95% CI low|high)' over the steps
 * that have one.
 */
import { describe, expect, it } from 'vitest';
import { curveModel as rendererCurveModel } from '../../../src/renderer/src/components/compare/model.js';
import { compareCurveModel, curveModel } from '../../../src/shared/curves.js';
import { ChartModel } from '../../../src/shared/requests/exporting.js';

describe('curveModel', () => {
  it('a mean line per curve and its interval where two seeds or more were scored', () => {
    const m = curveModel(
      [
        { name: 'b · original', points: [{ step: 100, mean: 0.2, lo: -1.0706, hi: 1.4706 }, { step: 200, mean: 0.5, lo: null, hi: null }] },
        { name: 'tc · original', points: [{ step: 100, mean: 0.6, lo: null, hi: null }] },
        { name: 'empty', points: [] },
      ],
      'mig',
      'MIG during training',
    )!;
    expect(ChartModel.safeParse(m).success).toBe(true);
    expect(m).toMatchObject({ kind: 'line', title: 'MIG during training', xLabel: 'step', yLabel: 'mig' });
    expect(m.series).toEqual([
      { name: 'b · original', points: [[100, 0.2], [200, 0.5]] },
      { name: 'b · original (95% CI low)', points: [[100, -1.0706]] },
      { name: 'b · original (95% CI high)', points: [[100, 1.4706]] },
      { name: 'tc · original', points: [[100, 0.6]] },
    ]);
  });

  it('null without points or metric; at most 21 curves', () => {
    expect(curveModel([], 'mig', 't')).toBeNull();
    expect(curveModel([{ name: 'a', points: [] }], 'mig', 't')).toBeNull();
    expect(curveModel([{ name: 'a', points: [{ step: 1, mean: 1, lo: 0, hi: 2 }] }], '', 't')).toBeNull();
    const many = Array.from({ length: 30 }, (_, i) => ({ name: `c${i}`, points: [{ step: 1, mean: 1, lo: 0, hi: 2 }] }));
    expect(curveModel(many, 'mig', 't')!.series).toHaveLength(63);
  });

  it('the Compare chart: curves named method · dataset · variant under the screen’s title; the renderer’s curveModel is the shared one', () => {
    expect(rendererCurveModel).toBe(curveModel);
    const points = [{ step: 100, n: 2, mean: 0.2, lo: 0.1, hi: 0.3 }];
    const m = compareCurveModel([{ key: 'k', method: 'beta_vae', base: 'dsprites', variant: 'noise', points }], 'mig')!;
    expect(m).toEqual(curveModel([{ name: 'beta_vae · dsprites · noise', points }], 'mig', 'MIG during training (mean over seeds, 95 % CI)'));
    expect(compareCurveModel([], 'mig')).toBeNull();
    expect(compareCurveModel([{ key: 'k', method: 'a', base: 'b', variant: 'original', points }], 'mig', 'Mine')!.title).toBe('Mine');
  });
});
