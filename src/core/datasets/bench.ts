/**
 * Data benchmark: time and peak memory (RSS) to materialise full dSprites into
 * the image cache, then to read random batches from it (whole file in memory,
 * and positioned reads), plus the Shapes3D approximation's render speed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../util/rng.js';
import { CachedDataset, buildCache } from './cache.js';
import { DSprites, DSPRITES_SIZES } from './dsprites.js';
import { renderBatch, sampleIndices } from './grid.js';
import { Shapes3D } from './shapes3d.js';

export interface BenchDataOptions {
  /** Where to build the cache (default: a fresh temporary directory, removed afterwards). */
  dir?: string;
  keep?: boolean;
  batches?: number;
  batchSize?: number;
  seed?: number;
  onProgress?: (phase: string, fraction: number) => void;
  signal?: AbortSignal;
}

export interface BenchDataResult {
  build: { images: number; bytes: number; seconds: number; imagesPerSecond: number; peakRssMB: number; rssBeforeMB: number };
  read: { mode: 'memory' | 'file'; openSeconds: number; batches: number; batchSize: number; seconds: number; msPerBatch: number; peakRssMB: number }[];
  shapes3dMsPerImage: number;
  /** Process-wide peak RSS (getrusage maxrss), MB. */
  processMaxRssMB: number;
  dir: string;
}

const mb = (b: number) => Math.round((b / (1 << 20)) * 10) / 10;

export async function benchData(opts: BenchDataOptions = {}): Promise<BenchDataResult> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'dlab-bench-data-'));
  const batches = opts.batches ?? 1000;
  const batchSize = opts.batchSize ?? 64;
  try {
    const ds = new DSprites();
    const rssBefore = process.memoryUsage.rss();
    let peak = rssBefore;
    const t0 = performance.now();
    const header = await buildCache(ds, dir, {
      overwrite: true,
      chunkImages: 4096,
      signal: opts.signal,
      onProgress: (f) => {
        peak = Math.max(peak, process.memoryUsage.rss());
        opts.onProgress?.('build', f);
      },
    });
    const buildS = (performance.now() - t0) / 1000;
    const read: BenchDataResult['read'] = [];
    for (const mode of ['file', 'memory'] as const) {
      const tOpen = performance.now();
      const c = CachedDataset.open(dir, { maxInMemoryBytes: mode === 'memory' ? 1 << 30 : 0 });
      const openSeconds = (performance.now() - tOpen) / 1000;
      const warm = new Rng(12345);
      for (let b = 0; b < 20; b++) renderBatch(c, sampleIndices(DSPRITES_SIZES, batchSize, warm));
      const rng = new Rng(opts.seed ?? 0);
      let rpeak = process.memoryUsage.rss();
      const t1 = performance.now();
      for (let b = 0; b < batches; b++) {
        opts.signal?.throwIfAborted();
        const idx = sampleIndices(DSPRITES_SIZES, batchSize, rng);
        renderBatch(c, idx);
        if ((b & 63) === 0) {
          rpeak = Math.max(rpeak, process.memoryUsage.rss());
          opts.onProgress?.(`read-${mode}`, b / batches);
        }
      }
      const s = (performance.now() - t1) / 1000;
      rpeak = Math.max(rpeak, process.memoryUsage.rss());
      c.close();
      read.push({ mode, openSeconds, batches, batchSize, seconds: s, msPerBatch: (s * 1000) / batches, peakRssMB: mb(rpeak) });
    }
    const s3 = new Shapes3D();
    const buf = new Float32Array(64 * 64 * 3);
    for (let i = 0; i < 100; i++) s3.render(i * 4799, buf);
    const t2 = performance.now();
    const n3 = 2000;
    for (let i = 0; i < n3; i++) s3.render((i * 7919) % 480000, buf);
    const s3ms = (performance.now() - t2) / n3;
    return {
      build: {
        images: header.count,
        bytes: header.dataBytes,
        seconds: buildS,
        imagesPerSecond: header.count / buildS,
        peakRssMB: mb(peak),
        rssBeforeMB: mb(rssBefore),
      },
      read,
      shapes3dMsPerImage: s3ms,
      processMaxRssMB: mb(process.resourceUsage().maxRSS * 1024),
      dir,
    };
  } finally {
    if (!opts.keep && !opts.dir) rmSync(dir, { recursive: true, force: true });
  }
}
