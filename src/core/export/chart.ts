/**
 * Charts as data, laid out once into drawing primitives (lines, rectangles,
 * circles, polylines, text) in points (1/72 inch, y down). The SVG, PDF and
 * PNG writers all render the same primitives, so the three formats show the
 * same picture.
 *
 * Kinds: bar charts with error bars (grouped by series), box plots (Tukey
 * whiskers at 1.5 IQR, points overlaid), line charts and scatter plots
 * (optionally with the y = x diagonal). Every chart has a title, axis labels
 * with ticks, and a legend when it has more than one series.
 */
import { intervalOf } from '../../shared/curves.js';
import { CHART_HEIGHT_PT, CHART_WIDTH_PT } from '../../shared/requests/exporting.js';

export type Color = string;

export interface PrimBase {
  /** Class for SVG (e.g. 'bar', 'errorbar', 'tick-label'). */
  cls?: string;
  /** Data attributes for SVG (what the primitive shows). */
  data?: Record<string, string | number>;
}
export interface LinePrim extends PrimBase {
  t: 'line';
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  stroke: Color;
  width: number;
  dash?: number[];
}
export interface RectPrim extends PrimBase {
  t: 'rect';
  x: number;
  y: number;
  w: number;
  h: number;
  fill?: Color;
  stroke?: Color;
  width?: number;
}
export interface CirclePrim extends PrimBase {
  t: 'circle';
  cx: number;
  cy: number;
  r: number;
  fill?: Color;
  stroke?: Color;
  width?: number;
}
export interface PolylinePrim extends PrimBase {
  t: 'polyline';
  points: [number, number][];
  stroke: Color;
  width: number;
  dash?: number[];
}
export interface TextPrim extends PrimBase {
  t: 'text';
  x: number;
  y: number;
  text: string;
  size: number;
  anchor: 'start' | 'middle' | 'end';
  color: Color;
  /** Degrees, counter-clockwise as seen (90: the text reads upwards), about (x, y). */
  rotate?: number;
  bold?: boolean;
}
export type Prim = LinePrim | RectPrim | CirclePrim | PolylinePrim | TextPrim;

export interface Drawing {
  width: number;
  height: number;
  title: string;
  prims: Prim[];
}

export interface BarSeries {
  name: string;
  values: (number | null)[];
  /** [low, high] of each bar's interval (e.g. a 95 % CI), or null. */
  errors?: ([number, number] | null)[];
}
export interface BarChart {
  kind: 'bar';
  title: string;
  xLabel: string;
  yLabel: string;
  categories: string[];
  series: BarSeries[];
  yMin?: number;
  yMax?: number;
}
export interface BoxChart {
  kind: 'box';
  title: string;
  xLabel: string;
  yLabel: string;
  /**
   * One box per group. Consecutive groups with the same `category` are drawn
   * side by side under one x label (their `series` tells them apart by colour
   * and legend); without categories every box has its own label.
   */
  groups: { label: string; values: number[]; series?: string; category?: string }[];
  yMin?: number;
  yMax?: number;
}
export interface XYSeries {
  name: string;
  points: [number, number][];
}
export interface LineChart {
  kind: 'line';
  title: string;
  xLabel: string;
  yLabel: string;
  series: XYSeries[];
}
export interface ScatterChart {
  kind: 'scatter';
  title: string;
  xLabel: string;
  yLabel: string;
  series: (XYSeries & { labels?: string[] })[];
  /** Draw y = x. */
  diagonal?: boolean;
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
}
export type Chart = BarChart | BoxChart | LineChart | ScatterChart;

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const AXIS = '#333333';
const GRID = '#dddddd';

/** "Nice" tick values covering [lo, hi] (about `count` of them). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = start; v <= end + step * 1e-6; v += step) out.push(Math.round(v / step) * step);
  return out.map((v) => Number(v.toPrecision(12)));
}

export function formatTick(v: number, ticks: number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  const s = v.toFixed(decimals);
  return s === '-0' || /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

/** Approximate text width (Helvetica metrics), for layout. */
export function textWidth(text: string, size: number): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch);
  return (w * size) / 1000;
}

// Helvetica advance widths (1/1000 em) for ASCII 32…126.
const HELVETICA = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722,
  667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222,
  500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
export function charWidth(ch: string): number {
  const c = ch.codePointAt(0)!;
  if (c >= 32 && c <= 126) return HELVETICA[c - 32]!;
  if (ch === '–') return 556;
  if (ch === '—') return 1000;
  return 576;
}

interface Frame {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface LayoutOptions {
  width?: number;
  height?: number;
}

class Builder {
  prims: Prim[] = [];
  line(x1: number, y1: number, x2: number, y2: number, stroke: Color, width: number, extra: Partial<LinePrim> = {}) {
    this.prims.push({ t: 'line', x1, y1, x2, y2, stroke, width, ...extra });
  }
  text(x: number, y: number, text: string, size: number, anchor: TextPrim['anchor'], extra: Partial<TextPrim> = {}) {
    this.prims.push({ t: 'text', x, y, text, size, anchor, color: AXIS, ...extra });
  }
}

function legend(b: Builder, names: string[], x: number, y: number, maxX: number, marker: 'rect' | 'line' | 'circle'): number {
  let cx = x;
  let cy = y;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    // room for the wider of Helvetica and the PNG's bitmap font (0.62 em per character)
    const w = 14 + Math.max(textWidth(name, 9), 0.62 * 9 * [...name].length) + 12;
    if (cx + w > maxX && cx > x) {
      cx = x;
      cy += 13;
    }
    const color = PALETTE[i % PALETTE.length]!;
    if (marker === 'rect') b.prims.push({ t: 'rect', x: cx, y: cy - 7, w: 10, h: 8, fill: color, cls: 'legend-key', data: { series: name } });
    else if (marker === 'line') b.line(cx, cy - 3, cx + 10, cy - 3, color, 2, { cls: 'legend-key', data: { series: name } });
    else b.prims.push({ t: 'circle', cx: cx + 5, cy: cy - 3, r: 3, fill: color, cls: 'legend-key', data: { series: name } });
    b.text(cx + 14, cy, name, 9, 'start', { cls: 'legend-label' });
    cx += w;
  }
  return cy;
}

function yAxis(b: Builder, f: Frame, lo: number, hi: number, label: string): (v: number) => number {
  const ticks = niceTicks(lo, hi);
  const tlo = ticks[0]!;
  const thi = ticks[ticks.length - 1]!;
  const sy = (v: number) => f.y1 - ((v - tlo) / (thi - tlo)) * (f.y1 - f.y0);
  for (const t of ticks) {
    const y = sy(t);
    b.line(f.x0, y, f.x1, y, GRID, 0.5, { cls: 'grid' });
    b.line(f.x0 - 4, y, f.x0, y, AXIS, 0.8, { cls: 'tick' });
    b.text(f.x0 - 6, y + 3, formatTick(t, ticks), 8, 'end', { cls: 'y-tick-label', data: { value: t } });
  }
  b.line(f.x0, f.y0, f.x0, f.y1, AXIS, 1, { cls: 'axis' });
  b.text(14, (f.y0 + f.y1) / 2, label, 10, 'middle', { rotate: 90, cls: 'y-label' });
  return sy;
}

function xAxisNumeric(b: Builder, f: Frame, lo: number, hi: number, label: string, height: number): (v: number) => number {
  const ticks = niceTicks(lo, hi);
  const tlo = ticks[0]!;
  const thi = ticks[ticks.length - 1]!;
  const sx = (v: number) => f.x0 + ((v - tlo) / (thi - tlo)) * (f.x1 - f.x0);
  for (const t of ticks) {
    const x = sx(t);
    b.line(x, f.y0, x, f.y1, GRID, 0.5, { cls: 'grid' });
    b.line(x, f.y1, x, f.y1 + 4, AXIS, 0.8, { cls: 'tick' });
    b.text(x, f.y1 + 13, formatTick(t, ticks), 8, 'middle', { cls: 'x-tick-label', data: { value: t } });
  }
  b.line(f.x0, f.y1, f.x1, f.y1, AXIS, 1, { cls: 'axis' });
  b.text((f.x0 + f.x1) / 2, height - 8, label, 10, 'middle', { cls: 'x-label' });
  return sx;
}

function extent(values: number[], min?: number, max?: number): [number, number] {
  const fin = values.filter(Number.isFinite);
  let lo = min ?? Math.min(...fin, Infinity);
  let hi = max ?? Math.max(...fin, -Infinity);
  if (!Number.isFinite(lo)) lo = 0;
  if (!Number.isFinite(hi)) hi = 1;
  return [lo, hi];
}

function frameFor(b: Builder, title: string, names: string[], width: number, height: number, marker: 'rect' | 'line' | 'circle'): Frame {
  b.text(width / 2, 18, title, 12, 'middle', { bold: true, cls: 'title' });
  let top = 30;
  if (names.length > 1) top = legend(b, names, 56, 36, width - 12, marker) + 10;
  return { x0: 56, y0: top, x1: width - 14, y1: height - 40 };
}

function quartiles(sorted: number[]): { q1: number; med: number; q3: number } {
  const q = (p: number) => {
    const h = (sorted.length - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(sorted.length - 1, lo + 1);
    return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
  };
  return { q1: q(0.25), med: q(0.5), q3: q(0.75) };
}

export function layoutChart(chart: Chart, opts: LayoutOptions = {}): Drawing {
  const width = opts.width ?? CHART_WIDTH_PT;
  const height = opts.height ?? CHART_HEIGHT_PT;
  const b = new Builder();
  b.prims.push({ t: 'rect', x: 0, y: 0, w: width, h: height, fill: '#ffffff', cls: 'background' });
  if (chart.kind === 'bar') {
    const f = frameFor(b, chart.title, chart.series.map((s) => s.name), width, height, 'rect');
    const all: number[] = [0];
    for (const s of chart.series) {
      for (const v of s.values) if (v !== null) all.push(v);
      for (const e of s.errors ?? []) if (e) all.push(e[0], e[1]);
    }
    const [lo, hi] = extent(all, chart.yMin, chart.yMax);
    const sy = yAxis(b, f, lo, hi, chart.yLabel);
    const nC = chart.categories.length;
    const nS = Math.max(1, chart.series.length);
    const slot = (f.x1 - f.x0) / Math.max(1, nC);
    const bw = (slot * 0.8) / nS;
    const zero = sy(Math.max(lo, Math.min(0, hi)));
    chart.categories.forEach((cat, i) => {
      const cx = f.x0 + slot * (i + 0.5);
      b.text(cx, f.y1 + 13, cat, 8, 'middle', { cls: 'x-tick-label', data: { category: cat } });
      chart.series.forEach((s, j) => {
        const v = s.values[i];
        const x = f.x0 + slot * i + slot * 0.1 + bw * j;
        const color = PALETTE[j % PALETTE.length]!;
        if (v !== null && v !== undefined && Number.isFinite(v)) {
          const y = sy(v);
          b.prims.push({ t: 'rect', x, y: Math.min(y, zero), w: bw, h: Math.abs(zero - y), fill: color, cls: 'bar', data: { series: s.name, category: cat, value: v } });
        }
        const e = s.errors?.[i];
        if (e) {
          const mx = x + bw / 2;
          const d = { series: s.name, category: cat, low: e[0], high: e[1] };
          b.line(mx, sy(e[0]), mx, sy(e[1]), AXIS, 1, { cls: 'errorbar', data: d });
          b.line(mx - bw * 0.25, sy(e[0]), mx + bw * 0.25, sy(e[0]), AXIS, 1, { cls: 'errorbar-cap' });
          b.line(mx - bw * 0.25, sy(e[1]), mx + bw * 0.25, sy(e[1]), AXIS, 1, { cls: 'errorbar-cap' });
        }
      });
    });
    b.line(f.x0, zero, f.x1, zero, AXIS, 1, { cls: 'axis' });
    b.text((f.x0 + f.x1) / 2, height - 8, chart.xLabel, 10, 'middle', { cls: 'x-label' });
  } else if (chart.kind === 'box') {
    const series = [...new Set(chart.groups.map((g) => g.series ?? ''))].filter(Boolean);
    const f = frameFor(b, chart.title, series, width, height, 'rect');
    const [lo, hi] = extent(chart.groups.flatMap((g) => g.values), chart.yMin, chart.yMax);
    const sy = yAxis(b, f, lo, hi, chart.yLabel);
    // clusters of consecutive groups with one category, half a slot apart
    const clustered = chart.groups.some((g) => g.category !== undefined);
    const clusters: { label: string; first: number; last: number }[] = [];
    chart.groups.forEach((g, i) => {
      const key = clustered ? (g.category ?? g.label) : g.label;
      const last = clusters[clusters.length - 1];
      if (clustered && last && last.label === key) last.last = i;
      else clusters.push({ label: key, first: i, last: i });
    });
    const gap = clustered ? 0.5 : 0;
    const slot = (f.x1 - f.x0) / Math.max(1, chart.groups.length + gap * (clusters.length - 1));
    const centers: number[] = [];
    clusters.forEach((c, k) => {
      for (let i = c.first; i <= c.last; i++) centers[i] = f.x0 + slot * (i + 0.5 + gap * k);
      const mid = (centers[c.first]! + centers[c.last]!) / 2;
      b.text(mid, f.y1 + 13, c.label, clustered ? 8 : 7, 'middle', { cls: 'x-tick-label', data: { category: c.label } });
    });
    chart.groups.forEach((g, i) => {
      const cx = centers[i]!;
      const color = PALETTE[Math.max(0, series.indexOf(g.series ?? '')) % PALETTE.length]!;
      const xs = g.values.filter(Number.isFinite).sort((a, c) => a - c);
      if (xs.length === 0) return;
      const { q1, med, q3 } = quartiles(xs);
      const iqr = q3 - q1;
      const wlo = xs.find((v) => v >= q1 - 1.5 * iqr)!;
      const whi = [...xs].reverse().find((v) => v <= q3 + 1.5 * iqr)!;
      const w = Math.min(30, slot * 0.6);
      const d = { group: g.label, q1, median: med, q3, low: wlo, high: whi, n: xs.length };
      b.line(cx, sy(wlo), cx, sy(q1), AXIS, 1, { cls: 'whisker' });
      b.line(cx, sy(q3), cx, sy(whi), AXIS, 1, { cls: 'whisker' });
      b.line(cx - w / 4, sy(wlo), cx + w / 4, sy(wlo), AXIS, 1, { cls: 'whisker-cap' });
      b.line(cx - w / 4, sy(whi), cx + w / 4, sy(whi), AXIS, 1, { cls: 'whisker-cap' });
      b.prims.push({ t: 'rect', x: cx - w / 2, y: sy(q3), w, h: Math.max(0.5, sy(q1) - sy(q3)), fill: color, stroke: AXIS, width: 1, cls: 'box', data: d });
      b.line(cx - w / 2, sy(med), cx + w / 2, sy(med), '#000000', 1.5, { cls: 'median', data: { group: g.label, value: med } });
      for (const v of xs) b.prims.push({ t: 'circle', cx, cy: sy(v), r: 1.8, fill: '#000000', cls: 'point', data: { group: g.label, value: v } });
    });
    b.line(f.x0, f.y1, f.x1, f.y1, AXIS, 1, { cls: 'axis' });
    b.text((f.x0 + f.x1) / 2, height - 8, chart.xLabel, 10, 'middle', { cls: 'x-label' });
  } else {
    // a line chart's interval series ('<name> (95% CI low|high)') are drawn thin and dashed in their line's colour, without a legend entry
    const names = chart.series.map((s) => s.name).filter((n) => chart.kind !== 'line' || intervalOf(n) === null);
    const f = frameFor(b, chart.title, names, width, height, chart.kind === 'line' ? 'line' : 'circle');
    const pts = chart.series.flatMap((s) => s.points);
    const sc = chart.kind === 'scatter' ? chart : undefined;
    let [xlo, xhi] = extent(pts.map((p) => p[0]), sc?.xMin, sc?.xMax);
    let [ylo, yhi] = extent(pts.map((p) => p[1]), sc?.yMin, sc?.yMax);
    if (sc?.diagonal) {
      xlo = ylo = Math.min(xlo, ylo);
      xhi = yhi = Math.max(xhi, yhi);
    }
    const sy = yAxis(b, f, ylo, yhi, chart.yLabel);
    const sx = xAxisNumeric(b, f, xlo, xhi, chart.xLabel, height);
    if (sc?.diagonal) {
      const t = niceTicks(xlo, xhi);
      const a = Math.max(t[0]!, niceTicks(ylo, yhi)[0]!);
      const z = Math.min(t[t.length - 1]!, niceTicks(ylo, yhi).slice(-1)[0]!);
      b.line(sx(a), sy(a), sx(z), sy(z), '#999999', 1, { dash: [4, 3], cls: 'diagonal' });
    }
    chart.series.forEach((s, j) => {
      const of = chart.kind === 'line' ? intervalOf(s.name) : null;
      const k = of !== null && names.includes(of) ? names.indexOf(of) : chart.kind === 'line' && names.includes(s.name) ? names.indexOf(s.name) : j;
      const color = PALETTE[k % PALETTE.length]!;
      if (chart.kind === 'line') {
        const points = s.points.map(([x, y]) => [sx(x), sy(y)] as [number, number]);
        if (of !== null) b.prims.push({ t: 'polyline', points, stroke: color, width: 0.75, dash: [3, 2], cls: 'series-interval', data: { series: s.name, n: s.points.length } });
        else b.prims.push({ t: 'polyline', points, stroke: color, width: 1.5, cls: 'series-line', data: { series: s.name, n: s.points.length } });
      } else {
        s.points.forEach(([x, y], k) => {
          const lab = (s as XYSeries & { labels?: string[] }).labels?.[k];
          b.prims.push({ t: 'circle', cx: sx(x), cy: sy(y), r: 3, fill: color, cls: 'point', data: { series: s.name, x, y, ...(lab ? { label: lab } : {}) } });
        });
      }
    });
  }
  return { width, height, title: chart.title, prims: b.prims };
}

/** The numbers behind a chart, as rows (for CSV/JSON). */
export function chartData(chart: Chart): Record<string, string | number | null>[] {
  switch (chart.kind) {
    case 'bar':
      return chart.series.flatMap((s) =>
        chart.categories.map((c, i) => ({ series: s.name, category: c, value: s.values[i] ?? null, low: s.errors?.[i]?.[0] ?? null, high: s.errors?.[i]?.[1] ?? null })),
      );
    case 'box':
      return chart.groups.flatMap((g) => g.values.map((v) => ({ group: g.label, series: g.series ?? '', value: v })));
    case 'line':
    case 'scatter':
      return chart.series.flatMap((s) => s.points.map(([x, y], k) => ({ series: s.name, x, y, ...('labels' in s && s.labels?.[k] ? { label: s.labels[k]! } : {}) })));
  }
}
