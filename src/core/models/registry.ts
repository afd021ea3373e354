/**
 * Training objectives (models). A new method is one file in objectives/ plus
 * one line here; the UI forms and the CLI read names, descriptions and
 * hyperparameters (defaults, ranges, the paper's values, disentanglement_lib's
 * grid) from this list. A regularised VAE (β-VAE, AnnealedVAE, β-TCVAE,
 * FactorVAE, DIP-VAE) is a regularizer over the VAE core of objectives/vae.ts;
 * AE, SlowVAE and PCL implement the objective interface directly.
 */
import type { ModelInfo } from '../../shared/runs.js';
import type { ParamValues } from '../../shared/params.js';
import { resolveParams } from '../../shared/params.js';
import { ae } from './objectives/ae.js';
import { annealedVae } from './objectives/annealed_vae.js';
import { betaTcvae } from './objectives/beta_tcvae.js';
import { betaVae } from './objectives/beta_vae.js';
import { dipVaeI } from './objectives/dip_vae_i.js';
import { dipVaeII } from './objectives/dip_vae_ii.js';
import { factorVae } from './objectives/factor_vae.js';
import { pcl } from './objectives/pcl.js';
import { slowVae } from './objectives/slow_vae.js';
import type { ObjectiveDef } from './objectives/types.js';

export const objectives: readonly ObjectiveDef[] = [ae, betaVae, annealedVae, betaTcvae, factorVae, dipVaeI, dipVaeII, slowVae, pcl];

export function findObjective(id: string): ObjectiveDef | undefined {
  return objectives.find((o) => o.id === id);
}

export function getObjective(id: string): ObjectiveDef {
  const o = findObjective(id);
  if (!o) throw new Error(`unknown model '${id}' (known: ${objectives.map((x) => x.id).join(', ')})`);
  return o;
}

export function modelInfo(o: ObjectiveDef): ModelInfo {
  return { id: o.id, name: o.name, description: o.description, params: o.params, variational: o.variational, pairs: o.pairs };
}

export function listModels(): ModelInfo[] {
  return objectives.map(modelInfo);
}

/** Fill defaults and validate a model's hyperparameters. */
export function resolveModelParams(id: string, given: Record<string, unknown>): ParamValues {
  return resolveParams(getObjective(id).params, given);
}

export type { ObjectiveDef };
