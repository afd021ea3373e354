/**
 * The metrics the lab computes. A new metric is one file plus one line here;
 * the UI and the CLI read names, descriptions and settings from this list.
 */
import { activeUnits } from './active_units.js';
import { betaVae } from './beta_vae.js';
import { dci } from './dci.js';
import { explicitness } from './explicitness.js';
import { factorVae } from './factor_vae.js';
import { gaussianTc } from './gaussian_tc.js';
import { mig } from './mig.js';
import { modularity } from './modularity.js';
import { sap } from './sap.js';
import type { MetricEntry } from './types.js';

export const METRICS: readonly MetricEntry[] = [mig, dci, factorVae, betaVae, sap, modularity, explicitness, activeUnits, gaussianTc];

export const METRIC_IDS = METRICS.map((m) => m.id);

export function getMetric(id: string): MetricEntry {
  const m = METRICS.find((e) => e.id === id);
  if (!m) throw new Error(`unknown metric '${id}' (known: ${METRIC_IDS.join(', ')})`);
  return m;
}

export type { MetricEntry } from './types.js';
