/**
 * Training of the generator: Adam on J(ψ) = L_ent(x') − L_dis(x') over a
 * seeded sample of grid points, fresh code noise every step, the gradient
 * from the ridge residuals back through pooling, the [0, 1] clip gate, ε,
 * upsampling and the net. Reports progress and honours ctx.signal. Design:
 * ../manipulation.ts.
 */
import type { DatasetInfo } from '../../../shared/domain.js';
import type { ParamValues } from '../../../shared/params.js';
import { nearestSignedPermutation } from '../../analysis/linalg.js';
import type { Mat } from '../../analysis/linalg.js';
import { factorsOf, renderBatch, sampleIndices } from '../../datasets/grid.js';
import type { GroundTruthDataset } from '../../datasets/types.js';
import { imageSize } from '../../datasets/types.js';
import { Rng } from '../../util/rng.js';
import type { PerturbationContext } from '../types.js';
import type { GeneratorEncoding, GeneratorGrads, GeneratorNet, Upsampler } from './generator.js';
import { encodeGeneratorInput, generatorBackward, generatorForward, generatorInputDim, makeUpsampler, upsampleAt, upsampleTranspose } from './generator.js';
import type { Pooler, ReferenceCodes } from './references.js';
import { codeNoise, drawReferenceFeatures, featureCount, fitReferences, makePooler, mixingRotation, referenceCodes } from './references.js';
import { StructureTerm } from './structure.js';
import type { StructureEval } from './structure.js';
import type { ManipulationEval, ManipulationReport, ManipulationWeights } from './types.js';

export interface TrainOptions {
  epsilon: number;
  trainPoints: number;
  steps: number;
  hidden: number;
  resolution: number;
  learningRate: number;
  codeNoise: number;
  basis: number;
  ridge: number;
  noiseSpread: number;
  /** Weight of the variance-structure term (structure.ts); 0 leaves it out. */
  structureWeight: number;
  /** The generator's input encoding (generator.ts). */
  encoding: GeneratorEncoding;
}

export function optionsFromParams(params: ParamValues): TrainOptions {
  return {
    epsilon: Number(params.epsilon),
    trainPoints: Number(params.train_points),
    steps: Number(params.steps),
    hidden: Number(params.hidden),
    resolution: Number(params.resolution),
    learningRate: Number(params.learning_rate),
    codeNoise: Number(params.code_noise),
    basis: Number(params.basis),
    ridge: Number(params.ridge),
    noiseSpread: Number(params.noise_spread ?? 0),
    structureWeight: Number(params.structure_weight ?? 0),
    encoding: params.parity_inputs === true ? 'parity' : 'smooth',
  };
}

class Adam {
  private m: Float64Array;
  private v: Float64Array;
  private t = 0;
  constructor(
    size: number,
    private lr: number,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }
  step(param: Float64Array, grad: Float64Array): void {
    this.t++;
    const b1 = 0.9;
    const b2 = 0.999;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i]!;
      this.m[i] = b1 * this.m[i]! + (1 - b1) * g;
      this.v[i] = b2 * this.v[i]! + (1 - b2) * g * g;
      param[i]! -= (this.lr * (this.m[i]! / c1)) / (Math.sqrt(this.v[i]! / c2) + 1e-8);
    }
  }
}

function abortError(): Error {
  const e = new Error('manipulation training cancelled');
  e.name = 'AbortError';
  return e;
}

// ---------------------------------------------------------------- problem set-up

/** The sizes of one training problem. */
interface Dims {
  sizes: number[];
  cyclic: boolean[];
  K: number;
  /** Image height, width, channels; P = h·w·c pixels. */
  h: number;
  w: number;
  c: number;
  P: number;
  /** Offset grid rows, cols; p = lh·lw·c low-resolution values. */
  lh: number;
  lw: number;
  p: number;
  /** Generator input and hidden width; N training points; B RBFs per code coordinate. */
  D: number;
  H: number;
  N: number;
  B: number;
  eps: number;
  encoding: GeneratorEncoding;
}

function problemDims(info: DatasetInfo, opts: TrainOptions): Dims {
  const sizes = info.factors.map((f) => f.size);
  const cyclic = info.factors.map((f) => f.cyclic);
  const [h, w, c] = info.imageShape;
  const lh = Math.max(1, Math.min(h, Math.round(opts.resolution)));
  const lw = Math.max(1, Math.min(w, Math.round(opts.resolution)));
  return {
    sizes,
    cyclic,
    K: sizes.length,
    h,
    w,
    c,
    P: imageSize(info),
    lh,
    lw,
    p: lh * lw * c,
    D: generatorInputDim(sizes, cyclic, opts.encoding),
    encoding: opts.encoding,
    H: opts.hidden,
    N: opts.trainPoints,
    B: opts.basis,
    eps: opts.epsilon,
  };
}

/** The training points: parent images X (N×P), generator inputs E (N×D) and reference codes. */
interface TrainingData {
  /** Grid indices of the points. */
  idx: Int32Array;
  X: Float32Array;
  E: Float64Array;
  ref: ReferenceCodes;
}

function sampleTrainingData(parent: GroundTruthDataset, d: Dims, R: Mat, sigma: readonly number[], rng: Rng): TrainingData {
  const { sizes, cyclic, K, N, D } = d;
  const idx = sampleIndices(sizes, N, rng);
  const X = renderBatch(parent, idx);
  const fac = factorsOf(sizes, idx);
  const E = new Float64Array(N * D);
  for (let n = 0; n < N; n++) encodeGeneratorInput(sizes, cyclic, fac.subarray(n * K, (n + 1) * K), E, n * D, d.encoding);
  return { idx, X, E, ref: referenceCodes(sizes, fac, R, sigma, d.B) };
}

/** Glorot-uniform W1, small W2, zero biases. */
function initGenerator(d: Dims, rng: Rng): GeneratorNet & GeneratorGrads {
  const { D, H, p } = d;
  const w1 = new Float64Array(D * H);
  const b1 = new Float64Array(H);
  const w2 = new Float64Array(H * p);
  const b2 = new Float64Array(p);
  const l1 = Math.sqrt(6 / (D + H));
  for (let i = 0; i < w1.length; i++) w1[i] = rng.uniform(-l1, l1);
  const l2 = 0.1 * Math.sqrt(6 / (H + p));
  for (let i = 0; i < w2.length; i++) w2[i] = rng.uniform(-l2, l2);
  return { inputDim: D, hidden: H, w1, b1, w2, b2 };
}

function zeroGrads(net: GeneratorGrads): GeneratorGrads {
  return { w1: new Float64Array(net.w1.length), b1: new Float64Array(net.b1.length), w2: new Float64Array(net.w2.length), b2: new Float64Array(net.b2.length) };
}

// ---------------------------------------------------------------- the problem

/** Most training points the variance-structure term uses (the first of the sample; ≈ 180 MB for dSprites). */
const STRUCTURE_POINTS = 256;

/** Generator, references and every buffer of one training run. */
class TrainingProblem {
  private readonly up: Upsampler;
  private readonly pool: Pooler;
  private readonly F: number;
  private readonly optim: Adam[];
  private readonly grads: GeneratorGrads;
  private readonly Hh: Float64Array;
  private readonly M: Float64Array;
  /** Unclipped x + ε·up(m). */
  private readonly Y: Float64Array;
  /** Pooled clipped images, what the references read. */
  private readonly Yp: Float64Array;
  private readonly phiD: Float64Array;
  private readonly phiE: Float64Array;
  private readonly codes: Float64Array;
  private readonly rD: Float64Array;
  private readonly rE: Float64Array;
  private readonly gFull: Float64Array;
  private readonly gM: Float64Array;
  private readonly gH: Float64Array;
  /** The variance-structure term, when its weight is above 0. */
  readonly structure: StructureTerm | null;
  /** Its loss and alignment before the last step. */
  lastStructure: StructureEval | null = null;

  constructor(
    private readonly d: Dims,
    private readonly data: TrainingData,
    private readonly net: GeneratorNet & GeneratorGrads,
    private readonly opts: TrainOptions,
    parent: GroundTruthDataset,
    R: Mat,
  ) {
    const { h, w, c, lh, lw, N, H, P, p, K, B } = d;
    this.up = makeUpsampler(h, w, c, lh, lw);
    // the term renders K + 1 images a point: its memory is bounded by using at most STRUCTURE_POINTS of them
    const ns = Math.min(N, STRUCTURE_POINTS);
    this.structure = opts.structureWeight > 0 ? new StructureTerm(parent, data.idx.subarray(0, ns), { ...d, N: ns }, R, this.up) : null;
    this.pool = makePooler(h, w, c, lh, lw);
    this.F = featureCount(K, B);
    this.optim = [net.w1, net.b1, net.w2, net.b2].map((a) => new Adam(a.length, opts.learningRate));
    this.grads = zeroGrads(net);
    this.Hh = new Float64Array(N * H);
    this.M = new Float64Array(N * p);
    this.Y = new Float64Array(N * P);
    this.Yp = new Float64Array(N * p);
    this.phiD = new Float64Array(N * this.F);
    this.phiE = new Float64Array(N * this.F);
    this.codes = new Float64Array(N * K);
    this.rD = new Float64Array(N * p);
    this.rE = new Float64Array(N * p);
    this.gFull = new Float64Array(P);
    this.gM = new Float64Array(N * p);
    this.gH = new Float64Array(H);
  }

  /** Generator, offset, clip and pooling for every training point; returns the clipped fraction. */
  forward(): number {
    const { N, D, H, p, P, eps } = this.d;
    const { X, E } = this.data;
    const { net, up, Hh, M, Y, Yp } = this;
    const { cell, inv } = this.pool;
    let clipped = 0;
    for (let n = 0; n < N; n++) {
      const mo = n * p;
      generatorForward(net, E, n * D, Hh, n * H, M, mo);
      Yp.fill(0, mo, mo + p);
      const xo = n * P;
      for (let j = 0; j < P; j++) {
        const y = X[xo + j]! + eps * upsampleAt(up, M, mo, j);
        Y[xo + j] = y;
        const yc = y < 0 ? 0 : y > 1 ? 1 : y;
        if (yc !== y) clipped++;
        Yp[mo + cell[j]!]! += yc * inv[cell[j]!]!;
      }
    }
    return clipped / (N * P);
  }

  /** The references' losses on the current pooled images under the code noise drawn from rng. */
  private losses(rng: Rng): ManipulationEval {
    drawReferenceFeatures(this.data.ref, rng, this.codes, this.phiD, this.phiE);
    return fitReferences(this.phiD, this.phiE, this.d.N, this.F, this.Yp, this.d.p, this.opts.ridge, this.rD, this.rE);
  }

  /** Losses under the fixed evaluation noise (run forward() first). */
  evaluate(evalState: number[]): ManipulationEval {
    return this.losses(new Rng(evalState));
  }

  /** Losses of the parent images without any offset, under the fixed evaluation noise. */
  evaluateParent(evalState: number[]): ManipulationEval {
    const { N, p, P } = this.d;
    const { X } = this.data;
    const { cell, inv } = this.pool;
    for (let n = 0; n < N; n++) {
      this.Yp.fill(0, n * p, (n + 1) * p);
      for (let j = 0; j < P; j++) this.Yp[n * p + cell[j]!]! += X[n * P + j]! * inv[cell[j]!]!;
    }
    return this.evaluate(evalState);
  }

  /** One Adam step on fresh training noise; returns the losses before the step. */
  trainStep(noiseRng: Rng): ManipulationEval {
    this.forward();
    const l = this.losses(noiseRng);
    this.backward();
    if (this.structure) {
      this.lastStructure = this.structure.forward(this.net);
      this.structure.accumulate(this.net, this.grads, this.opts.structureWeight);
    }
    const { net, grads, optim } = this;
    optim[0]!.step(net.w1, grads.w1);
    optim[1]!.step(net.b1, grads.b1);
    optim[2]!.step(net.w2, grads.w2);
    optim[3]!.step(net.b2, grads.b2);
    return l;
  }

  /** ∂J/∂ψ into this.grads from the residuals of the last fit. */
  private backward(): void {
    const { N, D, H, p } = this.d;
    const { net, grads, gM, gH, Hh, M } = this;
    // ∂J/∂Yp = 2(r_E − r_D)/(N·p); back through pool, clip gate, ε, upsampling, tanh
    const scale = 2 / (N * p);
    grads.w1.fill(0);
    grads.b1.fill(0);
    grads.w2.fill(0);
    grads.b2.fill(0);
    gM.fill(0);
    for (let n = 0; n < N; n++) {
      this.offsetGradient(n, scale);
      generatorBackward(net, this.data.E, n * D, Hh, n * H, M, gM, n * p, gH, grads);
    }
  }

  /** ∂J/∂m of point n into gM: pooled residual difference back through pooling, the clip gate, ε and upsampling. */
  private offsetGradient(n: number, scale: number): void {
    const { p, P, eps } = this.d;
    const { rD, rE, Y, gFull } = this;
    const { cell, inv } = this.pool;
    const mo = n * p;
    const xo = n * P;
    for (let j = 0; j < P; j++) {
      const q = cell[j]!;
      let g = scale * (rE[mo + q]! - rD[mo + q]!) * inv[q]!;
      const y = Y[xo + j]!;
      // pass the gradient where descent would move the pixel back into [0, 1]
      if ((y < 0 && g > 0) || (y > 1 && g < 0)) g = 0;
      gFull[j] = eps * g;
    }
    upsampleTranspose(this.up, gFull, this.gM, mo);
  }

  /** Continue with exactly the weights that will be applied (float32). */
  useWeights(wts: ManipulationWeights): void {
    this.net.w1.set(wts.w1);
    this.net.b1.set(wts.b1);
    this.net.w2.set(wts.w2);
    this.net.b2.set(wts.b2);
  }
}

// ---------------------------------------------------------------- the loop

async function runSteps(prob: TrainingProblem, steps: number, noiseRng: Rng, ctx: PerturbationContext, throwIfAborted: () => void): Promise<ManipulationReport['history']> {
  const history: ManipulationReport['history'] = [];
  const every = Math.max(1, Math.floor(steps / 100));
  for (let step = 1; step <= steps; step++) {
    throwIfAborted();
    const l = prob.trainStep(noiseRng);
    const st = prob.lastStructure ? { structureLoss: prob.lastStructure.loss } : {};
    if (step % every === 0 || step === steps || step === 1) {
      history.push({ step, objective: l.objective, entangledLoss: l.entangledLoss, disentangledLoss: l.disentangledLoss, ...st });
    }
    ctx.onProgress?.(step / steps, { stage: 'training', step, steps, ...l, ...st });
    if (step % 5 === 0) await new Promise<void>((r) => setImmediate(r));
  }
  return history;
}

function weightsOf(d: Dims, net: GeneratorNet, R: Mat, sigma: number[]): ManipulationWeights {
  const { K } = d;
  return {
    format: 'dlab-manipulation',
    version: 1,
    imageShape: [d.h, d.w, d.c],
    low: [d.lh, d.lw],
    factorSizes: d.sizes,
    cyclic: d.cyclic,
    inputDim: d.D,
    ...(d.encoding === 'parity' ? { encoding: 'parity' as const } : {}),
    hidden: d.H,
    w1: Float32Array.from(net.w1),
    b1: Float32Array.from(net.b1),
    w2: Float32Array.from(net.w2),
    b2: Float32Array.from(net.b2),
    mixing: Array.from({ length: K }, (_, i) => Array.from(R.data.subarray(i * K, (i + 1) * K))),
    sigma,
  };
}

/**
 * Train m_ψ on a seeded sample of grid points. Deterministic for a given
 * (parent, options, seed). Reports progress and honours ctx.signal.
 */
export async function trainManipulation(
  parent: GroundTruthDataset,
  opts: TrainOptions,
  seed: number,
  ctx: PerturbationContext = {},
): Promise<{ weights: ManipulationWeights; report: ManipulationReport }> {
  const t0 = Date.now();
  const d = problemDims(parent.info, opts);
  // the forks advance `root`: their order is part of the seed's meaning
  const root = new Rng(seed).fork('manipulation');
  const pointRng = root.fork('points');
  const initRng = root.fork('init');
  const noiseRng = root.fork('noise');
  const evalState = root.fork('eval-noise').state(); // fixed evaluation noise: same draws before and after training
  const R = mixingRotation(d.K, root.fork('mixing'));
  const sigma = codeNoise(d.K, opts.codeNoise, opts.noiseSpread);

  const throwIfAborted = () => {
    if (ctx.signal?.aborted) throw abortError();
  };
  ctx.onProgress?.(0, { stage: 'sampling' });
  throwIfAborted();

  const data = sampleTrainingData(parent, d, R, sigma, pointRng);
  const net = initGenerator(d, initRng);
  const prob = new TrainingProblem(d, data, net, opts, parent, R);
  const structureInitial = prob.structure?.forward(net) ?? null;
  const unperturbed = prob.evaluateParent(evalState);
  prob.forward();
  const initial = prob.evaluate(evalState);
  const history = await runSteps(prob, opts.steps, noiseRng, ctx, throwIfAborted);
  throwIfAborted();

  const weights = weightsOf(d, net, R, sigma);
  prob.useWeights(weights);
  const clippedFraction = prob.forward();
  ctx.onProgress?.(1, { stage: 'evaluating' });
  const final = prob.evaluate(evalState);
  const structure = prob.structure && structureInitial ? prob.structure.report(opts.structureWeight, structureInitial, prob.structure.forward(net)) : undefined;
  const report: ManipulationReport = {
    ...(structure ? { structure } : {}),
    trainPoints: d.N,
    steps: opts.steps,
    initial,
    unperturbed,
    final,
    history,
    mixingDistanceFromSignedPermutation: d.K > 1 ? nearestSignedPermutation(R).distance : 0,
    clippedFraction,
    seconds: (Date.now() - t0) / 1000,
  };
  return { weights, report };
}
