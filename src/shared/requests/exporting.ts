/**
 * Requests of the compare/export room: charts and tables rendered by the
 * engine's export code (so a download looks like the screen and like the
 * study exports), and reading back the files a study export wrote.
 *
 * - `export/chart`: a Chart model (bar, box, line, scatter) → SVG, PDF, PNG
 *   (at a DPI), CSV or JSON of its numbers.
 * - `export/table`: a table (columns, rows) → CSV or LaTeX (booktabs).
 * - `exports/file`: one file under the lab's exports folder (relative path;
 *   size-limited; traversal and links out of the folder refused).
 *
 * Every answer is { fileName, mime, dataBase64 } (files: { name, … }), so the
 * renderer can hand it to a Blob + <a download> in Electron and the browser.
 */
import { z } from 'zod';

const Text = (max: number) => z.string().max(max);
const Num = z.number().finite();
const Pair = z.tuple([Num, Num]);
const MAX_POINTS = 20_000;

/*
 * Size limits. The engine renders a chart in a worker thread (it never holds
 * up other requests), but one request should still cost at most a few
 * seconds of CPU and a few hundred MB. Measured on one core of the project's
 * test machine (the rasteriser is plain TypeScript, src/core/export/png.ts):
 *
 * - MAX_CHART_MARKS: points of all series of a line/scatter chart, values of
 *   all groups of a box plot. 40,000 (a ~0.9 MB request) is ~0.3 s as SVG,
 *   ~0.8 s as PDF, ~1.5 s as a 300-dpi PNG; before, 64 series × 20,000
 *   points (1.3 M) could be sent over IPC.
 * - MAX_PNG_PIXELS: the PNG's width × height (the chart is CHART_WIDTH_PT ×
 *   CHART_HEIGHT_PT points, so pixels = that × (dpi/72)²). 45 MP admits the
 *   largest DPI, 1200 (8000 × 5333 = 42.7 MP: ~1.6 s for a two-bar chart, was
 *   6 s; ~150 MB, drawn in bands), and refuses anything larger a future
 *   layout option might ask for.
 * - MAX_PNG_WORK: rasterising costs as much for the ink as for the size
 *   (40,000 dots of 6 pt at 1200 dpi were 206 s): before drawing, the engine
 *   counts the work exactly from the laid-out chart (png.ts rasterWork: the
 *   pixels, plus per filled shape 16 × its pixel rows + its area) and refuses
 *   more than this many units (~15–30 ns each: ≤ ~3 s) with invalid_payload
 *   and the DPI that would fit. The empty chart at 1200 dpi is 87 M units; a
 *   scatter fits ~3,450 points at 1200 dpi (~1.9 s), ~34,000 at 600, all
 *   40,000 at 300.
 */
/** Marks (points or box values) per chart, all series together. */
export const MAX_CHART_MARKS = 40_000;
/** Width × height of a PNG export, in pixels. */
export const MAX_PNG_PIXELS = 45_000_000;
/** Rasterising work of a PNG export (src/core/export/png.ts rasterWork units). */
export const MAX_PNG_WORK = 120_000_000;
/** Every chart is laid out at this size (points, 1/72 in). */
export const CHART_WIDTH_PT = 480;
export const CHART_HEIGHT_PT = 320;
export const MIN_DPI = 36;
export const MAX_DPI = 1200;

/** Pixel size of a chart's PNG at a DPI (what src/core/export/png.ts writes). */
export function pngPixels(dpi: number, widthPt = CHART_WIDTH_PT, heightPt = CHART_HEIGHT_PT): { width: number; height: number } {
  const s = dpi / 72;
  return { width: Math.max(1, Math.round(widthPt * s)), height: Math.max(1, Math.round(heightPt * s)) };
}

/** Marks a chart draws one by one (points of all series, values of all groups). */
export function chartMarks(chart: { kind: string; series?: readonly { points?: readonly unknown[] }[]; groups?: readonly { values: readonly unknown[] }[] }): number {
  if (chart.kind === 'box') return (chart.groups ?? []).reduce((n, g) => n + g.values.length, 0);
  if (chart.kind === 'line' || chart.kind === 'scatter') return (chart.series ?? []).reduce((n, s) => n + (s.points?.length ?? 0), 0);
  return 0;
}
const marksOk = (c: Parameters<typeof chartMarks>[0]) => chartMarks(c) <= MAX_CHART_MARKS;
const marksMessage = (what: string) => ({
  message: `at most ${MAX_CHART_MARKS} ${what} per chart, all series together (a chart of more is unreadable anyway: sample or aggregate them)`,
});

const Axes = { title: Text(200), xLabel: Text(120), yLabel: Text(120) };
const YRange = { yMin: Num.optional(), yMax: Num.optional() };

export const BarChartModel = z
  .object({
    kind: z.literal('bar'),
    ...Axes,
    categories: z.array(Text(120)).min(1).max(100),
    series: z
      .array(
        z
          .object({
            name: Text(120),
            values: z.array(Num.nullable()).max(100),
            errors: z.array(Pair.nullable()).max(100).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(20),
    ...YRange,
  })
  .strict()
  .refine((c) => c.series.every((s) => s.values.length === c.categories.length && (!s.errors || s.errors.length === c.categories.length)), {
    message: 'every series needs one value (and one error interval) per category',
  });

export const BoxChartModel = z
  .object({
    kind: z.literal('box'),
    ...Axes,
    groups: z
      .array(z.object({ label: Text(120), values: z.array(Num).max(10_000), series: Text(120).optional(), category: Text(120).optional() }).strict())
      .min(1)
      .max(100),
    ...YRange,
  })
  .strict()
  .refine(marksOk, marksMessage('box-plot values'));

const XYSeries = z.object({ name: Text(120), points: z.array(Pair).max(MAX_POINTS) }).strict();

export const LineChartModel = z
  .object({ kind: z.literal('line'), ...Axes, series: z.array(XYSeries).min(1).max(64) })
  .strict()
  .refine(marksOk, marksMessage('line points'));

export const ScatterChartModel = z
  .object({
    kind: z.literal('scatter'),
    ...Axes,
    series: z
      .array(z.object({ name: Text(120), points: z.array(Pair).max(MAX_POINTS), labels: z.array(Text(200)).max(MAX_POINTS).optional() }).strict())
      .min(1)
      .max(64),
    diagonal: z.boolean().optional(),
    xMin: Num.optional(),
    xMax: Num.optional(),
    ...YRange,
  })
  .strict()
  .refine(marksOk, marksMessage('scatter points'));

/** The engine's Chart model (src/core/export/chart.ts), validated. */
export const ChartModel = z.union([BarChartModel, BoxChartModel, LineChartModel, ScatterChartModel]);
export type ChartModel = z.infer<typeof ChartModel>;

export const ChartFormat = z.enum(['svg', 'pdf', 'png', 'csv', 'json']);
export type ChartFormat = z.infer<typeof ChartFormat>;
export const TableFormat = z.enum(['csv', 'tex']);
export type TableFormat = z.infer<typeof TableFormat>;

const Cell = z.union([Num, Text(1000), z.null()]);
const TableFields = {
  title: Text(200),
  columns: z.array(Text(200)).min(1).max(64),
  rows: z.array(z.array(Cell).max(64)).max(10_000),
};

/** A file to download: its name, MIME type and bytes. */
export const Download = z.object({ fileName: z.string(), mime: z.string(), dataBase64: z.string() });
export type Download = z.infer<typeof Download>;

/** Largest file `exports/file` sends (bytes). */
export const EXPORT_FILE_LIMIT = 32 * 1024 * 1024;

export const exportRequests = {
  'export/chart': {
    summary: 'Render a chart (the engine’s Chart model) as SVG, PDF, PNG (at a DPI), or its numbers as CSV/JSON.',
    input: z
      .object({
        chart: ChartModel,
        format: ChartFormat,
        /** PNG resolution (default 300); the PNG must stay within MAX_PNG_PIXELS and MAX_PNG_WORK. */
        dpi: z.number().int().min(MIN_DPI).max(MAX_DPI).optional(),
        /** Base of the file name (default: from the title). */
        name: z.string().max(100).optional(),
      })
      .strict()
      .superRefine((v, ctx) => {
        if (v.format !== 'png' || v.dpi === undefined) return;
        const { width, height } = pngPixels(v.dpi);
        if (width * height > MAX_PNG_PIXELS) {
          const most = Math.floor(72 * Math.sqrt(MAX_PNG_PIXELS / (CHART_WIDTH_PT * CHART_HEIGHT_PT)));
          ctx.addIssue({
            code: 'custom',
            path: ['dpi'],
            message: `a PNG at ${v.dpi} dpi would be ${width} × ${height} = ${((width * height) / 1e6).toFixed(1)} megapixels, more than the ${MAX_PNG_PIXELS / 1e6} allowed: use at most ${most} dpi, or SVG/PDF`,
          });
        }
      }),
    output: Download,
  },
  'export/table': {
    summary: 'Write a table as CSV or LaTeX (booktabs).',
    input: z
      .object({ ...TableFields, format: TableFormat, name: z.string().max(100).optional() })
      .strict()
      .refine((t) => t.rows.every((r) => r.length === t.columns.length), { message: 'every row needs one cell per column' }),
    output: Download,
  },
  'exports/file': {
    summary: 'One file of the lab’s exports folder (e.g. written by studies/export), by its path relative to that folder.',
    input: z.object({ path: z.string().min(1).max(1024) }).strict(),
    output: z.object({ name: z.string(), mime: z.string(), size: z.number().int(), dataBase64: z.string() }),
  },
} as const;
