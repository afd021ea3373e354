/**
 * Learned manipulation (the paper's "manipulated" data), our design:
 *
 *   x' = clip₀¹( x + ε·m_ψ(w) ),   m_ψ(w) = up( tanh( W₂ᵀ tanh(W₁ᵀ e(w) + b₁) + b₂ ) )
 *
 * GENERATOR. e(w) encodes the factor classes (non-cyclic: 2c/(n−1) − 1 ∈
 * [−1, 1]; cyclic: cos and sin of 2πc/n, so the offset is continuous across
 * the wrap). One tanh hidden layer (default 32 units) maps it to a low-resolution
 * offset (default 16×16×C) with a tanh output, bilinearly upsampled to H×W×C.
 * tanh keeps ‖m‖∞ ≤ 1 and bilinear interpolation of values in [−1, 1] stays
 * in [−1, 1], so the ε bound holds by construction. The low resolution keeps
 * the offset smooth, the model tiny (~10⁴ weights) and training fast.
 *
 * REFERENCES. Two stand-ins for a VAE decoder read a noisy factor code, as a
 * VAE decoder reads z = μ + σ·ξ:
 *   disentangled: c = w̃ + σ⊙ξ          entangled: c = R·w̃ + σ⊙ξ
 * with w̃ ∈ [−1, 1]^K the normalised factor classes, R a fixed seeded random
 * rotation (the best of 8 Haar draws by distance from any signed permutation;
 * ≈1.8 for K = 5) and ξ ~ N(0, I), the same draws for both references. Each
 * reference is an ADDITIVE decoder D(c) = A·φ(c), φ(c) = [1, c_j, RBF_b(c_j)]
 * (each code coordinate enters through its own 1-D feature expansion, no
 * cross terms), fitted in closed form by ridge regression to the
 * average-pooled (resolution×resolution) images x'. Why this pair:
 *   - the additive decoder is the smallest model with an axis preference like
 *     the VAE's factorised posterior: a linear decoder with isotropic noise
 *     would be rotation invariant and the two references could not be told
 *     apart; the per-coordinate nonlinearity (RBFs) makes "which directions
 *     are the code axes" matter;
 *   - by default σ is the same on every coordinate (code_noise = 0.3, on the
 *     [−1, 1] code scale). Unequal noise (noise_spread > 0: σ_j =
 *     σ·(1 + spread·(j/(K−1) − ½))) gives the factors' order a meaning it
 *     does not have — a VAE gives its least noise to its most useful latent.
 *     On dSprites, spread 1 makes the entangled reference win on the
 *     UNPERTURBED data already (J = −0.0012), with spread 0 the disentangled
 *     one wins there (J = +0.0011), as it should for a dataset VAEs
 *     disentangle;
 *   - data whose variation is additive along the rotated coordinates R·w̃ is
 *     explained well by the entangled reference and badly by the
 *     disentangled one — "variance structure that does not line up with the
 *     factor axes", which is what should mislead a VAE while every factor
 *     stays recoverable (the parent image is still there, changed by ≤ ε);
 *   - closed-form fits keep the references optimal for the current data (no
 *     inner loop, no alternating instability) and give the gradient for free:
 *     for L(Y) = min_A ‖Y − ΦA‖² + λ‖A‖², ∂L/∂Y = 2(Y − ΦA*) (envelope theorem).
 *
 * OBJECTIVE, minimised over ψ with Adam on a seeded sample of grid points
 * (fresh code noise every step):
 *   J(ψ) = L_ent(x') − L_dis(x'),  L = (‖Y − ΦA*‖² + λN‖A*‖²)/(N·p) per pooled pixel.
 * J < 0 means the entangled reference reconstructs x' better than the
 * disentangled one. Through the [0, 1] clip we pass the gradient where
 * descent would move the pixel back into range (zero otherwise), so offsets
 * on clipped binary pixels can still change sign.
 *
 * THE VARIANCE STRUCTURE, shaped directly (structure_weight, default 1;
 * ./manipulation/structure.ts). J alone barely moved on dSprites at ε = 0.1
 * (+0.0022 → −0.00025) and the dataset-side analysis then found the
 * manipulated data *more* factor-aligned than the original (alignment
 * distance 1.458 vs 1.511). The objective is now J + structure_weight·L_S,
 * L_S = ‖G′ − T‖²/‖T‖²: G′ the mean Gram of the per-factor step differences of
 * x′ (taken as analysis/variance.ts takes them), T the parent's Gram turned
 * by R (same spectrum, principal directions R's columns).
 *
 * STEP PARITIES (parity_inputs, default on; ./manipulation/generator.ts).
 * A bounded offset that is smooth in the classes changes by ≈ 2/(n−1) per
 * step at most, too little to change what one factor step does to the
 * image; e(w) therefore also carries (−1)^c_k and (−1)^(c_k+c_l), with which
 * the offset can differ from one class to the next and couple the steps of
 * two factors. Measured on dSprites, ε = 0.1, seed 0 (2,000 analysis points):
 * alignment distance original 1.525, matched uniform noise 1.525 (noise
 * cancelled), smooth inputs + structure term 1.529, parity inputs +
 * structure term 1.644 — less aligned than both, as the paper's Table 1
 * needs. J then ends at +0.0017 (the references no longer flip).
 *
 * The trained weights (float32) are written as a JSON artifact; the derived
 * dataset applies them per image index, so re-creating it from the spec and
 * the artifact gives identical bytes. Without an artifact directory, restore
 * retrains (training is deterministic for a given seed).
 */
// The parts, under ./manipulation/: generator.ts (e(w), the tanh net, bilinear
// up-sampling, the derived dataset), references.ts (codes, mixing rotation,
// pooling, features, ridge fits), training.ts (the Adam loop with progress and
// cancel), artifact.ts (weights file, SHA-checked restore), types.ts. This
// file is the perturbation the registry lists.
import { manipulatedDataset } from './manipulation/generator.js';
import { loadWeights, saveWeights } from './manipulation/artifact.js';
import { optionsFromParams, trainManipulation } from './manipulation/training.js';
import type { PerturbationEntry, PerturbationSpec } from './types.js';
import { epsilonParam } from './types.js';

export type { ManipulationEval, ManipulationReport, ManipulationWeights } from './manipulation/types.js';
export type { TrainOptions } from './manipulation/training.js';
export { manipulatedDataset } from './manipulation/generator.js';
export { mixingRotation } from './manipulation/references.js';
export { optionsFromParams, trainManipulation } from './manipulation/training.js';
export { parseWeights, serializeWeights } from './manipulation/artifact.js';

export const manipulationEntry: PerturbationEntry = {
  id: 'manipulation',
  name: 'Learned manipulation',
  description:
    'The paper\'s manipulation: x\' = x + ε·m_ψ(w) with ‖m_ψ‖∞ ≤ 1, a small generator from the factors trained so that an entangled ' +
    'reference (reading a rotated, noisy factor code) reconstructs the data better and a disentangled one (reading the factors, same noise) worse.',
  learned: true,
  params: [
    epsilonParam(),
    { key: 'train_points', label: 'Training points', description: 'Seeded sample of grid points the generator is trained on.', type: 'integer', default: 256, min: 16, max: 16384 },
    { key: 'steps', label: 'Steps', description: 'Adam steps (full batch, fresh code noise each step).', type: 'integer', default: 1000, min: 1, max: 20000 },
    { key: 'hidden', label: 'Hidden units', description: 'Width of the generator\'s tanh hidden layer.', type: 'integer', default: 32, min: 2, max: 512 },
    { key: 'resolution', label: 'Offset resolution', description: 'The generator outputs a resolution×resolution offset (upsampled bilinearly); the references read images average-pooled to the same grid.', type: 'integer', default: 16, min: 2, max: 128 },
    { key: 'learning_rate', label: 'Learning rate', description: 'Adam step size.', type: 'number', default: 0.01, min: 1e-5, max: 1, log: true },
    { key: 'code_noise', label: 'Code noise σ', description: 'Std of the references\' code noise (codes lie in [−1, 1]).', type: 'number', default: 0.3, min: 0, max: 2, step: 0.05 },
    { key: 'noise_spread', label: 'Noise spread', description: 'Unequal code noise: coordinate j gets σ·(1 + spread·(j/(K−1) − ½)); 0 = the same σ on every coordinate.', type: 'number', default: 0, min: 0, max: 1.9, step: 0.1 },
    { key: 'basis', label: 'Basis per coordinate', description: 'RBF features per code coordinate in the additive reference decoders.', type: 'integer', default: 6, min: 0, max: 32 },
    { key: 'ridge', label: 'Ridge λ', description: 'Ridge penalty of the closed-form reference fits (times the number of points).', type: 'number', default: 0.001, min: 1e-8, max: 10, log: true },
    {
      key: 'parity_inputs',
      label: 'Step-parity inputs',
      description: 'Give the generator the parities (−1)^c of the factor classes and their pairwise products, so its offset can change from one class to the next (a smooth offset changes by at most ≈ 2/(n−1) a step).',
      type: 'boolean',
      default: true,
    },
    {
      key: 'structure_weight',
      label: 'Structure weight',
      description: 'Weight of the variance-structure term: the Gram of the per-factor image steps is pulled towards the parent\'s, turned by the mixing rotation, on at most 256 of the training points (0: references only).',
      type: 'number',
      default: 1,
      min: 0,
      max: 100,
      step: 0.1,
    },
  ],
  async create(parent, params, seed, ctx = {}) {
    const spec: PerturbationSpec = { kind: 'manipulation', params: { ...params }, seed, parentId: parent.info.id };
    const { weights, report } = await trainManipulation(parent, optionsFromParams(params), seed, ctx);
    if (ctx.artifactDir) {
      ctx.onProgress?.(1, { stage: 'saving' });
      spec.artifacts = { weights: await saveWeights(ctx.artifactDir, spec, weights) };
    }
    ctx.onProgress?.(1, { stage: 'done', ...report.final });
    return manipulatedDataset(parent, spec, weights, report);
  },
  async restore(spec, parent, ctx = {}) {
    const ref = spec.artifacts?.weights;
    if (!ref) return manipulationEntry.create(parent, spec.params, spec.seed, ctx);
    if (!ctx.artifactDir) throw new Error('restoring a learned manipulation needs ctx.artifactDir (where its weights file is)');
    return manipulatedDataset(parent, spec, await loadWeights(ctx.artifactDir, ref));
  },
};
