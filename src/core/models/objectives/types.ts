/**
 * The interface every training objective implements. An objective receives
 * the forward pass the trainer computed (codes, samples, decoder logits) and
 * returns its loss with every term by name. Objectives that train a second
 * player with its own optimiser (FactorVAE's discriminator) expose it as `aux`.
 * The regularised VAE methods do not implement it by hand: vae.ts builds it
 * from the VAE core and the method's regularizer.
 */
import type { Scalar, Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import type { ParamSpec, ParamValues } from '../../../shared/params.js';
import type { Tf } from '../../compute/backend.js';
import type { Rng } from '../../util/rng.js';
import type { ParamInfo } from '../architectures.js';

export interface ForwardOutputs {
  /** Observations, N×H×W×C. For pair objectives N = 2B: rows 0…B−1 are x_t, rows B…2B−1 their x_{t+1}. */
  x: Tensor4D;
  /** Posterior means (the deterministic code for non-variational models), N×L. */
  mean: Tensor2D;
  /** Posterior log-variances, N×L (null for non-variational models). */
  logvar: Tensor2D | null;
  /** The code fed to the decoder: mean + exp(logvar/2)·ε, or the mean. */
  z: Tensor2D;
  /** Decoder logits for z, N×H×W×C (null for objectives without a decoder). */
  logits: Tensor4D | null;
}

export interface LossContext {
  tf: Tf;
  /** Global step of this update, counted from 0. */
  step: number;
  params: ParamValues;
  /** Randomness of this step for the objective (shuffles, negatives). */
  rng: Rng;
}

export interface LossResult {
  /** What the optimiser minimises. */
  loss: Scalar;
  /** Every term by name (the total is included as 'loss'). */
  terms: Record<string, Scalar>;
  /** Batch-mean KL to the prior per latent dimension (variational models). */
  klPerDim?: Tensor1D;
}

export interface AdamSettings {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** A second player trained by its own optimiser on the codes of the same step. */
export interface AuxPlayer {
  params: ParamInfo[];
  adam: AdamSettings;
  /** Loss of the second player; `z` is a constant (no gradient to the encoder). */
  loss(z: Tensor2D, ctx: LossContext): LossResult;
}

export interface ObjectiveInstance {
  /** Extra variables trained together with encoder and decoder (e.g. PCL's classifier). */
  extraParams: ParamInfo[];
  loss(out: ForwardOutputs, ctx: LossContext): LossResult;
  aux?: AuxPlayer;
}

export interface CreateObjectiveOptions {
  tf: Tf;
  latent: number;
  params: ParamValues;
  /** For initialising the objective's own weights. */
  rng: Rng;
  /** Prefix for engine-wide unique variable names. */
  scope: string;
}

export interface ObjectiveDef {
  id: string;
  name: string;
  description: string;
  params: ParamSpec[];
  /** Gaussian posterior (KL terms, log-variances, sampled codes). */
  variational: boolean;
  /** Trains on pairs of observations (see training/pairs.ts). */
  pairs: boolean;
  /** Uses a decoder (reconstruction term). */
  decoder: boolean;
  create(opts: CreateObjectiveOptions): ObjectiveInstance;
}

export function num(params: ParamValues, key: string): number {
  const v = params[key];
  if (typeof v !== 'number') throw new Error(`objective parameter '${key}' is missing or not a number`);
  return v;
}
