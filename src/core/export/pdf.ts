/**
 * A minimal PDF 1.4 writer for laid-out charts (and several pages of them):
 * each drawing becomes a page of its size in points with one content stream
 * (FlateDecode) of vector operators — lines, rectangles, Bézier circles,
 * polylines — and text in the standard Type 1 fonts Helvetica
 * (WinAnsiEncoding), Helvetica-Bold, and Symbol for Greek letters and math
 * signs (β, ε, γ, σ, −, ±, ×, ≤, ≥ …). Coordinates: the drawing's y runs
 * down, PDF's up, so y' = height − y.
 */
import { deflateSync } from 'node:zlib';
import type { Drawing, Prim, TextPrim } from './chart.js';
import { charWidth } from './chart.js';

const f = (v: number) => {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
};

function rgb(hex: string): [number, number, number] {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return [0, 0, 0];
  return [parseInt(m[1]!, 16) / 255, parseInt(m[2]!, 16) / 255, parseInt(m[3]!, 16) / 255];
}
const col = (hex: string, op: 'rg' | 'RG') => `${rgb(hex).map((c) => f(Math.round(c * 1000) / 1000)).join(' ')} ${op}`;

// WinAnsi code points that differ from Latin-1 / Unicode.
const WIN_ANSI: Record<string, number> = { '–': 0x96, '—': 0x97, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '…': 0x85, '€': 0x80 };
// Symbol font codes.
const SYMBOL: Record<string, number> = {
  'α': 0x61, 'β': 0x62, 'γ': 0x67, 'δ': 0x64, 'ε': 0x65, 'ζ': 0x7a, 'η': 0x68, 'θ': 0x71, 'κ': 0x6b, 'λ': 0x6c, 'μ': 0x6d, 'ν': 0x6e, 'ξ': 0x78, 'π': 0x70, 'ρ': 0x72,
  'σ': 0x73, 'τ': 0x74, 'φ': 0x66, 'χ': 0x63, 'ψ': 0x79, 'ω': 0x77, 'Δ': 0x44, 'Σ': 0x53, 'Ψ': 0x59, 'Ω': 0x57, '−': 0x2d, '±': 0xb1, '×': 0xb4, '≤': 0xa3, '≥': 0xb3, '≈': 0xbb, '∞': 0xa5,
  '→': 0xae, '·': 0xd7,
};

/** Split text into runs of one font with their byte codes. */
export function encodeRuns(text: string): { font: 'F1' | 'F3'; codes: number[] }[] {
  const runs: { font: 'F1' | 'F3'; codes: number[] }[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    let font: 'F1' | 'F3' = 'F1';
    let code: number;
    if (c >= 32 && c <= 126) code = c;
    else if (WIN_ANSI[ch] !== undefined) code = WIN_ANSI[ch]!;
    else if (SYMBOL[ch] !== undefined) {
      font = 'F3';
      code = SYMBOL[ch]!;
    } else if (c >= 160 && c <= 255) code = c;
    else code = 0x3f; // '?'
    const last = runs[runs.length - 1];
    if (last && last.font === font) last.codes.push(code);
    else runs.push({ font, codes: [code] });
  }
  return runs;
}

function pdfString(codes: number[]): string {
  let s = '(';
  for (const c of codes) {
    if (c === 0x28 || c === 0x29 || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c >= 32 && c <= 126) s += String.fromCharCode(c);
    else s += '\\' + c.toString(8).padStart(3, '0');
  }
  return s + ')';
}

function textOps(p: TextPrim, height: number): string {
  const width = (() => {
    let w = 0;
    for (const ch of p.text) w += charWidth(ch);
    return (w * p.size) / 1000;
  })();
  const shift = p.anchor === 'middle' ? -width / 2 : p.anchor === 'end' ? -width : 0;
  const a = ((p.rotate ?? 0) * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  // baseline start, moved along the (rotated) baseline by the anchor shift
  const x = p.x + shift * cos;
  const y = height - p.y + shift * sin;
  let out = `BT ${col(p.color, 'rg')} ${f(cos)} ${f(sin)} ${f(-sin)} ${f(cos)} ${f(x)} ${f(y)} Tm`;
  for (const r of encodeRuns(p.text)) {
    const font = r.font === 'F1' && p.bold ? 'F2' : r.font;
    out += ` /${font} ${f(p.size)} Tf ${pdfString(r.codes)} Tj`;
  }
  return out + ' ET';
}

const K = 0.5522847498;

function primOps(p: Prim, H: number): string {
  switch (p.t) {
    case 'line':
      return `${col(p.stroke, 'RG')} ${f(p.width)} w ${p.dash ? `[${p.dash.map(f).join(' ')}] 0 d` : '[] 0 d'} ${f(p.x1)} ${f(H - p.y1)} m ${f(p.x2)} ${f(H - p.y2)} l S`;
    case 'rect': {
      const r = `${f(p.x)} ${f(H - p.y - p.h)} ${f(p.w)} ${f(p.h)} re`;
      if (p.fill && p.stroke) return `${col(p.fill, 'rg')} ${col(p.stroke, 'RG')} ${f(p.width ?? 1)} w [] 0 d ${r} B`;
      if (p.fill) return `${col(p.fill, 'rg')} ${r} f`;
      return `${col(p.stroke ?? '#000000', 'RG')} ${f(p.width ?? 1)} w [] 0 d ${r} S`;
    }
    case 'circle': {
      const cx = p.cx;
      const cy = H - p.cy;
      const r = p.r;
      const k = K * r;
      const path =
        `${f(cx + r)} ${f(cy)} m ` +
        `${f(cx + r)} ${f(cy + k)} ${f(cx + k)} ${f(cy + r)} ${f(cx)} ${f(cy + r)} c ` +
        `${f(cx - k)} ${f(cy + r)} ${f(cx - r)} ${f(cy + k)} ${f(cx - r)} ${f(cy)} c ` +
        `${f(cx - r)} ${f(cy - k)} ${f(cx - k)} ${f(cy - r)} ${f(cx)} ${f(cy - r)} c ` +
        `${f(cx + k)} ${f(cy - r)} ${f(cx + r)} ${f(cy - k)} ${f(cx + r)} ${f(cy)} c h`;
      if (p.fill && p.stroke) return `${col(p.fill, 'rg')} ${col(p.stroke, 'RG')} ${f(p.width ?? 1)} w ${path} B`;
      if (p.fill) return `${col(p.fill, 'rg')} ${path} f`;
      return `${col(p.stroke ?? '#000000', 'RG')} ${f(p.width ?? 1)} w ${path} S`;
    }
    case 'polyline': {
      if (p.points.length < 2) return '';
      const [first, ...rest] = p.points;
      return `${col(p.stroke, 'RG')} ${f(p.width)} w ${p.dash ? `[${p.dash.map(f).join(' ')}] 0 d` : '[] 0 d'} 1 j ${f(first![0])} ${f(H - first![1])} m ${rest.map(([x, y]) => `${f(x)} ${f(H - y)} l`).join(' ')} S`;
    }
    case 'text':
      return textOps(p, H);
  }
}

/** The (uncompressed) content stream of a drawing. */
export function contentStream(d: Drawing): string {
  return d.prims.map((p) => primOps(p, d.height)).filter(Boolean).join('\n') + '\n';
}

export interface PdfOptions {
  title?: string;
  /** Compress content streams (default true). */
  compress?: boolean;
  /** Fixed creation date (reproducible files), as D:YYYYMMDDHHmmSS. */
  date?: string;
}

/** A PDF with one page per drawing. */
export function drawingsToPdf(drawings: Drawing[], opts: PdfOptions = {}): Buffer {
  if (drawings.length === 0) throw new Error('a PDF needs at least one page');
  const compress = opts.compress ?? true;
  const objects: (Buffer | string)[] = [];
  const add = (o: Buffer | string) => {
    objects.push(o);
    return objects.length;
  };
  const catalog = add('');
  const pages = add('');
  const fonts = [
    add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'),
    add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>'),
    add('<< /Type /Font /Subtype /Type1 /BaseFont /Symbol >>'),
  ];
  const resources = `<< /Font << /F1 ${fonts[0]} 0 R /F2 ${fonts[1]} 0 R /F3 ${fonts[2]} 0 R >> >>`;
  const kids: number[] = [];
  for (const d of drawings) {
    const raw = Buffer.from(contentStream(d), 'latin1');
    const data = compress ? deflateSync(raw) : raw;
    const stream = Buffer.concat([
      Buffer.from(`<< /Length ${data.length}${compress ? ' /Filter /FlateDecode' : ''} >>\nstream\n`, 'latin1'),
      data,
      Buffer.from('\nendstream', 'latin1'),
    ]);
    const content = add(stream);
    kids.push(add(`<< /Type /Page /Parent ${pages} 0 R /MediaBox [0 0 ${f(d.width)} ${f(d.height)}] /Resources ${resources} /Contents ${content} 0 R >>`));
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pages} 0 R >>`;
  objects[pages - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  const title = opts.title ?? drawings[0]!.title;
  const info = add(
    `<< /Title ${pdfString(encodeRuns(title).flatMap((r) => (r.font === 'F1' ? r.codes : r.codes.map(() => 0x3f))))} /Producer (Disentanglement Lab)${opts.date ? ` /CreationDate (${opts.date})` : ''} >>`,
  );
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(offset);
    const body = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), typeof o === 'string' ? Buffer.from(o, 'latin1') : o, Buffer.from('\nendobj\n', 'latin1')]);
    parts.push(body);
    offset += body.length;
  });
  const xref =
    `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n` +
    offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('') +
    `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R >>\nstartxref\n${offset}\n%%EOF\n`;
  parts.push(Buffer.from(xref, 'latin1'));
  return Buffer.concat(parts);
}
