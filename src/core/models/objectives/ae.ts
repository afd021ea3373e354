/** Autoencoder: deterministic code, reconstruction only (the paper's AE baseline). */
import { bernoulliReconstruction } from './common.js';
import type { ObjectiveDef } from './types.js';

export const ae: ObjectiveDef = {
  id: 'ae',
  name: 'Autoencoder',
  description:
    'Deterministic autoencoder: the encoder mean is the code; the loss is the Bernoulli reconstruction alone. A baseline without any pressure towards disentanglement.',
  params: [],
  variational: false,
  pairs: false,
  decoder: true,
  create({ tf }) {
    return {
      extraParams: [],
      loss(out) {
        if (!out.logits) throw new Error('ae needs decoder logits');
        const reconstruction = bernoulliReconstruction(tf, out.x, out.logits);
        return { loss: reconstruction, terms: { loss: reconstruction, reconstruction } };
      },
    };
  },
};
