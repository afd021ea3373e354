/**
 * Study presets: JSON files in resources/presets (e.g. zietlow2021.json, the
 * paper's Table 1 grid) with named scales (full, quick). A preset plus a
 * scale (and optional subsets) gives a StudySpec.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { LabError } from '../../shared/contract.js';
import { PresetInfo, StudyDataset, StudyEvaluation, StudyMethod, StudySpec, StudyTraining } from '../../shared/requests/studies.js';
import { countCells } from './spec.js';

export const PresetScale = z
  .object({
    description: z.string(),
    seeds: z.array(z.number().int().min(0)).min(1).max(100),
    training: StudyTraining,
    evaluation: StudyEvaluation,
    notes: z.array(z.string()).optional(),
  })
  .strict();

export const Preset = z
  .object({
    id: z.string().regex(/^[a-z0-9_-]+$/),
    title: z.string(),
    description: z.string(),
    paper: z.string().optional(),
    primaryMetric: z.string().optional(),
    methods: z.array(StudyMethod).min(1),
    datasets: z.array(StudyDataset).min(1),
    scales: z.record(z.string(), PresetScale),
  })
  .strict();
export type Preset = z.infer<typeof Preset>;

/** resources/presets of the package (walks up from this file to the folder holding package.json). */
export function presetsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const p = path.join(dir, 'resources', 'presets');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find resources/presets');
}

export function loadPresets(dir = presetsDir()): Preset[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const res = Preset.safeParse(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
      if (!res.success) throw new Error(`preset ${f}: ${res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return res.data;
    });
}

export function getPreset(id: string, dir?: string): Preset {
  const p = loadPresets(dir).find((x) => x.id === id);
  if (!p) throw new LabError('not_found', `no study preset '${id}' (known: ${loadPresets(dir).map((x) => x.id).join(', ')})`);
  return p;
}

export interface PresetOptions {
  scale?: string;
  name?: string;
  datasets?: string[];
  methods?: string[];
  /** Number of seeds: the first N of the scale's list, extended with the next integers. */
  seeds?: number;
}

export function presetToSpec(preset: Preset, opts: PresetOptions = {}): StudySpec {
  const scaleId = opts.scale ?? 'quick';
  const scale = preset.scales[scaleId];
  if (!scale) throw new LabError('invalid_payload', `preset ${preset.id} has no scale '${scaleId}' (known: ${Object.keys(preset.scales).join(', ')})`);
  const pick = <T>(all: T[], want: string[] | undefined, id: (t: T) => string, what: string): T[] => {
    if (!want) return all;
    const unknown = want.filter((w) => !all.some((a) => id(a) === w));
    if (unknown.length) throw new LabError('invalid_payload', `preset ${preset.id} has no ${what} ${unknown.join(', ')} (known: ${all.map(id).join(', ')})`);
    return all.filter((a) => want.includes(id(a)));
  };
  const methods = pick(preset.methods, opts.methods, (m) => m.id, 'method');
  const datasets = pick(preset.datasets, opts.datasets, (d) => d.base, 'dataset');
  let seeds = [...scale.seeds];
  if (opts.seeds !== undefined) {
    seeds = seeds.slice(0, opts.seeds);
    let next = Math.max(-1, ...seeds) + 1;
    while (seeds.length < opts.seeds) seeds.push(next++);
  }
  const subset = opts.datasets || opts.methods || opts.seeds !== undefined;
  return StudySpec.parse({
    name: opts.name ?? `${preset.title} — ${scaleId}${subset ? ' (subset)' : ''}`,
    description: `${preset.description}\n\nScale '${scaleId}': ${scale.description}`,
    preset: { id: preset.id, scale: scaleId },
    methods,
    datasets,
    seeds,
    training: scale.training,
    evaluation: scale.evaluation,
    ...(preset.primaryMetric ? { primaryMetric: preset.primaryMetric } : {}),
    notes: [...(scale.notes ?? []), ...(preset.paper ? [`Paper: ${preset.paper}`] : [])],
  });
}

export function presetInfos(dir?: string): PresetInfo[] {
  return loadPresets(dir).map((p) => ({
    id: p.id,
    title: p.title,
    description: p.description,
    scales: Object.entries(p.scales).map(([id, s]) => ({ id, description: s.description, runs: countCells(presetToSpec(p, { scale: id })) })),
  }));
}
