/**
 * Built-in ground-truth datasets. A new dataset is one file plus one line here;
 * the UI and CLI list whatever this registry (and the store, for imported and
 * derived data) holds.
 */
import type { DatasetInfo } from '../../shared/domain.js';
import { DSprites, dspritesInfo } from './dsprites.js';
import { shapes3dEntry } from './shapes3d.js';
import type { GroundTruthDataset } from './types.js';

export interface DatasetEntry {
  info: DatasetInfo;
  create(): GroundTruthDataset;
}

export const builtinDatasets: DatasetEntry[] = [
  { info: dspritesInfo, create: () => new DSprites() },
  shapes3dEntry,
];

export function findBuiltin(id: string): DatasetEntry | undefined {
  return builtinDatasets.find((d) => d.info.id === id);
}
