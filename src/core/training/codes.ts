/**
 * After training: encode a seeded sample of the dataset and store the
 * posterior means and log-variances with their factors, for the metrics and
 * the latent-space visualisers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { factorsOf, renderBatch, sampleIndices } from '../datasets/grid.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import { readNpy, writeNpy } from '../io/npy.js';
import { Rng } from '../util/rng.js';
import type { RunTrainer } from './run-trainer.js';

export const CODES_FILES = { means: 'means.npy', logvars: 'logvars.npy', factors: 'factors.npy', indices: 'indices.npy' } as const;

/** Encode `n` images drawn uniformly from the grid (seeded); returns the files written. */
export async function writeCodes(trainer: RunTrainer, dataset: GroundTruthDataset, n: number, seed: number, dir: string): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const sizes = dataset.info.factors.map((f) => f.size);
  const { indices, means, logvars } = await encodeSample(trainer, dataset, n, seed);
  const L = trainer.latent;
  const files: string[] = [];
  const put = (name: string, data: Float32Array | Int32Array, shape: number[]) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, writeNpy(data, shape));
    files.push(p);
  };
  put(CODES_FILES.means, means, [n, L]);
  if (logvars) put(CODES_FILES.logvars, logvars, [n, L]);
  put(CODES_FILES.factors, factorsOf(sizes, indices), [n, sizes.length]);
  put(CODES_FILES.indices, indices, [n]);
  return files;
}

/** The seeded sample of `n` grid points the stored codes use, encoded with the current weights (float32, as stored). */
async function encodeSample(trainer: RunTrainer, dataset: GroundTruthDataset, n: number, seed: number) {
  const sizes = dataset.info.factors.map((f) => f.size);
  const indices = sampleIndices(sizes, n, new Rng(seed).fork('codes'));
  const L = trainer.latent;
  const means = new Float32Array(n * L);
  const logvars = trainer.variational ? new Float32Array(n * L) : null;
  const chunk = 256;
  for (let s = 0; s < n; s += chunk) {
    const idx = indices.subarray(s, Math.min(n, s + chunk));
    const enc = trainer.encode(renderBatch(dataset, idx), idx.length);
    means.set(enc.mean, s * L);
    if (logvars && enc.logvar) logvars.set(enc.logvar, s * L);
    await new Promise((r) => setImmediate(r));
  }
  return { indices, means, logvars };
}

/**
 * The same sample and encoding as `writeCodes`, kept in memory: what the
 * periodic evaluation scores, equal value for value to `readCodes` of codes
 * written with the same weights, size and seed.
 */
export async function encodeCodes(trainer: RunTrainer, dataset: GroundTruthDataset, n: number, seed: number): Promise<StoredCodes> {
  const sizes = dataset.info.factors.map((f) => f.size);
  const { indices, means, logvars } = await encodeSample(trainer, dataset, n, seed);
  return {
    n,
    dims: trainer.latent,
    means: Float64Array.from(means),
    logvars: logvars ? Float64Array.from(logvars) : null,
    factors: factorsOf(sizes, indices),
    indices,
  };
}

export interface StoredCodes {
  n: number;
  dims: number;
  means: Float64Array;
  logvars: Float64Array | null;
  factors: Int32Array;
  indices: Int32Array;
}

export function readCodes(dir: string): StoredCodes {
  const load = (name: string) => readNpy(new Uint8Array(fs.readFileSync(path.join(dir, name))));
  const m = load(CODES_FILES.means);
  const f = load(CODES_FILES.factors);
  const idx = load(CODES_FILES.indices);
  const lvPath = path.join(dir, CODES_FILES.logvars);
  const lv = fs.existsSync(lvPath) ? load(CODES_FILES.logvars) : null;
  return {
    n: m.shape[0]!,
    dims: m.shape[1]!,
    means: m.data,
    logvars: lv ? lv.data : null,
    factors: Int32Array.from(f.data),
    indices: Int32Array.from(idx.data),
  };
}
