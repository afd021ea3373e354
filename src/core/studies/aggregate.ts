/**
 * Seed aggregation of a study and the comparison with the paper.
 *
 * GROUPS: the runs of one method × dataset × variant (one per seed) give
 * N values of a metric: mean, sample sd (n − 1; null for N < 2) and a 95 %
 * bootstrap CI of the mean (B resamples of N values with replacement, seeded
 * per group by its label so the answer does not depend on the order of the
 * groups; quantiles by linear interpolation, type 7; null for N < 2). The
 * interval is Hesterberg's expanded percentile interval (see expandedAlpha):
 * the plain percentile interval under-covers badly at the 3–10 seeds a study
 * has.
 *
 * DIFFERENCES: mean(a) − mean(b) for the contrasts original − manipulated,
 * original − noise and noise − manipulated (and original − r for any other
 * role r), with an unpaired two-sample bootstrap CI (each group resampled on
 * its own, B times; the runs of two variants are independent trainings, so
 * seeds are not paired), expanded with Welch's degrees of freedom.
 *
 * VERDICTS (per method and dataset, at the 95 % level):
 * - `insufficient_data`: fewer than MIN_RUNS_FOR_VERDICT (3) values in either
 *   group (with 2 values a bootstrap interval is little more than their
 *   range; the CI is still reported).
 * - original − manipulated, paper claims a drop (β-VAE, FactorVAE,
 *   β-TCVAE, SlowVAE): `reproduced` when the CI lies above 0; 
 *   `not_reproduced` when it lies below 0 (a significant rise);
 *   `inconclusive` when it contains 0.
 * - original − manipulated, paper claims no drop (PCL): `not_reproduced`
 *   when the CI lies above 0 (a significant drop), else `reproduced` (no
 *   significant drop — weak evidence with few seeds; the reason says so),
 *   unless the original's mean is below half the paper's original value
 *   (where the paper gives one for the metric): then `inconclusive`, since a
 *   model that has not disentangled yet has nothing the manipulation could
 *   take away (PCL at 2,000 steps: 0.04 against the paper's 0.21).
 * - noise − manipulated for the methods with a claimed drop (the paper:
 *   matched noise does much less harm than the manipulation): the same rule
 *   as a claimed drop (`reproduced` when the CI lies above 0).
 * - everything else (AE, original − noise): `no_claim`, with the difference
 *   and CI still reported.
 */
import type { StudyComparison, StudyGroup, StudyResults, Verdict } from '../../shared/requests/studies.js';
import { normalCdf, studentTQuantile } from '../util/distributions.js';
import { Rng } from '../util/rng.js';
import { PAPER_CLAIM, PUBLISHED, PUBLISHED_METRIC, PUBLISHED_NOTE, PUBLISHED_SOURCE, published } from './published.js';

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n − 1); NaN for fewer than 2 values. */
export function sd(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (n - 1));
}

/** Quantile of sorted values, linear interpolation between order statistics (R type 7 / numpy default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export interface BootstrapOptions {
  resamples?: number;
  level?: number;
  rng: Rng;
}

function resampleMean(xs: readonly number[], rng: Rng): number {
  const n = xs.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[rng.int(n)]!;
  return s / n;
}

/**
 * The tail probability α′ of Hesterberg's expanded percentile interval: the
 * plain percentile bootstrap interval is too narrow for few values (it
 * scales with the plug-in sd, divisor n, and uses normal rather than t
 * quantiles; at n = 3 per group a nominal 95 % interval for a difference
 * covers ≈ 82 %). Taking the percentiles at α′/2 and 1 − α′/2 with
 * Φ⁻¹(1 − α′/2) = t_{1−α/2, ν}·√(v_unbiased / v_plugin) corrects both to first
 * order. For the mean of n values: ν = n − 1 and the ratio is √(n/(n − 1)).
 */
export function expandedAlpha(alpha: number, df: number, varianceRatio: number): number {
  if (!(df > 0) || !(varianceRatio > 0) || !Number.isFinite(varianceRatio)) return alpha;
  const z = studentTQuantile(1 - alpha / 2, df) * Math.sqrt(varianceRatio);
  return 2 * (1 - normalCdf(z));
}

/** Expanded percentile bootstrap CI of the mean (see expandedAlpha); null for fewer than 2 values. */
export function bootstrapMeanCi(xs: readonly number[], opts: BootstrapOptions): [number, number] | null {
  const n = xs.length;
  if (n < 2) return null;
  const B = opts.resamples ?? 2000;
  const a = expandedAlpha(1 - (opts.level ?? 0.95), n - 1, n / (n - 1));
  const means = new Float64Array(B);
  for (let b = 0; b < B; b++) means[b] = resampleMean(xs, opts.rng);
  means.sort();
  return [quantileSorted(means, a / 2), quantileSorted(means, 1 - a / 2)];
}

/**
 * Welch's degrees of freedom and the unbiased/plug-in variance ratio of
 * mean(a) − mean(b): what expandedAlpha needs for a two-sample difference.
 */
export function welchExpansion(a: readonly number[], b: readonly number[]): { df: number; varianceRatio: number } {
  const na = a.length;
  const nb = b.length;
  const va = sd(a) ** 2 / na;
  const vb = sd(b) ** 2 / nb;
  const v = va + vb;
  if (!(v > 0)) return { df: NaN, varianceRatio: NaN };
  const df = (v * v) / ((va * va) / (na - 1) + (vb * vb) / (nb - 1));
  return { df, varianceRatio: v / ((va * (na - 1)) / na + (vb * (nb - 1)) / nb) };
}

/** Expanded percentile bootstrap CI of mean(a) − mean(b), groups resampled independently; null if either has < 2 values. */
export function bootstrapDiffCi(a: readonly number[], b: readonly number[], opts: BootstrapOptions): [number, number] | null {
  if (a.length < 2 || b.length < 2) return null;
  const B = opts.resamples ?? 2000;
  const { df, varianceRatio } = welchExpansion(a, b);
  const alpha = expandedAlpha(1 - (opts.level ?? 0.95), df, varianceRatio);
  const diffs = new Float64Array(B);
  for (let i = 0; i < B; i++) diffs[i] = resampleMean(a, opts.rng) - resampleMean(b, opts.rng);
  diffs.sort();
  return [quantileSorted(diffs, alpha / 2), quantileSorted(diffs, 1 - alpha / 2)];
}

export type Expected = 'drop' | 'no_drop' | 'none';

/** Runs per group a verdict needs. */
export const MIN_RUNS_FOR_VERDICT = 3;

/** A claim of no drop is tested only once the original has disentangled: its mean reaches this share of the paper's original value. */
export const NO_DROP_PREMISE = 0.5;

/**
 * The verdict rule (see the file's header). `premise`: the original group's
 * mean and the paper's value for it, for a claim of no drop.
 */
export function verdict(
  expected: Expected,
  nA: number,
  nB: number,
  ci: [number, number] | null,
  premise?: { original: number; paper: number },
): { verdict: Verdict; reason: string } {
  if (expected === 'none') return { verdict: 'no_claim', reason: 'the paper makes no claim about this contrast' };
  if (nA < MIN_RUNS_FOR_VERDICT || nB < MIN_RUNS_FOR_VERDICT || !ci) {
    return { verdict: 'insufficient_data', reason: `a verdict needs at least ${MIN_RUNS_FOR_VERDICT} runs per group (have ${nA} and ${nB})` };
  }
  const [lo, hi] = ci;
  const fmt = (x: number) => x.toFixed(3);
  if (expected === 'drop') {
    if (lo > 0) return { verdict: 'reproduced', reason: `drop with 95% CI [${fmt(lo)}, ${fmt(hi)}] above 0` };
    if (hi < 0) return { verdict: 'not_reproduced', reason: `significant rise: 95% CI [${fmt(lo)}, ${fmt(hi)}] below 0` };
    return { verdict: 'inconclusive', reason: `95% CI [${fmt(lo)}, ${fmt(hi)}] contains 0` };
  }
  if (lo > 0) return { verdict: 'not_reproduced', reason: `significant drop: 95% CI [${fmt(lo)}, ${fmt(hi)}] above 0` };
  if (premise && premise.original < NO_DROP_PREMISE * premise.paper) {
    return {
      verdict: 'inconclusive',
      reason: `no significant drop (95% CI [${fmt(lo)}, ${fmt(hi)}]), but the original scores ${fmt(premise.original)}, below half the paper's ${fmt(premise.paper)}: a model that has not disentangled has nothing to lose`,
    };
  }
  return { verdict: 'reproduced', reason: `no significant drop: 95% CI [${fmt(lo)}, ${fmt(hi)}] reaches 0 or below (absence of a drop; weak with few seeds)` };
}

/** One metric value of one run. */
export interface Observation {
  method: string;
  dataset: string;
  variant: string;
  seed: number;
  runId: string;
  value: number;
  /** Settings and sample counts of the score (scores with different signatures are not equals). */
  signature?: string;
}

export interface AggregateOptions {
  studyId: string;
  name: string;
  metric: string;
  resamples?: number;
  seed?: number;
  level?: number;
  /** Order of methods/datasets/variants in the output (default: first seen). */
  order?: { methods?: string[]; datasets?: string[]; variants?: string[] };
  warnings?: string[];
  now?: string;
}

const groupKey = (m: string, d: string, v: string) => `${m}|${d}|${v}`;

function orderOf(seen: string[], preferred?: string[]): string[] {
  const out: string[] = [];
  for (const x of [...(preferred ?? []).filter((p) => seen.includes(p)), ...seen]) if (!out.includes(x)) out.push(x);
  return out;
}

/** The contrasts of a method on a dataset, given the variant roles present. */
function contrasts(roles: string[]): { a: string; b: string }[] {
  const out: { a: string; b: string }[] = [];
  if (roles.includes('original')) for (const r of roles) if (r !== 'original') out.push({ a: 'original', b: r });
  if (roles.includes('noise') && roles.includes('manipulated')) out.push({ a: 'noise', b: 'manipulated' });
  return out;
}

function expectedFor(method: string, a: string, b: string): Expected {
  const claim = PAPER_CLAIM[method];
  if (!claim || claim === 'none') return 'none';
  if (a === 'original' && b === 'manipulated') return claim;
  if (a === 'noise' && b === 'manipulated' && claim === 'drop') return 'drop';
  return 'none';
}

export function aggregate(observations: readonly Observation[], opts: AggregateOptions): StudyResults {
  const resamples = opts.resamples ?? 2000;
  const seed = opts.seed ?? 0;
  const level = opts.level ?? 0.95;
  const root = new Rng(seed);
  const byGroup = new Map<string, Observation[]>();
  const seen = { methods: [] as string[], datasets: [] as string[], variants: [] as string[] };
  const push = (arr: string[], x: string) => {
    if (!arr.includes(x)) arr.push(x);
  };
  for (const o of observations) {
    if (!Number.isFinite(o.value)) continue;
    push(seen.methods, o.method);
    push(seen.datasets, o.dataset);
    push(seen.variants, o.variant);
    const k = groupKey(o.method, o.dataset, o.variant);
    const list = byGroup.get(k) ?? [];
    list.push(o);
    byGroup.set(k, list);
  }
  const methods = orderOf(seen.methods, opts.order?.methods);
  const datasets = orderOf(seen.datasets, opts.order?.datasets);
  const variants = orderOf(seen.variants, opts.order?.variants);

  const groups: StudyGroup[] = [];
  const values = new Map<string, number[]>();
  for (const m of methods)
    for (const d of datasets)
      for (const v of variants) {
        const obs = [...(byGroup.get(groupKey(m, d, v)) ?? [])].sort((x, y) => x.seed - y.seed || x.runId.localeCompare(y.runId));
        if (obs.length === 0) continue;
        const xs = obs.map((o) => o.value);
        values.set(groupKey(m, d, v), xs);
        const s = sd(xs);
        groups.push({
          method: m,
          dataset: d,
          variant: v,
          n: xs.length,
          mean: mean(xs),
          sd: Number.isFinite(s) ? s : null,
          ci: bootstrapMeanCi(xs, { resamples, level, rng: root.fork(`mean|${m}|${d}|${v}`) }),
          values: xs,
          seeds: obs.map((o) => o.seed),
          runIds: obs.map((o) => o.runId),
        });
      }

  const comparisons: StudyComparison[] = [];
  for (const m of methods)
    for (const d of datasets) {
      const roles = variants.filter((v) => values.has(groupKey(m, d, v)));
      for (const { a, b } of contrasts(roles)) {
        const xa = values.get(groupKey(m, d, a))!;
        const xb = values.get(groupKey(m, d, b))!;
        const ci = bootstrapDiffCi(xa, xb, { resamples, level, rng: root.fork(`diff|${m}|${d}|${a}|${b}`) });
        const expected = expectedFor(m, a, b);
        const pa = opts.metric === PUBLISHED_METRIC ? published(m, d, a) : undefined;
        const pb = opts.metric === PUBLISHED_METRIC ? published(m, d, b) : undefined;
        const v = verdict(expected, xa.length, xb.length, ci, a === 'original' && pa ? { original: mean(xa), paper: pa.mean } : undefined);
        comparisons.push({
          method: m,
          dataset: d,
          contrast: `${a}−${b}`,
          a,
          b,
          nA: xa.length,
          nB: xb.length,
          diff: mean(xa) - mean(xb),
          ci,
          expected,
          verdict: v.verdict,
          reason: v.reason,
          published: pa && pb ? { a: pa.mean, b: pb.mean, diff: Math.round((pa.mean - pb.mean) * 1e6) / 1e6 } : null,
        });
      }
    }

  const sigs = new Map<string, number>();
  for (const o of observations) if (o.signature !== undefined) sigs.set(o.signature, (sigs.get(o.signature) ?? 0) + 1);
  const warnings = [...(opts.warnings ?? [])];
  if (sigs.size > 1) warnings.push(`scores were made with ${sigs.size} different settings/sample counts: they are not comparable as equals (see provenance)`);
  const relevant = PUBLISHED.filter((p) => methods.includes(p.method) && datasets.includes(p.dataset) && variants.includes(p.variant));
  return {
    studyId: opts.studyId,
    name: opts.name,
    metric: opts.metric,
    generatedAt: opts.now ?? new Date().toISOString(),
    bootstrap: { resamples, seed, level },
    groups,
    comparisons,
    published:
      opts.metric === PUBLISHED_METRIC && relevant.length > 0
        ? { metric: PUBLISHED_METRIC, source: PUBLISHED_SOURCE, note: PUBLISHED_NOTE, cells: relevant.map((p) => ({ ...p })) }
        : null,
    provenance: [...sigs.entries()].map(([signature, runs]) => ({ signature, runs })),
    warnings,
  };
}
