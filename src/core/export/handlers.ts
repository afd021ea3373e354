/**
 * Contract handlers of the compare/export room: `export/chart`,
 * `export/table` and `exports/file`. Charts go through the same layout and
 * writers as the study exports (layoutChart → SVG / PDF / PNG), so a chart
 * downloaded from the Compare screen matches the files of `studies/export`.
 * A chart is rendered in a worker thread (src/core/threads.ts), never on the
 * loop that serves requests and training progress.
 * `lab.ts` builds the room with `createExportRoom({ labDir })`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../../shared/contract.js';
import type { HandlersFor } from '../../shared/dispatch.js';
import { EXPORT_FILE_LIMIT, type exportRequests } from '../../shared/requests/exporting.js';
import type { Room } from '../room.js';
import { runInThread } from '../threads.js';
import type { Chart } from './chart.js';
import { packChart } from './render.js';
import { toCsv, toLatex, type Cell } from './table.js';

/** The pure renderer (what the worker thread runs), for callers that want the bytes here. */
export { renderChart } from './render.js';

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

/** What the export room needs of the Lab: only where the lab directory is. */
export interface ExportRoomDeps {
  labDir: string;
}

export function createExportRoom(lab: ExportRoomDeps): Room<HandlersFor<typeof exportRequests>> {
  const handlers: HandlersFor<typeof exportRequests> = {
    'export/chart': async ({ chart, format, dpi, name }) => {
      // laid out, drawn and encoded in a worker thread: a 1200-dpi PNG takes seconds, the loop stays free
      const packed = packChart(chart as Chart);
      const bytes = await runInThread('chart', { chart: packed, format, dpi: dpi ?? 300 }, { transfer: [packed.numbers.buffer as ArrayBuffer] });
      const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
  return { handlers };
}
