/**
 * Tables as CSV (RFC 4180: quoted when a field holds a comma, quote, CR or
 * LF; quotes doubled; CRLF line ends; text that would run as a spreadsheet
 * formula neutralised) and as LaTeX (booktabs: \toprule,
 * \midrule, \bottomrule; text escaped; Greek letters and math signs as math).
 */
export type Cell = string | number | null | undefined;

export interface Table {
  columns: string[];
  rows: Cell[][];
  caption?: string;
  label?: string;
  /** LaTeX column alignment (default: l for the first column, r for the rest). */
  align?: string;
  /** Rows after which LaTeX draws a \midrule (indices into rows). */
  rules?: number[];
}

function cellText(c: Cell, digits?: number): string {
  if (c === null || c === undefined) return '';
  if (typeof c === 'number') {
    if (!Number.isFinite(c)) return '';
    return digits === undefined ? String(c) : c.toFixed(digits);
  }
  return c;
}

export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or
 * CR first — names and notes come from users and bundles) gets a leading `'`,
 * the OWASP convention; numbers stay numbers.
 */
export function csvText(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

export function toCsv(t: Pick<Table, 'columns' | 'rows'>): string {
  const lines = [t.columns.map((c) => csvField(csvText(c))).join(',')];
  for (const r of t.rows) lines.push(r.map((c) => csvField(typeof c === 'string' ? csvText(c) : cellText(c))).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Parse CSV (RFC 4180) into rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
      i++;
    } else if (ch === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (ch === '\r' || ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += ch;
      i++;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const MATH: Record<string, string> = {
  'α': '\\alpha', 'β': '\\beta', 'γ': '\\gamma', 'δ': '\\delta', 'ε': '\\varepsilon', 'λ': '\\lambda', 'μ': '\\mu', 'σ': '\\sigma', 'ψ': '\\psi', 'Δ': '\\Delta',
  '−': '-', '±': '\\pm', '×': '\\times', '≤': '\\leq', '≥': '\\geq', '≈': '\\approx', '→': '\\to', '·': '\\cdot',
};
const TEXT: Record<string, string> = {
  '\\': '\\textbackslash{}', '&': '\\&', '%': '\\%', '$': '\\$', '#': '\\#', '_': '\\_', '{': '\\{', '}': '\\}', '~': '\\textasciitilde{}', '^': '\\textasciicircum{}',
  '<': '\\textless{}', '>': '\\textgreater{}', '|': '\\textbar{}', '–': '--', '—': '---',
};

/** Escape text for LaTeX (special characters; Greek letters and math signs as inline math). */
export function latexEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    if (TEXT[ch] !== undefined) out += TEXT[ch];
    else if (MATH[ch] !== undefined) out += `$${MATH[ch]}$`;
    else out += ch;
  }
  return out;
}

export function toLatex(t: Table, opts: { digits?: number } = {}): string {
  const align = t.align ?? 'l' + 'r'.repeat(Math.max(0, t.columns.length - 1));
  const rules = new Set(t.rules ?? []);
  const line = (cells: Cell[]) => cells.map((c) => latexEscape(cellText(c, opts.digits))).join(' & ') + ' \\\\';
  const body: string[] = [];
  t.rows.forEach((r, i) => {
    body.push(line(r));
    if (rules.has(i) && i < t.rows.length - 1) body.push('\\midrule');
  });
  return [
    '% needs \\usepackage{booktabs}',
    '\\begin{table}[t]',
    '\\centering',
    ...(t.caption ? [`\\caption{${latexEscape(t.caption)}}`] : []),
    ...(t.label ? [`\\label{${t.label.replace(/[^A-Za-z0-9:_-]/g, '-')}}`] : []),
    `\\begin{tabular}{${align}}`,
    '\\toprule',
    line(t.columns),
    '\\midrule',
    ...body,
    '\\bottomrule',
    '\\end{tabular}',
    '\\end{table}',
    '',
  ].join('\n');
}
