/**
 * Hand-written SVG of a laid-out chart: one element per primitive, in a
 * <svg> with a viewBox in points; classes and data-* attributes say what
 * each mark shows (series, category, value), so the file can be read back.
 */
import type { Drawing, Prim } from './chart.js';

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const n = (v: number) => (Math.round(v * 100) / 100).toString();

function attrs(p: Prim): string {
  let out = p.cls ? ` class="${escapeXml(p.cls)}"` : '';
  for (const [k, v] of Object.entries(p.data ?? {})) out += ` data-${k.replace(/[^a-z0-9-]/gi, '-').toLowerCase()}="${escapeXml(String(v))}"`;
  return out;
}

function paint(fill?: string, stroke?: string, width?: number): string {
  return ` fill="${fill ?? 'none'}"${stroke ? ` stroke="${stroke}" stroke-width="${n(width ?? 1)}"` : ''}`;
}

export function primToSvg(p: Prim): string {
  switch (p.t) {
    case 'line':
      return `<line x1="${n(p.x1)}" y1="${n(p.y1)}" x2="${n(p.x2)}" y2="${n(p.y2)}" stroke="${p.stroke}" stroke-width="${n(p.width)}"${p.dash ? ` stroke-dasharray="${p.dash.join(' ')}"` : ''}${attrs(p)}/>`;
    case 'rect':
      return `<rect x="${n(p.x)}" y="${n(p.y)}" width="${n(p.w)}" height="${n(p.h)}"${paint(p.fill, p.stroke, p.width)}${attrs(p)}/>`;
    case 'circle':
      return `<circle cx="${n(p.cx)}" cy="${n(p.cy)}" r="${n(p.r)}"${paint(p.fill, p.stroke, p.width)}${attrs(p)}/>`;
    case 'polyline':
      return `<polyline points="${p.points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}" fill="none" stroke="${p.stroke}" stroke-width="${n(p.width)}" stroke-linejoin="round"${p.dash ? ` stroke-dasharray="${p.dash.join(' ')}"` : ''}${attrs(p)}/>`;
    case 'text': {
      const anchor = p.anchor === 'start' ? 'start' : p.anchor === 'middle' ? 'middle' : 'end';
      const rot = p.rotate ? ` transform="rotate(${-p.rotate} ${n(p.x)} ${n(p.y)})"` : '';
      return `<text x="${n(p.x)}" y="${n(p.y)}" font-size="${n(p.size)}" text-anchor="${anchor}" fill="${p.color}"${p.bold ? ' font-weight="bold"' : ''}${rot}${attrs(p)}>${escapeXml(p.text)}</text>`;
    }
  }
}

export interface SvgOptions {
  /** Leave out the XML declaration (for inlining in HTML). */
  inline?: boolean;
}

export function drawingToSvg(d: Drawing, opts: SvgOptions = {}): string {
  const head = opts.inline ? '' : '<?xml version="1.0" encoding="UTF-8"?>\n';
  return (
    `${head}<svg xmlns="http://www.w3.org/2000/svg" width="${n(d.width)}pt" height="${n(d.height)}pt" viewBox="0 0 ${n(d.width)} ${n(d.height)}" font-family="Helvetica, Arial, sans-serif">\n` +
    `<title>${escapeXml(d.title)}</title>\n` +
    d.prims.map(primToSvg).join('\n') +
    '\n</svg>\n'
  );
}
