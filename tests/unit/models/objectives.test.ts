/**
 * Every objective's loss on fixed small tensors equals the value computed
 * independently here, in plain loops, from the formula.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Scalar, Tensor, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import { getTf, initBackend } from '../../../src/core/compute/backend.js';
import { objectives, getObjective, listModels, resolveModelParams } from '../../../src/core/models/registry.js';
import { annealedCapacity } from '../../../src/core/models/objectives/annealed_vae.js';
import { columnShuffleIndices, discriminatorLoss, discriminatorTc } from '../../../src/core/models/objectives/factor_vae.js';
import { negativeShift, pclLoss } from '../../../src/core/models/objectives/pcl.js';
import type { ForwardOutputs, LossResult } from '../../../src/core/models/objectives/types.js';
import { Rng } from '../../../src/core/util/rng.js';
import { ParamSpec } from '../../../src/shared/params.js';

const tf = () => getTf();
beforeAll(async () => {
  expect((await initBackend({ prefer: 'wasm' })).backend).toBe('wasm');
});

// ---- fixed inputs: B = 4 observations of 2×3×1 pixels, L = 3 latents ----
const B = 4;
const L = 3;
const X = [1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1];
const LOGITS = [0.5, -1.2, 2.0, 0.1, -0.3, 3.1, -2.2, 0.7, 1.1, -0.4, 0.0, 1.5, 2.5, -3.0, 0.2, -0.9, 0.6, -1.7, 1.9, -0.2, 0.3, 0.8, -2.6, 1.2];
const MEAN = [0.3, -1.1, 0.8, 1.2, 0.4, -0.5, -0.7, 0.9, 0.1, 0.05, -0.3, 1.4];
const LOGVAR = [-0.5, 0.2, -1.3, 0.1, -0.8, 0.4, -2.0, 0.0, -0.2, 0.3, -1.0, -0.6];
const EPS = [0.2, -0.4, 1.1, -0.9, 0.5, 0.3, 0.7, -1.3, 0.05, -0.2, 0.8, -0.6];
const Z = MEAN.map((m, i) => m + Math.exp(LOGVAR[i]! / 2) * EPS[i]!);

function forward(variational = true, mean = MEAN, logvar = LOGVAR, z = Z): ForwardOutputs {
  const t = tf();
  return {
    x: t.tensor4d(X, [B, 2, 3, 1]),
    mean: t.tensor2d(mean, [mean.length / L, L]),
    logvar: variational ? t.tensor2d(logvar, [logvar.length / L, L]) : null,
    z: t.tensor2d(variational ? z : mean, [mean.length / L, L]),
    logits: t.tensor4d(LOGITS, [B, 2, 3, 1]),
  };
}

function values(r: LossResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.terms)) out[k] = v.dataSync()[0]!;
  return out;
}

function run(id: string, params: Record<string, unknown>, out: ForwardOutputs, step = 0, seed = 1): { v: Record<string, number>; kl?: number[] } {
  const def = getObjective(id);
  const p = resolveModelParams(id, params);
  const inst = def.create({ tf: tf(), latent: L, params: p, rng: new Rng(99), scope: `test-${id}-${Math.random()}` });
  return tf().tidy(() => {
    const r = inst.loss(out, { tf: tf(), step, params: p, rng: new Rng(seed) });
    return { v: values(r), ...(r.klPerDim ? { kl: Array.from(r.klPerDim.dataSync()) } : {}) };
  });
}

// ---- plain-loop references ----
function refRecon(): number {
  let s = 0;
  for (let i = 0; i < X.length; i++) {
    const l = LOGITS[i]!;
    const p = 1 / (1 + Math.exp(-l));
    s += -(X[i]! * Math.log(p) + (1 - X[i]!) * Math.log(1 - p));
  }
  return s / B;
}
function refKlPerDim(mean = MEAN, logvar = LOGVAR): number[] {
  const n = mean.length / L;
  const kl = new Array<number>(L).fill(0);
  for (let i = 0; i < n; i++)
    for (let l = 0; l < L; l++) {
      const m = mean[i * L + l]!;
      const lv = logvar[i * L + l]!;
      kl[l]! += (0.5 * (m * m + Math.exp(lv) - lv - 1)) / n;
    }
  return kl;
}
const sum = (a: number[]) => a.reduce((p, q) => p + q, 0);
function logsumexp(a: number[]): number {
  const m = Math.max(...a);
  return m + Math.log(sum(a.map((v) => Math.exp(v - m))));
}
function logN(z: number, m: number, lv: number): number {
  return -0.5 * ((z - m) ** 2 * Math.exp(-lv) + lv + Math.log(2 * Math.PI));
}
function refTc(): number {
  let tc = 0;
  for (let j = 0; j < B; j++) {
    const joint: number[] = [];
    for (let i = 0; i < B; i++) {
      let s = 0;
      for (let l = 0; l < L; l++) s += logN(Z[j * L + l]!, MEAN[i * L + l]!, LOGVAR[i * L + l]!);
      joint.push(s);
    }
    let prod = 0;
    for (let l = 0; l < L; l++) {
      const per: number[] = [];
      for (let i = 0; i < B; i++) per.push(logN(Z[j * L + l]!, MEAN[i * L + l]!, LOGVAR[i * L + l]!));
      prod += logsumexp(per);
    }
    tc += logsumexp(joint) - prod;
  }
  return tc / B;
}
function refCov(addVar: boolean): number[][] {
  const mu = new Array<number>(L).fill(0);
  for (let i = 0; i < B; i++) for (let l = 0; l < L; l++) mu[l]! += MEAN[i * L + l]! / B;
  const C: number[][] = [];
  for (let a = 0; a < L; a++) {
    C.push([]);
    for (let b = 0; b < L; b++) {
      let s = 0;
      for (let i = 0; i < B; i++) s += (MEAN[i * L + a]! - mu[a]!) * (MEAN[i * L + b]! - mu[b]!);
      let c = s / B;
      if (addVar && a === b) for (let i = 0; i < B; i++) c += Math.exp(LOGVAR[i * L + a]!) / B;
      C[a]!.push(c);
    }
  }
  return C;
}
function refDip(C: number[][], lod: number, ld: number): number {
  let off = 0;
  let diag = 0;
  for (let a = 0; a < L; a++) for (let b = 0; b < L; b++) if (a === b) diag += (C[a]![a]! - 1) ** 2;
    else off += C[a]![b]! ** 2;
  return lod * off + ld * diag;
}
/** E|X| for X ~ N(m, s²) by Simpson quadrature over ±12 s (independent of the closed form). */
function expectedAbs(m: number, s: number): number {
  const n = 4000;
  const a = m - 12 * s;
  const b = m + 12 * s;
  const h = (b - a) / n;
  let acc = 0;
  for (let k = 0; k <= n; k++) {
    const x = a + k * h;
    const w = k === 0 || k === n ? 1 : k % 2 ? 4 : 2;
    acc += w * Math.abs(x) * Math.exp(-0.5 * ((x - m) / s) ** 2);
  }
  return (acc * h) / 3 / (s * Math.sqrt(2 * Math.PI));
}

const close = (got: number, want: number, rel = 1e-5) => expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));

describe('registry', () => {
  it('declares every method of the paper with valid hyperparameter specs', () => {
    expect(objectives.map((o) => o.id)).toEqual(['ae', 'beta_vae', 'annealed_vae', 'beta_tcvae', 'factor_vae', 'dip_vae_i', 'dip_vae_ii', 'slow_vae', 'pcl']);
    for (const m of listModels()) {
      for (const p of m.params) {
        expect(() => ParamSpec.parse(p)).not.toThrow();
        if (typeof p.default === 'number') {
          if (p.min !== undefined) expect(p.default).toBeGreaterThanOrEqual(p.min);
          if (p.max !== undefined) expect(p.default).toBeLessThanOrEqual(p.max);
        }
      }
    }
    const beta = getObjective('beta_vae').params.find((p) => p.key === 'beta')!;
    expect(beta.paperValues).toEqual({ dsprites: 8, shapes3d: 32 });
    expect(beta.grid).toEqual([1, 2, 4, 6, 8, 16]);
    expect(getObjective('factor_vae').params.find((p) => p.key === 'gamma')!.paperValues).toEqual({ dsprites: 35, shapes3d: 7 });
    expect(getObjective('beta_tcvae').params.find((p) => p.key === 'beta')!.paperValues).toEqual({ dsprites: 6, shapes3d: 32 });
    expect(getObjective('dip_vae_i').params.find((p) => p.key === 'lambda_d_factor')!.default).toBe(10);
    expect(getObjective('dip_vae_ii').params.find((p) => p.key === 'lambda_d_factor')!.default).toBe(1);
    expect(getObjective('pcl').variational).toBe(false);
    expect(getObjective('slow_vae').pairs && getObjective('pcl').pairs).toBe(true);
    expect(() => resolveModelParams('beta_vae', { gamma: 1 })).toThrow(/unknown setting/);
  });
});

describe('objective losses against plain-loop references', () => {
  const rec = refRecon();
  const klDims = refKlPerDim();
  const kl = sum(klDims);

  it('ae: reconstruction only', () => {
    const { v } = run('ae', {}, forward(false));
    close(v.reconstruction!, rec);
    close(v.loss!, rec);
  });

  it('beta_vae: reconstruction + β·KL, with KL per dimension', () => {
    const { v, kl: got } = run('beta_vae', { beta: 4 }, forward());
    close(v.reconstruction!, rec);
    close(v.kl!, kl);
    close(v.loss!, rec + 4 * kl);
    got!.forEach((g, l) => close(g, klDims[l]!));
  });

  it('annealed_vae: capacity schedule and γ·|KL − C|', () => {
    expect(annealedCapacity(0, 25, 100000)).toBe(0);
    expect(annealedCapacity(40000, 25, 100000)).toBe(10);
    expect(annealedCapacity(250000, 25, 100000)).toBe(25);
    for (const [step, c] of [
      [0, 0],
      [300, 1.5],
      [5000, 5],
    ] as const) {
      const { v } = run('annealed_vae', { gamma: 1000, c_max: 5, iteration_threshold: 1000 }, forward(), step);
      close(v.capacity!, c);
      close(v.loss!, rec + 1000 * Math.abs(kl - c), 2e-5);
    }
  });

  it('beta_tcvae: minibatch-weighted TC estimator', () => {
    const tc = refTc();
    const { v } = run('beta_tcvae', { beta: 6 }, forward());
    close(v.tc!, tc);
    close(v.loss!, rec + kl + 5 * tc);
  });

  it('dip_vae_i and dip_vae_ii: covariance regularisers', () => {
    const i = run('dip_vae_i', { lambda_od: 2, lambda_d_factor: 10 }, forward()).v;
    close(i.dip!, refDip(refCov(false), 2, 20));
    close(i.loss!, rec + kl + refDip(refCov(false), 2, 20));
    const ii = run('dip_vae_ii', { lambda_od: 5, lambda_d_factor: 1 }, forward()).v;
    close(ii.dip!, refDip(refCov(true), 5, 5));
    close(ii.loss!, rec + kl + refDip(refCov(true), 5, 5));
  });

  it('factor_vae: TC from the discriminator, discriminator loss, column shuffle', () => {
    // TC and discriminator loss on fixed logits
    const real = [1.0, -0.5, 0.3, 0.2, -1.0, 2.0, 0.5, 0.5];
    const fake = [0.1, 0.4, -0.3, 1.2, 2.0, -1.0, 0.0, 0.7];
    const lsm = (a: number, b: number, k: 0 | 1) => (k === 0 ? a : b) - logsumexp([a, b]);
    let tcRef = 0;
    let dRef = 0;
    for (let n = 0; n < 4; n++) {
      tcRef += (real[2 * n]! - real[2 * n + 1]!) / 4;
      dRef += (-0.5 * lsm(real[2 * n]!, real[2 * n + 1]!, 0) - 0.5 * lsm(fake[2 * n]!, fake[2 * n + 1]!, 1)) / 4;
    }
    const [tcGot, dGot] = tf().tidy(() => [
      discriminatorTc(tf(), tf().tensor2d(real, [4, 2])).dataSync()[0]!,
      discriminatorLoss(tf(), tf().tensor2d(real, [4, 2]), tf().tensor2d(fake, [4, 2])).dataSync()[0]!,
    ]);
    close(tcGot, tcRef);
    close(dGot, dRef);

    // The shuffle permutes each column within itself (same multiset), and differs between columns.
    const Bs = 50;
    const Ls = 4;
    const idx = columnShuffleIndices(Bs, Ls, new Rng(3));
    const perms: number[][] = [];
    for (let l = 0; l < Ls; l++) {
      const rows: number[] = [];
      for (let i = 0; i < Bs; i++) {
        const flat = idx[i * Ls + l]!;
        expect(flat % Ls).toBe(l);
        rows.push((flat - l) / Ls);
      }
      expect([...rows].sort((a, b) => a - b)).toEqual(Array.from({ length: Bs }, (_, i) => i));
      perms.push(rows);
    }
    expect(perms[0]).not.toEqual(perms[1]);

    // The full objective: loss = rec + KL + γ·TC with TC from its own discriminator (a plain-loop MLP forward).
    const def = getObjective('factor_vae');
    const p = resolveModelParams('factor_vae', { gamma: 35 });
    const inst = def.create({ tf: tf(), latent: L, params: p, rng: new Rng(5), scope: 'fv-test' });
    const layers = inst.aux!.params;
    const mats = layers.map((q) => ({ name: q.name, shape: q.variable.shape, v: Array.from(q.variable.dataSync()) }));
    let tcMlp = 0;
    for (let n = 0; n < B; n++) {
      let h = Z.slice(n * L, n * L + L);
      for (let k = 0; k < mats.length; k += 2) {
        const W = mats[k]!;
        const bias = mats[k + 1]!;
        const [nin, nout] = W.shape as [number, number];
        const o = new Array<number>(nout).fill(0);
        for (let j = 0; j < nout; j++) {
          let s = bias.v[j]!;
          for (let i = 0; i < nin; i++) s += h[i]! * W.v[i * nout + j]!;
          o[j] = k + 2 < mats.length ? (s > 0 ? s : 0.2 * s) : s;
        }
        h = o;
      }
      tcMlp += (h[0]! - h[1]!) / B;
    }
    const v = tf().tidy(() => values(inst.loss(forward(), { tf: tf(), step: 0, params: p, rng: new Rng(1) })));
    close(v.tc!, tcMlp, 1e-4);
    close(v.loss!, rec + kl + 35 * v.tc!);
    expect(layers.length).toBe(14);
    expect(layers.filter((q) => q.name.endsWith('kernel')).map((q) => q.variable.shape)).toEqual([
      [L, 1000], [1000, 1000], [1000, 1000], [1000, 1000], [1000, 1000], [1000, 1000], [1000, 2],
    ]);
    expect(inst.aux!.adam).toEqual({ lr: 1e-4, beta1: 0.5, beta2: 0.9, epsilon: 1e-8 });
  });

  it('slow_vae: Laplace transition prior (pairs: rows 0,1 are x_t of rows 2,3)', () => {
    const rate = 6;
    const n = B;
    const half = B / 2;
    let hN = 0;
    let ceN = 0;
    for (let i = 0; i < n; i++)
      for (let l = 0; l < L; l++) {
        const lv = LOGVAR[i * L + l]!;
        const m = MEAN[i * L + l]!;
        hN += (0.5 * (lv + Math.log(2 * Math.PI * Math.E))) / n;
        ceN += (0.5 * (m * m + Math.exp(lv)) + 0.5 * Math.log(2 * Math.PI)) / n;
      }
    let ceL = 0;
    for (let p = 0; p < half; p++)
      for (let l = 0; l < L; l++) {
        const m0 = MEAN[p * L + l]!;
        const m1 = MEAN[(p + half) * L + l]!;
        const s0 = Math.exp(LOGVAR[p * L + l]! / 2);
        const s1 = Math.exp(LOGVAR[(p + half) * L + l]! / 2);
        // E[−log Laplace(z; μ_other, 1/λ)] = −log(λ/2) + λ E|z − μ_other|
        ceL += (-Math.log(rate / 2) + rate * expectedAbs(m0 - m1, s0) - Math.log(rate / 2) + rate * expectedAbs(m1 - m0, s1)) / half;
      }
    const { v, kl: got } = run('slow_vae', { beta: 1, gamma: 10, rate_prior: rate }, forward());
    close(v.cross_ent_laplace!, ceL, 1e-5);
    close(v.kl!, ceN - hN);
    close(v.kl!, kl); // the normal cross-entropy minus entropy is the Gaussian KL
    close(v.kl_laplace!, ceL - hN, 1e-5);
    close(v.loss!, 2 * rec + 10 * (ceN - hN) + 1 * (ceL - hN), 1e-5);
    got!.forEach((g, l) => close(g, klDims[l]!));
  });

  it('pcl: logistic loss of true pairs against shifted pairs', () => {
    const alpha = [-1.5, 0.3, -0.2];
    const beta = [0.1, -0.4, 0.05];
    const gamma = [0.02, 0.0, -0.1];
    const bias = 0.25;
    const h = MEAN;
    const half = B / 2;
    const r = (i: number, j: number) => {
      let s = bias;
      for (let l = 0; l < L; l++) {
        const a = h[i * L + l]!;
        const b = h[(half + j) * L + l]!;
        s += alpha[l]! * Math.abs(a - b) + beta[l]! * (a - b) ** 2 + gamma[l]! * (a * a + b * b);
      }
      return s;
    };
    const softplus = (x: number) => Math.log1p(Math.exp(x));
    const shift = 1;
    let want = 0;
    for (let i = 0; i < half; i++) want += (0.5 * softplus(-r(i, i)) + 0.5 * softplus(r(i, (i + shift) % half))) / half;
    const got = tf().tidy(() =>
      pclLoss(
        tf(),
        tf().tensor2d(h, [B, L]),
        { alpha: tf().tensor1d(alpha), beta: tf().tensor1d(beta), gamma: tf().tensor1d(gamma), bias: tf().tensor1d([bias]) },
        shift,
      ).loss.dataSync()[0]!,
    );
    close(got, want);
    // negatives: a cyclic shift in 1…B−1, never the true partner
    const rng = new Rng(4);
    for (let k = 0; k < 200; k++) {
      const s = negativeShift(8, rng);
      expect(s).toBeGreaterThanOrEqual(1);
      expect(s).toBeLessThanOrEqual(7);
    }
    // The objective at its initial classifier (α = −1, β = γ = 0, c = 0) with the shift its rng draws.
    const seed = 11;
    const s = negativeShift(half, new Rng(seed));
    let want0 = 0;
    const r0 = (i: number, j: number) => {
      let t = 0;
      for (let l = 0; l < L; l++) t += -Math.abs(h[i * L + l]! - h[(half + j) * L + l]!);
      return t;
    };
    for (let i = 0; i < half; i++) want0 += (0.5 * softplus(-r0(i, i)) + 0.5 * softplus(r0(i, (i + s) % half))) / half;
    const { v } = run('pcl', {}, forward(false), 0, seed);
    close(v.loss!, want0);
  });
});

describe('gradients', () => {
  it('every objective gives finite gradients with respect to its inputs', () => {
    for (const def of objectives) {
      const p = resolveModelParams(def.id, {});
      const inst = def.create({ tf: tf(), latent: L, params: p, rng: new Rng(2), scope: `grad-${def.id}` });
      const t = tf();
      const x = t.tensor4d(X, [B, 2, 3, 1]);
      const g = t.grads((mean: Tensor, logvar: Tensor, logits: Tensor) => {
        const out: ForwardOutputs = {
          x: x as Tensor4D,
          mean: mean as Tensor2D,
          logvar: def.variational ? (logvar as Tensor2D) : null,
          z: def.variational ? (t.add(mean, t.mul(t.tensor2d(EPS, [B, L]), t.exp(t.mul(0.5, logvar)))) as Tensor2D) : (mean as Tensor2D),
          logits: logits as Tensor4D,
        };
        const r = inst.loss(out, { tf: t, step: 10, params: p, rng: new Rng(1) });
        // touch every input so that each has a gradient
        return t.add(r.loss, t.mul(0, t.add(t.add(t.sum(mean), t.sum(logvar)), t.sum(logits)))) as Scalar;
      })([t.tensor2d(MEAN, [B, L]), t.tensor2d(LOGVAR, [B, L]), t.tensor4d(LOGITS, [B, 2, 3, 1])]);
      for (const gi of g) {
        const a = gi.dataSync();
        for (const v of a) expect(Number.isFinite(v), def.id).toBe(true);
      }
      const gm = g[0]!.dataSync();
      // the reconstruction-only AE depends on the code only through the decoder (not part of this test)
      if (def.id !== 'ae') expect(gm.some((v) => v !== 0), `${def.id} depends on the code`).toBe(true);
      if (def.decoder) expect(g[2]!.dataSync().some((v) => v !== 0), `${def.id} depends on the logits`).toBe(true);
      g.forEach((gi) => gi.dispose());
    }
  });
});
