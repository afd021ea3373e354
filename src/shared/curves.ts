/**
 * The chart model of a metric during training, one function for every
 * client: the Compare screen and Table 1 draw it (ModelChart) and export it
 * (`export/chart`), `dlab runs curves` prints and writes it. The curves come
 * from `runs/compare` (and `studies/results`): per group and step the seeds
 * scored there, their mean and its 95 % t interval.
 */
import type { ChartModel } from './requests/exporting.js';
import type { CompareResult } from './runs.js';

/** One curve of the metric during training: per step the mean over seeds and its 95 % interval (null below 2 seeds). */
export interface StepCurve {
  name: string;
  points: readonly { step: number; mean: number; lo: number | null; hi: number | null }[];
}

/**
 * The line a series of a line chart belongs to: '<name>' for the interval
 * series '<name> (95% CI low|high)' (drawn thin and dashed in that line's
 * colour, without a legend entry: ModelChart on screen, the export's
 * layoutChart in files), null for a line of its own.
 */
export function intervalOf(series: string): string | null {
  const m = / \(95% CI (?:low|high)\)$/.exec(series);
  return m ? series.slice(0, m.index) : null;
}

/** A curve of `runs/compare`: one (method, base dataset, variant) group. */
export type CompareCurve = NonNullable<CompareResult['curves']>[number];

/**
 * The metric against training steps (runs/compare and studies/results curves):
 * one line per curve, its 95 % interval as two series '<name> (95% CI low|high)'
 * that ModelChart draws thin and dashed in the line's colour. At most 21 curves
 * (3 series each: the chart model's 64); null when none has points.
 */
export function curveModel(curves: readonly StepCurve[], metric: string, title: string): (ChartModel & { kind: 'line' }) | null {
  const shown = curves.filter((c) => c.points.length > 0).slice(0, 21);
  if (!metric || shown.length === 0) return null;
  const series = shown.flatMap(({ name, points }) => {
    const ci = points.filter((p) => p.lo !== null && p.hi !== null);
    return [
      { name, points: points.map((p) => [p.step, p.mean] as [number, number]) },
      ...(ci.length
        ? [
            { name: `${name} (95% CI low)`, points: ci.map((p) => [p.step, p.lo!] as [number, number]) },
            { name: `${name} (95% CI high)`, points: ci.map((p) => [p.step, p.hi!] as [number, number]) },
          ]
        : []),
    ];
  });
  return { kind: 'line', title, xLabel: 'step', yLabel: metric, series };
}

/** The name of a Compare curve: 'method · dataset · variant'. */
export function compareCurveName(c: Pick<CompareCurve, 'method' | 'base' | 'variant'>): string {
  return `${c.method} · ${c.base} · ${c.variant}`;
}

/** The title of the Compare screen's chart of a metric during training. */
export function compareCurveTitle(metric: string): string {
  return `${metric.toUpperCase()} during training (mean over seeds, 95 % CI)`;
}

/** The Compare screen's chart of `runs/compare` curves (the title defaults to the screen's). */
export function compareCurveModel(curves: readonly CompareCurve[], metric: string, title = compareCurveTitle(metric)): (ChartModel & { kind: 'line' }) | null {
  return curveModel(
    curves.map((c) => ({ name: compareCurveName(c), points: c.points })),
    metric,
    title,
  );
}
