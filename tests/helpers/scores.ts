import type { MetricScore } from '../../src/core/metrics/types.js';

/** A stored MIG score of the given value (the fields the store and the curves read). */
export const migScore = (value: number): MetricScore => ({
  metric: 'mig',
  name: 'MIG',
  primary: 'mig',
  value,
  scores: { mig: value },
  provenance: { metric: 'mig', estimator: 'e', settings: {}, samples: { train: 100 }, seed: 0, codesAreMeans: true, notes: [] },
  seconds: 0.1,
});
