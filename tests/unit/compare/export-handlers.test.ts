import * as fs from 'node:fs';
import * as path from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createExportRoom, fileStem } from '../../../src/core/export/handlers.js';
import { LabError, parseInput } from '../../../src/shared/contract.js';
import { tmpDir } from '../../helpers/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());
const labDir = path.join(tmp.dir, 'lab');
fs.mkdirSync(path.join(labDir, 'exports', 'study-1'), { recursive: true });
const h = createExportRoom({ labDir }).handlers;

const bar = {
  kind: 'bar' as const,
  title: 'MIG by variant',
  xLabel: 'method',
  yLabel: 'MIG',
  categories: ['beta_vae', 'ae'],
  series: [
    { name: 'original', values: [0.25, 0.1], errors: [[0.2, 0.3] as [number, number], null] },
    { name: 'noise', values: [0.125, null] },
  ],
};

/** Width, height and the pixels (RGB rows after unfiltering) of a PNG, read by hand from its chunks. */
function readPng(buf: Buffer) {
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  let w = 0;
  let hgt = 0;
  let ppu = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      w = data.readUInt32BE(0);
      hgt = data.readUInt32BE(4);
    }
    if (type === 'pHYs') ppu = data.readUInt32BE(0);
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  return { w, h: hgt, ppu, raw: inflateSync(Buffer.concat(idat)) };
}

describe('export/chart', () => {
  it('renders a PNG at the asked DPI: 480×320 pt at 144 dpi is 960×640 px, with pHYs in pixels per metre', async () => {
    const r = await h['export/chart']({ chart: bar, format: 'png', dpi: 144 });
    expect(r.fileName).toBe('MIG-by-variant.png');
    expect(r.mime).toBe('image/png');
    const png = readPng(Buffer.from(r.dataBase64, 'base64'));
    expect([png.w, png.h]).toEqual([960, 640]);
    // 144 dots per inch / 0.0254 m per inch = 5669.29 → 5669
    expect(png.ppu).toBe(5669);
    // not blank: the first bar's colour (#1f77b4) is somewhere in the picture
    const stride = 1 + png.w * 3;
    let blue = 0;
    for (let y = 0; y < png.h; y++) for (let x = 0; x < png.w; x++) {
      const o = y * stride + 1 + x * 3;
      if (png.raw[o] === 0x1f && png.raw[o + 1] === 0x77 && png.raw[o + 2] === 0xb4) blue++;
    }
    expect(blue).toBeGreaterThan(1000);
  });

  it('writes SVG with one bar rect per non-null value, and the numbers as CSV and JSON', async () => {
    const svg = Buffer.from((await h['export/chart']({ chart: bar, format: 'svg' })).dataBase64, 'base64').toString('utf8');
    expect(svg).toMatch(/^<\?xml/);
    expect(svg.match(/class="bar"/g)).toHaveLength(3);
    const csv = Buffer.from((await h['export/chart']({ chart: bar, format: 'csv', name: 'fig 1' })).dataBase64, 'base64').toString('utf8');
    expect(csv.split('\r\n')).toEqual([
      'series,category,value,low,high',
      'original,beta_vae,0.25,0.2,0.3',
      'original,ae,0.1,,',
      'noise,beta_vae,0.125,,',
      'noise,ae,,,',
      '',
    ]);
    const json = JSON.parse(Buffer.from((await h['export/chart']({ chart: bar, format: 'json' })).dataBase64, 'base64').toString('utf8')) as { chart: unknown; data: unknown[] };
    expect(json.chart).toEqual(bar);
    expect(json.data).toHaveLength(4);
    const pdf = Buffer.from((await h['export/chart']({ chart: bar, format: 'pdf' })).dataBase64, 'base64');
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-6).toString('latin1')).toMatch(/%%EOF\s*$/);
  });

  it('refuses charts whose series do not fit the categories, at the contract', () => {
    expect(() => parseInput('export/chart', { chart: { ...bar, series: [{ name: 's', values: [1] }] }, format: 'svg' })).toThrow(LabError);
  });
});

describe('export/table', () => {
  const table = { title: 'Table 1: MIG', columns: ['method', 'N', 'mean', 'sd'], rows: [['β-VAE', 3, 0.23456, null], ['a,b "q"', 10, -0.5, 0.0125]] };
  it('LaTeX: booktabs, integers as integers, other numbers to three decimals, text escaped', async () => {
    const r = await h['export/table']({ ...table, format: 'tex' });
    expect(r.fileName).toBe('Table-1-MIG.tex');
    const tex = Buffer.from(r.dataBase64, 'base64').toString('utf8');
    expect(tex).toContain('\\toprule');
    expect(tex).toContain('\\bottomrule');
    expect(tex).toContain('$\\beta$-VAE & 3 & 0.235 &  \\\\');
    expect(tex).toContain('a,b "q" & 10 & -0.500 & 0.013 \\\\');
  });
  it('CSV: full precision, quoted fields', async () => {
    const csv = Buffer.from((await h['export/table']({ ...table, format: 'csv' })).dataBase64, 'base64').toString('utf8');
    expect(csv).toBe('method,N,mean,sd\r\nβ-VAE,3,0.23456,\r\n"a,b ""q""",10,-0.5,0.0125\r\n');
  });
});

describe('exports/file', () => {
  fs.writeFileSync(path.join(labDir, 'exports', 'study-1', 'table1.tex'), '\\toprule x');
  fs.writeFileSync(path.join(tmp.dir, 'secret.txt'), 'secret');

  it('reads a file under the exports folder', async () => {
    const r = await h['exports/file']({ path: 'study-1/table1.tex' });
    expect(r).toMatchObject({ name: 'table1.tex', mime: 'application/x-tex', size: 10 });
    expect(Buffer.from(r.dataBase64, 'base64').toString('utf8')).toBe('\\toprule x');
  });

  it('refuses traversal, absolute paths, folders, missing files and links leading out', async () => {
    const code = async (p: string) => {
      try {
        await h['exports/file']({ path: p });
        return 'ok';
      } catch (e) {
        return (e as LabError).code;
      }
    };
    expect(await code('../secret.txt')).toBe('invalid_payload');
    expect(await code('study-1/../../secret.txt')).toBe('invalid_payload');
    expect(await code('study-1\\..\\..\\secret.txt')).toBe('invalid_payload');
    expect(await code(path.join(tmp.dir, 'secret.txt'))).toBe('invalid_payload');
    expect(await code('study-1')).toBe('invalid_payload');
    expect(await code('study-1/none.csv')).toBe('not_found');
    fs.symlinkSync(path.join(tmp.dir, 'secret.txt'), path.join(labDir, 'exports', 'link.txt'));
    expect(await code('link.txt')).toBe('invalid_payload');
  });
});

describe('fileStem', () => {
  it('keeps letters, digits, dot, dash and underscore', () => {
    expect(fileStem('MIG: β-VAE / dSprites (n=3)')).toBe('MIG-VAE-dSprites-n-3');
    expect(fileStem('///')).toBe('export');
  });
});
