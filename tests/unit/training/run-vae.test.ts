/** A short run of each VAE-family method on dSprites lowers its loss. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/core/compute/backend.js';
import { expectLossFalls } from './run-helper.js';

beforeAll(async () => {
  expect((await initBackend({ prefer: 'wasm' })).backend).toBe('wasm');
});

describe('short training runs lower the loss', () => {
  it('ae', () => expectLossFalls('ae', 14, 0.8, ['reconstruction']));
  it('beta_vae', () => expectLossFalls('beta_vae', 14, 0.8, ['reconstruction', 'kl', 'elbo']));
  it('annealed_vae', () => expectLossFalls('annealed_vae', 14, 0.8, ['reconstruction', 'kl', 'capacity', 'capacity_penalty']));
  it('beta_tcvae', () => expectLossFalls('beta_tcvae', 14, 0.8, ['reconstruction', 'kl', 'tc']));
});
