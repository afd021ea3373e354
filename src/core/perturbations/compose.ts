/**
 * `compose`: chain several building blocks under one ε bound. Block k sees
 * the image as left by blocks 0…k−1 (x₀ = x, x_{k+1} = x_k + δ_k(x_k, w)); the
 * total offset x_n − x is cut to ±ε per pixel and the result clipped to
 * [0, 1]. Block k gets the seed subSeed(seed, k), so two blocks of the same
 * kind draw different textures.
 */
import { resolveParams } from '../../shared/params.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import { OffsetDataset, subSeed } from './derived.js';
import type { BlockSpec, OffsetFn, PerturbationEntry, PerturbationSpec } from './types.js';
import { epsilonParam } from './types.js';

export function makeComposeEntry(findBlock: (kind: string) => PerturbationEntry | undefined, blockIds: () => string[]): PerturbationEntry {
  return {
    id: 'compose',
    name: 'Compose blocks',
    description:
      'Chain building blocks (pattern, intensity, blur, background) in order; the total change is held to ±ε per pixel.',
    params: [epsilonParam()],
    composite: true,
    create: async (parent: GroundTruthDataset, params, seed, _ctx, blocks?: BlockSpec[]) => {
      if (!blocks || blocks.length === 0) throw new Error('compose needs at least one block');
      const eps = Number(params.epsilon);
      const resolved: BlockSpec[] = [];
      const fns: OffsetFn[] = [];
      blocks.forEach((b, k) => {
        const entry = findBlock(b.kind);
        if (!entry?.block || !entry.buildOffset) {
          throw new Error(`'${b.kind}' is not a building block (blocks: ${blockIds().join(', ')})`);
        }
        const blockSpecs = entry.params.filter((p) => p.key !== 'epsilon');
        const given = { ...b.params };
        delete given.epsilon;
        const p = resolveParams(blockSpecs, given);
        resolved.push({ kind: b.kind, params: p });
        fns.push(entry.buildOffset(parent.info, p, subSeed(seed, k), eps));
      });
      const spec: PerturbationSpec = { kind: 'compose', params: { ...params }, seed, parentId: parent.info.id, blocks: resolved };
      let cur = new Float32Array(0);
      let tmp = new Float32Array(0);
      const fn: OffsetFn = (index, f, x, delta) => {
        if (cur.length !== x.length) {
          cur = new Float32Array(x.length);
          tmp = new Float32Array(x.length);
        }
        cur.set(x);
        for (const g of fns) {
          tmp.fill(0);
          g(index, f, cur, tmp);
          for (let j = 0; j < cur.length; j++) cur[j] = cur[j]! + tmp[j]!;
        }
        for (let j = 0; j < delta.length; j++) delta[j] = cur[j]! - x[j]!;
      };
      return new OffsetDataset(parent, spec, fn, {
        name: 'composed',
        what: `blocks ${resolved.map((b) => b.kind).join(' → ')} under one ε bound.`,
      });
    },
  };
}
