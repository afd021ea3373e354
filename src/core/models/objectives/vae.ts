/**
 * The VAE core (disentanglement_lib's BaseVAE): every regularised VAE method
 * is this core plus a regularizer. The core computes, from the forward pass,
 *   reconstruction  Bernoulli, summed over pixels, batch mean
 *   klPerDim, kl    KL(q(z|x) ‖ N(0, I)) per latent dimension and in total
 *   elbo            reconstruction + kl (the negative ELBO)
 * and asks the method's regularizer for its part of the loss:
 *   loss = reconstruction + (klTerm ?? kl) + penalty
 * `klTerm` replaces the KL where a method reweights or reshapes it (β·KL,
 * γ·|KL − C|); `penalty` is added on top of the ELBO (TC, DIP). The logged
 * terms are loss, reconstruction, kl, elbo, then the regularizer's own.
 *
 * A regularizer with state (FactorVAE's discriminator) is built by `create`
 * and may bring a second player, trained by the trainer with its own Adam on
 * the codes of the same step (the objective's `aux`).
 */
import type { Scalar, Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import type { ParamSpec } from '../../../shared/params.js';
import { bernoulliReconstruction, gaussianKl, gaussianKlPerDim } from './common.js';
import type { AuxPlayer, CreateObjectiveOptions, ForwardOutputs, LossContext, LossResult, ObjectiveDef } from './types.js';

/** What a regularizer sees: the step's context (tf, step, params, rng) and the core's pieces. */
export interface RegularizerContext extends LossContext {
  /** The data batch, N×H×W×C. */
  x: Tensor4D;
  /** N, the number of observations in the batch. */
  batchSize: number;
  /** Posterior means and log-variances, N×L. */
  mean: Tensor2D;
  logvar: Tensor2D;
  /** The sampled code fed to the decoder, N×L. */
  z: Tensor2D;
  /** Batch-mean KL to N(0, I), summed over dimensions and per dimension. */
  kl: Scalar;
  klPerDim: Tensor1D;
}

export interface RegularizerResult {
  /** Stands in the loss where the KL stands (β·KL, γ·|KL − C|); absent: the plain KL. */
  klTerm?: Scalar;
  /** Added to reconstruction + KL term (TC, DIP). */
  penalty?: Scalar;
  /** Extra scalars logged after the core's terms, by the names the UI shows. */
  logged?: Record<string, Scalar>;
}

export type RegularizerHook = (ctx: RegularizerContext) => RegularizerResult;

/** A regularizer built per training run, optionally with a second player. */
export interface Regularizer {
  regularizer: RegularizerHook;
  /** Trained by its own optimiser on the step's codes (FactorVAE's discriminator). */
  secondPlayer?: AuxPlayer;
}

interface VaeMethod {
  id: string;
  name: string;
  description: string;
  /** The method's hyperparameters (defaults, ranges, the paper's values, the grid). */
  params: ParamSpec[];
}

/** A method: a stateless `regularizer`, or `create` for one with weights of its own. */
export type VaeMethodSpec = VaeMethod &
  ({ regularizer: RegularizerHook; create?: never } | { create(opts: CreateObjectiveOptions): Regularizer; regularizer?: never });

/** Terms the core logs itself, in this order. */
export const CORE_TERMS: readonly string[] = ['loss', 'reconstruction', 'kl', 'elbo'];

/** The loss of the VAE core with `hook` as its regularizer. */
export function vaeLoss(tf: LossContext['tf'], out: ForwardOutputs, ctx: LossContext, hook: RegularizerHook): LossResult {
  if (!out.logits || !out.logvar) throw new Error('a variational objective needs logits and log-variances');
  const reconstruction = bernoulliReconstruction(tf, out.x, out.logits);
  const klPerDim = gaussianKlPerDim(tf, out.mean, out.logvar);
  const kl = gaussianKl(tf, klPerDim);
  const reg = hook({ ...ctx, x: out.x, batchSize: out.x.shape[0], mean: out.mean, logvar: out.logvar, z: out.z, kl, klPerDim });
  const elbo = tf.add(reconstruction, kl) as Scalar;
  const base = reg.klTerm ? (tf.add(reconstruction, reg.klTerm) as Scalar) : elbo;
  const loss = reg.penalty ? (tf.add(base, reg.penalty) as Scalar) : base;
  for (const k of Object.keys(reg.logged ?? {})) if (CORE_TERMS.includes(k)) throw new Error(`a regularizer may not log '${k}': the core does`);
  return { loss, terms: { loss, reconstruction, kl, elbo, ...reg.logged }, klPerDim };
}

/** The objective of a regularised VAE method (Gaussian posterior, decoder, single observations). */
export function vaeObjective(spec: VaeMethodSpec): ObjectiveDef {
  return {
    id: spec.id,
    name: spec.name,
    description: spec.description,
    params: spec.params,
    variational: true,
    pairs: false,
    decoder: true,
    create(opts) {
      const reg: Regularizer = spec.create ? spec.create(opts) : { regularizer: spec.regularizer };
      return {
        extraParams: [],
        loss: (out, ctx) => vaeLoss(opts.tf, out, ctx, reg.regularizer),
        ...(reg.secondPlayer ? { aux: reg.secondPlayer } : {}),
      };
    },
  };
}
