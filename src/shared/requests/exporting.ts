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
  .strict();

const XYSeries = z.object({ name: Text(120), points: z.array(Pair).max(MAX_POINTS) }).strict();

export const LineChartModel = z
  .object({ kind: z.literal('line'), ...Axes, series: z.array(XYSeries).min(1).max(64) })
  .strict();

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
  .strict();

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
        dpi: z.number().int().min(36).max(1200).optional(),
        /** Base of the file name (default: from the title). */
        name: z.string().max(100).optional(),
      })
      .strict(),
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
