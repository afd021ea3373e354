/**
 * `dlab runs curves --metric M`: the Compare screen's metric during training
 * from the CLI. Two tiny runs (seeds 0 and 1) scored every 4 steps: the mean
 * per step is the mean of their stored series values, the 95 % t interval
 * with n = 2 is mean ± t(0.975, 1) · sd / √2, and --out writes the screen's
 * chart (SVG with the curve's name, CSV with its points, JSON with the chart
 * model of src/shared/curves.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/core/store/db.js';
import { MetricSeriesRepository } from '../../src/core/store/series.js';
import { compareCurveModel } from '../../src/shared/curves.js';
import { runDlab } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir();
const lab = path.join(tmp.dir, 'lab');
const ids: string[] = [];
afterAll(() => tmp.cleanup());

const T_975_1 = 12.7062;
const NAME = 'beta_vae · dsprites · original';

interface CurvesJson {
  metric: string;
  title: string;
  curves: { name: string; method: string; base: string; variant: string; points: { step: number; n: number; mean: number; lo: number | null; hi: number | null }[] }[];
  file?: { path: string; format: string; bytes: number };
}

beforeAll(() => {
  const args = ['train', '--model', 'beta_vae', '--dataset', 'dsprites', '--arch', 'fc', '--latent', '3', '--steps', '9', '--batch', '8', '--lr', '0.001', '--checkpoint-every', '9', '--codes', '120'];
  for (const seed of ['0', '1']) {
    const r = runDlab([...args, '--seed', seed, '--eval-every', '4', '--eval-metrics', 'mig', '--eval-samples', '120', '--json', '--lab-dir', lab]);
    expect(r.code, r.stderr).toBe(0);
    const result = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; run?: { id: string; status: string } })
      .find((l) => l.type === 'result');
    expect(result?.run?.status).toBe('finished');
    ids.push(result!.run!.id);
  }
}, 600_000);

describe('dlab runs curves', () => {
  it('--json: per step the mean of the two seeds’ stored values and mean ± t(0.975,1)·sd/√2', () => {
    const r = runDlab(['runs', 'curves', '--metric', 'mig', '--json', '--lab-dir', lab]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as CurvesJson;
    expect(out.metric).toBe('mig');
    expect(out.title).toBe('MIG during training (mean over seeds, 95 % CI)');
    expect(out.curves.map((c) => c.name)).toEqual([NAME]);
    const curve = out.curves[0]!;
    expect(curve).toMatchObject({ method: 'beta_vae', base: 'dsprites', variant: 'original' });
    expect(curve.points.map((p) => [p.step, p.n])).toEqual([
      [4, 2],
      [8, 2],
    ]);

    expect(curve.points.some((p) => p.hi! > p.lo!)).toBe(true); // the seeds differ: a real interval

    const db = openDb(path.join(lab, 'lab.sqlite'), { readonly: true });
    try {
      const series = new MetricSeriesRepository(db).pointsOf(ids, 'mig');
      for (const p of curve.points) {
        const [a, b] = ids.map((id) => series[id]!.find((s) => s.step === p.step)!.value!);
        expect(typeof a).toBe('number');
        expect(typeof b).toBe('number');
        const mean = (a! + b!) / 2;
        const sd = Math.sqrt((a! - mean) ** 2 + (b! - mean) ** 2); // sample sd: n − 1 = 1
        const half = (T_975_1 * sd) / Math.SQRT2;
        expect(p.mean).toBeCloseTo(mean, 12);
        expect(p.lo!).toBeCloseTo(mean - half, 6);
        expect(p.hi!).toBeCloseTo(mean + half, 6);
      }
    } finally {
      db.close();
    }

    // the text table: one block per curve, a row per step
    const text = runDlab(['runs', 'curves', '--metric', 'mig', '--lab-dir', lab]);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${NAME}  (mig, 2 seeds)`);
    const p4 = curve.points[0]!;
    expect(lines).toContain(`         4    2  ${p4.mean.toFixed(4).padStart(9)}  ${p4.lo!.toFixed(4)} – ${p4.hi!.toFixed(4)}`);
  }, 120_000);

  it('--out writes the screen’s chart: SVG with the curve’s name, CSV with its points, JSON with the chart model', () => {
    const svg = path.join(tmp.dir, 'out', 'x.svg');
    const r = runDlab(['runs', 'curves', '--metric', 'mig', '--out', svg, '--lab-dir', lab]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${svg} (svg, `);
    const text = fs.readFileSync(svg, 'utf8');
    expect(text.startsWith('<svg') || text.startsWith('<?xml')).toBe(true);
    expect(text).toContain(NAME);
    expect(text).toContain('MIG during training (mean over seeds, 95 % CI)');

    const curves = (JSON.parse(runDlab(['runs', 'curves', '--metric', 'mig', '--json', '--lab-dir', lab]).stdout) as CurvesJson).curves;
    const csv = path.join(tmp.dir, 'x.csv');
    const c = runDlab(['runs', 'curves', '--metric', 'mig', '--out', csv, '--json', '--lab-dir', lab]);
    expect(c.code, c.stderr).toBe(0);
    expect((JSON.parse(c.stdout) as CurvesJson).file).toMatchObject({ path: csv, format: 'csv' });
    const rows = fs.readFileSync(csv, 'utf8').trim().split(/\r?\n/); // RFC 4180 line ends
    expect(rows[0]).toBe('series,x,y');
    for (const p of curves[0]!.points) {
      expect(rows).toContain(`${NAME},${p.step},${p.mean}`);
      expect(rows).toContain(`${NAME} (95% CI low),${p.step},${p.lo}`);
      expect(rows).toContain(`${NAME} (95% CI high),${p.step},${p.hi}`);
    }

    const json = path.join(tmp.dir, 'x.json');
    const j = runDlab(['runs', 'curves', '--metric', 'mig', '--out', json, '--title', 'Two seeds', '--lab-dir', lab]);
    expect(j.code, j.stderr).toBe(0);
    const written = JSON.parse(fs.readFileSync(json, 'utf8')) as { chart: unknown };
    expect(written.chart).toEqual(compareCurveModel(curves as never, 'mig', 'Two seeds'));
  }, 120_000);

  it('errors: a metric without periodic scores or an unknown one → exit 1 and one stderr line; bad flags → usage, exit 2', () => {
    const none = runDlab(['runs', 'curves', '--metric', 'modularity', '--lab-dir', lab]);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toMatch(/no finished run matching the filters has MODULARITY scores during training; train with --eval-every N/);
    const filtered = runDlab(['runs', 'curves', '--metric', 'mig', '--model', 'factor_vae', '--status', 'finished', '--lab-dir', lab]);
    expect(filtered.code).toBe(1);
    expect(filtered.stderr.trim()).toBe('dlab runs curves: no run matching the filters has MIG scores during training; train with --eval-every N');
    const unknown = runDlab(['runs', 'curves', '--metric', 'nope', '--lab-dir', lab]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/unknown metric 'nope' \(known: mig, /);

    for (const bad of [[], ['--metric', 'mig', '--out', path.join(tmp.dir, 'x.txt')], ['--metric', 'mig', '--dpi', '5000'], ['--metric', 'mig', '--status', 'sleeping']]) {
      const u = runDlab(['runs', 'curves', ...bad, '--lab-dir', lab]);
      expect(u.code, bad.join(' ')).toBe(2);
      expect(u.stderr).toMatch(/usage: dlab runs curves --metric M/);
    }
    expect(fs.existsSync(path.join(tmp.dir, 'x.txt'))).toBe(false);
  }, 120_000);

  // last: it adds a run
  it('a curve that pools runs of different learning rates says so on stderr; --exclude leaves such a run out', () => {
    const before = (JSON.parse(runDlab(['runs', 'curves', '--metric', 'mig', '--json', '--lab-dir', lab]).stdout) as CurvesJson).curves[0]!;
    const args = ['train', '--model', 'beta_vae', '--dataset', 'dsprites', '--arch', 'fc', '--latent', '3', '--steps', '9', '--batch', '8', '--lr', '0.003', '--checkpoint-every', '9', '--codes', '120'];
    const t = runDlab([...args, '--seed', '2', '--eval-every', '4', '--eval-metrics', 'mig', '--eval-samples', '120', '--json', '--lab-dir', lab]);
    expect(t.code, t.stderr).toBe(0);
    const other = (t.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; run?: { id: string } }).find((l) => l.type === 'result'))!.run!.id;

    const pooled = runDlab(['runs', 'curves', '--metric', 'mig', '--json', '--lab-dir', lab]);
    expect(pooled.code, pooled.stderr).toBe(0);
    expect(pooled.stderr.trim()).toBe(`${NAME} pools runs that differ in lr (leave some out with --exclude or narrow the filters)`);
    const c3 = (JSON.parse(pooled.stdout) as { curves: { points: { n: number }[]; differing: string[] }[] }).curves[0]!;
    expect(c3.differing).toEqual(['lr']);
    expect(c3.points.map((p) => p.n)).toEqual([3, 3]);

    const left = runDlab(['runs', 'curves', '--metric', 'mig', '--json', '--exclude', other, '--lab-dir', lab]);
    expect(left.code, left.stderr).toBe(0);
    expect(left.stderr).toBe('');
    const after = (JSON.parse(left.stdout) as { exclude: string[]; curves: CurvesJson['curves'] }).curves[0]!;
    expect(after.points).toEqual(before.points);
    expect((JSON.parse(left.stdout) as { exclude: string[] }).exclude).toEqual([other]);

    const typo = runDlab(['runs', 'curves', '--metric', 'mig', '--exclude', `${other}x`, '--lab-dir', lab]);
    expect(typo.code).toBe(1);
    expect(typo.stderr.trim()).toBe(`dlab runs curves: --exclude: no run '${other}x' in this lab`);
  }, 120_000);
});
