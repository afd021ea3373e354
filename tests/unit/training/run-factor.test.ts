/** A short FactorVAE run lowers its loss while its discriminator trains alongside. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/core/compute/backend.js';
import { expectLossFalls } from './run-helper.js';

beforeAll(async () => {
  expect((await initBackend({ prefer: 'wasm' })).backend).toBe('wasm');
});

describe('short training runs lower the loss', () => {
  it('factor_vae', () => expectLossFalls('factor_vae', 12, 0.8, ['reconstruction', 'kl', 'tc', 'discriminator']));
});
