/**
 * Shared pieces of the editor building blocks (pattern, intensity, blur,
 * background): the factor-controlled strength, seeded textures, and the
 * wrapper that turns a block into a standalone perturbation under ε.
 */
import type { DatasetInfo } from '../../shared/domain.js';
import type { ParamSpec, ParamValues } from '../../shared/params.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import { Rng } from '../util/rng.js';
import { OffsetDataset, factorUnit } from './derived.js';
import type { OffsetFn, PerturbationEntry, PerturbationSpec } from './types.js';
import { epsilonParam } from './types.js';

/** Parameters choosing which factor(s) control a block's strength. */
export function strengthParams(): ParamSpec[] {
  return [
    {
      key: 'factor',
      label: 'Controlling factor',
      description: 'Index of the factor whose value sets the strength (−1: constant full strength).',
      type: 'integer',
      default: -1,
      min: -1,
      max: 63,
    },
    {
      key: 'factor2',
      label: 'Second factor',
      description: 'Optional second factor combined with the first (−1: none).',
      type: 'integer',
      default: -1,
      min: -1,
      max: 63,
    },
    {
      key: 'combine',
      label: 'Combine factors',
      description: 'How two controlling factors combine: mean, product, or difference (first − second).',
      type: 'choice',
      default: 'mean',
      choices: ['mean', 'product', 'difference'],
    },
    {
      key: 'centered',
      label: 'Centred strength',
      description:
        'Map each factor value u ∈ [0, 1] to 2u − 1, so the strength changes sign across the factor range.',
      type: 'boolean',
      default: false,
    },
  ];
}

/**
 * strength(w): each controlling factor gives u = class/(size−1) in [0, 1]
 * (cyclic factors (1 − cos 2πc/size)/2, continuous across the wrap), or
 * 2u − 1 when centred; two factors combine by mean, product or difference;
 * no factor gives 1.
 */
export function makeStrength(info: DatasetInfo, params: ParamValues): (factors: readonly number[]) => number {
  const K = info.factors.length;
  const a = Number(params.factor ?? -1);
  const b = Number(params.factor2 ?? -1);
  for (const [name, k] of [
    ['factor', a],
    ['factor2', b],
  ] as const) {
    if (k >= K) throw new Error(`${name} ${k} is not a factor of '${info.id}' (it has ${K}: ${info.factors.map((f) => f.name).join(', ')})`);
  }
  const centered = params.centered === true;
  const combine = String(params.combine ?? 'mean');
  const unit = (k: number, f: readonly number[]) => {
    const fac = info.factors[k]!;
    const u = factorUnit(fac.size, f[k]!, fac.cyclic);
    return centered ? 2 * u - 1 : u;
  };
  return (f) => {
    if (a < 0 && b < 0) return 1;
    if (a < 0) return unit(b, f);
    if (b < 0) return unit(a, f);
    const ua = unit(a, f);
    const ub = unit(b, f);
    if (combine === 'product') return ua * ub;
    if (combine === 'difference') return ua - ub;
    return (ua + ub) / 2;
  };
}

export const TEXTURES = ['smooth-noise', 'sinusoid', 'checker', 'white-noise'] as const;

export function textureParams(defaults: { texture?: string; frequency?: number } = {}): ParamSpec[] {
  return [
    {
      key: 'texture',
      label: 'Texture',
      description: 'smooth-noise (seeded, bilinear), sinusoid (plane wave), checker, white-noise (fixed per pixel).',
      type: 'choice',
      default: defaults.texture ?? 'sinusoid',
      choices: [...TEXTURES],
    },
    {
      key: 'frequency',
      label: 'Frequency',
      description: 'Cycles (sinusoid, checker) or noise cells across the image width.',
      type: 'number',
      default: defaults.frequency ?? 4,
      min: 0.5,
      max: 32,
      step: 0.5,
    },
    {
      key: 'angle',
      label: 'Angle (degrees)',
      description: 'Direction of the sinusoid / checker pattern.',
      type: 'number',
      default: 30,
      min: 0,
      max: 360,
      step: 1,
    },
  ];
}

/** A fixed seeded texture, H×W×C, values in [−1, 1]. */
export function makeTexture(h: number, w: number, c: number, params: ParamValues, seed: number): Float32Array {
  const kind = String(params.texture ?? 'sinusoid');
  const freq = Number(params.frequency ?? 4);
  const angle = (Number(params.angle ?? 0) * Math.PI) / 180;
  const out = new Float32Array(h * w * c);
  const rng = new Rng(seed).fork(`texture:${kind}`);
  const ca = Math.cos(angle);
  const sa = Math.sin(angle);
  switch (kind) {
    case 'sinusoid': {
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const t = ((x + 0.5) * ca + (y + 0.5) * sa) / w;
          const v = Math.sin(2 * Math.PI * freq * t);
          for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = v;
        }
      break;
    }
    case 'checker': {
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const u = ((x + 0.5) * ca + (y + 0.5) * sa) / w;
          const v = (-(x + 0.5) * sa + (y + 0.5) * ca) / w;
          const s = Math.floor(2 * freq * u) + Math.floor(2 * freq * v);
          const val = s % 2 === 0 ? 1 : -1;
          for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = val;
        }
      break;
    }
    case 'white-noise': {
      for (let i = 0; i < out.length; i++) out[i] = 2 * rng.next() - 1;
      break;
    }
    case 'smooth-noise': {
      const g = Math.max(1, Math.round(freq));
      const grid = new Float64Array((g + 1) * (g + 1) * c);
      for (let i = 0; i < grid.length; i++) grid[i] = 2 * rng.next() - 1;
      let maxAbs = 0;
      for (let y = 0; y < h; y++) {
        const gy = ((y + 0.5) / h) * g;
        const y0 = Math.min(g - 1, Math.floor(gy));
        const ty = gy - y0;
        for (let x = 0; x < w; x++) {
          const gx = ((x + 0.5) / w) * g;
          const x0 = Math.min(g - 1, Math.floor(gx));
          const tx = gx - x0;
          for (let k = 0; k < c; k++) {
            const at = (yy: number, xx: number) => grid[(yy * (g + 1) + xx) * c + k]!;
            const v =
              (1 - ty) * ((1 - tx) * at(y0, x0) + tx * at(y0, x0 + 1)) + ty * ((1 - tx) * at(y0 + 1, x0) + tx * at(y0 + 1, x0 + 1));
            out[(y * w + x) * c + k] = v;
            maxAbs = Math.max(maxAbs, Math.abs(v));
          }
        }
      }
      if (maxAbs > 0) for (let i = 0; i < out.length; i++) out[i] = out[i]! / maxAbs;
      break;
    }
    default:
      throw new Error(`unknown texture '${kind}' (known: ${TEXTURES.join(', ')})`);
  }
  return out;
}

export interface BlockDef {
  id: string;
  name: string;
  description: string;
  /** The block's own parameters (ε is added by the wrapper / compose). */
  params: ParamSpec[];
  build(info: DatasetInfo, params: ParamValues, seed: number, epsilon: number): OffsetFn;
}

/** A building block as a standalone perturbation: its offset under ε. */
export function blockEntry(def: BlockDef): PerturbationEntry {
  return {
    id: def.id,
    name: def.name,
    description: def.description,
    params: [epsilonParam(), ...def.params],
    block: true,
    buildOffset: (info, params, seed, epsilon) => def.build(info, params, seed, epsilon),
    create: async (parent: GroundTruthDataset, params: ParamValues, seed: number) => {
      const spec: PerturbationSpec = { kind: def.id, params: { ...params }, seed, parentId: parent.info.id };
      const fn = def.build(parent.info, params, seed, Number(params.epsilon));
      return new OffsetDataset(parent, spec, fn, { name: def.name.toLowerCase(), what: def.description });
    },
  };
}
