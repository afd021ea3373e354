/**
 * The trainer as a run sees it (worker, Run detail views): built from a
 * RunConfig on the backend the run asks for.
 */
import type { RunConfig } from '../../shared/runs.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import { initBackend } from '../compute/backend.js';
import { createTrainer, NonFiniteError, type StepResult } from './trainer.js';

export { NonFiniteError };

export interface RunTrainer {
  /** Steps taken so far. */
  readonly step: number;
  readonly latent: number;
  readonly variational: boolean;
  readonly hasDecoder: boolean;
  trainStep(): StepResult;
  /** Posterior means (and log-variances) of N images (N×H×W×C floats). */
  encode(images: Float32Array, n: number): { mean: Float32Array; logvar: Float32Array | null };
  /** Decoder probabilities for N codes. */
  decode(z: Float32Array, n: number): Float32Array;
  /** Decoder logits for N codes (N×H·W·C, row-major). */
  decodeLogits(z: Float32Array, n: number): Float32Array;
  save(dir: string): Promise<void>;
  restore(dir: string): Promise<void>;
  dispose(): void;
}

export async function createRunTrainer(cfg: RunConfig, dataset: GroundTruthDataset): Promise<RunTrainer> {
  await initBackend(cfg.backend ? { prefer: cfg.backend } : {});
  const t = createTrainer({
    modelId: cfg.model,
    params: cfg.params,
    dataset,
    latent: cfg.latent,
    batch: cfg.batch,
    seed: cfg.seed,
    arch: cfg.arch,
    lr: cfg.lr,
  });
  return {
    get step() {
      return t.globalStep;
    },
    latent: t.latent,
    variational: t.variational,
    hasDecoder: t.decoder !== null,
    trainStep: () => t.step(),
    encode: (x, n) => t.encodeImages(x, n),
    decode: (z, n) => t.decode(z, n),
    decodeLogits: (z, n) => {
      const tf = t.tf;
      return tf.tidy(() => t.decoderLogits(tf.tensor2d(z, [n, t.latent])).dataSync() as Float32Array);
    },
    save: (dir) => t.save(dir),
    restore: (dir) => t.restore(dir),
    dispose: () => t.dispose(),
  };
}
