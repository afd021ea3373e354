/**
 * What the lab's worker threads can do (src/core/threads.ts runs them,
 * src/core/thread-worker.ts serves them): heavy, synchronous, pure work of
 * one request, named here so the main side is typed against this table.
 *
 * - `chart`: a chart model (its numbers packed) → the file's bytes;
 * - `perturb-preview`: preview images and statistics of a perturbation;
 * - `perturb-stats`: the statistics a saved derived dataset records;
 * - `variance`: the variance structure of a dataset or of a perturbation of it.
 */
import { renderChart, unpackChart, type ChartFileFormat, type PackedChart } from './export/render.js';
import { preview, stats, variance } from './perturbations/preview.js';

export const threadTasks = {
  chart: (a: { chart: PackedChart; format: ChartFileFormat; dpi: number }): Uint8Array => renderChart(unpackChart(a.chart), a.format, a.dpi),
  'perturb-preview': preview,
  'perturb-stats': stats,
  variance,
};

export type ThreadTasks = typeof threadTasks;
