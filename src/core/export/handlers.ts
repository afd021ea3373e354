/**
 * Contract handlers of the compare/export room: `export/chart`,
 * `export/table` and `exports/file`. Charts go through the same layout and
 * writers as the study exports (layoutChart → SVG / PDF / PNG), so a chart
 * downloaded from the Compare screen matches the files of `studies/export`.
 * The Lab spreads `...exportHandlers(this)` into its handler table.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../../shared/contract.js';
import type { HandlersFor } from '../../shared/dispatch.js';
import { EXPORT_FILE_LIMIT, type exportRequests } from '../../shared/requests/exporting.js';
import type { Lab } from '../lab.js';
import { chartData, layoutChart, type Chart } from './chart.js';
import { drawingsToPdf } from './pdf.js';
import { drawingToPng } from './png.js';
import { drawingToSvg } from './svg.js';
import { toCsv, toLatex, type Cell } from './table.js';

const MIME: Record<string, string> = {
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  png: 'image/png',
  csv: 'text/csv',
  json: 'application/json',
  tex: 'application/x-tex',
  txt: 'text/plain',
  html: 'text/html',
  zip: 'application/zip',
  md: 'text/markdown',
};

export function mimeOf(file: string): string {
  return MIME[path.extname(file).slice(1).toLowerCase()] ?? 'application/octet-stream';
}

/** A safe file-name stem from a title: letters, digits, '-' and '_' only. */
export function fileStem(title: string, fallback = 'export'): string {
  const s = title
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .replace(/-{2,}/g, '-')
    .slice(0, 80);
  return s || fallback;
}

/** A chart in one of the download formats. */
export function renderChart(chart: Chart, format: 'svg' | 'pdf' | 'png' | 'csv' | 'json', dpi = 300): Buffer {
  if (format === 'csv' || format === 'json') {
    const rows = chartData(chart);
    if (format === 'json') return Buffer.from(JSON.stringify({ chart, data: rows }, null, 2) + '\n', 'utf8');
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return Buffer.from(toCsv({ columns, rows: rows.map((r) => columns.map((c) => r[c] ?? null)) }), 'utf8');
  }
  const drawing = layoutChart(chart);
  if (format === 'svg') return Buffer.from(drawingToSvg(drawing), 'utf8');
  if (format === 'pdf') return drawingsToPdf([drawing], { title: chart.title });
  return drawingToPng(drawing, dpi);
}

/**
 * Resolve `rel` inside `root`: refused when absolute, when it climbs out, or
 * when a link leads out of the folder. Answers the real path.
 */
export function resolveInside(root: string, rel: string): string {
  if (rel.includes('\0')) throw new LabError('invalid_payload', 'path must not contain NUL');
  const norm = rel.replace(/\\/g, '/');
  if (path.isAbsolute(norm) || /^[A-Za-z]:/.test(norm) || norm.split('/').includes('..')) {
    throw new LabError('invalid_payload', 'path must be relative to the exports folder, without ..');
  }
  const realRoot = fs.realpathSync(root);
  const target = path.resolve(realRoot, norm);
  let real: string;
  try {
    real = fs.realpathSync(target);
  } catch {
    throw new LabError('not_found', `no file '${rel}' in the exports folder`);
  }
  const back = path.relative(realRoot, real);
  if (back === '' || back.startsWith('..') || path.isAbsolute(back)) throw new LabError('invalid_payload', 'path leads outside the exports folder');
  return real;
}

export function exportHandlers(lab: Lab): HandlersFor<typeof exportRequests> {
  return {
    'export/chart': ({ chart, format, dpi, name }) => {
      const data = renderChart(chart as Chart, format, dpi ?? 300);
      return { fileName: `${fileStem(name ?? chart.title, 'chart')}.${format}`, mime: MIME[format]!, dataBase64: data.toString('base64') };
    },
    'export/table': ({ title, columns, rows, format, name }) => {
      const table = { columns, rows: rows as Cell[][], caption: title, label: `tab:${fileStem(name ?? title, 'table')}` };
      // LaTeX: integers (counts) as they are, other numbers to three decimals; CSV keeps full precision
      const tex = () => toLatex({ ...table, rows: table.rows.map((r) => r.map((c) => (typeof c === 'number' && !Number.isInteger(c) ? c.toFixed(3) : c))) });
      const text = format === 'csv' ? toCsv(table) : tex();
      return { fileName: `${fileStem(name ?? title, 'table')}.${format}`, mime: MIME[format]!, dataBase64: Buffer.from(text, 'utf8').toString('base64') };
    },
    'exports/file': ({ path: rel }) => {
      const root = path.join(lab.labDir, 'exports');
      const file = resolveInside(root, rel);
      const st = fs.statSync(file);
      if (!st.isFile()) throw new LabError('invalid_payload', `'${rel}' is not a file`);
      if (st.size > EXPORT_FILE_LIMIT) throw new LabError('invalid_payload', `'${rel}' is ${st.size} bytes, more than the ${EXPORT_FILE_LIMIT} a download may carry`);
      return { name: path.basename(file), mime: mimeOf(file), size: st.size, dataBase64: fs.readFileSync(file).toString('base64') };
    },
  };
}
