/**
 * Pure helpers of the Compare screen: the dataset variant of a run (from the
 * dataset lineage), seed statistics, grouping by (method, base dataset,
 * variant), the hyperparameters that differ, and the engine Chart models
 * (the same data goes to Chart.js on screen and to `export/chart`; the curves
 * of a metric during training come from src/shared/curves.ts).
 */
import type { DatasetInfo } from '../../../../shared/domain';
import type { RunSummary } from '../../../../shared/runs';
import type { ChartModel } from '../../../../shared/requests/exporting';

/** The engine's series colours (src/core/export/chart.ts PALETTE), for the on-screen charts. */
export const EXPORT_PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export type Variant = 'original' | 'manipulated' | 'noise' | 'other';
export const VARIANTS: Variant[] = ['original', 'manipulated', 'noise', 'other'];

/** The perturbation kind of a derived dataset, from its id `<parent>.<kind>.<hash>`. */
export function derivedKind(ds: Pick<DatasetInfo, 'id' | 'parent'>): string | null {
  if (!ds.parent || !ds.id.startsWith(`${ds.parent}.`)) return null;
  return ds.id.slice(ds.parent.length + 1).split('.')[0] || null;
}

/** Base dataset and variant of a dataset id, following `parent` links to the root. */
export function lineage(id: string, byId: ReadonlyMap<string, Pick<DatasetInfo, 'id' | 'parent' | 'source'>>): { base: string; variant: Variant; kind: string | null } {
  const ds = byId.get(id);
  if (!ds || !ds.parent) return { base: id, variant: 'original', kind: null };
  const kind = derivedKind(ds);
  let root = ds.parent;
  for (let guard = 0; guard < 32; guard++) {
    const p = byId.get(root)?.parent;
    if (!p) break;
    root = p;
  }
  const variant: Variant = kind === 'manipulation' ? 'manipulated' : kind && /noise/.test(kind) ? 'noise' : 'other';
  return { base: root, variant, kind };
}

/** Mean and sample standard deviation (n − 1); sd is null below two values. */
export function meanSd(values: readonly number[]): { n: number; mean: number | null; sd: number | null } {
  const n = values.length;
  if (n === 0) return { n, mean: null, sd: null };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, sd: null };
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { n, mean, sd: Math.sqrt(ss / (n - 1)) };
}

export interface RunRow {
  run: RunSummary;
  base: string;
  variant: Variant;
  /** Latest stored value per metric. */
  scores: Record<string, number | null>;
}

export interface Group {
  key: string;
  method: string;
  base: string;
  variant: Variant;
  rows: RunRow[];
}

export function groupRows(rows: readonly RunRow[]): Group[] {
  const map = new Map<string, Group>();
  for (const r of rows) {
    const key = `${r.run.model}|${r.base}|${r.variant}`;
    let g = map.get(key);
    if (!g) map.set(key, (g = { key, method: r.run.model, base: r.base, variant: r.variant, rows: [] }));
    g.rows.push(r);
  }
  return [...map.values()].sort((a, b) => a.method.localeCompare(b.method) || a.base.localeCompare(b.base) || VARIANTS.indexOf(a.variant) - VARIANTS.indexOf(b.variant));
}

export function metricValues(rows: readonly RunRow[], metric: string): number[] {
  return rows.map((r) => r.scores[metric]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/** Hyperparameters (config.params) whose values are not all equal across the runs. */
export function differingParams(runs: readonly RunSummary[]): string[] {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.config.params)))].sort();
  return keys.filter((k) => new Set(runs.map((r) => JSON.stringify(r.config.params[k] ?? null))).size > 1);
}

export function allParams(runs: readonly RunSummary[]): string[] {
  return [...new Set(runs.flatMap((r) => Object.keys(r.config.params)))].sort();
}

/** Bar chart: one category per method (and base dataset when several), one series per variant; errors mean ± sd. */
export function barModel(groups: readonly Group[], metric: string, title: string): ChartModel & { kind: 'bar' } {
  const bases = new Set(groups.map((g) => g.base));
  const cat = (g: Group) => (bases.size > 1 ? `${g.method} · ${g.base}` : g.method);
  const categories = [...new Set(groups.map(cat))];
  const variants = VARIANTS.filter((v) => groups.some((g) => g.variant === v));
  return {
    kind: 'bar',
    title,
    xLabel: 'method',
    yLabel: metric,
    categories,
    series: variants.map((v) => {
      const cells = categories.map((c) => {
        const g = groups.find((x) => x.variant === v && cat(x) === c);
        const s = meanSd(g ? metricValues(g.rows, metric) : []);
        return s;
      });
      return {
        name: v,
        values: cells.map((s) => s.mean),
        errors: cells.map((s) => (s.mean !== null && s.sd !== null ? ([s.mean - s.sd, s.mean + s.sd] as [number, number]) : null)),
      };
    }),
  };
}

/** Box chart: one box per (method, variant) group with its seed values. */
export function boxModel(groups: readonly Group[], metric: string, title: string): ChartModel & { kind: 'box' } {
  const bases = new Set(groups.map((g) => g.base));
  return {
    kind: 'box',
    title,
    xLabel: 'method · variant',
    yLabel: metric,
    // boxes of one method (and base) sit together under one label in exports; the variant is the colour
    groups: groups.map((g) => {
      const category = `${g.method}${bases.size > 1 ? ` · ${g.base}` : ''}`;
      return { label: `${category} · ${g.variant}`, category, series: g.variant, values: metricValues(g.rows, metric) };
    }),
  };
}

/** Scatter of a hyperparameter against a metric: one series per method; labelled by run id. */
export function scatterModel(rows: readonly RunRow[], param: string, metric: string, title: string): ChartModel & { kind: 'scatter' } {
  const methods = [...new Set(rows.map((r) => r.run.model))].sort();
  return {
    kind: 'scatter',
    title,
    xLabel: param,
    yLabel: metric,
    series: methods.map((m) => {
      const pts = rows.filter((r) => r.run.model === m && typeof r.run.config.params[param] === 'number' && typeof r.scores[metric] === 'number');
      return { name: m, points: pts.map((r) => [r.run.config.params[param] as number, r.scores[metric] as number] as [number, number]), labels: pts.map((r) => r.run.id) };
    }),
  };
}

/** The chart model of the metric during training lives in src/shared (the CLI's `dlab runs curves` draws it too). */
export { curveModel, type StepCurve } from '../../../../shared/curves';

/** Quartiles by linear interpolation (the engine's box layout uses the same rule). */
export function quartiles(values: readonly number[]): { min: number; q1: number; med: number; q3: number; max: number } | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => {
    const h = (s.length - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(s.length - 1, lo + 1);
    return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
  };
  return { min: s[0]!, q1: q(0.25), med: q(0.5), q3: q(0.75), max: s[s.length - 1]! };
}

export function fmtMeanSd(s: { mean: number | null; sd: number | null }, digits = 3): string {
  if (s.mean === null) return '–';
  return s.sd === null ? s.mean.toFixed(digits) : `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}`;
}
