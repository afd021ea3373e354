import { describe, expect, it } from 'vitest';
import { migPerFactorSeries } from '../../../src/shared/curves.js';

const names = ['color', 'shape', 'scale', 'orientation', 'posX', 'posY'];
const mig = (step: number, per: (number | null)[]) => ({ metric: 'mig', step, details: { per_factor: per } });

describe('MIG per factor during training', () => {
  it('one series per factor that varies, by step, named from the dataset; the constant factor (null) has none', () => {
    const points = [
      mig(2000, [null, 0.1, 0.3, 0.01, 0.05, 0.07]),
      // out of order and another metric between: sorted by step, the other metric ignored
      { metric: 'dci', step: 1000, details: { per_factor: [1, 1, 1, 1, 1, 1] } },
      mig(1000, [null, 0.02, 0.2, 0.0, 0.04, 0.06]),
    ];
    expect(migPerFactorSeries(points, names)).toEqual([
      { factor: 1, name: 'shape', points: [[1000, 0.02], [2000, 0.1]] },
      { factor: 2, name: 'scale', points: [[1000, 0.2], [2000, 0.3]] },
      { factor: 3, name: 'orientation', points: [[1000, 0], [2000, 0.01]] },
      { factor: 4, name: 'posX', points: [[1000, 0.04], [2000, 0.05]] },
      { factor: 5, name: 'posY', points: [[1000, 0.06], [2000, 0.07]] },
    ]);
  });

  it('points without details (or with a failed score) add nothing; unnamed factors get their index', () => {
    expect(migPerFactorSeries([{ metric: 'mig', step: 10 }, { metric: 'mig', step: 20, details: { per_factor: 'x' } }], names)).toEqual([]);
    expect(migPerFactorSeries([mig(5, [0.5, Number.NaN, 0.25])], ['a'])).toEqual([
      { factor: 0, name: 'a', points: [[5, 0.5]] },
      { factor: 2, name: 'factor 2', points: [[5, 0.25]] },
    ]);
  });
});
