/**
 * PNG of a laid-out chart at a chosen DPI, rasterised here in TypeScript (no
 * native renderer, no new dependency): every primitive becomes polygons
 * filled by an anti-aliased scanline rasteriser (4 sub-scanlines per pixel
 * row, exact horizontal coverage, non-zero winding), composited onto a white
 * RGB canvas; text uses the 5×7 bitmap font of font5x7.ts (so PNG text looks
 * plainer than the SVG/PDF's Helvetica, at the same place and size). The
 * encoder writes IHDR (8-bit RGB), pHYs (the DPI), one zlib IDAT and IEND.
 */
import { crc32, deflateSync } from 'node:zlib';
import type { Drawing, Prim, TextPrim } from './chart.js';
import { glyph } from './font5x7.js';

type Pt = [number, number];

export class Canvas {
  readonly data: Float32Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Float32Array(width * height * 3).fill(1);
  }

  /** Fill a polygon (non-zero winding) with colour rgb (0…1) and opacity alpha, anti-aliased. */
  fillPolygon(pts: Pt[], rgb: [number, number, number], alpha = 1): void {
    if (pts.length < 3) return;
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    for (const [x, y] of pts) {
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    const x0 = Math.max(0, Math.floor(minX));
    const x1 = Math.min(this.width, Math.ceil(maxX));
    const y0 = Math.max(0, Math.floor(minY));
    const y1 = Math.min(this.height, Math.ceil(maxY));
    if (x1 <= x0 || y1 <= y0) return;
    const S = 4;
    const cov = new Float32Array(x1 - x0);
    const xs: { x: number; d: number }[] = [];
    for (let y = y0; y < y1; y++) {
      cov.fill(0);
      for (let s = 0; s < S; s++) {
        const sy = y + (s + 0.5) / S;
        xs.length = 0;
        for (let i = 0; i < pts.length; i++) {
          const [ax, ay] = pts[i]!;
          const [bx, by] = pts[(i + 1) % pts.length]!;
          if (ay === by) continue;
          const lo = Math.min(ay, by);
          const hi = Math.max(ay, by);
          if (sy < lo || sy >= hi) continue;
          xs.push({ x: ax + ((sy - ay) * (bx - ax)) / (by - ay), d: by > ay ? 1 : -1 });
        }
        if (xs.length < 2) continue;
        xs.sort((a, b) => a.x - b.x);
        let wind = 0;
        for (let k = 0; k < xs.length - 1; k++) {
          wind += xs[k]!.d;
          if (wind === 0) continue;
          const a = Math.max(x0, xs[k]!.x);
          const b = Math.min(x1, xs[k + 1]!.x);
          if (b <= a) continue;
          for (let px = Math.floor(a); px < Math.ceil(b); px++) {
            const o = Math.min(b, px + 1) - Math.max(a, px);
            if (o > 0) cov[px - x0]! += o / S;
          }
        }
      }
      for (let i = 0; i < cov.length; i++) {
        const c = Math.min(1, cov[i]!) * alpha;
        if (c <= 0) continue;
        const p = (y * this.width + x0 + i) * 3;
        this.data[p] = this.data[p]! * (1 - c) + rgb[0] * c;
        this.data[p + 1] = this.data[p + 1]! * (1 - c) + rgb[1] * c;
        this.data[p + 2] = this.data[p + 2]! * (1 - c) + rgb[2] * c;
      }
    }
  }

  /** 8-bit RGB rows. */
  rgb8(): Uint8Array {
    const out = new Uint8Array(this.data.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(this.data[i]! * 255)));
    return out;
  }
}

function rgb(hex: string): [number, number, number] {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return [0, 0, 0];
  return [parseInt(m[1]!, 16) / 255, parseInt(m[2]!, 16) / 255, parseInt(m[3]!, 16) / 255];
}

function segmentQuad(a: Pt, b: Pt, hw: number): Pt[] | null {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len = Math.hypot(dx, dy);
  if (len === 0) return null;
  const nx = (-dy / len) * hw;
  const ny = (dx / len) * hw;
  return [
    [a[0] + nx, a[1] + ny],
    [b[0] + nx, b[1] + ny],
    [b[0] - nx, b[1] - ny],
    [a[0] - nx, a[1] - ny],
  ];
}

function circlePoly(cx: number, cy: number, r: number): Pt[] {
  const n = Math.max(12, Math.ceil(Math.PI * r));
  const out: Pt[] = [];
  for (let i = 0; i < n; i++) out.push([cx + r * Math.cos((2 * Math.PI * i) / n), cy + r * Math.sin((2 * Math.PI * i) / n)]);
  return out;
}

function strokeLine(c: Canvas, a: Pt, b: Pt, width: number, color: [number, number, number], dash?: number[]): void {
  const hw = Math.max(0.5, width / 2);
  if (!dash || dash.length === 0) {
    const q = segmentQuad(a, b, hw);
    if (q) c.fillPolygon(q, color);
    return;
  }
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  const ux = (b[0] - a[0]) / len;
  const uy = (b[1] - a[1]) / len;
  let t = 0;
  let k = 0;
  while (t < len) {
    const seg = dash[k % dash.length]!;
    if (k % 2 === 0) {
      const e = Math.min(len, t + seg);
      const q = segmentQuad([a[0] + ux * t, a[1] + uy * t], [a[0] + ux * e, a[1] + uy * e], hw);
      if (q) c.fillPolygon(q, color);
    }
    t += seg;
    k++;
  }
}

/** Font unit (one bitmap cell) in pixels for a size in points at scale s. */
const unit = (size: number, s: number) => (0.72 * size * s) / 7;

export function bitmapTextWidth(text: string, size: number, s = 1): number {
  const n = [...text].length;
  return n === 0 ? 0 : unit(size, s) * (6 * n - 1);
}

function drawText(c: Canvas, p: TextPrim, s: number): void {
  const u = unit(p.size, s);
  const chars = [...p.text];
  const w = bitmapTextWidth(p.text, p.size, s);
  const shift = p.anchor === 'middle' ? -w / 2 : p.anchor === 'end' ? -w : 0;
  const a = ((p.rotate ?? 0) * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const ox = p.x * s;
  const oy = p.y * s;
  // text space (tx along the baseline, ty down) → pixels, rotated counter-clockwise as seen
  const map = (tx: number, ty: number): Pt => [ox + tx * cos + ty * sin, oy - tx * sin + ty * cos];
  const color = rgb(p.color);
  const bold = p.bold ? 0.45 * u : 0;
  chars.forEach((ch, i) => {
    const g = glyph(ch);
    const gx = shift + i * 6 * u;
    for (let row = 0; row < 7; row++) {
      let col = 0;
      while (col < 5) {
        if (!g[row * 5 + col]) {
          col++;
          continue;
        }
        let end = col;
        while (end < 5 && g[row * 5 + end]) end++;
        const xa = gx + col * u;
        const xb = gx + end * u + bold;
        const ya = -7 * u + row * u;
        const yb = ya + u;
        c.fillPolygon([map(xa, ya), map(xb, ya), map(xb, yb), map(xa, yb)], color);
        col = end;
      }
    }
  });
}

function drawPrim(c: Canvas, p: Prim, s: number): void {
  switch (p.t) {
    case 'line':
      strokeLine(c, [p.x1 * s, p.y1 * s], [p.x2 * s, p.y2 * s], p.width * s, rgb(p.stroke), p.dash?.map((d) => d * s));
      break;
    case 'rect': {
      const x = p.x * s;
      const y = p.y * s;
      const w = p.w * s;
      const h = p.h * s;
      if (p.fill) c.fillPolygon([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], rgb(p.fill));
      if (p.stroke) {
        const col = rgb(p.stroke);
        const lw = (p.width ?? 1) * s;
        strokeLine(c, [x, y], [x + w, y], lw, col);
        strokeLine(c, [x + w, y], [x + w, y + h], lw, col);
        strokeLine(c, [x + w, y + h], [x, y + h], lw, col);
        strokeLine(c, [x, y + h], [x, y], lw, col);
      }
      break;
    }
    case 'circle': {
      const poly = circlePoly(p.cx * s, p.cy * s, p.r * s);
      if (p.fill) c.fillPolygon(poly, rgb(p.fill));
      if (p.stroke) for (let i = 0; i < poly.length; i++) strokeLine(c, poly[i]!, poly[(i + 1) % poly.length]!, (p.width ?? 1) * s, rgb(p.stroke));
      break;
    }
    case 'polyline': {
      const col = rgb(p.stroke);
      const pts = p.points.map(([x, y]): Pt => [x * s, y * s]);
      for (let i = 0; i + 1 < pts.length; i++) strokeLine(c, pts[i]!, pts[i + 1]!, p.width * s, col);
      for (let i = 1; i + 1 < pts.length; i++) c.fillPolygon(circlePoly(pts[i]![0], pts[i]![1], Math.max(0.5, (p.width * s) / 2)), col);
      break;
    }
    case 'text':
      drawText(c, p, s);
      break;
  }
}

export function rasterize(d: Drawing, dpi = 144): Canvas {
  const s = dpi / 72;
  const c = new Canvas(Math.max(1, Math.round(d.width * s)), Math.max(1, Math.round(d.height * s)));
  for (const p of d.prims) drawPrim(c, p, s);
  return c;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const body = Buffer.concat([head.subarray(4), Buffer.from(data)]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0, 0);
  return Buffer.concat([head.subarray(0, 4), body, crc]);
}

/** PNG (8-bit RGB, filter 0) of RGB rows; pHYs records the DPI. */
export function encodePng(width: number, height: number, rgbRows: Uint8Array, dpi?: number): Buffer {
  if (rgbRows.length !== width * height * 3) throw new Error(`expected ${width * height * 3} bytes of RGB, got ${rgbRows.length}`);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    raw.set(rgbRows.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (dpi) {
    const ppm = Math.round(dpi / 0.0254);
    const phys = Buffer.alloc(9);
    phys.writeUInt32BE(ppm, 0);
    phys.writeUInt32BE(ppm, 4);
    phys[8] = 1;
    parts.push(chunk('pHYs', phys));
  }
  parts.push(chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

export function drawingToPng(d: Drawing, dpi = 144): Buffer {
  const c = rasterize(d, dpi);
  return encodePng(c.width, c.height, c.rgb8(), dpi);
}
