import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { layoutChart, niceTicks, type BarChart } from '../../../src/core/export/chart.js';
import { drawingsToPdf } from '../../../src/core/export/pdf.js';
import { drawingToPng } from '../../../src/core/export/png.js';
import { drawingToSvg } from '../../../src/core/export/svg.js';

const bar: BarChart = {
  kind: 'bar',
  title: 'MIG on dSprites & friends',
  xLabel: 'method',
  yLabel: 'MIG',
  categories: ['β-VAE', 'A<B'],
  series: [
    { name: 'original', values: [0.3, 0.1], errors: [[0.25, 0.35], null] },
    { name: 'manipulated', values: [0.05, 0.2] },
  ],
};

/** Attributes of every element of a tag in an SVG string. */
function elements(svg: string, tag: string): { attrs: Record<string, string>; text: string }[] {
  const out: { attrs: Record<string, string>; text: string }[] = [];
  const re = new RegExp(`<${tag}\\b([^>]*?)(/>|>([^<]*)</${tag}>)`, 'g');
  for (const m of svg.matchAll(re)) {
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/([a-zA-Z0-9:-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    out.push({ attrs, text: m[3] ?? '' });
  }
  return out;
}
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

describe('ticks', () => {
  it('are nice round numbers covering the range', () => {
    expect(niceTicks(0, 0.35)).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35]); // step 0.35/5 = 0.07 → 0.05
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-3, 7)).toEqual([-4, -2, 0, 2, 4, 6, 8]);
  });
});

describe('SVG', () => {
  const svg = drawingToSvg(layoutChart(bar));
  it('has the title, axis labels, legend and escaped category names', () => {
    const texts = elements(svg, 'text').map((t) => unescape(t.text));
    expect(texts).toContain('MIG on dSprites & friends');
    expect(texts).toContain('method');
    expect(texts).toContain('MIG');
    expect(texts).toContain('original');
    expect(texts).toContain('manipulated');
    expect(texts).toContain('A<B');
    expect(svg).toContain('A&lt;B');
    expect(svg).not.toContain('A<B');
    const ylab = elements(svg, 'text').find((t) => t.attrs.class === 'y-label')!;
    expect(ylab.attrs.transform).toMatch(/^rotate\(-90 /);
  });

  it('bars stand at their values on the drawn axis', () => {
    const ticks = elements(svg, 'text')
      .filter((t) => t.attrs.class === 'y-tick-label')
      .map((t) => ({ v: Number(t.text), y: Number(t.attrs.y) - 3 }));
    expect(ticks.map((t) => t.v)).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
    // linear map from two ticks, independent of the layout code
    const [a, b] = [ticks[0]!, ticks[ticks.length - 1]!];
    const valueAt = (y: number) => a.v + ((y - a.y) * (b.v - a.v)) / (b.y - a.y);
    const bars = elements(svg, 'rect').filter((r) => r.attrs.class === 'bar');
    expect(bars.map((r) => [unescape(r.attrs['data-series']!), unescape(r.attrs['data-category']!)])).toEqual([
      ['original', 'β-VAE'],
      ['manipulated', 'β-VAE'],
      ['original', 'A<B'],
      ['manipulated', 'A<B'],
    ]);
    const expected = [0.3, 0.05, 0.1, 0.2];
    bars.forEach((r, i) => {
      expect(valueAt(Number(r.attrs.y))).toBeCloseTo(expected[i]!, 2);
      expect(valueAt(Number(r.attrs.y) + Number(r.attrs.height))).toBeCloseTo(0, 2);
      expect(Number(r.attrs['data-value'])).toBe(expected[i]);
    });
    // series colours differ, same within a series
    expect(bars[0]!.attrs.fill).toBe(bars[2]!.attrs.fill);
    expect(bars[0]!.attrs.fill).not.toBe(bars[1]!.attrs.fill);
    const err = elements(svg, 'line').find((l) => l.attrs.class === 'errorbar')!;
    expect(valueAt(Number(err.attrs.y1))).toBeCloseTo(0.25, 2);
    expect(valueAt(Number(err.attrs.y2))).toBeCloseTo(0.35, 2);
  });

  it('box, line and scatter charts carry their data', () => {
    const box = drawingToSvg(layoutChart({ kind: 'box', title: 'b', xLabel: 'x', yLabel: 'y', groups: [{ label: 'g', values: [1, 2, 3, 4, 100] }] }));
    const b = elements(box, 'rect').find((r) => r.attrs.class === 'box')!;
    expect([b.attrs['data-q1'], b.attrs['data-median'], b.attrs['data-q3'], b.attrs['data-high']]).toEqual(['2', '3', '4', '4']); // 100 is beyond 1.5 IQR
    expect(elements(box, 'circle').filter((c) => c.attrs.class === 'point')).toHaveLength(5);
    // boxes of one category sit together under one label, half a slot from the next category
    const grouped = drawingToSvg(
      layoutChart({
        kind: 'box',
        title: 'b',
        xLabel: 'method',
        yLabel: 'y',
        groups: [
          { label: 'A o', category: 'A', series: 'o', values: [1, 2] },
          { label: 'A m', category: 'A', series: 'm', values: [1, 3] },
          { label: 'B o', category: 'B', series: 'o', values: [2, 2] },
          { label: 'B m', category: 'B', series: 'm', values: [0, 1] },
        ],
      }),
    );
    const ticks = elements(grouped, 'text').filter((t) => t.attrs.class === 'x-tick-label');
    expect(ticks.map((t) => t.attrs['data-category'])).toEqual(['A', 'B']);
    const boxX = elements(grouped, 'rect')
      .filter((r) => r.attrs.class === 'box')
      .map((r) => Number(r.attrs.x) + Number(r.attrs.width) / 2);
    // plot 56…466 wide (410 px) holds 4 slots + half a slot of gap: slot = 410/4.5
    const slot = 410 / 4.5;
    expect(boxX.map((x) => (x - 56) / slot)).toEqual([0.5, 1.5, 3, 4].map((v) => expect.closeTo(v, 3)));
    expect(Number(ticks[0]!.attrs.x)).toBeCloseTo((boxX[0]! + boxX[1]!) / 2, 1);
    expect(Number(ticks[1]!.attrs.x)).toBeCloseTo((boxX[2]! + boxX[3]!) / 2, 1);
    // the two colours of the legend tell the variants apart
    const fills = elements(grouped, 'rect').filter((r) => r.attrs.class === 'box').map((r) => r.attrs.fill);
    expect(fills[0]).toBe(fills[2]);
    expect(fills[0]).not.toBe(fills[1]);
    const line = drawingToSvg(layoutChart({ kind: 'line', title: 'l', xLabel: 'step', yLabel: 'loss', series: [{ name: 'a', points: [[0, 5], [10, 3], [20, 2]] }] }));
    expect(elements(line, 'polyline')[0]!.attrs.points!.split(' ')).toHaveLength(3);
    const sc = drawingToSvg(layoutChart({ kind: 'scatter', title: 's', xLabel: 'p', yLabel: 'o', diagonal: true, series: [{ name: 'a', points: [[0.2, 0.3]], labels: ['beta_vae/dsprites'] }] }));
    const pt = elements(sc, 'circle').find((c) => c.attrs.class === 'point')!;
    expect([pt.attrs['data-x'], pt.attrs['data-y'], pt.attrs['data-label']]).toEqual(['0.2', '0.3', 'beta_vae/dsprites']);
    expect(elements(sc, 'line').some((l) => l.attrs.class === 'diagonal')).toBe(true);
  });
});

describe('the interval series of a line chart (runs curves: "<name> (95% CI low|high)")', () => {
  const ci: Parameters<typeof layoutChart>[0] = {
    kind: 'line',
    title: 'MIG during training',
    xLabel: 'step',
    yLabel: 'mig',
    series: [
      { name: 'original', points: [[1000, 0.05], [2000, 0.06]] },
      { name: 'original (95% CI low)', points: [[1000, 0.01], [2000, 0.02]] },
      { name: 'original (95% CI high)', points: [[1000, 0.09], [2000, 0.1]] },
      { name: 'noise', points: [[1000, 0.04], [2000, 0.05]] },
    ],
  };
  const d = layoutChart(ci);

  it('are drawn thin and dashed in their line’s colour, with no legend entry of their own', () => {
    const svg = drawingToSvg(d);
    const lines = elements(svg, 'polyline');
    expect(lines.map((l) => [l.attrs['data-series'], l.attrs.class, l.attrs['stroke-width'], l.attrs['stroke-dasharray'] ?? null])).toEqual([
      ['original', 'series-line', '1.5', null],
      ['original (95% CI low)', 'series-interval', '0.75', '3 2'],
      ['original (95% CI high)', 'series-interval', '0.75', '3 2'],
      ['noise', 'series-line', '1.5', null],
    ]);
    const [o, lo, hi, noise] = lines.map((l) => l.attrs.stroke);
    expect(lo).toBe(o);
    expect(hi).toBe(o);
    expect(noise).not.toBe(o);
    // the legend: the two lines, in their colours
    expect(elements(svg, 'text').filter((t) => t.attrs.class === 'legend-label').map((t) => t.text)).toEqual(['original', 'noise']);
    expect(elements(svg, 'line').filter((l) => l.attrs.class === 'legend-key').map((l) => l.attrs.stroke)).toEqual([o, noise]);
  });

  it('keep their dashes in the PDF', () => {
    const pdf = drawingsToPdf([d]);
    const m = /<< \/Length (\d+) \/Filter \/FlateDecode >>\nstream\n/.exec(pdf.toString('latin1'))!;
    const text = inflateSync(pdf.subarray(m.index + m[0].length, m.index + m[0].length + Number(m[1]))).toString('latin1');
    expect(text).toMatch(/0\.75 w \[3 2\] 0 d 1 j/);
    expect(text.match(/1\.5 w \[\] 0 d 1 j/g)).toHaveLength(2); // the two lines, solid
  });
});

describe('PDF', () => {
  const d = layoutChart(bar);
  const pdf = drawingsToPdf([d, layoutChart({ ...bar, title: 'second page' })]);
  const text = pdf.toString('latin1');

  it('is a PDF 1.4 file with a valid cross-reference table and two pages', () => {
    expect(text.startsWith('%PDF-1.4')).toBe(true);
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n/.exec(text)![1]);
    expect(text.slice(startxref, startxref + 4)).toBe('xref');
    const rows = text.slice(startxref).split('\n').slice(2).filter((l) => / n $/.test(l));
    expect(rows.length).toBeGreaterThan(8);
    rows.forEach((r, i) => expect(text.slice(Number(r.slice(0, 10))).startsWith(`${i + 1} 0 obj\n`)).toBe(true));
    expect(/\/Count 2/.test(text)).toBe(true);
    expect(text).toContain('/BaseFont /Helvetica ');
    expect(text).toContain('/MediaBox [0 0 480 320]');
  });

  it('its content stream draws the text and the bars at their coordinates', () => {
    const m = /<< \/Length (\d+) \/Filter \/FlateDecode >>\nstream\n/.exec(text)!;
    const start = m.index + m[0].length;
    const content = inflateSync(pdf.subarray(start, start + Number(m[1]))).toString('latin1');
    expect(content).toContain('(MIG on dSprites & friends) Tj');
    expect(content).toContain('(manipulated) Tj');
    // β is drawn in the Symbol font (code b), the rest in Helvetica
    expect(content).toMatch(/\/F3 8 Tf \(b\) Tj \/F1 8 Tf \(-VAE\) Tj/);
    // the y label is rotated 90°: Tm with cos 0 and sin 1
    expect(content).toMatch(/BT [\d. ]+ rg 0 1 -1 0 [\d.]+ [\d.]+ Tm \/F1 10 Tf \(MIG\) Tj ET/);
    // the first bar: a filled rectangle at x, H − y − h of the SVG's rect
    const svgBar = d.prims.find((p) => p.t === 'rect' && p.cls === 'bar')!;
    if (svgBar.t !== 'rect') throw new Error('no bar');
    const r = (v: number) => String(Math.round(v * 100) / 100);
    expect(content).toContain(`${r(svgBar.x)} ${r(320 - svgBar.y - svgBar.h)} ${r(svgBar.w)} ${r(svgBar.h)} re f`);
  });
});

describe('PNG', () => {
  function decode(png: Buffer) {
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const chunks: Record<string, Buffer[]> = {};
    let p = 8;
    while (p < png.length) {
      const len = png.readUInt32BE(p);
      const type = png.subarray(p + 4, p + 8).toString('latin1');
      (chunks[type] ??= []).push(png.subarray(p + 8, p + 8 + len));
      p += 12 + len;
    }
    const ihdr = chunks.IHDR![0]!;
    const w = ihdr.readUInt32BE(0);
    const h = ihdr.readUInt32BE(4);
    const raw = inflateSync(Buffer.concat(chunks.IDAT!));
    const px = (x: number, y: number) => {
      const row = y * (w * 3 + 1);
      expect(raw[row]).toBe(0);
      return [...raw.subarray(row + 1 + x * 3, row + 1 + x * 3 + 3)];
    };
    return { w, h, depth: ihdr[8], colorType: ihdr[9], phys: chunks.pHYs?.[0], px, order: Object.keys(chunks) };
  }

  it('decodes to the chart’s size at the DPI, with the bars’ colours inside them', () => {
    const d = layoutChart(bar);
    const img = decode(drawingToPng(d, 150));
    expect(img.order[0]).toBe('IHDR');
    expect(img.order[img.order.length - 1]).toBe('IEND');
    expect([img.w, img.h, img.depth, img.colorType]).toEqual([1000, 667, 8, 2]); // 480 × 150/72, 320 × 150/72
    expect(img.phys!.readUInt32BE(0)).toBe(Math.round(150 / 0.0254));
    expect(img.px(2, 2)).toEqual([255, 255, 255]);
    const s = 150 / 72;
    const bars = d.prims.filter((p) => p.t === 'rect' && p.cls === 'bar');
    const centre = (i: number) => {
      const b = bars[i]!;
      if (b.t !== 'rect') throw new Error('bar');
      return img.px(Math.floor((b.x + b.w / 2) * s), Math.floor((b.y + b.h * 0.75) * s));
    };
    expect(centre(0)).toEqual([0x1f, 0x77, 0xb4]);
    expect(centre(1)).toEqual([0xd6, 0x27, 0x28]);
    // the title is drawn: dark pixels on its row
    let dark = 0;
    for (let x = 0; x < img.w; x++) if (img.px(x, Math.round(15 * s))[0]! < 128) dark++;
    expect(dark).toBeGreaterThan(20);
  });

  it('scales with the DPI', () => {
    const img = decode(drawingToPng(layoutChart(bar), 72));
    expect([img.w, img.h]).toEqual([480, 320]);
  });
});
