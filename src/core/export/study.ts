/**
 * A study's figures, tables and report:
 * - figures: per dataset a bar chart of the metric's mean per method and
 *   variant with 95 % bootstrap CIs, and a box plot of the seeds; a scatter
 *   of ours vs the published means (with y = x); the training loss of each
 *   method (mean over the seeds on the original data, per dataset);
 * - tables: Table 1 (ours vs published, mean (sd), N) and the comparison
 *   (differences with CIs, expected direction, verdict), each as CSV/LaTeX;
 * - data: the numbers behind each chart as CSV and JSON; the whole results
 *   object as JSON;
 * - the HTML report: self-contained (inline SVG, tables, provenance).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StudyDetail, StudyResults } from '../../shared/requests/studies.js';
import type { BarChart, BoxChart, Chart, LineChart, ScatterChart } from './chart.js';
import { chartData, layoutChart } from './chart.js';
import { drawingsToPdf } from './pdf.js';
import { drawingToPng } from './png.js';
import { drawingToSvg, escapeXml } from './svg.js';
import { toCsv, toLatex, type Table } from './table.js';

export interface NamedChart {
  name: string;
  chart: Chart;
}

const VARIANT_LABEL: Record<string, string> = { original: 'original', manipulated: 'manipulated', noise: 'uniform noise' };
export const METHOD_LABEL: Record<string, string> = { ae: 'AE', beta_vae: 'β-VAE', factor_vae: 'FactorVAE', beta_tcvae: 'β-TCVAE', slow_vae: 'SlowVAE', pcl: 'PCL' };
const DATASET_LABEL: Record<string, string> = { dsprites: 'dSprites', shapes3d: 'Shapes3D' };
const label = (m: Record<string, string>, k: string) => m[k] ?? k;
const metricLabel = (m: string) => (m === 'mig' ? 'MIG' : m.toUpperCase());

const uniq = <T>(xs: T[]) => [...new Set(xs)];

/** Mean training-loss curve per method (original data), per dataset. */
export type LossCurves = Record<string, Record<string, [number, number][]>>;

/** Mean metric-vs-step curve (periodic scores, over seeds) per dataset, one per (method, variant). */
export type MetricCurves = Record<string, { method: string; variant: string; points: [number, number][] }[]>;

export function studyCharts(r: StudyResults, loss?: LossCurves, curves?: MetricCurves): NamedChart[] {
  const out: NamedChart[] = [];
  const ml = metricLabel(r.metric);
  const datasets = uniq(r.groups.map((g) => g.dataset));
  const methods = uniq(r.groups.map((g) => g.method));
  for (const d of datasets) {
    const gs = r.groups.filter((g) => g.dataset === d);
    const variants = uniq(gs.map((g) => g.variant));
    const bar: BarChart = {
      kind: 'bar',
      title: `${ml} on ${label(DATASET_LABEL, d)}: mean over seeds, 95% bootstrap CI`,
      xLabel: 'method',
      yLabel: ml,
      categories: methods.map((m) => label(METHOD_LABEL, m)),
      series: variants.map((v) => ({
        name: label(VARIANT_LABEL, v),
        values: methods.map((m) => gs.find((g) => g.method === m && g.variant === v)?.mean ?? null),
        errors: methods.map((m) => gs.find((g) => g.method === m && g.variant === v)?.ci ?? null),
      })),
    };
    out.push({ name: `${r.metric}-bars-${d}`, chart: bar });
    const box: BoxChart = {
      kind: 'box',
      title: `${ml} on ${label(DATASET_LABEL, d)}: runs per method and variant`,
      xLabel: 'method',
      yLabel: ml,
      groups: methods.flatMap((m) =>
        variants
          .map((v) => gs.find((g) => g.method === m && g.variant === v))
          .filter((g) => g !== undefined)
          .map((g) => ({ label: `${label(METHOD_LABEL, m)} ${g.variant}`, values: g.values, series: label(VARIANT_LABEL, g.variant), category: label(METHOD_LABEL, m) })),
      ),
    };
    out.push({ name: `${r.metric}-box-${d}`, chart: box });
  }
  if (r.published) {
    const series: ScatterChart['series'] = [];
    for (const v of uniq(r.groups.map((g) => g.variant))) {
      const points: [number, number][] = [];
      const labels: string[] = [];
      for (const g of r.groups.filter((x) => x.variant === v && x.mean !== null)) {
        const p = r.published.cells.find((c) => c.method === g.method && c.dataset === g.dataset && c.variant === g.variant);
        if (!p) continue;
        points.push([p.mean, g.mean!]);
        labels.push(`${g.method}/${g.dataset}`);
      }
      if (points.length) series.push({ name: label(VARIANT_LABEL, v), points, labels });
    }
    if (series.length) {
      out.push({
        name: `${r.metric}-ours-vs-published`,
        chart: { kind: 'scatter', title: `${ml}: ours vs published (transcribed)`, xLabel: `published ${ml}`, yLabel: `our ${ml} (mean over seeds)`, series, diagonal: true },
      });
    }
  }
  for (const [d, curves] of Object.entries(loss ?? {})) {
    const series = Object.entries(curves)
      .filter(([, pts]) => pts.length > 0)
      .map(([m, pts]) => ({ name: label(METHOD_LABEL, m), points: pts }));
    if (series.length) {
      const line: LineChart = { kind: 'line', title: `Training loss on ${label(DATASET_LABEL, d)} (original), mean over seeds`, xLabel: 'step', yLabel: 'loss', series };
      out.push({ name: `loss-${d}`, chart: line });
    }
  }
  for (const [d, list] of Object.entries(curves ?? {})) {
    const series = list.filter((c) => c.points.length > 0).map((c) => ({ name: `${label(METHOD_LABEL, c.method)} ${label(VARIANT_LABEL, c.variant)}`, points: c.points }));
    if (series.length) {
      const line: LineChart = { kind: 'line', title: `${ml} during training on ${label(DATASET_LABEL, d)}: mean over seeds`, xLabel: 'step', yLabel: ml, series };
      out.push({ name: `${r.metric}-vs-steps-${d}`, chart: line });
    }
  }
  return out;
}

const fmt = (v: number | null | undefined, d = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '' : v.toFixed(d));
const ms = (mean: number | null | undefined, sd: number | null | undefined) => (mean === null || mean === undefined ? '–' : `${fmt(mean, 2)} (${sd === null || sd === undefined ? '–' : fmt(sd, 2)})`);

/** Long-format rows of the groups with the published numbers beside them. */
export function groupsTable(r: StudyResults): Table {
  return {
    columns: ['method', 'dataset', 'variant', 'n', 'mean', 'sd', 'ci_low', 'ci_high', 'published_mean', 'published_sd', 'seeds'],
    rows: r.groups.map((g) => {
      const p = r.published?.cells.find((c) => c.method === g.method && c.dataset === g.dataset && c.variant === g.variant);
      return [g.method, g.dataset, g.variant, g.n, g.mean, g.sd, g.ci?.[0] ?? null, g.ci?.[1] ?? null, p?.mean ?? null, p?.sd ?? null, g.seeds.join(' ')];
    }),
  };
}

export function comparisonTable(r: StudyResults): Table {
  return {
    columns: ['method', 'dataset', 'contrast', 'n_a', 'n_b', 'diff', 'ci_low', 'ci_high', 'published_diff', 'expected', 'verdict', 'reason'],
    rows: r.comparisons.map((c) => [c.method, c.dataset, c.contrast, c.nA, c.nB, c.diff, c.ci?.[0] ?? null, c.ci?.[1] ?? null, c.published?.diff ?? null, c.expected, c.verdict, c.reason]),
  };
}

/** Table 1 in the paper's shape: one row per method and source (ours / paper), a column per dataset × variant. */
export function table1(r: StudyResults): Table {
  const datasets = uniq(r.groups.map((g) => g.dataset));
  const variants = uniq(r.groups.map((g) => g.variant));
  const methods = uniq(r.groups.map((g) => g.method));
  const columns = ['method', 'source', ...datasets.flatMap((d) => variants.map((v) => `${label(DATASET_LABEL, d)} ${v}`))];
  const rows: (string | number | null)[][] = [];
  const rules: number[] = [];
  for (const m of methods) {
    rows.push([label(METHOD_LABEL, m), 'ours', ...datasets.flatMap((d) => variants.map((v) => {
      const g = r.groups.find((x) => x.method === m && x.dataset === d && x.variant === v);
      return g ? `${ms(g.mean, g.sd)} n=${g.n}` : '–';
    }))]);
    if (r.published) {
      rows.push(['', 'paper', ...datasets.flatMap((d) => variants.map((v) => {
        const p = r.published!.cells.find((x) => x.method === m && x.dataset === d && x.variant === v);
        return p ? ms(p.mean, p.sd) : '–';
      }))]);
    }
    rules.push(rows.length - 1);
  }
  return {
    columns,
    rows,
    rules,
    caption: `${metricLabel(r.metric)}, mean (sd) over seeds: ours vs the paper's Table 1${r.published ? ` (${r.published.note})` : ''}.`,
    label: `tab:${r.studyId}-table1`,
    align: 'll' + 'r'.repeat(columns.length - 2),
  };
}

function htmlTable(t: Table, cls = ''): string {
  const cell = (c: unknown) => escapeXml(c === null || c === undefined ? '' : typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toFixed(3)) : String(c));
  return `<table class="${cls}"><thead><tr>${t.columns.map((c) => `<th>${escapeXml(c)}</th>`).join('')}</tr></thead><tbody>${t.rows
    .map((r) => `<tr>${r.map((c) => `<td${typeof c === 'string' && /^(reproduced|not_reproduced|inconclusive|insufficient_data|no_claim)$/.test(c) ? ` class="v-${c}"` : ''}>${cell(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export interface ReportContext {
  detail: StudyDetail;
  results: StudyResults;
  charts: NamedChart[];
  app: { name: string; version: string; backend: string };
  /** Settings and sample counts of the scores, as stored. */
  provenance?: unknown;
}

export function htmlReport(ctx: ReportContext): string {
  const { detail, results } = ctx;
  const s = detail.spec;
  const verdictRows = results.comparisons.filter((c) => c.expected !== 'none');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(detail.name)}</title>
<style>
body{font-family:Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{border-bottom:2px solid #444}
.v-reproduced{background:#d8f0d8}.v-not_reproduced{background:#f6d5d5}.v-inconclusive{background:#f6efcf}.v-insufficient_data{background:#eee}
.warn{background:#fff4d6;padding:.5em 1em;border-left:4px solid #e0a800}.note{color:#666;font-size:13px}
figure{display:inline-block;margin:.5em}pre{background:#f6f6f6;padding:.5em;font-size:12px;overflow:auto}
</style></head><body>
<h1>${escapeXml(detail.name)}</h1>
<p>${escapeXml(detail.description).replace(/\n/g, '<br>')}</p>
<p class="note">Study <code>${escapeXml(detail.id)}</code>, created ${escapeXml(detail.createdAt)}; report generated ${escapeXml(results.generatedAt)} by ${escapeXml(ctx.app.name)} ${escapeXml(ctx.app.version)} (backend ${escapeXml(ctx.app.backend)}).</p>
<h2>Status</h2>
<p>${detail.counts.cells} runs planned: ${detail.counts.evaluated} scored, ${detail.counts.finished} finished, ${detail.counts.running} running, ${detail.counts.queued} queued, ${detail.counts.missing} not started, ${detail.counts.failed} failed, ${detail.counts.stopped} stopped.</p>
${results.warnings.map((w) => `<p class="warn">${escapeXml(w)}</p>`).join('\n')}
<h2>Verdicts</h2>
<p class="note">Per method and dataset: does the drop reproduce the paper's direction? Rule: the 95% bootstrap CI of the difference (expanded percentile interval, widened for few seeds by t quantiles) lies above 0 → reproduced; below 0 → not reproduced; contains 0 → inconclusive; fewer than 3 runs in a group → insufficient data (PCL: the paper claims no drop, so a CI above 0 is not reproduced and anything else reproduced — once PCL's original reaches half the paper's value; below that inconclusive, as a model that has not disentangled has nothing to lose). Published numbers: ${escapeXml(results.published ? `${results.published.source} — ${results.published.note}` : 'none for this metric')}.</p>
${htmlTable({ columns: ['method', 'dataset', 'contrast', 'ours Δ', '95% CI', 'paper Δ', 'expected', 'verdict'], rows: verdictRows.map((c) => [c.method, c.dataset, c.contrast, c.diff, c.ci ? `[${fmt(c.ci[0])}, ${fmt(c.ci[1])}]` : '–', c.published?.diff ?? null, c.expected, c.verdict]) }, 'verdicts')}
<h2>${escapeXml(metricLabel(results.metric))}: ours vs published</h2>
${htmlTable(table1(results), 'table1')}
<h2>All differences</h2>
${htmlTable(comparisonTable(results), 'comparisons')}
<h2>Figures</h2>
${ctx.charts.map((c) => `<figure id="${escapeXml(c.name)}">${drawingToSvg(layoutChart(c.chart), { inline: true })}</figure>`).join('\n')}
<h2>Groups</h2>
${htmlTable(groupsTable(results), 'groups')}
<h2>Provenance</h2>
<p>Bootstrap: ${results.bootstrap.resamples} resamples, seed ${results.bootstrap.seed}, level ${results.bootstrap.level}. Score settings seen:</p>
<pre>${escapeXml(results.provenance.map((p) => `${p.runs} runs: ${p.signature}`).join('\n') || 'none')}</pre>
<p>Training: ${escapeXml(JSON.stringify(s.training))}</p>
<p>Evaluation: ${escapeXml(JSON.stringify(s.evaluation))}</p>
<p>Seeds: ${escapeXml(s.seeds.join(', '))}. Datasets: ${escapeXml(JSON.stringify(detail.datasetIds))}</p>
${(s.notes ?? []).map((n) => `<p class="note">${escapeXml(n)}</p>`).join('\n')}
<h3>Spec</h3>
<pre>${escapeXml(JSON.stringify(s, null, 2))}</pre>
</body></html>
`;
}

export type StudyFormat = 'svg' | 'pdf' | 'png' | 'csv' | 'json' | 'tex' | 'html';

export interface WriteOptions {
  formats: StudyFormat[];
  dpi?: number;
  report?: Omit<ReportContext, 'charts' | 'results'>;
}

/** Write the study's exports into `dir`; returns the files written (relative to dir). */
export function writeStudyExport(dir: string, results: StudyResults, charts: NamedChart[], opts: WriteOptions): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const put = (name: string, data: string | Buffer) => {
    fs.writeFileSync(path.join(dir, name), data);
    files.push(name);
  };
  const f = new Set(opts.formats);
  const drawings = charts.map((c) => ({ name: c.name, d: layoutChart(c.chart), chart: c.chart }));
  if (f.has('svg')) for (const c of drawings) put(`${c.name}.svg`, drawingToSvg(c.d));
  if (f.has('png')) for (const c of drawings) put(`${c.name}.png`, drawingToPng(c.d, opts.dpi ?? 144));
  if (f.has('pdf')) {
    for (const c of drawings) put(`${c.name}.pdf`, drawingsToPdf([c.d]));
    if (drawings.length > 1) put('figures.pdf', drawingsToPdf(drawings.map((c) => c.d), { title: results.name }));
  }
  if (f.has('csv')) {
    for (const c of drawings) {
      const rows = chartData(c.chart);
      const cols = uniq(rows.flatMap((r) => Object.keys(r)));
      put(`${c.name}.data.csv`, toCsv({ columns: cols, rows: rows.map((r) => cols.map((k) => r[k] ?? null)) }));
    }
    put('groups.csv', toCsv(groupsTable(results)));
    put('comparisons.csv', toCsv(comparisonTable(results)));
    put('table1.csv', toCsv(table1(results)));
  }
  if (f.has('json')) {
    for (const c of drawings) put(`${c.name}.data.json`, JSON.stringify({ chart: c.chart, rows: chartData(c.chart) }, null, 2));
    put('results.json', JSON.stringify(results, null, 2));
  }
  if (f.has('tex')) {
    put('table1.tex', toLatex(table1(results)));
    put('comparisons.tex', toLatex({ ...comparisonTable(results), caption: `Differences of ${metricLabel(results.metric)} with 95% bootstrap CIs and verdicts.`, label: `tab:${results.studyId}-comparisons` }, { digits: 3 }));
  }
  if (f.has('html')) {
    if (!opts.report) throw new Error('the HTML report needs the study detail');
    put('report.html', htmlReport({ ...opts.report, results, charts }));
  }
  return files;
}
