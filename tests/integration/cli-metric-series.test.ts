/** `dlab train --eval-every N`: the periodic scores in the JSON lines and the store; `dlab evaluate --step` equals them. */
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDlab } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

describe('dlab train --eval-every', () => {
  it('prints a metrics line per N steps, stores ⌊steps/N⌋ points per metric, and dlab evaluate --step gives the same numbers', () => {
    const lab = path.join(tmp.dir, 'lab');
    const args = ['train', '--model', 'beta_vae', '--dataset', 'dsprites', '--arch', 'fc', '--latent', '3', '--steps', '9', '--batch', '8', '--lr', '0.001', '--checkpoint-every', '4', '--codes', '120'];
    const r = runDlab([...args, '--eval-every', '4', '--eval-metrics', 'mig,modularity', '--eval-samples', '120', '--json', '--lab-dir', lab]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const metrics = lines.filter((l) => l.type === 'metrics') as { id: string; step: number; values: Record<string, number | null>; evalSeconds: number }[];
    expect(metrics.map((m) => m.step)).toEqual([4, 8]); // ⌊9/4⌋
    for (const m of metrics) {
      expect(Object.keys(m.values).sort()).toEqual(['mig', 'modularity']);
      expect(m.evalSeconds).toBeGreaterThan(0);
      // MIG per factor, named by dSprites' factors: their mean is the MIG
      const per = (m as { migPerFactor?: Record<string, number> }).migPerFactor!;
      expect(Object.keys(per)).toEqual(['shape', 'scale', 'orientation', 'pos_x', 'pos_y']);
      expect(Object.values(per).reduce((a, b) => a + b, 0) / 5).toBeCloseTo(m.values.mig!, 12);
    }
    const id = metrics[0]!.id;
    const show = JSON.parse(runDlab(['run', 'show', id, '--json', '--lab-dir', lab]).stdout) as { config: Record<string, unknown>; checkpoints: { step: number }[] };
    expect(show.config).toMatchObject({ evalEvery: 4, evalMetrics: ['mig', 'modularity'], evalSamples: 120 });
    expect(show.checkpoints.map((c) => c.step)).toEqual([8, 9]);

    const ev = runDlab(['evaluate', id, '--step', '8', '--json', '--lab-dir', lab]);
    expect(ev.code, ev.stderr).toBe(0);
    const out = JSON.parse(ev.stdout.slice(ev.stdout.indexOf('{\n'))) as { scores: { metric: string; value: number; provenance: { step: number; points: number } }[] };
    const at8 = Object.fromEntries(out.scores.map((s) => [s.metric, s.value]));
    expect(at8).toEqual(metrics[1]!.values);
    expect(out.scores[0]!.provenance).toMatchObject({ step: 8, points: 120 });

    expect(runDlab([...args, '--eval-metrics', 'mig', '--lab-dir', lab]).code).not.toBe(0); // needs --eval-every

    // the text lines say the same
    const text = runDlab([...args, '--seed', '1', '--eval-every', '8', '--eval-metrics', 'mig', '--eval-samples', '120', '--lab-dir', lab]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/step 8: mig \d\.\d{4} \([\d.]+ s\) · MIG per factor: shape \d\.\d{3}, scale \d\.\d{3}, orientation \d\.\d{3}, pos_x \d\.\d{3}, pos_y \d\.\d{3}\n/);
  });
});
