/**
 * The paper's Table 1 (MIG, mean (sd) over seeds), transcribed from
 * shared/PAPER.md ("Published MIG (Table 1 …)"). Transcribed — verify
 * before citing: the table came from secondary sources.
 */
export interface PublishedEntry {
  method: string;
  dataset: string;
  variant: string;
  mean: number;
  sd: number;
}

export const PUBLISHED_SOURCE = 'Zietlow, Rolinek & Martius, ICML 2021, Table 1 (MIG, mean (sd) over seeds)';
export const PUBLISHED_NOTE = 'transcribed — verify before citing';
export const PUBLISHED_METRIC = 'mig';

// method: [dSprites orig, manip, noise, Shapes3D orig, manip, noise] as [mean, sd]
const TABLE: Record<string, [number, number][]> = {
  ae: [[0.09, 0.06], [0.05, 0.02], [0.06, 0.03], [0.06, 0.03], [0.05, 0.03], [0.07, 0.03]],
  beta_vae: [[0.23, 0.08], [0.07, 0.09], [0.14, 0.07], [0.6, 0.31], [0.09, 0.14], [0.66, 0.05]],
  factor_vae: [[0.27, 0.11], [0.2, 0.12], [0.16, 0.08], [0.27, 0.18], [0.07, 0.05], [0.33, 0.2]],
  beta_tcvae: [[0.25, 0.08], [0.14, 0.1], [0.2, 0.04], [0.58, 0.2], [0.24, 0.16], [0.6, 0.11]],
  slow_vae: [[0.39, 0.08], [0.27, 0.08], [0.37, 0.09], [0.53, 0.19], [0.13, 0.08], [0.6, 0.1]],
  pcl: [[0.21, 0.03], [0.24, 0.07], [0.24, 0.07], [0.44, 0.06], [0.47, 0.08], [0.4, 0.07]],
};

const COLUMNS: [string, string][] = [
  ['dsprites', 'original'],
  ['dsprites', 'manipulated'],
  ['dsprites', 'noise'],
  ['shapes3d', 'original'],
  ['shapes3d', 'manipulated'],
  ['shapes3d', 'noise'],
];

export const PUBLISHED: readonly PublishedEntry[] = Object.entries(TABLE).flatMap(([method, row]) =>
  row.map(([mean, sd], i) => ({ method, dataset: COLUMNS[i]![0], variant: COLUMNS[i]![1], mean, sd })),
);

/** The published MIG of a cell, if the paper reports it. */
export function published(method: string, dataset: string, variant: string): PublishedEntry | undefined {
  return PUBLISHED.find((p) => p.method === method && p.dataset === dataset && p.variant === variant);
}

/**
 * What the paper claims per method for the manipulated data: the VAE family
 * loses disentanglement ("drop"); PCL, the non-variational control, does not
 * ("no_drop"); the AE baseline does not disentangle in the first place, so
 * the paper makes no claim about it ("none").
 */
export const PAPER_CLAIM: Record<string, 'drop' | 'no_drop' | 'none'> = {
  ae: 'none',
  beta_vae: 'drop',
  factor_vae: 'drop',
  beta_tcvae: 'drop',
  slow_vae: 'drop',
  pcl: 'no_drop',
};
