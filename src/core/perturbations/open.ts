/**
 * The derived-dataset opener the datasets room is given: re-create the
 * perturbation from the stored spec on top of the opened parent. The stored
 * info (id, name) stays the derived dataset's identity.
 */
import type { DerivedOpener } from '../datasets/open.js';
import { restorePerturbation } from './registry.js';
import type { PerturbationSpec } from './types.js';

export const openDerived: DerivedOpener = async (row, parent, artifactDir) => {
  const derived = await restorePerturbation(row.spec as unknown as PerturbationSpec, parent, { artifactDir });
  return { info: row.info, render: (i, out, off) => derived.render(i, out, off) };
};
