/**
 * Encoder and decoder networks of disentanglement_lib (used by the paper),
 * written with tfjs-core ops on explicit variables so that weights can be
 * saved and restored exactly.
 *
 * Convolutional (64×64×C input):
 *   encoder: conv 32 k4 s2 → conv 32 k4 s2 → conv 64 k2 s2 → conv 64 k2 s2
 *            (all 'same', ReLU) → flatten → dense 256 ReLU → heads mean, log-variance
 *   decoder: dense 256 ReLU → dense 1024 ReLU → reshape 4×4×64 →
 *            deconv 64, 32, 32 (k4 s2 'same', ReLU) → deconv C (k4 s2 'same', logits)
 * Fully connected:
 *   encoder: flatten → dense 1200 ReLU → dense 1200 ReLU → heads
 *   decoder: dense 1200 tanh ×3 → dense H·W·C logits → reshape
 *
 * Weights Glorot-uniform (limit √(6/(fan_in+fan_out)), with a convolution's
 * fans multiplied by its receptive field, as Keras/TF do), biases zero, drawn
 * from a seeded Rng in a fixed order.
 */
import type { Tensor, Tensor2D, Tensor4D, Variable } from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.js';
import type { Tf } from '../compute/backend.js';

export type ArchKind = 'conv' | 'fc';

export interface ParamInfo {
  /** Stable name within the model, e.g. 'encoder/conv1/kernel'. */
  name: string;
  variable: Variable;
}

export interface EncoderOutput {
  mean: Tensor2D;
  /** Absent for deterministic encoders (no log-variance head). */
  logvar: Tensor2D | null;
}

export interface Encoder {
  params: ParamInfo[];
  apply(x: Tensor4D): EncoderOutput;
}

export interface Decoder {
  params: ParamInfo[];
  /** Bernoulli logits, N×H×W×C. */
  apply(z: Tensor2D): Tensor4D;
}

export interface NetOptions {
  arch: ArchKind;
  /** Image shape [H, W, C]; the conv nets need H = W = 64. */
  imageShape: readonly [number, number, number];
  latent: number;
  rng: Rng;
  /** Prefix of the (engine-wide unique) tfjs variable names. */
  scope: string;
}

/** Glorot-uniform values for a weight of the given shape. */
export function glorotUniform(shape: readonly number[], rng: Rng): Float32Array {
  let fanIn: number;
  let fanOut: number;
  if (shape.length === 2) {
    fanIn = shape[0]!;
    fanOut = shape[1]!;
  } else {
    const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
    fanIn = receptive * shape[shape.length - 2]!;
    fanOut = receptive * shape[shape.length - 1]!;
  }
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-limit, limit);
  return out;
}

class ParamBuilder {
  readonly params: ParamInfo[] = [];
  constructor(
    private readonly tf: Tf,
    private readonly rng: Rng,
    private readonly scope: string,
  ) {}

  weight(name: string, shape: number[]): Variable {
    return this.add(name, shape, glorotUniform(shape, this.rng));
  }

  bias(name: string, n: number): Variable {
    return this.add(name, [n], new Float32Array(n));
  }

  add(name: string, shape: number[], values: Float32Array): Variable {
    const v = this.tf.variable(this.tf.tensor(values, shape, 'float32'), true, `${this.scope}/${name}`);
    this.params.push({ name, variable: v });
    return v;
  }
}

interface Dense {
  w: Variable;
  b: Variable;
}

function dense(pb: ParamBuilder, name: string, nIn: number, nOut: number): Dense {
  return { w: pb.weight(`${name}/kernel`, [nIn, nOut]), b: pb.bias(`${name}/bias`, nOut) };
}

function applyDense(tf: Tf, d: Dense, x: Tensor2D, act: 'relu' | 'tanh' | 'linear' | 'leaky_relu'): Tensor2D {
  const y = tf.add(tf.matMul(x, d.w as Tensor2D), d.b) as Tensor2D;
  switch (act) {
    case 'relu':
      return tf.relu(y);
    case 'tanh':
      return tf.tanh(y);
    case 'leaky_relu':
      return tf.leakyRelu(y, 0.2);
    case 'linear':
      return y;
  }
}

interface Conv {
  w: Variable;
  b: Variable;
  stride: number;
}

function checkConvShape(imageShape: readonly [number, number, number]): void {
  if (imageShape[0] !== 64 || imageShape[1] !== 64) {
    throw new Error(`the convolutional architecture needs 64×64 images, got ${imageShape[0]}×${imageShape[1]}`);
  }
}

export function createEncoder(tf: Tf, opts: NetOptions & { deterministic?: boolean }): Encoder {
  const pb = new ParamBuilder(tf, opts.rng, `${opts.scope}/encoder`);
  const [H, W, C] = opts.imageShape;
  const L = opts.latent;
  const deterministic = opts.deterministic ?? false;
  if (opts.arch === 'conv') {
    checkConvShape(opts.imageShape);
    const convs: Conv[] = [
      { w: pb.weight('conv1/kernel', [4, 4, C, 32]), b: pb.bias('conv1/bias', 32), stride: 2 },
      { w: pb.weight('conv2/kernel', [4, 4, 32, 32]), b: pb.bias('conv2/bias', 32), stride: 2 },
      { w: pb.weight('conv3/kernel', [2, 2, 32, 64]), b: pb.bias('conv3/bias', 64), stride: 2 },
      { w: pb.weight('conv4/kernel', [2, 2, 64, 64]), b: pb.bias('conv4/bias', 64), stride: 2 },
    ];
    const fc = dense(pb, 'dense1', 4 * 4 * 64, 256);
    const mean = dense(pb, 'mean', 256, L);
    const logvar = deterministic ? null : dense(pb, 'logvar', 256, L);
    return {
      params: pb.params,
      apply(x) {
        let h: Tensor4D = x;
        for (const c of convs) h = tf.relu(tf.add(tf.conv2d(h, c.w as Tensor4D, c.stride, 'same'), c.b)) as Tensor4D;
        const flat = tf.reshape(h, [h.shape[0], 4 * 4 * 64]) as Tensor2D;
        const e5 = applyDense(tf, fc, flat, 'relu');
        return { mean: applyDense(tf, mean, e5, 'linear'), logvar: logvar ? applyDense(tf, logvar, e5, 'linear') : null };
      },
    };
  }
  const d1 = dense(pb, 'dense1', H * W * C, 1200);
  const d2 = dense(pb, 'dense2', 1200, 1200);
  const mean = dense(pb, 'mean', 1200, L);
  const logvar = deterministic ? null : dense(pb, 'logvar', 1200, L);
  return {
    params: pb.params,
    apply(x) {
      const flat = tf.reshape(x, [x.shape[0], H * W * C]) as Tensor2D;
      const h = applyDense(tf, d2, applyDense(tf, d1, flat, 'relu'), 'relu');
      return { mean: applyDense(tf, mean, h, 'linear'), logvar: logvar ? applyDense(tf, logvar, h, 'linear') : null };
    },
  };
}

export function createDecoder(tf: Tf, opts: NetOptions): Decoder {
  const pb = new ParamBuilder(tf, opts.rng, `${opts.scope}/decoder`);
  const [H, W, C] = opts.imageShape;
  const L = opts.latent;
  if (opts.arch === 'conv') {
    checkConvShape(opts.imageShape);
    const d1 = dense(pb, 'dense1', L, 256);
    const d2 = dense(pb, 'dense2', 256, 1024);
    // conv2dTranspose kernels are [kh, kw, out, in].
    const deconvs: { w: Variable; b: Variable; out: number; relu: boolean }[] = [
      { w: pb.weight('deconv1/kernel', [4, 4, 64, 64]), b: pb.bias('deconv1/bias', 64), out: 64, relu: true },
      { w: pb.weight('deconv2/kernel', [4, 4, 32, 64]), b: pb.bias('deconv2/bias', 32), out: 32, relu: true },
      { w: pb.weight('deconv3/kernel', [4, 4, 32, 32]), b: pb.bias('deconv3/bias', 32), out: 32, relu: true },
      { w: pb.weight('deconv4/kernel', [4, 4, C, 32]), b: pb.bias('deconv4/bias', C), out: C, relu: false },
    ];
    return {
      params: pb.params,
      apply(z) {
        const n = z.shape[0];
        const h2 = applyDense(tf, d2, applyDense(tf, d1, z, 'relu'), 'relu');
        let h = tf.reshape(h2, [n, 4, 4, 64]) as Tensor4D;
        let size = 4;
        for (const d of deconvs) {
          size *= 2;
          const y = tf.add(tf.conv2dTranspose(h, d.w as Tensor4D, [n, size, size, d.out], 2, 'same'), d.b) as Tensor4D;
          h = d.relu ? tf.relu(y) : y;
        }
        return h;
      },
    };
  }
  const d1 = dense(pb, 'dense1', L, 1200);
  const d2 = dense(pb, 'dense2', 1200, 1200);
  const d3 = dense(pb, 'dense3', 1200, 1200);
  const out = dense(pb, 'logits', 1200, H * W * C);
  return {
    params: pb.params,
    apply(z) {
      const h = applyDense(tf, d3, applyDense(tf, d2, applyDense(tf, d1, z, 'tanh'), 'tanh'), 'tanh');
      return tf.reshape(applyDense(tf, out, h, 'linear'), [z.shape[0], H, W, C]) as Tensor4D;
    },
  };
}

/** A fully connected network (used by FactorVAE's discriminator). */
export interface Mlp {
  params: ParamInfo[];
  apply(x: Tensor2D): Tensor2D;
}

export function createMlp(
  tf: Tf,
  opts: { sizes: readonly number[]; hidden: 'relu' | 'tanh' | 'leaky_relu'; rng: Rng; scope: string },
): Mlp {
  const pb = new ParamBuilder(tf, opts.rng, opts.scope);
  const layers: Dense[] = [];
  for (let i = 0; i + 1 < opts.sizes.length; i++) layers.push(dense(pb, `dense${i + 1}`, opts.sizes[i]!, opts.sizes[i + 1]!));
  return {
    params: pb.params,
    apply(x) {
      let h = x;
      layers.forEach((l, i) => {
        h = applyDense(tf, l, h, i + 1 < layers.length ? opts.hidden : 'linear');
      });
      return h;
    },
  };
}

/** Add extra named variables (e.g. an objective's own parameters) under a scope. */
export function createParams(
  tf: Tf,
  scope: string,
  specs: readonly { name: string; shape: number[]; init: Float32Array }[],
): ParamInfo[] {
  const pb = new ParamBuilder(tf, { uniform: () => 0 } as unknown as Rng, scope);
  for (const s of specs) pb.add(s.name, s.shape, s.init);
  return pb.params;
}

export function disposeParams(params: readonly ParamInfo[]): void {
  for (const p of params) p.variable.dispose();
}

export type { Tensor };
