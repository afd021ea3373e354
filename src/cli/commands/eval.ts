import * as fs from 'node:fs';
import { readNpy, NpyError } from '../../core/io/npy.js';
import type { NpyArray } from '../../core/io/npy.js';
import { evaluateArrays, EvaluationInputError } from '../../core/metrics/evaluate.js';
import { getMetric, METRIC_IDS } from '../../core/metrics/registry.js';
import { UsageError, flagList, flagNumber, flagString, type Command } from '../command.js';

function load(file: string, what: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return readNpy(bytes);
  } catch (e) {
    if (e instanceof NpyError) throw new Error(`${what} file ${file}: ${e.message}`);
    throw e;
  }
}

/** Rows and columns of a 1-D (N → N×1) or 2-D array. */
function matrixShape(a: NpyArray, what: string): [number, number] {
  if (a.shape.length === 1) return [a.shape[0]!, 1];
  if (a.shape.length === 2) return [a.shape[0]!, a.shape[1]!];
  throw new Error(`${what} must be a 1-D or 2-D array, got shape (${a.shape.join(', ')})`);
}

/** Parse repeated `--set metric.key=value`. */
function parseSettings(items: string[] | undefined): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const item of items ?? []) {
    const m = /^([a-z_]+)\.([a-z][a-z0-9_]*)=(.*)$/.exec(item);
    if (!m) throw new UsageError(`--set expects metric.key=value, got '${item}'`);
    const [, metric, key, value] = m;
    if (!METRIC_IDS.includes(metric!)) throw new UsageError(`--set: unknown metric '${metric}'`);
    if (!getMetric(metric!).settings.some((s) => s.key === key)) {
      throw new UsageError(`--set: metric '${metric}' has no setting '${key}' (has: ${getMetric(metric!).settings.map((s) => s.key).join(', ')})`);
    }
    (out[metric!] ??= {})[key!] = value;
  }
  return out;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

export const evalCommand: Command = {
  path: ['eval'],
  summary: 'Score codes against ground-truth factors (.npy arrays) with the disentanglement metrics.',
  usage: 'dlab eval --factors F.npy --codes Z.npy [--logvar L.npy] [--metrics mig,dci,…] [--train N] [--test M] [--seed S] [--set metric.key=value] [--json [--details]]',
  async run(ctx) {
    const factorsFile = flagString(ctx.args, 'factors');
    const codesFile = flagString(ctx.args, 'codes');
    if (!factorsFile) throw new UsageError('--factors F.npy is required');
    if (!codesFile) throw new UsageError('--codes Z.npy is required');
    const metrics = flagList(ctx.args, 'metrics');
    const bad = metrics?.find((m) => !METRIC_IDS.includes(m));
    if (bad) throw new UsageError(`unknown metric '${bad}' (known: ${METRIC_IDS.join(', ')})`);
    const nTrain = flagNumber(ctx.args, 'train', { integer: true, min: 2 });
    const nTest = flagNumber(ctx.args, 'test', { integer: true, min: 1 });
    const seed = flagNumber(ctx.args, 'seed', { integer: true, min: 0 }) ?? 0;
    const setRaw = ctx.args.flags.set;
    const settings = parseSettings(setRaw === undefined || typeof setRaw === 'boolean' ? undefined : Array.isArray(setRaw) ? setRaw : [setRaw]);
    const logvarFile = flagString(ctx.args, 'logvar');

    const F = load(factorsFile, 'factors');
    const Z = load(codesFile, 'codes');
    const [fr, K] = matrixShape(F, 'factors');
    const [zr, D] = matrixShape(Z, 'codes');
    if (fr !== zr) throw new Error(`factors have ${fr} rows but codes have ${zr}`);
    if (F.dtype === 'f4' || F.dtype === 'f8') {
      const i = F.data.findIndex((v) => !Number.isInteger(v));
      if (i >= 0) throw new Error(`factors must be integers: ${F.data[i]} at row ${Math.floor(i / K)}, column ${i % K}`);
    }
    const tooBig = F.data.findIndex((v) => Math.abs(v) > 2 ** 31 - 1);
    if (tooBig >= 0) throw new Error(`factor value ${F.data[tooBig]} at row ${Math.floor(tooBig / K)} is outside the int32 range`);
    const bad2 = Z.data.findIndex((v) => !Number.isFinite(v));
    if (bad2 >= 0) throw new Error(`codes contain ${Z.data[bad2]} at row ${Math.floor(bad2 / D)}, column ${bad2 % D}`);
    let logVariances: Float64Array | undefined;
    if (logvarFile) {
      const L = load(logvarFile, 'log-variance');
      const [lr, lc] = matrixShape(L, 'log-variances');
      if (lr !== zr || lc !== D) throw new Error(`log-variances have shape ${lr}×${lc}, codes ${zr}×${D}`);
      logVariances = L.data;
    }
    const codes = Z.dtype === 'f4' ? Float32Array.from(Z.data) : Z.data;
    try {
      const r = await evaluateArrays({
        factors: Int32Array.from(F.data),
        codes,
        numFactors: K,
        numCodes: D,
        seed,
        settings,
        ...(logVariances ? { logVariances } : {}),
        ...(nTrain !== undefined ? { nTrain } : {}),
        ...(nTest !== undefined ? { nTest } : {}),
        ...(metrics ? { metrics } : {}),
        onMetric: (s) => {
          if (ctx.json) return;
          if (s.error) ctx.out(`${s.name.padEnd(26)} error: ${s.error}`);
          else {
            const rest = Object.entries(s.scores).filter(([k]) => k !== s.primary).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
            ctx.out(`${s.name.padEnd(26)} ${s.primary} ${s.value === null ? '—' : fmt(s.value)}${rest ? `  (${rest})` : ''}  [${s.seconds.toFixed(2)} s]`);
            for (const n of s.provenance.notes) ctx.out(`${''.padEnd(28)}note: ${n}`);
          }
        },
      });
      if (ctx.json) {
        const withDetails = Boolean(ctx.args.flags.details);
        ctx.out(JSON.stringify(withDetails ? r : { ...r, scores: r.scores.map(({ details: _d, ...s }) => s) }, null, 2));
      } else {
        ctx.out(`${r.rows} rows, ${r.numFactors} factors (${r.factorSizes.join('×')}), ${r.numCodes} codes; ${r.nTrain} train / ${r.nTest} test; seed ${r.seed}`);
      }
      return r.scores.some((s) => s.error) ? 1 : 0;
    } catch (e) {
      if (e instanceof EvaluationInputError) throw new Error(e.message);
      throw e;
    }
  },
};
