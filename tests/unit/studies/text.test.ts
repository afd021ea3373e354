import { describe, expect, it } from 'vitest';
import { aggregate } from '../../../src/core/studies/aggregate.js';
import { formatTable1 } from '../../../src/core/studies/text.js';

describe('the terminal Table 1', () => {
  it('shows ours and the paper side by side with the drop, its CI and the verdict', () => {
    const obs = (variant: string, values: number[]) => values.map((value, seed) => ({ method: 'beta_vae', dataset: 'dsprites', variant, seed, runId: `${variant}${seed}`, value }));
    const r = aggregate([...obs('original', [0.3, 0.32, 0.31]), ...obs('manipulated', [0.05, 0.06, 0.07]), ...obs('noise', [0.2, 0.21, 0.22])], { studyId: 's', name: 'n', metric: 'mig', resamples: 500 });
    const text = formatTable1(r);
    const row = text.split('\n').find((l) => l.startsWith('β-VAE'))!;
    // original: mean 0.31, sd 0.01, n 3 | paper .23 (.08); the drop 0.25 with a CI above 0 → reproduced; paper Δ 0.16
    expect(row).toContain('0.31 ± 0.01 (3) | 0.23 (0.08)');
    expect(row).toContain('0.06 ± 0.01 (3) | 0.07 (0.09)');
    expect(row).toMatch(/0\.25 \[0\.2\d, 0\.2\d\]\s+0\.16\s+reproduced$/);
    expect(text).toContain('transcribed — verify before citing');
    expect(text).toContain('noise − manipulated');
  });
});
