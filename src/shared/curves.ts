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

/**
 * MIG per factor during training: from the details of a run's periodic MIG
 * scores (`per_factor`, in the dataset's factor order), one series of
 * (step, gap ÷ entropy) per factor. A factor constant in the sample (dSprites'
 * colour: no gap, null) has no series. Shows which factor a model
 * disentangles when, and which ones keep the mean low.
 */
export function migPerFactorSeries(
  points: readonly { metric: string; step: number; details?: Record<string, unknown> | undefined }[],
  factorNames: readonly string[],
): { factor: number; name: string; points: [number, number][] }[] {
  const byFactor = new Map<number, [number, number][]>();
  for (const p of [...points].filter((q) => q.metric === 'mig').sort((a, b) => a.step - b.step)) {
    const per = p.details?.per_factor;
    if (!Array.isArray(per)) continue;
    per.forEach((v, k) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return;
      let s = byFactor.get(k);
      if (!s) byFactor.set(k, (s = []));
      s.push([p.step, v]);
    });
  }
  return [...byFactor.entries()].sort((a, b) => a[0] - b[0]).map(([k, pts]) => ({ factor: k, name: factorNames[k] ?? `factor ${k}`, points: pts }));
}
