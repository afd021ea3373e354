/** Run configurations: defaults, validation against the model registry, the paper's presets. */
import { LabError } from '../../shared/contract.js';
import type { RunConfig } from '../../shared/runs.js';
import { findObjective, resolveModelParams } from '../models/registry.js';

export const RUN_DEFAULTS = {
  arch: 'conv',
  latent: 10,
  steps: 300_000,
  batch: 64,
  lr: 1e-4,
  progressEvery: 50,
  checkpointEvery: 5_000,
  codesSamples: 10_000,
} as const;

/** Check the model and its hyperparameters (defaults filled in); typed error on a bad one. */
export function resolveRunConfig(c: RunConfig): RunConfig {
  if (!findObjective(c.model)) throw new LabError('invalid_payload', `unknown model '${c.model}'`);
  let params;
  try {
    params = resolveModelParams(c.model, c.params);
  } catch (e) {
    throw new LabError('invalid_payload', `${c.model}: ${(e as Error).message}`);
  }
  return { ...c, params };
}
