import { describe, expect, it } from 'vitest';
import { getPreset, presetToSpec } from '../../../src/core/studies/presets.js';
import { cellRunConfig, expandCells } from '../../../src/core/studies/spec.js';
import { StudySpec } from '../../../src/shared/requests/studies.js';

describe('study metric curves (evaluation.periodic)', () => {
  it('reach every cell as RunConfig.evalEvery/evalMetrics/evalSettings/evalSamples; absent means off', () => {
    const quick = presetToSpec(getPreset('zietlow2021'), { scale: 'quick' });
    expect(quick.evaluation.periodic).toBeUndefined();
    const cell = expandCells(quick)[0]!;
    const off = cellRunConfig(quick, cell, quick.datasets[0]!.base, 's1');
    expect(off.evalEvery).toBeUndefined();
    const spec = StudySpec.parse({ ...quick, evaluation: { ...quick.evaluation, periodic: { every: 50, metrics: ['mig', 'dci'], settings: { dci: { num_train: 200 } }, samples: 2000 } } });
    const on = cellRunConfig(spec, cell, spec.datasets[0]!.base, 's1');
    expect(on).toMatchObject({ evalEvery: 50, evalMetrics: ['mig', 'dci'], evalSettings: { dci: { num_train: 200 } }, evalSamples: 2000, evaluate: ['mig'] });
    expect(StudySpec.safeParse({ ...quick, evaluation: { ...quick.evaluation, periodic: { every: 0 } } }).success).toBe(false);
    expect(StudySpec.safeParse({ ...quick, evaluation: { ...quick.evaluation, periodic: { every: 10, samples: 8 } } }).success).toBe(false);
  });

  it('the full Table 1 preset follows MIG every 5,000 steps on 10,000 points', () => {
    const full = presetToSpec(getPreset('zietlow2021'), { scale: 'full' });
    const c = cellRunConfig(full, expandCells(full)[0]!, full.datasets[0]!.base, 's1');
    expect(c).toMatchObject({ evalEvery: 5000, evalMetrics: ['mig'], evalSamples: 10000 });
  });
});
