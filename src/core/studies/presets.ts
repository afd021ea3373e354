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
    /** The methods and base datasets this scale runs unless asked for others (default: all of the preset's). */
    methods: z.array(z.string()).min(1).optional(),
    datasets: z.array(z.string()).min(1).optional(),
    /** Hyperparameters this scale sets per method id (over the preset's, on every dataset), and the latent size on every dataset. */
    params: z.record(z.string(), z.record(z.string(), z.union([z.number(), z.string(), z.boolean()]))).optional(),
    latent: z.number().int().min(1).max(512).optional(),
    /** Measured wall time of one run of this scale, and where it was measured (shown with the scale). */
    measured: z.object({ secondsPerRun: z.number().positive(), machine: z.string(), command: z.string() }).strict().optional(),
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
  const methods = pick(preset.methods, opts.methods ?? scale.methods, (m) => m.id, 'method').map((m) => {
    const over = scale.params?.[m.id];
    if (!over) return m;
    const byDataset = Object.fromEntries(Object.entries(m.paramsByDataset ?? {}).map(([d, ps]) => [d, { ...ps, ...over }]));
    return { ...m, params: { ...(m.params ?? {}), ...over }, ...(m.paramsByDataset ? { paramsByDataset: byDataset } : {}) };
  });
  const datasets = pick(preset.datasets, opts.datasets ?? scale.datasets, (d) => d.base, 'dataset').map((d) => (scale.latent !== undefined ? { ...d, latent: scale.latent } : d));
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
    notes: [
      ...(scale.measured ? [`Measured: ${fmtDuration(scale.measured.secondsPerRun)} a run on ${scale.measured.machine} (${scale.measured.command}).`] : []),
      ...(scale.notes ?? []),
      ...(preset.paper ? [`Paper: ${preset.paper}`] : []),
    ],
  });
}

function fmtDuration(s: number): string {
  return s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

export function presetInfos(dir?: string): PresetInfo[] {
  return loadPresets(dir).map((p) => ({
    id: p.id,
    title: p.title,
    description: p.description,
    scales: Object.entries(p.scales).map(([id, s]) => ({ id, description: s.description, runs: countCells(presetToSpec(p, { scale: id })) })),
  }));
}
