/**
 * A study's grid: methods × hyperparameters × datasets (each with its
 * variants: the original and perturbed versions) × seeds, expanded into
 * cells. A cell is one training run; its key is stable
 * (`method|dataset|variant|seed`), and a run belongs to a cell when its
 * model, resolved hyperparameters, dataset id and seed match.
 */
import type { ParamValues } from '../../shared/params.js';
import type { StudyMethod, StudySpec } from '../../shared/requests/studies.js';
import type { RunConfig } from '../../shared/runs.js';
import { canonicalJson } from '../perturbations/derived.js';

export interface PlannedCell {
  key: string;
  /** The method's key in the study (with the swept values when the method has a grid). */
  method: string;
  model: string;
  params: ParamValues;
  dataset: string;
  variant: string;
  seed: number;
  latent: number;
}

function cross(grid: Record<string, (number | boolean | string)[]>): ParamValues[] {
  let out: ParamValues[] = [{}];
  for (const [k, values] of Object.entries(grid)) {
    const next: ParamValues[] = [];
    for (const o of out) for (const v of values) next.push({ ...o, [k]: v });
    out = next;
  }
  return out;
}

/** The hyperparameter sets of a method on a base dataset (one unless it has a grid). */
export function methodParamSets(m: StudyMethod, dataset: string): { label: string; params: ParamValues }[] {
  const base: ParamValues = { ...(m.params ?? {}), ...(m.paramsByDataset?.[dataset] ?? {}) };
  if (!m.grid || Object.keys(m.grid).length === 0) return [{ label: m.id, params: base }];
  return cross(m.grid).map((g) => ({
    label: `${m.id}(${Object.entries(g)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',')})`,
    params: { ...base, ...g },
  }));
}

export const cellKey = (method: string, dataset: string, variant: string, seed: number): string => `${method}|${dataset}|${variant}|${seed}`;

export function expandCells(spec: StudySpec): PlannedCell[] {
  const cells: PlannedCell[] = [];
  const keys = new Set<string>();
  for (const m of spec.methods)
    for (const d of spec.datasets)
      for (const { label, params } of methodParamSets(m, d.base))
        for (const v of d.variants)
          for (const seed of spec.seeds) {
            const key = cellKey(label, d.base, v.role, seed);
            if (keys.has(key)) throw new Error(`the study has the cell ${key} twice (repeated method, dataset, variant or seed)`);
            keys.add(key);
            cells.push({ key, method: label, model: m.model, params, dataset: d.base, variant: v.role, seed, latent: d.latent ?? spec.training.latent });
          }
  return cells;
}

/** The run configuration of a cell (before the model registry fills defaults). */
export function cellRunConfig(spec: StudySpec, cell: PlannedCell, datasetId: string, studyId: string): RunConfig {
  const t = spec.training;
  return {
    model: cell.model,
    params: { ...cell.params },
    datasetId,
    arch: t.arch,
    latent: cell.latent,
    steps: t.steps,
    batch: t.batch,
    seed: cell.seed,
    lr: t.lr,
    progressEvery: t.progressEvery,
    checkpointEvery: t.checkpointEvery,
    codesSamples: t.codesSamples,
    // the training worker scores the run as it finishes (no second worker start)
    evaluate: [...spec.evaluation.metrics],
    ...(spec.evaluation.settings && Object.keys(spec.evaluation.settings).length ? { evaluateSettings: spec.evaluation.settings } : {}),
    ...periodicOf(spec),
    experimentId: studyId,
  };
}

/** The study's metric curves as RunConfig fields (none when off). */
function periodicOf(spec: StudySpec): Partial<RunConfig> {
  const p = spec.evaluation.periodic;
  if (!p) return {};
  return {
    evalEvery: p.every,
    ...(p.metrics ? { evalMetrics: [...p.metrics] } : {}),
    ...(p.settings && Object.keys(p.settings).length ? { evalSettings: p.settings } : {}),
    ...(p.samples !== undefined ? { evalSamples: p.samples } : {}),
  };
}

/** Identity of a run inside a study: model, resolved hyperparameters, dataset and seed. */
export function runIdentity(model: string, params: ParamValues, datasetId: string, seed: number): string {
  return canonicalJson({ model, params, datasetId, seed });
}

/** The run count of a spec (for listings). */
export function countCells(spec: StudySpec): number {
  let n = 0;
  for (const m of spec.methods) for (const d of spec.datasets) n += methodParamSets(m, d.base).length * d.variants.length * spec.seeds.length;
  return n;
}
