/**
 * `dlab runs curves --metric M`: the metric during training as the Compare
 * screen shows it. The curves come from `runs/compare` (per method, dataset
 * and variant: the mean over seeds of the periodic scores at each step with
 * its 95 % t interval); the chart is the screen's (`compareCurveModel` in
 * src/shared/curves.ts) rendered by `export/chart`, the request behind the
 * screen's export buttons. Both requests go through `dispatch`, so their
 * payloads are checked by the contract's schemas as in the app.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Lab } from '../../core/lab.js';
import type { RequestName, RequestOutput } from '../../shared/contract.js';
import { compareCurveModel, compareCurveName, compareCurveTitle, type CompareCurve } from '../../shared/curves.js';
import { dispatch } from '../../shared/dispatch.js';
import { MAX_DPI, MIN_DPI, type ChartFormat } from '../../shared/requests/exporting.js';
import type { RunFilter } from '../../shared/runs.js';
import { UsageError, flagList, flagNumber, flagString, type CliContext, type Command } from '../command.js';
import { withLab } from '../helpers.js';
import { runQueryOf } from './runs.js';

const FORMATS: readonly ChartFormat[] = ['svg', 'pdf', 'png', 'csv', 'json'];
/** Curves one chart draws (3 series each: the line chart model's 64). */
const CHART_CURVES = 21;
const FILTER_KEYS = ['text', 'status', 'model', 'dataset', 'tags', 'study', 'from', 'to'] as const;

/** A request through the contract (schema-checked); an error reply becomes an Error with its message. */
async function request<N extends RequestName>(lab: Lab, name: N, payload: unknown): Promise<RequestOutput<N>> {
  const reply = await dispatch(lab.handlers, name, payload);
  if (!reply.ok) throw new Error(reply.error.message);
  return reply.result as RequestOutput<N>;
}

/** The `dlab runs` filters (not its sort or pages) as the run filter of `runs/compare`. */
async function filterOf(ctx: CliContext): Promise<RunFilter> {
  const q = await runQueryOf(ctx);
  const out: Record<string, unknown> = {};
  for (const k of FILTER_KEYS) if (q[k] !== undefined) out[k] = q[k];
  return out as RunFilter;
}

const fmt = (v: number | null, digits = 4) => (v === null ? '–' : v.toFixed(digits));

/** One block per curve: its name and seeds, then step, n, mean and the 95 % interval per row. */
export function curvesTable(curves: readonly CompareCurve[], metric: string): string[] {
  const lines: string[] = [];
  for (const c of curves) {
    const seeds = Math.max(0, ...c.points.map((p) => p.n));
    if (lines.length) lines.push('');
    lines.push(`${compareCurveName(c)}  (${metric}, ${seeds} seed${seeds === 1 ? '' : 's'})`);
    lines.push(`  ${'step'.padStart(8)}  ${'n'.padStart(3)}  ${'mean'.padStart(9)}  95% CI`);
    for (const p of c.points) {
      const ci = p.lo === null || p.hi === null ? '–' : `${fmt(p.lo)} – ${fmt(p.hi)}`;
      lines.push(`  ${String(p.step).padStart(8)}  ${String(p.n).padStart(3)}  ${fmt(p.mean).padStart(9)}  ${ci}`);
    }
  }
  return lines;
}

export const runsCurvesCommand: Command = {
  path: ['runs', 'curves'],
  summary:
    "A metric during training as the Compare screen shows it: per method · dataset · variant the mean over seeds of the runs' periodic scores (--eval-every) at each step with its 95 % t interval (finished runs unless --status; --exclude leaves runs out as unticking them on the screen; a curve that pools runs of different settings says which); --out writes the screen's chart (svg/pdf/png/csv/json, from the extension).",
  usage:
    'dlab runs curves --metric M [--filter TEXT] [--status S,S] [--model M] [--dataset D] [--tag T] [--study ID|none] [--from ISO] [--to ISO] [--exclude ID,ID] [--out FILE.svg|.pdf|.png|.csv|.json] [--dpi N] [--title T] [--json]',
  async run(ctx) {
    const metric = flagString(ctx.args, 'metric');
    if (!metric) throw new UsageError('--metric is required (e.g. --metric mig)');
    const filter = await filterOf(ctx);
    const exclude = flagList(ctx.args, 'exclude') ?? [];
    const out = flagString(ctx.args, 'out');
    const format = out ? (path.extname(out).slice(1).toLowerCase() as ChartFormat) : undefined;
    if (out && !FORMATS.includes(format!)) throw new UsageError(`--out must end in ${FORMATS.map((f) => `.${f}`).join(', ')}, got '${out}'`);
    const dpi = flagNumber(ctx.args, 'dpi', { integer: true, min: MIN_DPI });
    if (dpi !== undefined && dpi > MAX_DPI) throw new UsageError(`--dpi must be at most ${MAX_DPI}, got ${dpi}`);
    const title = flagString(ctx.args, 'title') ?? compareCurveTitle(metric);
    if (title.length > 200) throw new UsageError(`--title is at most 200 characters, got ${title.length}`);

    return withLab(ctx, async (lab) => {
      const known = (await request(lab, 'metrics/list', {})).map((m) => m.id);
      if (!known.includes(metric)) throw new Error(`unknown metric '${metric}' (known: ${known.join(', ')})`);
      const unknown = exclude.filter((id) => !lab.runs.exists(id));
      if (unknown.length) throw new Error(`--exclude: no run ${unknown.map((id) => `'${id}'`).join(', ')} in this lab`);
      // as the screen: finished runs only, unless the statuses are chosen
      const r = await request(lab, 'runs/compare', { metric, finishedOnly: !filter.status, filter, ...(exclude.length ? { exclude } : {}) });
      const curves = (r.curves ?? []).filter((c) => c.points.length > 0);
      // a curve pools every picked run of its group; say so when their settings differ (the budget aside: a curve is per step)
      const differing = new Map(r.groups.map((g) => [g.key, g.differing.filter((k) => k !== 'steps')]));
      for (const c of curves) {
        const d = differing.get(c.key) ?? [];
        if (d.length) ctx.err(`${compareCurveName(c)} pools runs that differ in ${d.join(', ')} (leave some out with --exclude or narrow the filters)`);
      }
      if (curves.length === 0) {
        throw new Error(
          `no ${filter.status ? '' : 'finished '}run matching the filters has ${metric.toUpperCase()} scores during training; train with --eval-every N${filter.status ? '' : ' (or choose --status to include unfinished runs)'}`,
        );
      }
      let file: { path: string; format: ChartFormat; bytes: number } | undefined;
      if (out && format) {
        const chart = compareCurveModel(curves, metric, title)!;
        const d = await request(lab, 'export/chart', { chart, format, ...(format === 'png' && dpi !== undefined ? { dpi } : {}), name: path.basename(out, path.extname(out)).slice(0, 100) });
        const bytes = Buffer.from(d.dataBase64, 'base64');
        const target = path.resolve(out);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, bytes);
        file = { path: target, format, bytes: bytes.length };
        if (curves.length > CHART_CURVES) ctx.err(`the chart draws the first ${CHART_CURVES} of ${curves.length} curves (narrow the filters for the others)`);
      }
      if (ctx.json) {
        const json = curves.map((c) => ({ name: compareCurveName(c), ...c, differing: differing.get(c.key) ?? [] }));
        ctx.out(JSON.stringify({ metric, title, filter, finishedOnly: !filter.status, ...(exclude.length ? { exclude } : {}), curves: json, ...(file ? { file } : {}) }, null, 2));
      } else {
        for (const line of curvesTable(curves, metric)) ctx.out(line);
        if (file) ctx.out(`\nwrote ${file.path} (${file.format}, ${file.bytes} bytes)`);
      }
      return 0;
    });
  },
};
