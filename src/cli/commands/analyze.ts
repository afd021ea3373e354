/**
 * `dlab analyze <dataset>`: the variance structure its factors induce
 * (per-factor change, overlap matrix, alignment distance), next to its parent
 * when it is derived (or --compare-to another dataset on the same grid).
 */
import type { AnalysisResult, VarianceStructureWire } from '../../shared/requests/perturb.js';
import { UsageError, flagNumber, flagString, type Command } from '../command.js';
import { followJob, withLab } from '../helpers.js';

const num = (v: number, w = 10) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4)).padStart(w);

export function formatAnalysis(r: AnalysisResult): string[] {
  const a = r.analysis;
  const b = r.compareTo?.analysis;
  const out: string[] = [];
  const names = a.factors;
  const w = Math.max(8, ...names.map((n) => n.length));
  out.push(`variance structure on ${r.samples} seeded grid points (seed ${r.seed}); one step = one class of the factor`);
  out.push(`  A = ${r.name} (${r.datasetId})`);
  if (r.compareTo) out.push(`  B = ${r.compareTo.name} (${r.compareTo.datasetId})`);
  out.push('');
  out.push('per factor: mean ‖step change‖² (sum over pixels), per pixel, share of steps that change nothing');
  out.push(
    `  ${'factor'.padEnd(w)} ${'A ‖d‖²'.padStart(10)} ${'A /pixel'.padStart(10)} ${'A zero'.padStart(8)}` +
      (b ? ` ${'B ‖d‖²'.padStart(10)} ${'B /pixel'.padStart(10)} ${'B zero'.padStart(8)} ${'A/B'.padStart(8)}` : ''),
  );
  names.forEach((n, k) => {
    let line = `  ${n.padEnd(w)} ${num(a.meanSquaredChange[k]!)} ${num(a.meanSquaredChangePerPixel[k]!)} ${(a.zeroStepFraction[k]! * 100).toFixed(1).padStart(7)}%`;
    if (b) {
      const ratio = b.meanSquaredChange[k]! > 0 ? (a.meanSquaredChange[k]! / b.meanSquaredChange[k]!).toFixed(3) : '—';
      line += ` ${num(b.meanSquaredChange[k]!)} ${num(b.meanSquaredChangePerPixel[k]!)} ${(b.zeroStepFraction[k]! * 100).toFixed(1).padStart(7)}% ${ratio.padStart(8)}`;
    }
    out.push(line);
  });
  const matrix = (title: string, s: VarianceStructureWire) => {
    out.push('');
    out.push(`${title}: overlap E[cos(d_k, d_l)] between the factors' step changes`);
    out.push(`  ${''.padEnd(w)} ${names.map((n) => n.slice(0, 8).padStart(8)).join(' ')}`);
    s.overlap.forEach((row, k) => out.push(`  ${names[k]!.padEnd(w)} ${row.map((v) => v.toFixed(3).padStart(8)).join(' ')}`));
    out.push(`  off-diagonal overlap (RMS of |cos|): ${s.offDiagonalOverlap.toFixed(4)}`);
    out.push(`  Gram eigenvalues: ${s.gramEigenvalues.map((v) => num(v, 0)).join(', ')}`);
  };
  matrix('A', a);
  if (b) matrix('B', b);
  out.push('');
  out.push('alignment of the principal directions with the factor axes (0 = aligned; ‖V − P*‖_F, P* nearest signed permutation):');
  out.push(`  A: global ${a.alignmentDistance.toFixed(4)}   local (mean over points) ${a.localAlignmentDistance.toFixed(4)}`);
  if (b) {
    out.push(`  B: global ${b.alignmentDistance.toFixed(4)}   local (mean over points) ${b.localAlignmentDistance.toFixed(4)}`);
    out.push(`  A − B: global ${(a.alignmentDistance - b.alignmentDistance).toFixed(4)}   local ${(a.localAlignmentDistance - b.localAlignmentDistance).toFixed(4)}`);
  }
  return out;
}

export const analyzeCommand: Command = {
  path: ['analyze'],
  summary: 'Variance structure of a dataset: per-factor change, overlap matrix, alignment distance (and vs its parent when derived).',
  usage: 'dlab analyze <dataset> [--samples N] [--seed S] [--compare-to ID] [--json]',
  async run(ctx) {
    const id = ctx.args.positionals[0];
    if (!id) throw new UsageError('a dataset id is required (see dlab datasets)');
    const samples = flagNumber(ctx.args, 'samples', { integer: true, min: 10 });
    const seed = flagNumber(ctx.args, 'seed', { integer: true, min: 0 });
    const compareTo = flagString(ctx.args, 'compare-to');
    return withLab(ctx, async (lab) => {
      const { parseInput } = await import('../../shared/contract.js');
      const input = parseInput('datasets/analyze', {
        id,
        ...(samples !== undefined ? { samples } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(compareTo ? { compareTo } : {}),
      });
      const job = await lab.handlers['datasets/analyze'](input);
      const end = await followJob(ctx, lab, job, 'analyze');
      if (end.status !== 'done') {
        if (ctx.json) ctx.out(JSON.stringify({ status: end.status, error: end.error }));
        else ctx.err(`dlab analyze: ${end.status}${end.error ? `: ${end.error}` : ''}`);
        return end.status === 'cancelled' ? 130 : 1;
      }
      const r = end.result as unknown as AnalysisResult;
      if (ctx.json) ctx.out(JSON.stringify(r, null, 2));
      else for (const line of formatAnalysis(r)) ctx.out(line);
      return 0;
    });
  },
};
