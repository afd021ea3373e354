/**
 * Uniform-noise control (paper): x' = clip01(x + u), u ~ U[−ε, ε] i.i.d. per
 * pixel. The noise of image i is drawn from a generator seeded by (seed, i),
 * so the same image always gets the same noise and any index can be rendered
 * on its own.
 */
import type { ParamValues } from '../../shared/params.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import { OffsetDataset, imageRng } from './derived.js';
import type { DerivedDataset, PerturbationEntry, PerturbationSpec } from './types.js';
import { epsilonParam } from './types.js';

export function uniformNoise(parent: GroundTruthDataset, params: ParamValues, seed: number): DerivedDataset {
  const eps = Number(params.epsilon);
  const spec: PerturbationSpec = { kind: 'uniform-noise', params: { ...params }, seed, parentId: parent.info.id };
  return new OffsetDataset(
    parent,
    spec,
    (index, _f, _x, delta) => {
      const rng = imageRng(seed, 'uniform-noise', index);
      for (let j = 0; j < delta.length; j++) delta[j] = eps * (2 * rng.next() - 1);
    },
    { name: 'uniform noise', what: `uniform noise U[−${eps}, ${eps}] per pixel, fixed per image.` },
  );
}

export const uniformNoiseEntry: PerturbationEntry = {
  id: 'uniform-noise',
  name: 'Uniform noise (control)',
  description:
    'The paper\'s control: every pixel gets independent noise U[−ε, ε] (fixed per image, seeded by image index), then the image is clipped to [0, 1].',
  params: [epsilonParam()],
  resampleable: true,
  create: async (parent, params, seed) => uniformNoise(parent, params, seed),
};
