/**
 * Compare, computed by the engine in one request: the runs in view grouped
 * by (method, base dataset, variant from the dataset lineage), the seed
 * statistics of the picked runs' latest score of one metric, the
 * hyperparameters that differ, and the scatter of a hyperparameter against
 * the metric. The same rules as the screen's helpers
 * (src/renderer/src/components/compare/model.ts). The hyperparameters are
 * the method's (`config.params`) and the training settings a grid varies
 * (arch, latent, batch, lr, steps), so runs of different learning rates
 * grouped together are shown as such (per group and over the picked runs).
 */
import type { DatasetInfo } from '../../shared/domain.js';
import type { CompareGroup, CompareMember, CompareQuery, CompareResult } from '../../shared/runs.js';
import { COMPARE_TRAINING_KEYS, type RunRepository } from '../store/runs.js';
import { studentTQuantile } from '../util/distributions.js';

type Variant = CompareGroup['variant'];
const VARIANTS: Variant[] = ['original', 'manipulated', 'noise', 'other'];
const MAX_MEMBERS = 2000;

/** Base dataset and variant of a dataset id, following `parent` links to the root. */
export function lineage(id: string, byId: ReadonlyMap<string, Pick<DatasetInfo, 'id' | 'parent'>>): { base: string; variant: Variant } {
  const ds = byId.get(id);
  if (!ds || !ds.parent) return { base: id, variant: 'original' };
  const kind = ds.id.startsWith(`${ds.parent}.`) ? ds.id.slice(ds.parent.length + 1).split('.')[0] || null : null;
  let root = ds.parent;
  for (let guard = 0; guard < 32; guard++) {
    const p = byId.get(root)?.parent;
    if (!p) break;
    root = p;
  }
  return { base: root, variant: kind === 'manipulation' ? 'manipulated' : kind && /noise/.test(kind) ? 'noise' : 'other' };
}

const TRAINING_KEYS: readonly string[] = COMPARE_TRAINING_KEYS;

/** A run's hyperparameters as Compare shows them: its training settings, then the method's own (which win on a clash). */
export function compareParams(r: { params_json: string | null; train_json?: string | null }): Record<string, unknown> {
  const train = (r.train_json ? JSON.parse(r.train_json) : {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(train)) if (v !== null && v !== undefined) out[k] = v;
  return Object.assign(out, (r.params_json ? JSON.parse(r.params_json) : {}) as Record<string, unknown>);
}

/** Keys whose values are not all equal over some parameter sets (a key missing in some differs too). */
function differingKeys(sets: readonly Record<string, unknown>[]): string[] {
  const values = new Map<string, Set<string>>();
  for (const p of sets) {
    for (const [k, v] of Object.entries(p)) {
      let s = values.get(k);
      if (!s) values.set(k, (s = new Set()));
      s.add(JSON.stringify(v ?? null));
    }
  }
  return [...values.keys()].filter((k) => values.get(k)!.size > 1 || sets.some((p) => !(k in p))).sort();
}

/** Position in an order; unknown values last. */
const rank = (order: readonly string[], x: string) => (order.includes(x) ? order.indexOf(x) : order.length);

/** Mean and sample sd (n − 1; null below two values). */
export function meanSd(xs: readonly number[]): { n: number; mean: number | null; sd: number | null } {
  const n = xs.length;
  if (n === 0) return { n, mean: null, sd: null };
  let s = 0;
  for (const x of xs) s += x;
  const mean = s / n;
  if (n < 2) return { n, mean, sd: null };
  let ss = 0;
  for (const x of xs) ss += (x - mean) ** 2;
  return { n, mean, sd: Math.sqrt(ss / (n - 1)) };
}

/** One group's metric against training steps: per step the seeds scored there, their mean and its 95 % t interval. */
export interface MetricCurve<V extends string = Variant> {
  key: string;
  method: string;
  base: string;
  variant: V;
  points: { step: number; n: number; mean: number; lo: number | null; hi: number | null }[];
}

/**
 * Mean ± 95 % t interval over seeds of the periodic scores, per group and step
 * (a step counts the seeds scored there). Read in chunks of 500 runs. Groups
 * are (row.model, base, variant); the study's Table 1 passes its method ids
 * as `model` and its variant roles (any string) with their order.
 */
export function metricCurves<R extends { id: string; model: string; dataset_id: string }, V extends string = Variant>(
  runs: RunRepository,
  rows: readonly R[],
  exclude: ReadonlySet<string>,
  lineageOfRow: (r: R) => { base: string; variant: V },
  metric: string,
  variantOrder: readonly string[] = VARIANTS,
): MetricCurve<V>[] {
  const picked = rows.filter((r) => !exclude.has(r.id));
  const byGroup = new Map<string, { method: string; base: string; variant: V; steps: Map<number, number[]> }>();
  for (let i = 0; i < picked.length; i += 500) {
    const chunk = picked.slice(i, i + 500);
    const series = runs.metricSeries.pointsOf(chunk.map((r) => r.id), metric);
    for (const r of chunk) {
      const pts = series[r.id] ?? [];
      if (pts.length === 0) continue;
      const lin = lineageOfRow(r);
      const key = `${r.model}|${lin.base}|${lin.variant}`;
      let g = byGroup.get(key);
      if (!g) byGroup.set(key, (g = { method: r.model, base: lin.base, variant: lin.variant, steps: new Map() }));
      for (const p of pts) {
        if (p.value === null || !Number.isFinite(p.value)) continue;
        const list = g.steps.get(p.step) ?? [];
        list.push(p.value);
        g.steps.set(p.step, list);
      }
    }
  }
  return [...byGroup.entries()]
    .sort((a, b) => a[1].method.localeCompare(b[1].method) || a[1].base.localeCompare(b[1].base) || rank(variantOrder, a[1].variant) - rank(variantOrder, b[1].variant))
    .map(([key, g]) => ({
      key,
      method: g.method,
      base: g.base,
      variant: g.variant,
      points: [...g.steps.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([step, xs]) => {
          const s = meanSd(xs);
          const half = s.sd !== null && s.n >= 2 ? studentTQuantile(0.975, s.n - 1) * (s.sd / Math.sqrt(s.n)) : null;
          return { step, n: s.n, mean: s.mean!, lo: half === null ? null : s.mean! - half, hi: half === null ? null : s.mean! + half };
        }),
    }));
}

export function compareRuns(runs: RunRepository, datasets: readonly Pick<DatasetInfo, 'id' | 'parent'>[], q: CompareQuery): CompareResult {
  const filter = { ...(q.filter ?? {}) };
  if (q.finishedOnly ?? true) filter.status = ['finished'];
  const metrics = runs.scoredMetrics(filter);
  const metric = q.metric && q.metric.length ? q.metric : metrics.includes('mig') ? 'mig' : (metrics[0] ?? '');
  const rows = runs.compareRows(filter, metric);
  const byId = new Map(datasets.map((d) => [d.id, d]));
  const exclude = new Set(q.exclude ?? []);
  const expand = new Set(q.expand ?? []);
  const lineageOf = new Map<string, { base: string; variant: Variant }>();
  const all = q.expandSmall !== undefined && rows.length <= q.expandSmall;
  const open = (key: string) => all || expand.has(key);

  type Acc = CompareGroup & { all: CompareMember[]; pickedParams: Record<string, unknown>[] };
  const groups = new Map<string, Acc>();
  const paramSet = new Set<string>();
  const numeric = new Set<string>();
  const scatter = new Map<string, { points: [number, number][]; labels: string[] }>();
  let picked = 0;
  const sp = q.scatterParam;
  const pickedParams: Record<string, unknown>[] = [];
  // each row's parameters, parsed once (the scatter below reads them again)
  const paramsOf = new Map<string, Record<string, unknown>>();
  for (const r of rows) {
    let lin = lineageOf.get(r.dataset_id);
    if (!lin) lineageOf.set(r.dataset_id, (lin = lineage(r.dataset_id, byId)));
    const key = `${r.model}|${lin.base}|${lin.variant}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, method: r.model, base: lin.base, variant: lin.variant, runs: 0, picked: 0, n: 0, mean: null, sd: null, values: [], differing: [], all: [], pickedParams: [] }));
    const params = compareParams(r);
    paramsOf.set(r.id, params);
    for (const k of Object.keys(params)) paramSet.add(k);
    const isPicked = !exclude.has(r.id);
    const score = typeof r.score === 'number' && Number.isFinite(r.score) ? r.score : null;
    g.runs++;
    if (isPicked) {
      g.picked++;
      picked++;
      pickedParams.push(params);
      g.pickedParams.push(params);
      if (score !== null) g.values.push(score);
      for (const [k, v] of Object.entries(params)) if (typeof v === 'number') numeric.add(k);
    }
    if (open(key) && g.all.length < MAX_MEMBERS) g.all.push({ id: r.id, seed: r.seed, status: r.status, params, score, picked: isPicked });
  }
  // a key missing in some picked runs differs too (as in the screen's differingParams)
  const differing = differingKeys(pickedParams);
  const numericParams = [...numeric].sort();
  // by default the scatter shows a numeric hyperparameter that varies, else one of the method's own
  const scatterParam =
    sp && numericParams.includes(sp) ? sp : (numericParams.find((p) => differing.includes(p)) ?? numericParams.find((p) => !TRAINING_KEYS.includes(p)) ?? numericParams[0] ?? '');
  if (scatterParam && metric) {
    for (const r of rows) {
      if (exclude.has(r.id) || typeof r.score !== 'number') continue;
      const x = paramsOf.get(r.id)![scatterParam];
      if (typeof x !== 'number') continue;
      let s = scatter.get(r.model);
      if (!s) scatter.set(r.model, (s = { points: [], labels: [] }));
      s.points.push([x, r.score]);
      s.labels.push(r.id);
    }
  }
  const out: CompareGroup[] = [...groups.values()]
    .sort((a, b) => a.method.localeCompare(b.method) || a.base.localeCompare(b.base) || VARIANTS.indexOf(a.variant) - VARIANTS.indexOf(b.variant))
    .map(({ all: members, pickedParams: groupParams, ...g }) => {
      const s = meanSd(g.values);
      return { ...g, n: s.n, mean: s.mean, sd: s.sd, differing: differingKeys(groupParams), ...(open(g.key) ? { members } : {}) };
    });
  const curves = metric ? metricCurves(runs, rows, exclude, (r) => lineageOf.get(r.dataset_id)!, metric) : [];
  return {
    ...(curves.length ? { curves } : {}),
    metric,
    metrics,
    total: rows.length,
    picked,
    params: [...paramSet].sort(),
    differing,
    numericParams,
    groups: out,
    scatterParam,
    scatter: [...scatter.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([name, s]) => ({ name, ...s })),
  };
}
