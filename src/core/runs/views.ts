/**
 * What Run detail shows of a trained model: reconstructions, latent
 * traversals and the stored codes. Models are loaded in the main process from
 * the run's latest checkpoint (cached per checkpoint).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../../shared/contract.js';
import type { RunSummary } from '../../shared/runs.js';
import type { DatasetService } from '../datasets/service.js';
import { factorsToIndex, renderBatch, sampleIndices } from '../datasets/grid.js';
import { toImageBatch } from '../images.js';
import type { RunRepository } from '../store/runs.js';
import { Rng } from '../util/rng.js';
import { readCodes } from '../training/codes.js';
import { createRunTrainer, type RunTrainer } from '../training/run-trainer.js';

export class RunViews {
  private loaded = new Map<string, { checkpoint: string; trainer: RunTrainer }>();

  constructor(
    private readonly labDir: string,
    private readonly runs: RunRepository,
    private readonly datasets: DatasetService,
  ) {}

  private async model(run: RunSummary): Promise<RunTrainer> {
    const cps = this.runs.checkpoints(run.id);
    const last = cps[cps.length - 1];
    if (!last) throw new LabError('conflict', `run ${run.id} has no checkpoint yet`);
    const dir = path.join(this.labDir, last.path);
    const hit = this.loaded.get(run.id);
    if (hit && hit.checkpoint === dir) return hit.trainer;
    hit?.trainer.dispose();
    const dataset = await this.datasets.open(run.datasetId);
    const trainer = await createRunTrainer(run.config, dataset);
    await trainer.restore(dir);
    this.loaded.set(run.id, { checkpoint: dir, trainer });
    return trainer;
  }

  private async decoderModel(run: RunSummary): Promise<RunTrainer> {
    const trainer = await this.model(run);
    if (!trainer.hasDecoder) throw new LabError('conflict', `${run.model} has no decoder: it learns codes only, so there is nothing to reconstruct`);
    return trainer;
  }

  async reconstructions(run: RunSummary, count: number, seed: number) {
    const trainer = await this.decoderModel(run);
    const ds = await this.datasets.open(run.datasetId);
    const sizes = ds.info.factors.map((f) => f.size);
    const indices = Array.from(sampleIndices(sizes, count, new Rng(seed)));
    const x = renderBatch(ds, indices);
    const enc = trainer.encode(x, count);
    const rec = trainer.decode(enc.mean, count);
    return {
      indices,
      originals: toImageBatch(x, count, ds.info.imageShape),
      reconstructions: toImageBatch(rec, count, ds.info.imageShape),
    };
  }

  /** KL per dimension from the latest logged values (or the code variance for deterministic models). */
  private klOrder(run: RunSummary, L: number): { dims: number[]; kl: number[] } {
    const kl = Array.from({ length: L }, (_, j) => run.latest[`kl_dim/${j}`] ?? 0);
    const dims = kl.map((_, j) => j).sort((a, b) => kl[b]! - kl[a]! || a - b);
    return { dims, kl: dims.map((j) => kl[j]!) };
  }

  async traversals(run: RunSummary, index: number | undefined, range: number, steps: number) {
    const trainer = await this.decoderModel(run);
    const ds = await this.datasets.open(run.datasetId);
    const sizes = ds.info.factors.map((f) => f.size);
    const idx = index ?? factorsToIndex(sizes, sizes.map((s) => Math.floor(s / 2)));
    if (idx >= ds.info.count) throw new LabError('invalid_payload', `index ${idx} outside 0…${ds.info.count - 1}`);
    const L = trainer.latent;
    const enc = trainer.encode(renderBatch(ds, [idx]), 1);
    const { dims, kl } = this.klOrder(run, L);
    const z = new Float32Array(dims.length * steps * L);
    dims.forEach((d, r) => {
      for (let s = 0; s < steps; s++) {
        const row = (r * steps + s) * L;
        z.set(enc.mean, row);
        z[row + d] = -range + (2 * range * s) / (steps - 1);
      }
    });
    const images = trainer.decode(z, dims.length * steps);
    return { index: idx, dims, kl, steps, images: toImageBatch(images, dims.length * steps, ds.info.imageShape) };
  }

  latents(run: RunSummary, limit: number) {
    const dir = path.join(this.labDir, 'runs', run.id, 'codes');
    if (!fs.existsSync(dir)) throw new LabError('conflict', `run ${run.id} has no stored codes (they are written when training finishes)`);
    const c = readCodes(dir);
    const n = Math.min(limit, c.n);
    const K = c.factors.length / c.n;
    const ds = this.datasets.get(run.datasetId);
    const means: number[][] = [];
    const factors: number[][] = [];
    for (let i = 0; i < n; i++) {
      means.push(Array.from(c.means.subarray(i * c.dims, (i + 1) * c.dims)));
      factors.push(Array.from(c.factors.subarray(i * K, (i + 1) * K)));
    }
    let posteriorVarianceMean: number[] | null = null;
    if (c.logvars) {
      posteriorVarianceMean = new Array<number>(c.dims).fill(0);
      for (let i = 0; i < c.n; i++) for (let j = 0; j < c.dims; j++) posteriorVarianceMean[j]! += Math.exp(c.logvars[i * c.dims + j]!) / c.n;
    }
    return { dims: c.dims, factorNames: ds.factors.map((f) => f.name), means, factors, posteriorVarianceMean };
  }

  dispose(): void {
    for (const { trainer } of this.loaded.values()) trainer.dispose();
    this.loaded.clear();
  }
}
