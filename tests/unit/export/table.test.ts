import { describe, expect, it } from 'vitest';
import { latexEscape, parseCsv, toCsv, toLatex } from '../../../src/core/export/table.js';
import { comparisonTable, groupsTable, table1 } from '../../../src/core/export/study.js';
import { aggregate } from '../../../src/core/studies/aggregate.js';

describe('CSV', () => {
  it('quotes what needs quoting (RFC 4180) and reads back', () => {
    const csv = toCsv({ columns: ['name', 'value'], rows: [['a,b', 1.5], ['say "hi"', null], ['line\nbreak', -2]] });
    expect(csv).toBe('name,value\r\n"a,b",1.5\r\n"say ""hi""",\r\n"line\nbreak",-2\r\n');
    expect(parseCsv(csv)).toEqual([['name', 'value'], ['a,b', '1.5'], ['say "hi"', ''], ['line\nbreak', '-2']]);
  });

  it('neutralises text a spreadsheet would run as a formula; numbers stay numbers', () => {
    const csv = toCsv({ columns: ['=HEADER()', 'v'], rows: [['=cmd|\' /C calc\'!A0', -2], ['+1+1', 3], ['-2+3', 0], ['@SUM(A1)', 1], ['\tx', 1], ['plain -1', 1]] });
    expect(parseCsv(csv)).toEqual([
      ["'=HEADER()", 'v'],
      ["'=cmd|' /C calc'!A0", '-2'],
      ["'+1+1", '3'],
      ["'-2+3", '0'],
      ["'@SUM(A1)", '1'],
      ["'\tx", '1'],
      ['plain -1', '1'],
    ]);
  });
});

describe('LaTeX', () => {
  it('escapes specials, Greek letters and dashes', () => {
    expect(latexEscape('a_b & 50% #1 {x} ~ ^')).toBe('a\\_b \\& 50\\% \\#1 \\{x\\} \\textasciitilde{} \\textasciicircum{}');
    expect(latexEscape('β-VAE, ε=0.1, −0.2 ± 0.1 — x\\y')).toBe('$\\beta$-VAE, $\\varepsilon$=0.1, $-$0.2 $\\pm$ 0.1 --- x\\textbackslash{}y');
  });

  it('writes a booktabs table with the rows', () => {
    const tex = toLatex({ columns: ['method', 'MIG'], rows: [['β-VAE', 0.2345], ['PCL', 0.21]], caption: 'A & B', rules: [0] }, { digits: 2 });
    const lines = tex.split('\n');
    const i = lines.indexOf('\\toprule');
    expect(lines.slice(i, i + 7)).toEqual(['\\toprule', 'method & MIG \\\\', '\\midrule', '$\\beta$-VAE & 0.23 \\\\', '\\midrule', 'PCL & 0.21 \\\\', '\\bottomrule']);
    expect(tex).toContain('\\caption{A \\& B}');
    expect(tex).toContain('\\begin{tabular}{lr}');
  });
});

describe('study tables', () => {
  const obs = (variant: string, values: number[]) => values.map((value, seed) => ({ method: 'beta_vae', dataset: 'dsprites', variant, seed, runId: `${variant}${seed}`, value }));
  const r = aggregate([...obs('original', [0.2, 0.4]), ...obs('manipulated', [0.1, 0.1])], { studyId: 's', name: 'n', metric: 'mig', resamples: 200 });

  it('Table 1 puts ours and the paper side by side', () => {
    const t = table1(r);
    expect(t.columns).toEqual(['method', 'source', 'dSprites original', 'dSprites manipulated']);
    // sd of 0.2, 0.4 is √0.02 ≈ 0.14
    expect(t.rows[0]).toEqual(['β-VAE', 'ours', '0.30 (0.14) n=2', '0.10 (0.00) n=2']);
    expect(t.rows[1]).toEqual(['', 'paper', '0.23 (0.08)', '0.07 (0.09)']);
    const tex = toLatex(t);
    expect(tex).toContain('$\\beta$-VAE & ours & 0.30 (0.14) n=2 & 0.10 (0.00) n=2 \\\\');
    expect(tex).toContain('transcribed --- verify before citing');
  });

  it('groups and comparisons as CSV rows', () => {
    const g = parseCsv(toCsv(groupsTable(r)));
    expect(g[0]).toEqual(['method', 'dataset', 'variant', 'n', 'mean', 'sd', 'ci_low', 'ci_high', 'published_mean', 'published_sd', 'seeds']);
    expect(g[1]!.slice(0, 5)).toEqual(['beta_vae', 'dsprites', 'original', '2', String(0.30000000000000004)]);
    expect(g[1]!.slice(8)).toEqual(['0.23', '0.08', '0 1']);
    const c = parseCsv(toCsv(comparisonTable(r)));
    expect(c[1]!.slice(0, 6)).toEqual(['beta_vae', 'dsprites', 'original−manipulated', '2', '2', String(0.30000000000000004 - 0.1)]);
    expect(c[1]![8]).toBe('0.16');
    expect(c[1]![9]).toBe('drop');
  });
});
