/**
 * The datasets room: the dataset service (built-in, imported and derived
 * datasets), imports of official files, and the contract handlers of
 * datasets/list, get, samples, traverse and the import requests.
 */
import { LabError, type SampleResult } from '../../shared/contract.js';
import type { HandlersFor } from '../../shared/dispatch.js';
import type { datasetRequests } from '../../shared/requests/datasets.js';
import { toImageBatch } from '../images.js';
import type { Jobs } from '../jobs.js';
import type { Room } from '../room.js';
import type { Db } from '../store/db.js';
import { Rng } from '../util/rng.js';
import { factorsOf, factorsToIndex, indexToFactors, renderBatch, sampleIndices } from './grid.js';
import { ImportService } from './import-service.js';
import type { DerivedOpener } from './open.js';
import { DatasetService } from './service.js';
import type { GroundTruthDataset } from './types.js';

export interface DatasetsRoomDeps {
  db: Db;
  labDir: string;
  jobs: Jobs;
  /** How derived datasets open (from the perturbations room). */
  openDerived: DerivedOpener;
}

type DatasetHandlers = Pick<HandlersFor<typeof datasetRequests>, 'datasets/list' | 'datasets/get' | 'datasets/samples' | 'datasets/traverse'> & ReturnType<ImportService['handlers']>;

function result(ds: GroundTruthDataset, indices: number[]): SampleResult {
  const sizes = ds.info.factors.map((f) => f.size);
  const factors = factorsOf(sizes, indices);
  const K = sizes.length;
  const images = renderBatch(ds, indices);
  return {
    datasetId: ds.info.id,
    indices,
    factors: indices.map((_, i) => Array.from(factors.subarray(i * K, (i + 1) * K))),
    images: toImageBatch(images, indices.length, ds.info.imageShape),
  };
}

async function samples(datasets: DatasetService, input: { id: string; indices?: number[]; count?: number; seed?: number }): Promise<SampleResult> {
  const ds = await datasets.open(input.id);
  let indices: number[];
  if (input.indices) {
    const bad = input.indices.find((i) => i >= ds.info.count);
    if (bad !== undefined) throw new LabError('invalid_payload', `index ${bad} outside 0…${ds.info.count - 1}`);
    indices = input.indices;
  } else {
    const sizes = ds.info.factors.map((f) => f.size);
    indices = Array.from(sampleIndices(sizes, input.count ?? 16, new Rng(input.seed ?? 0)));
  }
  return result(ds, indices);
}

async function traverse(datasets: DatasetService, input: { id: string; index?: number; factors?: number[]; factor: number; steps?: number }): Promise<SampleResult> {
  const ds = await datasets.open(input.id);
  const sizes = ds.info.factors.map((f) => f.size);
  if (input.factor >= sizes.length) {
    throw new LabError('invalid_payload', `factor ${input.factor} outside 0…${sizes.length - 1}`);
  }
  let start: number[];
  try {
    start = input.factors ? (factorsToIndex(sizes, input.factors), [...input.factors]) : indexToFactors(sizes, input.index!);
  } catch (e) {
    throw new LabError('invalid_payload', (e as Error).message);
  }
  const n = sizes[input.factor]!;
  const steps = Math.min(n, input.steps ?? n);
  const indices: number[] = [];
  for (let s = 0; s < steps; s++) {
    const cls = steps === 1 ? 0 : Math.round((s * (n - 1)) / (steps - 1));
    const f = [...start];
    f[input.factor] = cls;
    indices.push(factorsToIndex(sizes, f));
  }
  return result(ds, indices);
}

export function createDatasetsRoom(deps: DatasetsRoomDeps): Room<DatasetHandlers> & { datasets: DatasetService; imports: ImportService } {
  const datasets = new DatasetService(deps.db, deps.labDir, deps.openDerived);
  const imports = new ImportService({ db: deps.db, labDir: deps.labDir, datasets, jobs: deps.jobs });
  return {
    datasets,
    imports,
    handlers: {
      'datasets/list': () => datasets.list(),
      'datasets/get': ({ id }) => datasets.get(id),
      'datasets/samples': (input) => samples(datasets, input),
      'datasets/traverse': (input) => traverse(datasets, input),
      ...imports.handlers(),
    },
    close: () => imports.close(),
  };
}
