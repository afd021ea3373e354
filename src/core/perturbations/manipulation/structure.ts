/**
 * The variance-structure term of the generator's objective.
 *
 * WHY. The references' objective (training.ts) asks that a decoder reading
 * mixed factors reconstruct x' better than one reading the factors. At
 * ε = 0.1 on dSprites it moved little (+0.0022 → −0.00025), and the
 * dataset-side analysis (analysis/variance.ts) then ranked the manipulated
 * dSprites as *more* factor-aligned than the original (1.458 vs 1.511). The
 * paper's account of why VAEs disentangle is the local variance structure:
 * the principal directions of how the images change per factor step. So the
 * generator now also shapes that structure directly.
 *
 * WHAT. For each training point w the K forward step differences of the
 * perturbed images, d′_k(w) = x′(w + e_k) − x′(w), taken exactly as the
 * analysis takes them (the top class of a non-cyclic factor steps back:
 * x′(w) − x′(w − e_k); a factor of size 1 gives 0), with
 * x′ = clip(x + ε·up(m_ψ(w))). Their mean Gram G′ = E_w[D′ᵀD′] (K×K) is pulled
 * towards the parent's Gram turned by the references' mixing rotation R:
 * T = R·diag(λ₀)·Rᵀ, λ₀ the eigenvalues of the parent's Gram G₀ on the same
 * points — the same amount of change, with principal directions R's columns
 * (a mixing of the factors) instead of near the factor axes. The term is
 *   L_S = ‖G′ − T‖²_F / ‖T‖²_F,
 * added to J with the weight `structure_weight`. ε bounds what is reachable
 * (‖x′ − x‖∞ ≤ ε), so L_S is not driven to 0; what it changes is measured by
 * the analysis on the stored dataset, not by this term.
 *
 * GRADIENT. With A = 2(G′ − T)/‖T‖², ∂L_S/∂d′_k(w) = (2/N)·Σ_l A_kl d′_l(w); it
 * flows to x′ at the two ends of each step, through the clip gate (as the
 * references' gradient does), ε and the upsampling, into m_ψ at each of the
 * K + 1 inputs a point uses. Checked against finite differences in
 * tests/unit/perturbations/manipulation-structure.test.ts.
 */
import type { Mat } from '../../analysis/linalg.js';
import { mat, nearestSignedPermutation, symmetricEigen } from '../../analysis/linalg.js';
import { stepTarget } from '../../analysis/variance.js';
import { factorsOf, factorsToIndex, renderBatch } from '../../datasets/grid.js';
import type { GroundTruthDataset } from '../../datasets/types.js';
import type { GeneratorEncoding, GeneratorGrads, GeneratorNet, Upsampler } from './generator.js';
import { encodeGeneratorInput, generatorBackward, generatorForward, upsampleAt, upsampleTranspose } from './generator.js';

export interface StructureDims {
  sizes: number[];
  cyclic: boolean[];
  K: number;
  P: number;
  p: number;
  D: number;
  H: number;
  N: number;
  eps: number;
  encoding?: GeneratorEncoding;
}

/** What the term did, for the report: its loss and the alignment distance of G′ (training points). */
export interface StructureEval {
  loss: number;
  /** ‖V − P*‖_F of G′'s eigenvectors (the analysis' alignment distance, on the training points). */
  alignmentDistance: number;
}

export interface StructureReport {
  weight: number;
  /** The parent's Gram on the training points: its alignment distance, and the target's (R's columns). */
  parentAlignmentDistance: number;
  targetAlignmentDistance: number;
  initial: StructureEval;
  final: StructureEval;
}

function alignmentOf(G: Float64Array, K: number): number {
  return nearestSignedPermutation(symmetricEigen(mat(K, K, G)).vectors).distance;
}

/**
 * The term for N training points (their grid indices), the parent, the
 * mixing rotation and the upsampler of the generator's offsets.
 */
export class StructureTerm {
  /** Slots per point: the point itself, then one neighbour per factor. */
  private readonly S: number;
  /** Parent images of every slot (N·S × P). */
  private readonly X: Float32Array;
  /** Generator inputs of every slot (N·S × D). */
  private readonly E: Float64Array;
  /** Per (point, factor): the slot at the high and low end of the step, −1 for a factor of size 1. */
  private readonly hi: Int32Array;
  private readonly lo: Int32Array;
  private readonly Hh: Float64Array;
  private readonly M: Float64Array;
  /** Unclipped x + ε·up(m) per slot. */
  private readonly Y: Float64Array;
  /** Step differences d′ (N·K × P). */
  private readonly Dd: Float64Array;
  private readonly G: Float64Array;
  readonly target: Float64Array;
  private readonly targetNorm2: number;
  readonly parentGram: Float64Array;
  private readonly gY: Float64Array;
  private readonly gFull: Float64Array;
  private readonly gM: Float64Array;
  private readonly gH: Float64Array;

  constructor(
    parent: GroundTruthDataset,
    indices: Int32Array,
    private readonly d: StructureDims,
    R: Mat,
    private readonly up: Upsampler,
  ) {
    const { sizes, cyclic, K, N, P, p, D, H } = d;
    const S = K + 1;
    this.S = S;
    const fac = factorsOf(sizes, indices);
    const slotIdx = new Int32Array(N * S);
    this.E = new Float64Array(N * S * D);
    this.hi = new Int32Array(N * K).fill(-1);
    this.lo = new Int32Array(N * K).fill(-1);
    const f = new Array<number>(K);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) f[k] = fac[n * K + k]!;
      slotIdx[n * S] = indices[n]!;
      encodeGeneratorInput(sizes, cyclic, f, this.E, n * S * D, d.encoding ?? 'smooth');
      for (let k = 0; k < K; k++) {
        const nk = sizes[k]!;
        const g = f.slice();
        const step = nk > 1 ? stepTarget(nk, cyclic[k]!, f[k]!) : { to: f[k]!, sign: 1 };
        const top = step.sign === -1;
        g[k] = step.to;
        const s = n * S + 1 + k;
        slotIdx[s] = factorsToIndex(sizes, g);
        encodeGeneratorInput(sizes, cyclic, g, this.E, s * D, d.encoding ?? 'smooth');
        if (nk <= 1) continue;
        this.hi[n * K + k] = top ? n * S : s;
        this.lo[n * K + k] = top ? s : n * S;
      }
    }
    this.X = renderBatch(parent, slotIdx);
    this.Hh = new Float64Array(N * S * H);
    this.M = new Float64Array(N * S * p);
    this.Y = new Float64Array(N * S * P);
    this.Dd = new Float64Array(N * K * P);
    this.G = new Float64Array(K * K);
    this.gY = new Float64Array(N * S * P);
    this.gFull = new Float64Array(P);
    this.gM = new Float64Array(N * S * p);
    this.gH = new Float64Array(H);

    // the parent's Gram (ε = 0) and the target: its spectrum on R's columns
    this.parentGram = new Float64Array(K * K);
    for (let j = 0; j < this.Y.length; j++) this.Y[j] = this.X[j]!;
    this.gram(this.Y, this.parentGram);
    const eig = symmetricEigen(mat(K, K, this.parentGram));
    this.target = new Float64Array(K * K);
    for (let a = 0; a < K; a++)
      for (let b = 0; b < K; b++) {
        let s = 0;
        for (let m = 0; m < K; m++) s += R.data[a * K + m]! * eig.values[m]! * R.data[b * K + m]!;
        this.target[a * K + b] = s;
      }
    this.targetNorm2 = this.target.reduce((s, v) => s + v * v, 0);
  }

  /** Step differences of the (clipped) images in Y into Dd, and their mean Gram into out. */
  private gram(Y: Float64Array, out: Float64Array): void {
    const { K, N, P } = this.d;
    const { hi, lo, Dd } = this;
    out.fill(0);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const o = (n * K + k) * P;
        const h = hi[n * K + k]!;
        if (h < 0) {
          Dd.fill(0, o, o + P);
          continue;
        }
        const ho = h * P;
        const lo0 = lo[n * K + k]! * P;
        for (let j = 0; j < P; j++) {
          const a = Y[ho + j]!;
          const b = Y[lo0 + j]!;
          Dd[o + j] = (a < 0 ? 0 : a > 1 ? 1 : a) - (b < 0 ? 0 : b > 1 ? 1 : b);
        }
      }
      for (let k = 0; k < K; k++) {
        const ok = (n * K + k) * P;
        for (let l = k; l < K; l++) {
          const ol = (n * K + l) * P;
          let s = 0;
          for (let j = 0; j < P; j++) s += Dd[ok + j]! * Dd[ol + j]!;
          out[k * K + l]! += s / N;
        }
      }
    }
    for (let k = 0; k < K; k++) for (let l = 0; l < k; l++) out[k * K + l] = out[l * K + k]!;
  }

  /** Forward for every slot with the generator's current weights; returns L_S and G′'s alignment distance. */
  forward(net: GeneratorNet): StructureEval {
    const { N, D, H, p, P, eps, K } = this.d;
    const { S, E, Hh, M, X, Y, up } = this;
    for (let s = 0; s < N * S; s++) {
      generatorForward(net, E, s * D, Hh, s * H, M, s * p);
      const xo = s * P;
      for (let j = 0; j < P; j++) Y[xo + j] = X[xo + j]! + eps * upsampleAt(up, M, s * p, j);
    }
    this.gram(Y, this.G);
    let loss = 0;
    for (let i = 0; i < K * K; i++) loss += (this.G[i]! - this.target[i]!) ** 2;
    return { loss: loss / this.targetNorm2, alignmentDistance: alignmentOf(this.G, K) };
  }

  /** weight·∂L_S/∂ψ added into grads, from the last forward(). */
  accumulate(net: GeneratorNet, grads: GeneratorGrads, weight: number): void {
    const { N, D, H, p, P, eps, K } = this.d;
    const { S, E, Hh, M, Y, Dd, gY, gFull, gM, gH, hi, lo, up } = this;
    const A = new Float64Array(K * K);
    for (let i = 0; i < K * K; i++) A[i] = (weight * 2 * (this.G[i]! - this.target[i]!)) / this.targetNorm2;
    gY.fill(0);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const h = hi[n * K + k]!;
        if (h < 0) continue;
        const ho = h * P;
        const l0 = lo[n * K + k]! * P;
        for (let j = 0; j < P; j++) {
          let g = 0;
          for (let l = 0; l < K; l++) g += A[k * K + l]! * Dd[(n * K + l) * P + j]!;
          g *= 2 / N;
          gY[ho + j]! += g;
          gY[l0 + j]! -= g;
        }
      }
    }
    gM.fill(0);
    for (let s = 0; s < N * S; s++) {
      const xo = s * P;
      for (let j = 0; j < P; j++) {
        let g = gY[xo + j]!;
        const y = Y[xo + j]!;
        // the clip gate of the references' gradient: pass where descent moves the pixel back into [0, 1]
        if ((y < 0 && g > 0) || (y > 1 && g < 0)) g = 0;
        gFull[j] = eps * g;
      }
      upsampleTranspose(up, gFull, gM, s * p);
      generatorBackward(net, E, s * D, Hh, s * H, M, gM, s * p, gH, grads);
    }
  }

  report(weight: number, initial: StructureEval, final: StructureEval): StructureReport {
    const { K } = this.d;
    return { weight, parentAlignmentDistance: alignmentOf(this.parentGram, K), targetAlignmentDistance: alignmentOf(this.target, K), initial, final };
  }
}
