/**
 * The PNG writer drawn in bands equals the whole-canvas picture, the raster
 * work estimate grows with the ink and the DPI, the budget refuses with a DPI
 * that fits, and packed charts travel losslessly.
 */
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { layoutChart, type Chart } from '../../../src/core/export/chart.js';
import { drawingToPng, pngSize, rasterize, rasterRows, rasterWork } from '../../../src/core/export/png.js';
import { checkRasterWork, packChart, renderChart, unpackChart } from '../../../src/core/export/render.js';
import { LabError } from '../../../src/shared/contract.js';
import { MAX_PNG_WORK, pngPixels } from '../../../src/shared/requests/exporting.js';

let seed = 7;
const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const pts = (n: number) => Array.from({ length: n }, () => [rnd(), rnd()] as [number, number]);

const charts: Chart[] = [
  { kind: 'bar', title: 'Bars β', xLabel: 'method', yLabel: 'MIG', categories: ['a', 'b', 'c'], series: [{ name: 's1', values: [1, -2, 3], errors: [[0.5, 1.5], null, [2, 4]] }, { name: 's2', values: [2, 1, null] }] },
  { kind: 'box', title: 'Box', xLabel: 'x', yLabel: 'y', groups: [{ label: 'g1', values: [1, 2, 3, 4, 10], series: 'A', category: 'c' }, { label: 'g2', values: [2, 3, 5], series: 'B', category: 'c' }] },
  { kind: 'line', title: 'Line', xLabel: 'step', yLabel: 'loss', series: [{ name: 'a', points: pts(300) }, { name: 'b', points: pts(40).sort((p, q) => p[0] - q[0]) }] },
  { kind: 'scatter', title: 'Scatter', xLabel: 'x', yLabel: 'y', diagonal: true, series: [{ name: 'a', points: pts(200), labels: pts(200).map((_, i) => `r${i}`) }, { name: 'b', points: pts(50) }] },
];

describe('PNG in bands', () => {
  it('draws the same bytes band by band as on one whole canvas (across band edges)', () => {
    for (const c of charts) {
      const d = layoutChart(c);
      // at 400 dpi the picture is 2667 × 1778 = 4.7 MP: three bands of 2 MP
      const { width, height, raw } = rasterRows(d, 400);
      expect([width, height]).toEqual([2667, 1778]);
      const whole = rasterize(d, 400).rgb8();
      let diff = 0;
      for (let y = 0; y < height; y++) {
        expect(raw[y * (width * 3 + 1)]).toBe(0);
        const a = raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1));
        const b = whole.subarray(y * width * 3, (y + 1) * width * 3);
        if (!a.equals(b)) diff++;
      }
      expect(diff, c.kind).toBe(0);
    }
  });

  it('the PNG decodes to those rows', () => {
    const d = layoutChart(charts[0]!);
    const png = drawingToPng(d, 150);
    let p = 8;
    const idat: Buffer[] = [];
    while (p < png.length) {
      const len = png.readUInt32BE(p);
      if (png.subarray(p + 4, p + 8).toString('latin1') === 'IDAT') idat.push(png.subarray(p + 8, p + 8 + len));
      p += 12 + len;
    }
    expect(inflateSync(Buffer.concat(idat)).equals(rasterRows(d, 150).raw)).toBe(true);
    expect(pngSize(d, 150)).toEqual(pngPixels(150));
  });
});

describe('raster work', () => {
  it('grows with the marks and about with dpi²; a zigzag line costs more than the same points as dots', () => {
    const dots = (n: number): Chart => ({ kind: 'scatter', title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: pts(n) }], xMin: 0, xMax: 1, yMin: 0, yMax: 1 });
    const w = (c: Chart, dpi: number) => rasterWork(layoutChart(c), dpi);
    const empty = w(dots(0), 300);
    expect(empty).toBeGreaterThan(2 * pngPixels(300).width * pngPixels(300).height); // the picture plus its white background
    const a = w(dots(1000), 300);
    const b = w(dots(2000), 300);
    expect(a).toBeGreaterThan(empty);
    expect(b - empty).toBeCloseTo(2 * (a - empty), -5);
    const r = w(dots(1000), 600) / a;
    expect(r).toBeGreaterThan(3);
    expect(r).toBeLessThan(4.2);
    const zig: Chart = { kind: 'line', title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: Array.from({ length: 1000 }, (_, i) => [i, i % 2] as [number, number]) }] };
    expect(w(zig, 300)).toBeGreaterThan(3 * a);
  });

  it('over the budget: invalid_payload naming a DPI that fits', () => {
    const d = layoutChart({ kind: 'scatter', title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: pts(20_000) }] });
    expect(rasterWork(d, 1200)).toBeGreaterThan(MAX_PNG_WORK);
    let err: unknown;
    try {
      checkRasterWork(d, 1200);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('invalid_payload');
    const fit = Number(/use at most (\d+) dpi/.exec((err as Error).message)?.[1]);
    expect(fit).toBeGreaterThan(300);
    expect(rasterWork(d, fit)).toBeLessThanOrEqual(MAX_PNG_WORK);
    expect(() => checkRasterWork(d, fit)).not.toThrow();
    expect(() => renderChart({ kind: 'scatter', title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: pts(20_000) }] }, 'png', 1200)).toThrow(/more than the 120 M allowed/);
  });
});

describe('packed charts', () => {
  it('round-trip every kind, without touching the original', () => {
    for (const c of charts) {
      const before = JSON.stringify(c);
      const packed = packChart(c);
      expect(JSON.stringify(c)).toBe(before);
      expect(unpackChart(structuredClone(packed))).toEqual(c);
      if (c.kind === 'line' || c.kind === 'scatter') expect(packed.numbers.length).toBe(2 * c.series.reduce((n, s) => n + s.points.length, 0));
    }
  });
});
