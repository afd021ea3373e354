/**
 * A chart model → file bytes (SVG, PDF, PNG at a DPI, CSV, JSON): the pure
 * work behind `export/chart`, run in a worker thread (src/core/thread-tasks.ts)
 * so the serving loop stays free. A PNG is refused (invalid_payload) when
 * rasterising it would cost more than MAX_PNG_WORK (the ink counts, not
 * only the size), with the DPI that would fit.
 *
 * packChart/unpackChart move a chart's numbers to the thread as one
 * Float64Array (transferred) instead of cloning 40,000 little [x, y] arrays.
 */
import { LabError } from '../../shared/contract.js';
import { MAX_PNG_WORK, MIN_DPI } from '../../shared/requests/exporting.js';
import { chartData, layoutChart, type Chart, type Drawing } from './chart.js';
import { drawingsToPdf } from './pdf.js';
import { drawingToPng, rasterWork } from './png.js';
import { drawingToSvg } from './svg.js';
import { toCsv } from './table.js';

export type ChartFileFormat = 'svg' | 'pdf' | 'png' | 'csv' | 'json';

/** Refuse a PNG whose rasterising would exceed MAX_PNG_WORK; the message names a DPI that fits. */
export function checkRasterWork(d: Drawing, dpi: number, limit = MAX_PNG_WORK): void {
  const work = rasterWork(d, dpi);
  if (work <= limit) return;
  // work grows about as dpi² (areas) and a little slower (rows): step down from the quadratic guess
  let fit = Math.floor(dpi * Math.sqrt(limit / work));
  for (let i = 0; i < 8 && fit >= MIN_DPI && rasterWork(d, fit) > limit; i++) fit = Math.floor(fit * 0.93);
  const hint = fit >= MIN_DPI ? `use at most ${fit} dpi, or SVG/PDF (vector, any resolution)` : 'export SVG or PDF (vector, any resolution)';
  throw new LabError(
    'invalid_payload',
    `this chart as a PNG at ${dpi} dpi is ${Math.round(work / 1e6)} M units of drawing work (its marks at that size), more than the ${Math.round(limit / 1e6)} M allowed: ${hint}`,
  );
}

/** A chart in one of the download formats. */
export function renderChart(chart: Chart, format: ChartFileFormat, dpi = 300): Buffer {
  if (format === 'csv' || format === 'json') {
    const rows = chartData(chart);
    if (format === 'json') return Buffer.from(JSON.stringify({ chart, data: rows }, null, 2) + '\n', 'utf8');
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return Buffer.from(toCsv({ columns, rows: rows.map((r) => columns.map((c) => r[c] ?? null)) }), 'utf8');
  }
  const drawing = layoutChart(chart);
  if (format === 'svg') return Buffer.from(drawingToSvg(drawing), 'utf8');
  if (format === 'pdf') return drawingsToPdf([drawing], { title: chart.title });
  checkRasterWork(drawing, dpi);
  return drawingToPng(drawing, dpi);
}

/** A chart whose points (line, scatter) or values (box) travel as one Float64Array. */
export interface PackedChart {
  chart: Chart;
  /** Points or values per series/group, in order. */
  counts: number[];
  numbers: Float64Array;
}

export function packChart(chart: Chart): PackedChart {
  if (chart.kind === 'bar') return { chart, counts: [], numbers: new Float64Array(0) };
  if (chart.kind === 'box') {
    const counts = chart.groups.map((g) => g.values.length);
    const numbers = new Float64Array(counts.reduce((a, b) => a + b, 0));
    let o = 0;
    for (const g of chart.groups) for (const v of g.values) numbers[o++] = v;
    return { chart: { ...chart, groups: chart.groups.map((g) => ({ ...g, values: [] })) }, counts, numbers };
  }
  const counts = chart.series.map((s) => s.points.length);
  const numbers = new Float64Array(2 * counts.reduce((a, b) => a + b, 0));
  let o = 0;
  for (const s of chart.series) {
    for (const [x, y] of s.points) {
      numbers[o++] = x;
      numbers[o++] = y;
    }
  }
  const series = chart.series.map((s) => ({ ...s, points: [] }));
  return { chart: { ...chart, series } as Chart, counts, numbers };
}

export function unpackChart(p: PackedChart): Chart {
  const c = p.chart;
  if (c.kind === 'bar') return c;
  let o = 0;
  if (c.kind === 'box') return { ...c, groups: c.groups.map((g, i) => ({ ...g, values: Array.from(p.numbers.subarray(o, (o += p.counts[i]!))) })) };
  const series = c.series.map((s, i) => {
    const points: [number, number][] = new Array(p.counts[i]!);
    for (let k = 0; k < points.length; k++, o += 2) points[k] = [p.numbers[o]!, p.numbers[o + 1]!];
    return { ...s, points };
  });
  return { ...c, series } as Chart;
}
