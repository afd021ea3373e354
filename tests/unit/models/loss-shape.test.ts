/**
 * What the trainer and the UI see of each objective stays fixed: the names
 * (and order) of the logged terms, and each VAE loss bit for bit as the sum
 * the method has always formed (the grouping of the additions included).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Scalar, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import { getTf, initBackend } from '../../../src/core/compute/backend.js';
import { getObjective, objectives, resolveModelParams } from '../../../src/core/models/registry.js';
import { bernoulliReconstruction, gaussianKl, gaussianKlPerDim } from '../../../src/core/models/objectives/common.js';
import { totalCorrelation } from '../../../src/core/models/objectives/beta_tcvae.js';
import { covariance, dipRegularizer } from '../../../src/core/models/objectives/dip_common.js';
import type { ForwardOutputs, LossResult } from '../../../src/core/models/objectives/types.js';
import { Rng } from '../../../src/core/util/rng.js';

const tf = () => getTf();
beforeAll(async () => {
  expect((await initBackend({ prefer: 'wasm' })).backend).toBe('wasm');
});

const B = 4;
const L = 3;
const X = [1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1];
const LOGITS = [0.5, -1.2, 2.0, 0.1, -0.3, 3.1, -2.2, 0.7, 1.1, -0.4, 0.0, 1.5, 2.5, -3.0, 0.2, -0.9, 0.6, -1.7, 1.9, -0.2, 0.3, 0.8, -2.6, 1.2];
const MEAN = [0.3, -1.1, 0.8, 1.2, 0.4, -0.5, -0.7, 0.9, 0.1, 0.05, -0.3, 1.4];
const LOGVAR = [-0.5, 0.2, -1.3, 0.1, -0.8, 0.4, -2.0, 0.0, -0.2, 0.3, -1.0, -0.6];
const EPS = [0.2, -0.4, 1.1, -0.9, 0.5, 0.3, 0.7, -1.3, 0.05, -0.2, 0.8, -0.6];
const Z = MEAN.map((m, i) => m + Math.exp(LOGVAR[i]! / 2) * EPS[i]!);

function forward(variational: boolean): ForwardOutputs {
  const t = tf();
  return {
    x: t.tensor4d(X, [B, 2, 3, 1]) as Tensor4D,
    mean: t.tensor2d(MEAN, [B, L]) as Tensor2D,
    logvar: variational ? (t.tensor2d(LOGVAR, [B, L]) as Tensor2D) : null,
    z: t.tensor2d(variational ? Z : MEAN, [B, L]) as Tensor2D,
    logits: t.tensor4d(LOGITS, [B, 2, 3, 1]) as Tensor4D,
  };
}

const scalar = (s: Scalar) => s.dataSync()[0]!;

function lossOf(id: string, params: Record<string, unknown>, step = 0): { r: LossResult; keys: string[]; v: Record<string, number> } {
  const def = getObjective(id);
  const p = resolveModelParams(id, params);
  const inst = def.create({ tf: tf(), latent: L, params: p, rng: new Rng(7), scope: `shape-${id}-${Math.random()}` });
  const r = inst.loss(forward(def.variational), { tf: tf(), step, params: p, rng: new Rng(1) });
  const v = Object.fromEntries(Object.entries(r.terms).map(([k, t]) => [k, scalar(t)]));
  return { r, keys: Object.keys(r.terms), v };
}

describe('logged term names', () => {
  it('are the ones the trainer, the store and the UI know, in the same order', () => {
    const want: Record<string, string[]> = {
      ae: ['loss', 'reconstruction'],
      beta_vae: ['loss', 'reconstruction', 'kl', 'elbo'],
      annealed_vae: ['loss', 'reconstruction', 'kl', 'elbo', 'capacity', 'capacity_penalty'],
      beta_tcvae: ['loss', 'reconstruction', 'kl', 'elbo', 'tc'],
      factor_vae: ['loss', 'reconstruction', 'kl', 'elbo', 'tc'],
      dip_vae_i: ['loss', 'reconstruction', 'kl', 'elbo', 'dip'],
      dip_vae_ii: ['loss', 'reconstruction', 'kl', 'elbo', 'dip'],
      slow_vae: ['loss', 'reconstruction', 'kl', 'kl_laplace', 'cross_ent_laplace'],
      pcl: ['loss', 'classification', 'accuracy'],
    };
    expect(Object.keys(want).sort()).toEqual(objectives.map((o) => o.id).sort());
    tf().tidy(() => {
      for (const o of objectives) {
        const { r, keys } = lossOf(o.id, {});
        expect(keys, o.id).toEqual(want[o.id]);
        expect(r.terms.loss, `${o.id}: the total is the minimised loss`).toBe(r.loss);
        expect(r.klPerDim !== undefined, `${o.id}: KL per dimension`).toBe(o.variational);
      }
    });
  });

  it("FactorVAE's second player logs 'discriminator'", () => {
    const p = resolveModelParams('factor_vae', {});
    const inst = getObjective('factor_vae').create({ tf: tf(), latent: L, params: p, rng: new Rng(7), scope: 'shape-fv-aux' });
    tf().tidy(() => {
      const r = inst.aux!.loss(tf().tensor2d(Z, [B, L]) as Tensor2D, { tf: tf(), step: 0, params: p, rng: new Rng(2) });
      expect(Object.keys(r.terms)).toEqual(['discriminator']);
      expect(r.terms.discriminator).toBe(r.loss);
    });
  });
});

describe('VAE losses bit for bit', () => {
  it('each method forms the same float32 sum as before', () => {
    tf().tidy(() => {
      const t = tf();
      const f = forward(true);
      const rec = bernoulliReconstruction(t, f.x, f.logits!);
      const klPerDim = gaussianKlPerDim(t, f.mean, f.logvar!);
      const kl = gaussianKl(t, klPerDim);
      const elbo = scalar(t.add(rec, kl) as Scalar);
      const exact = (got: number, want: Scalar) => expect(got).toBe(scalar(want));

      const bv = lossOf('beta_vae', { beta: 4 });
      exact(bv.v.loss!, t.add(rec, t.mul(4, kl)) as Scalar);
      expect(bv.v.elbo).toBe(elbo);
      expect(Array.from(bv.r.klPerDim!.dataSync())).toEqual(Array.from(klPerDim.dataSync()));

      const an = lossOf('annealed_vae', { gamma: 1000, c_max: 5, iteration_threshold: 1000 }, 300);
      exact(an.v.capacity_penalty!, t.mul(1000, t.abs(t.sub(kl, t.scalar(1.5)))) as Scalar);
      exact(an.v.loss!, t.add(rec, t.mul(1000, t.abs(t.sub(kl, t.scalar(1.5))))) as Scalar);

      const tc = lossOf('beta_tcvae', { beta: 6 });
      exact(tc.v.tc!, totalCorrelation(t, f.z, f.mean, f.logvar!));
      exact(tc.v.loss!, t.add(t.add(rec, kl), t.mul(5, totalCorrelation(t, f.z, f.mean, f.logvar!))) as Scalar);

      const fv = lossOf('factor_vae', { gamma: 35 });
      exact(fv.v.loss!, t.add(t.add(rec, kl), t.mul(35, fv.r.terms.tc!)) as Scalar);

      const d1 = lossOf('dip_vae_i', { lambda_od: 2, lambda_d_factor: 10 });
      const dip1 = dipRegularizer(t, covariance(t, f.mean), 2, 20);
      exact(d1.v.dip!, dip1);
      exact(d1.v.loss!, t.add(t.add(rec, kl), dip1) as Scalar);

      const d2 = lossOf('dip_vae_ii', { lambda_od: 5, lambda_d_factor: 1 });
      const encVar = t.mul(t.eye(L), t.mean(t.exp(f.logvar!), 0, true)) as Tensor2D;
      const dip2 = dipRegularizer(t, t.add(covariance(t, f.mean), encVar) as Tensor2D, 5, 5);
      exact(d2.v.dip!, dip2);
      exact(d2.v.loss!, t.add(t.add(rec, kl), dip2) as Scalar);

      for (const r of [bv, an, tc, fv, d1, d2]) {
        expect(r.v.reconstruction).toBe(scalar(rec));
        expect(r.v.kl).toBe(scalar(kl));
      }
    });
  });
});
