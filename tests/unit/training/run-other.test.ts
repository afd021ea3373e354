/** A short run of DIP-VAE I/II, SlowVAE and PCL on dSprites lowers the loss. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/core/compute/backend.js';
import { expectLossFalls } from './run-helper.js';

beforeAll(async () => {
  expect((await initBackend({ prefer: 'wasm' })).backend).toBe('wasm');
});

describe('short training runs lower the loss', () => {
  it('dip_vae_i', () => expectLossFalls('dip_vae_i', 14, 0.8, ['reconstruction', 'kl', 'dip']));
  it('dip_vae_ii', () => expectLossFalls('dip_vae_ii', 14, 0.8, ['reconstruction', 'kl', 'dip']));
  it('slow_vae (pairs)', () => expectLossFalls('slow_vae', 14, 0.8, ['reconstruction', 'kl', 'kl_laplace', 'cross_ent_laplace']));
  it('pcl (pairs, no decoder)', () => expectLossFalls('pcl', 14, 0.9, ['classification', 'accuracy']));
});
