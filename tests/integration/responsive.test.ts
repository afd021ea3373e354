/**
 * Heavy requests do not freeze the lab: the largest allowed PNG export (a
 * scatter at the largest allowed DPI with as many points as the raster
 * budget admits) and the largest allowed perturbation preview (Shapes3D,
 * 32 images, 1000 statistics samples) run at the same time in worker
 * threads, and `lab/info` keeps answering within 100 ms while they do; then
 * both results are checked. Requests over the limits get invalid_payload
 * (from the schema, or from the raster budget in the thread), over HTTP too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { findBuiltin } from '../../src/core/datasets/registry.js';
import { layoutChart, PALETTE, type ScatterChart } from '../../src/core/export/chart.js';
import { rasterWork } from '../../src/core/export/png.js';
import { createPerturbation } from '../../src/core/perturbations/registry.js';
import { statsToWire } from '../../src/core/perturbations/preview.js';
import { perturbationStats } from '../../src/core/perturbations/stats.js';
import { closeThreads } from '../../src/core/threads.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import type { Reply } from '../../src/shared/contract.js';
import { dispatch } from '../../src/shared/dispatch.js';
import { MAX_CHART_MARKS, MAX_DPI, MAX_PNG_WORK, pngPixels, type Download } from '../../src/shared/requests/exporting.js';
import { MAX_PREVIEW_STATS_SAMPLES, type PreviewResult } from '../../src/shared/requests/perturb.js';
import { tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir();
let lab: Lab;

beforeAll(async () => {
  lab = await Lab.open({ labDir: path.join(tmp.dir, 'lab'), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
});
afterAll(async () => {
  await lab.close();
  await closeThreads();
  tmp.cleanup();
});

/** n seeded points in the unit square, on fixed axes (so the layout does not depend on n). */
function scatter(n: number): ScatterChart {
  let seed = 12345;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const points = Array.from({ length: n }, () => [rnd(), rnd()] as [number, number]);
  return { kind: 'scatter', title: 'Largest allowed scatter', xLabel: 'x', yLabel: 'y', series: [{ name: 'runs', points }], xMin: 0, xMax: 1, yMin: 0, yMax: 1 };
}

/** The most points whose PNG at `dpi` stays within the raster budget. */
function largestScatterAt(dpi: number): number {
  let lo = 1;
  let hi = MAX_CHART_MARKS;
  if (rasterWork(layoutChart(scatter(hi)), dpi) <= MAX_PNG_WORK) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (rasterWork(layoutChart(scatter(mid)), dpi) <= MAX_PNG_WORK) lo = mid;
    else hi = mid;
  }
  return lo;
}

function pngChunks(png: Buffer): Record<string, Buffer[]> {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: Record<string, Buffer[]> = {};
  for (let p = 8; p < png.length; ) {
    const len = png.readUInt32BE(p);
    (chunks[png.subarray(p + 4, p + 8).toString('latin1')] ??= []).push(png.subarray(p + 8, p + 8 + len));
    p += 12 + len;
  }
  return chunks;
}

const preview = { baseId: 'shapes3d', kind: 'uniform-noise', params: { epsilon: 0.175 }, seed: 7, count: 32, sampleSeed: 4, statsSamples: MAX_PREVIEW_STATS_SAMPLES };

describe('lab/info stays responsive during the largest export and preview', () => {
  it('answers within 100 ms while both run; both results are right', async () => {
    const n = largestScatterAt(MAX_DPI);
    expect(n).toBeGreaterThan(1000);
    const chart = scatter(n);

    // warm the threads up (their first start loads the TypeScript sources), so the timing is of the work
    expect((await dispatch(lab.handlers, 'export/chart', { chart: scatter(3), format: 'png', dpi: 72 })).ok).toBe(true);
    expect((await dispatch(lab.handlers, 'perturbations/preview', { ...preview, count: 1, statsSamples: 8 })).ok).toBe(true);

    const loop = monitorEventLoopDelay({ resolution: 5 });
    const t0 = performance.now();
    let exportMs = 0;
    let previewMs = 0;
    let running = 2;
    const exported = dispatch(lab.handlers, 'export/chart', { chart, format: 'png', dpi: MAX_DPI }).finally(() => {
      exportMs = performance.now() - t0;
      running--;
    });
    const previewed = dispatch(lab.handlers, 'perturbations/preview', preview).finally(() => {
      previewMs = performance.now() - t0;
      running--;
    });
    loop.enable();
    // lab/info every 50 ms while both run: each answer's wait (timer lateness included, so a blocked loop shows)
    const waits: number[] = [];
    while (running === 2) {
      const due = performance.now() + 50;
      await new Promise((r) => setTimeout(r, 50));
      const reply = await dispatch(lab.handlers, 'lab/info', {});
      expect(reply.ok).toBe(true);
      if (running === 2) waits.push(performance.now() - due);
    }
    loop.disable();
    const [e, p] = (await Promise.all([exported, previewed])) as [Reply<Download>, Reply<PreviewResult>];
    const worst = Math.max(...waits);
    console.log(
      `largest scatter at ${MAX_DPI} dpi: ${n} points; export ${Math.round(exportMs)} ms, preview ${Math.round(previewMs)} ms; ` +
        `lab/info ${waits.length} samples, median ${waits.sort((a, b) => a - b)[waits.length >> 1]!.toFixed(1)} ms, worst ${worst.toFixed(1)} ms; ` +
        `event-loop delay max ${(loop.max / 1e6).toFixed(1)} ms`,
    );
    expect(waits.length).toBeGreaterThanOrEqual(5);
    expect(worst).toBeLessThan(100);
    expect(loop.max / 1e6).toBeLessThan(100);

    // the PNG: signature, IHDR of the DPI's size, pHYs of the DPI, the last point's colour at its centre
    expect(e.ok, JSON.stringify(!e.ok && e.error)).toBe(true);
    if (!e.ok) return;
    expect(e.result.mime).toBe('image/png');
    const png = Buffer.from(e.result.dataBase64, 'base64');
    const chunks = pngChunks(png);
    const ihdr = chunks.IHDR![0]!;
    const { width, height } = pngPixels(MAX_DPI);
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9]]).toEqual([width, height, 8, 2]);
    expect([width, height]).toEqual([Math.round((480 * MAX_DPI) / 72), Math.round((320 * MAX_DPI) / 72)]);
    expect(chunks.pHYs![0]!.readUInt32BE(0)).toBe(Math.round(MAX_DPI / 0.0254));
    const raw = inflateSync(Buffer.concat(chunks.IDAT!));
    expect(raw.length).toBe((width * 3 + 1) * height);
    const dots = layoutChart(chart).prims.filter((q) => q.t === 'circle' && q.cls === 'point');
    expect(dots).toHaveLength(n);
    const last = dots[dots.length - 1]!;
    if (last.t !== 'circle') throw new Error('circle');
    const s = MAX_DPI / 72;
    const [px, py] = [Math.floor(last.cx * s), Math.floor(last.cy * s)];
    const at = py * (width * 3 + 1) + 1 + px * 3;
    const hex = PALETTE[0]!;
    expect([...raw.subarray(at, at + 3)]).toEqual([1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));

    // the preview: 32 images of Shapes3D and the same statistics as computed here
    expect(p.ok, JSON.stringify(!p.ok && p.error)).toBe(true);
    if (!p.ok) return;
    expect(p.result.originals.shape).toEqual([32, 64, 64, 3]);
    expect(p.result.perturbed.shape).toEqual([32, 64, 64, 3]);
    expect(p.result.stats.samples).toBe(MAX_PREVIEW_STATS_SAMPLES);
    expect(p.result.stats.boundHolds).toBe(true);
    for (const m of p.result.maxAbsDelta) expect(m).toBeLessThanOrEqual(0.175 + 1e-6);
    const parent = findBuiltin('shapes3d')!.create();
    const derived = await createPerturbation('uniform-noise', parent, { epsilon: 0.175 }, 7);
    expect(p.result.stats).toEqual(statsToWire(perturbationStats(parent, derived, { samples: MAX_PREVIEW_STATS_SAMPLES, pairSamples: 64, seed: 4 })));
  });
});

describe('over the limits: invalid_payload', () => {
  const fail = async (name: 'export/chart' | 'perturbations/preview', payload: unknown) => {
    const r = await dispatch(lab.handlers, name, payload);
    expect(r.ok, JSON.stringify(payload).slice(0, 200)).toBe(false);
    return r.ok ? '' : `${r.error.code}: ${r.error.message}`;
  };

  it('export/chart: too many points, too many pixels, too much ink', async () => {
    const n = largestScatterAt(MAX_DPI);
    // one point more than the raster budget admits at the largest DPI: refused in the thread, with a DPI that fits
    const msg = await fail('export/chart', { chart: scatter(n + 1), format: 'png', dpi: MAX_DPI });
    expect(msg).toMatch(/^invalid_payload: this chart as a PNG at 1200 dpi .* more than the 120 M allowed: use at most (\d+) dpi/);
    const fit = Number(/at most (\d+) dpi/.exec(msg)![1]);
    expect(fit).toBeLessThan(MAX_DPI);
    expect(rasterWork(layoutChart(scatter(n + 1)), fit)).toBeLessThanOrEqual(MAX_PNG_WORK);
    // the same chart as SVG is fine
    expect((await dispatch(lab.handlers, 'export/chart', { chart: scatter(n + 1), format: 'svg' })).ok).toBe(true);
    // the schema: marks per chart, DPI range
    const many = scatter(MAX_CHART_MARKS + 1);
    const split = { ...many, series: [{ name: 'a', points: many.series[0]!.points.slice(0, 20_000) }, { name: 'b', points: many.series[0]!.points.slice(20_000) }] };
    expect(await fail('export/chart', { chart: split, format: 'svg' })).toMatch(/^invalid_payload: .*at most 40000 scatter points per chart/);
    const box = { kind: 'box', title: 't', xLabel: 'x', yLabel: 'y', groups: Array.from({ length: 5 }, (_, i) => ({ label: `g${i}`, values: Array.from({ length: 8001 }, (_, k) => k) })) };
    expect(await fail('export/chart', { chart: box, format: 'csv' })).toMatch(/^invalid_payload: .*at most 40000 box-plot values/);
    expect(await fail('export/chart', { chart: scatter(10), format: 'png', dpi: MAX_DPI + 1 })).toMatch(/^invalid_payload: .*dpi/);
  });

  it('perturbations/preview: too many statistics samples, or samples × blocks', async () => {
    expect(await fail('perturbations/preview', { ...preview, statsSamples: MAX_PREVIEW_STATS_SAMPLES + 1 })).toMatch(/^invalid_payload: .*at most 1000 statistics samples/);
    const blocks = Array.from({ length: 16 }, () => ({ kind: 'blur', params: {} }));
    expect(await fail('perturbations/preview', { baseId: 'dsprites', kind: 'compose', params: { epsilon: 0.2 }, blocks, statsSamples: 251 })).toMatch(
      /^invalid_payload: .*statsSamples × blocks may be at most 4000/,
    );
  });
});

describe('over HTTP', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const rendererDir = path.join(tmp.dir, 'renderer');
    fs.mkdirSync(rendererDir, { recursive: true });
    fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
    server = await startServer({ lab, rendererDir });
  });
  afterAll(async () => {
    await server.close();
  });
  const post = async (name: string, body: string) => {
    const res = await fetch(`${server.origin}/api/${name}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
      body,
    });
    return { status: res.status, body: (await res.json()) as { ok: boolean; error?: { code: string; message: string } } };
  };

  it('a chart over the limits is 400 invalid_payload; a body over the server limit is 413 invalid_payload', async () => {
    const over = await post('export/chart', JSON.stringify({ chart: scatter(10), format: 'png', dpi: 5000 }));
    expect(over.status).toBe(400);
    expect(over.body).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    // 40,000 points with full-precision coordinates and labels: more than the server's 1 MiB body limit
    const big = scatter(MAX_CHART_MARKS);
    const labelled = { ...big, series: [{ ...big.series[0]!, labels: big.series[0]!.points.map((_, i) => `run-${i}`) }] };
    const body = JSON.stringify({ chart: labelled, format: 'svg' });
    expect(body.length).toBeGreaterThan(1 << 20);
    const tooBig = await post('export/chart', body);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    expect((await post('lab/info', '{}')).status).toBe(200);
  });
});
