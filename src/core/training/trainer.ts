/**
 * In-process trainer: one model (encoder, decoder where used, an objective
 * and its optional second player) trained by Adam on batches drawn uniformly
 * from a ground-truth dataset's factor grid.
 *
 * Determinism: all randomness of step s (batch, reparameterisation noise,
 * shuffles) comes from `new Rng(seed).fork('step:' + s)`, so a run is a pure
 * function of (seed, weights, optimiser state, step) — which is exactly what
 * a checkpoint stores; N steps + save + restore + M steps equals N + M steps.
 *
 * A step whose loss terms or gradients are NaN/±Inf throws NonFiniteError
 * before anything is applied: weights, optimiser state and the step counter
 * keep their last good values.
 */
import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import type { ParamValues } from '../../shared/params.js';
import { renderBatch, sampleIndices } from '../datasets/grid.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import type { ArchKind, Decoder, Encoder, ParamInfo } from '../models/architectures.js';
import { createDecoder, createEncoder, disposeParams } from '../models/architectures.js';
import type { ForwardOutputs, LossContext, ObjectiveDef, ObjectiveInstance } from '../models/objectives/types.js';
import { getObjective, resolveModelParams } from '../models/registry.js';
import { Rng } from '../util/rng.js';
import { Adam } from './adam.js';
import type { BackendName, Tf } from '../compute/backend.js';
import { backendName, getTf, isAsyncBackend } from '../compute/backend.js';
import { assertDeviceAlive, loseWebgpuDevice, readOnDevice } from '../compute/webgpu.js';
import type { StepProbe } from '../compute/profile.js';
import { restoreCheckpoint, saveCheckpoint } from './checkpoint.js';
import { pairOptions, samplePairs } from './pairs.js';

export interface TrainerOptions {
  modelId: string;
  /** Hyperparameters (missing ones take their defaults; unknown ones are an error). */
  params?: Record<string, unknown>;
  dataset: GroundTruthDataset;
  latent: number;
  /** Images per step (pairs per step for pair objectives). */
  batch: number;
  seed: number;
  arch: ArchKind;
  /** Adam learning rate of the model (default 1e-4). */
  lr?: number;
}

export interface StepResult {
  /** The step just taken (counted from 0). */
  step: number;
  /** Every loss term by name (main objective and second player). */
  losses: Record<string, number>;
  /** Batch-mean KL per latent dimension (variational models). */
  klPerDim?: number[];
}

export interface Codes {
  /** N×L posterior means (the code of deterministic models). */
  mean: Float32Array;
  /** N×L log-variances, or null for deterministic models. */
  logvar: Float32Array | null;
}

export class NonFiniteError extends Error {
  constructor(
    readonly step: number,
    readonly where: string,
    readonly losses: Record<string, number>,
  ) {
    super(`non-finite value at step ${step} in ${where}; the last good state is kept`);
    this.name = 'NonFiniteError';
  }
}

/** Randomness of one step. */
export function stepRng(seed: number, step: number): Rng {
  return new Rng(seed).fork(`step:${step}`);
}

interface Grads {
  mainGrads: { value: Scalar; grads: Record<string, Tensor> };
  auxGrads: { value: Scalar; grads: Record<string, Tensor> } | null;
  terms: Record<string, Scalar>;
  auxTerms: Record<string, Scalar>;
  klPerDim: Tensor1D | undefined;
  toDispose: Tensor[];
}

/** DLAB_WEBGPU_LOSE_AT_STEP=N destroys the GPU device at step N (tests of the lost-device path). */
function loseDeviceAtStep(): number | null {
  const v = process.env['DLAB_WEBGPU_LOSE_AT_STEP'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

let trainerCounter = 0;
const ENCODE_CHUNK = 256;

export class Trainer {
  readonly tf: Tf;
  readonly objective: ObjectiveDef;
  readonly params: ParamValues;
  readonly arch: ArchKind;
  readonly latent: number;
  readonly batch: number;
  readonly seed: number;
  readonly lr: number;
  readonly dataset: GroundTruthDataset;
  readonly imageShape: [number, number, number];
  readonly backend: BackendName;
  readonly encoder: Encoder;
  readonly decoder: Decoder | null;
  readonly instance: ObjectiveInstance;
  readonly main: Adam;
  readonly aux: Adam | null;
  private stepCount = 0;
  private disposed = false;
  /** Told the phase of each step (the bench's profiler); absent in runs. */
  probe: StepProbe | null = null;

  constructor(opts: TrainerOptions) {
    const be = backendName();
    if (!be) throw new Error('call initBackend() before creating a trainer');
    this.backend = be;
    this.tf = getTf();
    const tf = this.tf;
    this.objective = getObjective(opts.modelId);
    this.params = resolveModelParams(opts.modelId, opts.params ?? {});
    this.arch = opts.arch;
    this.latent = opts.latent;
    this.batch = opts.batch;
    this.seed = opts.seed;
    this.lr = opts.lr ?? 1e-4;
    this.dataset = opts.dataset;
    const [h, w, c] = opts.dataset.info.imageShape;
    this.imageShape = [h, w, c];
    if (!Number.isInteger(opts.latent) || opts.latent < 1) throw new Error(`latent must be a positive integer, got ${opts.latent}`);
    if (!Number.isInteger(opts.batch) || opts.batch < 2) throw new Error(`batch must be an integer ≥ 2, got ${opts.batch}`);

    const scope = `t${++trainerCounter}`;
    const init = new Rng(opts.seed).fork('init');
    const net = { arch: opts.arch, imageShape: this.imageShape, latent: opts.latent, scope };
    this.encoder = createEncoder(tf, { ...net, rng: init.fork('encoder'), deterministic: !this.objective.variational });
    this.decoder = this.objective.decoder ? createDecoder(tf, { ...net, rng: init.fork('decoder') }) : null;
    this.instance = this.objective.create({ tf, latent: opts.latent, params: this.params, rng: init.fork('objective'), scope });

    const mainParams: ParamInfo[] = [
      ...this.encoder.params.map((p) => ({ name: `encoder/${p.name}`, variable: p.variable })),
      ...(this.decoder?.params ?? []).map((p) => ({ name: `decoder/${p.name}`, variable: p.variable })),
      ...this.instance.extraParams.map((p) => ({ name: `objective/${p.name}`, variable: p.variable })),
    ];
    // the backend active now decides (a host copy of a webgpu trainer is built with wasm/cpu active)
    const onDevice = isAsyncBackend(tf.getBackend() as BackendName);
    this.main = new Adam(tf, { lr: this.lr, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, mainParams, onDevice);
    this.aux = this.instance.aux ? new Adam(tf, this.instance.aux.adam, this.instance.aux.params, onDevice) : null;
  }

  get modelId(): string {
    return this.objective.id;
  }
  get variational(): boolean {
    return this.objective.variational;
  }
  get pairs(): boolean {
    return this.objective.pairs;
  }
  /** Number of steps taken so far (= the index of the next step). */
  get globalStep(): number {
    return this.stepCount;
  }
  /** Number of trainable weights (model + objective + second player). */
  get parameterCount(): number {
    let n = 0;
    for (const s of this.main.slots) n += s.w.length;
    for (const s of this.aux?.slots ?? []) n += s.w.length;
    return n;
  }

  /** Indices of the batch of step `s` (for pair objectives: x_t then x_{t+1}). */
  batchIndices(s: number): Int32Array {
    const rng = stepRng(this.seed, s).fork('data');
    const sizes = this.dataset.info.factors.map((f) => f.size);
    if (!this.objective.pairs) return sampleIndices(sizes, this.batch, rng);
    const { first, second } = samplePairs(sizes, this.batch, rng, pairOptions(this.params));
    const out = new Int32Array(2 * this.batch);
    out.set(first, 0);
    out.set(second, this.batch);
    return out;
  }

  private imagesTensor(images: Float32Array, n: number): Tensor4D {
    const [h, w, c] = this.imageShape;
    return this.tf.tensor4d(images, [n, h, w, c]);
  }

  /** The forward pass objectives consume. */
  forward(x: Tensor4D, eps: Tensor2D | null): ForwardOutputs {
    const tf = this.tf;
    const { mean, logvar } = this.encoder.apply(x);
    const z = logvar && eps ? (tf.add(mean, tf.mul(eps, tf.exp(tf.mul(0.5, logvar)))) as Tensor2D) : mean;
    const logits = this.decoder ? this.decoder.apply(z) : null;
    return { x, mean, logvar, z, logits };
  }

  /** The batch, forward pass and gradients of step `s` (the caller reads, applies and disposes). */
  private gradients(s: number): Grads {
    const tf = this.tf;
    const probe = this.probe;
    probe?.enter('batch');
    const rng = stepRng(this.seed, s);
    const indices = this.batchIndices(s);
    const n = indices.length;
    const x = this.imagesTensor(renderBatch(this.dataset, indices), n);
    let eps: Tensor2D | null = null;
    if (this.objective.variational) {
      const noise = rng.fork('noise');
      const e = new Float32Array(n * this.latent);
      for (let i = 0; i < e.length; i++) e[i] = noise.normal();
      eps = tf.tensor2d(e, [n, this.latent]);
    }
    const ctx: LossContext = { tf, step: s, params: this.params, rng: rng.fork('objective') };
    let terms: Record<string, Scalar> = {};
    let klPerDim: Tensor1D | undefined;
    let zKept: Tensor2D | null = null;
    const toDispose: Tensor[] = [x];
    if (eps) toDispose.push(eps);
    try {
      probe?.enter('forward');
      const mainGrads = tf.variableGrads(() => {
        const out = this.forward(x, eps);
        const res = this.instance.loss(out, ctx);
        terms = Object.fromEntries(Object.entries(res.terms).map(([k, v]) => [k, tf.keep(v)]));
        if (res.klPerDim) klPerDim = tf.keep(res.klPerDim);
        if (this.instance.aux) zKept = tf.keep(out.z);
        probe?.enter('backward');
        return res.loss;
      }, this.main.variables);
      toDispose.push(mainGrads.value, ...Object.values(mainGrads.grads), ...Object.values(terms));
      if (klPerDim) toDispose.push(klPerDim);
      let auxGrads: { value: Scalar; grads: Record<string, Tensor> } | null = null;
      let auxTerms: Record<string, Scalar> = {};
      if (this.instance.aux && this.aux && zKept) {
        toDispose.push(zKept);
        const aux = this.instance.aux;
        const z = zKept;
        const auxCtx: LossContext = { ...ctx, rng: rng.fork('aux') };
        auxGrads = tf.variableGrads(() => {
          const res = aux.loss(z, auxCtx);
          auxTerms = Object.fromEntries(Object.entries(res.terms).map(([k, v]) => [k, tf.keep(v)]));
          return res.loss;
        }, this.aux.variables);
        toDispose.push(auxGrads.value, ...Object.values(auxGrads.grads), ...Object.values(auxTerms));
      }
      return { mainGrads, auxGrads, terms, auxTerms, klPerDim, toDispose };
    } catch (e) {
      for (const t of toDispose) t.dispose();
      throw e;
    }
  }

  /** One optimisation step (backends with synchronous reads: wasm, cpu, tensorflow). */
  step(): StepResult {
    this.assertLive();
    if (this.main.onDevice) throw new Error(`the ${this.backend} backend reads asynchronously only: use stepAsync()`);
    const s = this.stepCount;
    const probe = this.probe;
    const { mainGrads, auxGrads, terms, auxTerms, klPerDim, toDispose } = this.gradients(s);
    try {
      probe?.enter('read');
      const losses: Record<string, number> = {};
      for (const [k, v] of Object.entries(terms)) losses[k] = v.dataSync()[0]!;
      for (const [k, v] of Object.entries(auxTerms)) losses[k] = v.dataSync()[0]!;
      for (const [k, v] of Object.entries(losses)) if (!Number.isFinite(v)) throw new NonFiniteError(s, `loss term '${k}'`, losses);
      const kl = klPerDim ? Array.from(klPerDim.dataSync()) : undefined;
      const badMain = this.main.firstNonFinite(mainGrads.grads);
      if (badMain) throw new NonFiniteError(s, `gradient of ${badMain}`, losses);
      if (auxGrads && this.aux) {
        const badAux = this.aux.firstNonFinite(auxGrads.grads);
        if (badAux) throw new NonFiniteError(s, `gradient of ${badAux}`, losses);
      }
      probe?.enter('optimiser');
      this.main.apply(mainGrads.grads);
      if (auxGrads && this.aux) this.aux.apply(auxGrads.grads);
      this.stepCount = s + 1;
      return kl ? { step: s, losses, klPerDim: kl } : { step: s, losses };
    } finally {
      for (const t of toDispose) t.dispose();
    }
  }

  /**
   * One optimisation step on any backend, reading with `await data()`: the
   * batch goes up, one vector of the logged scalars (loss terms, KL per
   * dimension, a finiteness flag per gradient) comes down, and on a device
   * backend Adam updates on the device. On wasm/cpu it equals `step()`.
   */
  async stepAsync(): Promise<StepResult> {
    this.assertLive();
    if (!this.main.onDevice) return this.step();
    assertDeviceAlive();
    const tf = this.tf;
    const s = this.stepCount;
    if (loseDeviceAtStep() === s) loseWebgpuDevice();
    const { mainGrads, auxGrads, terms, auxTerms, klPerDim, toDispose } = this.gradients(s);
    try {
      const names = [...Object.keys(terms), ...Object.keys(auxTerms)];
      const main = this.main.nonFiniteFlags(mainGrads.grads);
      const aux = auxGrads && this.aux ? this.aux.nonFiniteFlags(auxGrads.grads) : { names: [], flags: null };
      const parts: Tensor[] = [...Object.values(terms), ...Object.values(auxTerms)].map((t) => tf.reshape(t, [1]));
      if (klPerDim) parts.push(klPerDim);
      if (main.flags) parts.push(main.flags);
      if (aux.flags) parts.push(aux.flags);
      const all = tf.concat(parts);
      for (const p of parts) if (p !== klPerDim) p.dispose();
      toDispose.push(all);
      const values = await readOnDevice(all);
      const losses: Record<string, number> = {};
      names.forEach((k, i) => (losses[k] = values[i]!));
      for (const [k, v] of Object.entries(losses)) if (!Number.isFinite(v)) throw new NonFiniteError(s, `loss term '${k}'`, losses);
      let o = names.length;
      const kl = klPerDim ? Array.from(values.subarray(o, (o += klPerDim.size))) : undefined;
      for (const group of [main, aux]) {
        for (const name of group.names) if (values[o++] !== 0) throw new NonFiniteError(s, `gradient of ${name}`, losses);
      }
      this.main.applyOnDevice(mainGrads.grads);
      if (auxGrads && this.aux) this.aux.applyOnDevice(auxGrads.grads);
      this.stepCount = s + 1;
      return kl ? { step: s, losses, klPerDim: kl } : { step: s, losses };
    } finally {
      for (const t of toDispose) t.dispose();
    }
  }

  /**
   * The loss terms and gradients (by parameter name) of the next step, read
   * with `await data()` and applied to nothing (backend comparisons).
   */
  async gradientsAsync(): Promise<{ losses: Record<string, number>; grads: Record<string, Float32Array> }> {
    this.assertLive();
    const { mainGrads, auxGrads, terms, auxTerms, toDispose } = this.gradients(this.stepCount);
    try {
      const losses: Record<string, number> = {};
      for (const [k, v] of [...Object.entries(terms), ...Object.entries(auxTerms)]) losses[k] = (await readOnDevice(v))[0]!;
      const grads: Record<string, Float32Array> = {};
      for (const [adam, g] of [[this.main, mainGrads], ...(auxGrads && this.aux ? [[this.aux, auxGrads] as const] : [])] as const) {
        for (const s of adam.slots) {
          const t = g.grads[s.variable.name];
          if (t) grads[s.name] = Float32Array.from(await readOnDevice(t));
        }
      }
      return { losses, grads };
    } finally {
      for (const t of toDispose) t.dispose();
    }
  }

  /** Device mode: copy weights and optimiser moments into host arrays (before a checkpoint or a host copy). */
  async pull(): Promise<void> {
    await this.main.pull();
    await this.aux?.pull();
  }

  /** Posterior codes of images given as N×H×W×C float32 in [0, 1]. */
  encodeImages(images: Float32Array, n: number): Codes {
    this.assertLive();
    const tf = this.tf;
    const L = this.latent;
    const size = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
    const mean = new Float32Array(n * L);
    const logvar = this.objective.variational ? new Float32Array(n * L) : null;
    for (let s = 0; s < n; s += ENCODE_CHUNK) {
      const m = Math.min(ENCODE_CHUNK, n - s);
      tf.tidy(() => {
        const x = this.imagesTensor(images.subarray(s * size, (s + m) * size), m);
        const out = this.encoder.apply(x);
        mean.set(out.mean.dataSync() as Float32Array, s * L);
        if (logvar && out.logvar) logvar.set(out.logvar.dataSync() as Float32Array, s * L);
      });
    }
    return { mean, logvar };
  }

  /** Posterior codes of dataset images by grid index. */
  encode(indices: ArrayLike<number>): Codes {
    return this.encodeImages(renderBatch(this.dataset, indices), indices.length);
  }

  /** Decoder output probabilities (sigmoid of the logits), N×H×W×C, for codes z (N×L). */
  decode(z: Float32Array, n = z.length / this.latent): Float32Array {
    this.assertLive();
    const decoder = this.decoder;
    if (!decoder) throw new Error(`model '${this.modelId}' has no decoder`);
    if (!Number.isInteger(n) || z.length !== n * this.latent) throw new Error(`decode: expected ${n}×${this.latent} codes`);
    const tf = this.tf;
    const size = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
    const out = new Float32Array(n * size);
    for (let s = 0; s < n; s += ENCODE_CHUNK) {
      const m = Math.min(ENCODE_CHUNK, n - s);
      const p = tf.tidy(() => tf.sigmoid(decoder.apply(tf.tensor2d(z.subarray(s * this.latent, (s + m) * this.latent), [m, this.latent]))).dataSync());
      out.set(p as Float32Array, s * size);
    }
    return out;
  }

  /** Reconstructions (decoder probabilities at the posterior mean) of dataset images by grid index. */
  reconstruct(indices: ArrayLike<number>): Float32Array {
    const { mean } = this.encode(indices);
    return this.decode(mean, indices.length);
  }

  /** Decoder logits as a differentiable function (for Jacobians; caller manages tensors). */
  decoderLogits(z: Tensor2D): Tensor4D {
    if (!this.decoder) throw new Error(`model '${this.modelId}' has no decoder`);
    return this.decoder.apply(z);
  }

  async save(dir: string): Promise<void> {
    this.assertLive();
    await saveCheckpoint(this, dir);
  }

  async restore(dir: string): Promise<void> {
    this.assertLive();
    this.stepCount = await restoreCheckpoint(this, dir);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeParams(this.main.slots);
    this.main.dispose();
    if (this.aux) {
      disposeParams(this.aux.slots);
      this.aux.dispose();
    }
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('trainer has been disposed');
  }
}

export function createTrainer(opts: TrainerOptions): Trainer {
  return new Trainer(opts);
}
