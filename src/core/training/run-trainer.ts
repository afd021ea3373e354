/**
 * The trainer as a run sees it (worker, Run detail views): built from a
 * RunConfig on the backend the run asks for.
 */
import type { RunConfig } from '../../shared/runs.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import { initBackend, withHostBackend } from '../compute/backend.js';
import { createTrainer, NonFiniteError, type StepResult, type Trainer } from './trainer.js';

export { NonFiniteError };

export interface RunTrainer {
  /** Steps taken so far. */
  readonly step: number;
  readonly latent: number;
  readonly variational: boolean;
  readonly hasDecoder: boolean;
  trainStep(): StepResult;
  /** One step on any backend (async reads; on webgpu the only way). */
  trainStepAsync(): Promise<StepResult>;
  /**
   * Run `f` where encode/decode read synchronously: on webgpu, on a host
   * (wasm/cpu) copy of the current weights; elsewhere just `f()`.
   */
  onHost<T>(f: () => Promise<T>): Promise<T>;
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

export async function createRunTrainer(cfg: RunConfig, dataset: GroundTruthDataset, opts: { training?: boolean } = {}): Promise<RunTrainer> {
  // only a training worker steps asynchronously; views read synchronously (webgpu → wasm there)
  await initBackend({ ...(cfg.backend ? { prefer: cfg.backend } : {}), ...(opts.training ? { asyncReads: true } : {}) });
  const make = () => createTrainer({
    modelId: cfg.model,
    params: cfg.params,
    dataset,
    latent: cfg.latent,
    batch: cfg.batch,
    seed: cfg.seed,
    arch: cfg.arch,
    lr: cfg.lr,
  });
  const t = make();
  let host: Trainer | null = null;
  let active: Trainer = t;
  const onHost = async <T>(f: () => Promise<T>): Promise<T> => {
    if (!t.main.onDevice) return f();
    await t.pull();
    return withHostBackend(async () => {
      host ??= make();
      const h = host;
      for (const [from, to] of [[t.main, h.main], ...(t.aux && h.aux ? [[t.aux, h.aux]] : [])] as const) {
        from.slots.forEach((s, i) => {
          const d = to.slots[i]!;
          d.w.set(s.w);
          to.push(d);
        });
      }
      active = h;
      try {
        return await f();
      } finally {
        active = t;
      }
    });
  };
  return {
    get step() {
      return t.globalStep;
    },
    latent: t.latent,
    variational: t.variational,
    hasDecoder: t.decoder !== null,
    trainStep: () => t.step(),
    trainStepAsync: () => t.stepAsync(),
    onHost,
    encode: (x, n) => active.encodeImages(x, n),
    decode: (z, n) => active.decode(z, n),
    decodeLogits: (z, n) => {
      const a = active;
      const tf = a.tf;
      return tf.tidy(() => a.decoderLogits(tf.tensor2d(z, [n, a.latent])).dataSync() as Float32Array);
    },
    save: (dir) => t.save(dir),
    restore: (dir) => t.restore(dir),
    dispose: () => {
      t.dispose();
      host?.dispose();
    },
  };
}
