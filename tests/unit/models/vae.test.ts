/** The VAE core of objectives/vae.ts with hand-made regularizers. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Scalar, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import { getTf, initBackend } from '../../../src/core/compute/backend.js';
import { bernoulliReconstruction, gaussianKl, gaussianKlPerDim } from '../../../src/core/models/objectives/common.js';
import type { AuxPlayer, ForwardOutputs, LossContext } from '../../../src/core/models/objectives/types.js';
import type { RegularizerContext, RegularizerHook } from '../../../src/core/models/objectives/vae.js';
import { vaeObjective } from '../../../src/core/models/objectives/vae.js';
import { Rng } from '../../../src/core/util/rng.js';

const tf = () => getTf();
beforeAll(async () => {
  expect((await initBackend({ prefer: 'wasm' })).backend).toBe('wasm');
});

const B = 2;
const L = 2;
const X = [1, 0, 0, 1, 1, 1, 0, 0];
const LOGITS = [0.5, -1.2, 2.0, 0.1, -0.3, 3.1, -2.2, 0.7];
const MEAN = [0.3, -1.1, 0.8, 1.2];
const LOGVAR = [-0.5, 0.2, -1.3, 0.1];
const Z = [0.1, -0.9, 1.0, 1.4];

function forward(variational = true): ForwardOutputs {
  const t = tf();
  return {
    x: t.tensor4d(X, [B, 2, 2, 1]) as Tensor4D,
    mean: t.tensor2d(MEAN, [B, L]) as Tensor2D,
    logvar: variational ? (t.tensor2d(LOGVAR, [B, L]) as Tensor2D) : null,
    z: t.tensor2d(Z, [B, L]) as Tensor2D,
    logits: t.tensor4d(LOGITS, [B, 2, 2, 1]) as Tensor4D,
  };
}
const scalar = (s: Scalar) => s.dataSync()[0]!;
const method = (regularizer: RegularizerHook) => vaeObjective({ id: 'test', name: 'Test', description: 'test', params: [], regularizer });
const instance = (regularizer: RegularizerHook) => method(regularizer).create({ tf: tf(), latent: L, params: {}, rng: new Rng(1), scope: 'vae-test' });
const lossCtx = (step = 3): LossContext => ({ tf: tf(), step, params: { w: 2 }, rng: new Rng(4) });

describe('vaeObjective', () => {
  it('declares a variational, single-observation objective with a decoder', () => {
    const def = method(() => ({}));
    expect([def.variational, def.pairs, def.decoder]).toEqual([true, false, true]);
    expect(def.create({ tf: tf(), latent: L, params: {}, rng: new Rng(1), scope: 's' }).aux).toBeUndefined();
  });

  it('hands the regularizer the core pieces and the step context', () => {
    let seen: RegularizerContext | undefined;
    const ctx = lossCtx(17);
    tf().tidy(() => {
      const out = forward();
      const r = instance((c) => {
        seen = c;
        return {};
      }).loss(out, ctx);
      const c = seen!;
      expect([c.step, c.params, c.rng, c.tf, c.batchSize]).toEqual([17, { w: 2 }, ctx.rng, ctx.tf, B]);
      expect([c.x, c.mean, c.logvar, c.z]).toEqual([out.x, out.mean, out.logvar, out.z]);
      expect(r.klPerDim).toBe(c.klPerDim);
      expect(r.terms.kl).toBe(c.kl);
      expect(Array.from(c.klPerDim.dataSync())).toEqual(Array.from(gaussianKlPerDim(tf(), out.mean, out.logvar!).dataSync()));
    });
  });

  it('loss = reconstruction + (klTerm ?? kl) + penalty, with the core terms first', () => {
    tf().tidy(() => {
      const t = tf();
      const out = forward();
      const rec = bernoulliReconstruction(t, out.x, out.logits!);
      const kl = gaussianKl(t, gaussianKlPerDim(t, out.mean, out.logvar!));
      const elbo = scalar(t.add(rec, kl) as Scalar);

      const plain = instance(() => ({})).loss(out, lossCtx());
      expect(Object.keys(plain.terms)).toEqual(['loss', 'reconstruction', 'kl', 'elbo']);
      expect([scalar(plain.loss), scalar(plain.terms.elbo!), scalar(plain.terms.reconstruction!)]).toEqual([elbo, elbo, scalar(rec)]);

      const reweighted = instance(({ kl: k }) => ({ klTerm: t.mul(3, k) as Scalar })).loss(out, lossCtx());
      expect(scalar(reweighted.loss)).toBe(scalar(t.add(rec, t.mul(3, kl)) as Scalar));
      expect(scalar(reweighted.terms.elbo!)).toBe(elbo);

      const penalised = instance(() => ({ penalty: t.scalar(0.75), logged: { extra: t.scalar(0.25), other: t.scalar(1) } })).loss(out, lossCtx());
      expect(scalar(penalised.loss)).toBe(scalar(t.add(t.add(rec, kl), 0.75) as Scalar));
      expect(Object.keys(penalised.terms)).toEqual(['loss', 'reconstruction', 'kl', 'elbo', 'extra', 'other']);

      const both = instance(({ kl: k }) => ({ klTerm: t.mul(3, k) as Scalar, penalty: t.scalar(0.75) })).loss(out, lossCtx());
      expect(scalar(both.loss)).toBe(scalar(t.add(t.add(rec, t.mul(3, kl)), 0.75) as Scalar));
      expect(both.terms.loss).toBe(both.loss);
    });
  });

  it('refuses a non-variational forward pass and logged names that shadow the core terms', () => {
    tf().tidy(() => {
      expect(() => instance(() => ({})).loss(forward(false), lossCtx())).toThrow(/logits and log-variances/);
      expect(() => instance(() => ({ logged: { kl: tf().scalar(0) } })).loss(forward(), lossCtx())).toThrow(/may not log 'kl'/);
    });
  });

  it('a created regularizer gets the objective options and brings its second player as aux', () => {
    const player: AuxPlayer = {
      params: [],
      adam: { lr: 1e-3, beta1: 0.5, beta2: 0.9, epsilon: 1e-8 },
      loss: () => {
        throw new Error('not called here');
      },
    };
    let latent = 0;
    const def = vaeObjective({
      id: 'test2',
      name: 'Test 2',
      description: 'test',
      params: [],
      create(opts) {
        latent = opts.latent;
        return { regularizer: () => ({ penalty: opts.tf.scalar(1) }), secondPlayer: player };
      },
    });
    const inst = def.create({ tf: tf(), latent: 7, params: {}, rng: new Rng(1), scope: 'vae-test2' });
    expect(latent).toBe(7);
    expect(inst.aux).toBe(player);
    expect(inst.extraParams).toEqual([]);
    tf().tidy(() => {
      const r = inst.loss(forward(), lossCtx());
      expect(scalar(r.loss)).toBe(scalar(tf().add(r.terms.elbo!, 1) as Scalar));
    });
  });
});
