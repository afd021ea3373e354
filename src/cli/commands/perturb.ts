/**
 * `dlab perturb <base> --kind K …`: build a derived dataset, store it, print
 * its id and statistics. A learned kind trains inside the save job (progress
 * bar on a terminal; Ctrl+C cancels and nothing is stored).
 */
import type { PerturbationStatsWire } from '../../shared/requests/perturb.js';
import { UsageError, flagNumber, flagString, type Command } from '../command.js';
import { followJob, parseSets, withLab } from '../helpers.js';

const f4 = (v: number | null) => (v === null ? '—' : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4));

export function formatStats(s: PerturbationStatsWire): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const p = s.preservation;
  return [
    `statistics on ${s.samples} seeded samples (seed ${s.seed}):`,
    `  ε                          ${s.epsilon}`,
    `  max |Δ|                    ${f4(s.maxAbsDelta)}${s.boundHolds ? '  (≤ ε)' : '  (EXCEEDS ε)'}`,
    `  mean L2 change per image   ${f4(s.meanL2Change)}`,
    `  mean squared change/pixel  ${f4(s.meanSquaredChange)}`,
    `  pixel variance             ${f4(s.pixelVarianceParent)} → ${f4(s.pixelVarianceDerived)} (change ${f4(s.pixelVarianceChange)})`,
    `  clipped to [0, 1]          ${s.clippedPixels} pixels (${pct(s.clippedFraction)})`,
    `  offset cut to ±ε           ${s.boundClippedPixels} pixels`,
    `  collisions                 ${p.collisions} (distinct images ${p.distinctParentImages} → ${p.distinctDerivedImages} of ${p.distinctIndices} indices)`,
    `  min pair distance          ${f4(p.minDistanceParent)} → ${f4(p.minDistanceDerived)} (${p.pairSamples} images)`,
  ];
}

export const perturbCommand: Command = {
  path: ['perturb'],
  summary: 'Create and store a perturbed (derived) dataset; prints its id and statistics. The learned manipulation trains first (progress bar).',
  usage:
    'dlab perturb <base> --kind uniform-noise|manipulation|pattern|intensity|blur|background|compose [--epsilon E] [--seed S] [--set key=value …] [--blocks JSON] [--name N] [--stats-samples N] [--json]',
  async run(ctx) {
    const base = ctx.args.positionals[0];
    if (!base) throw new UsageError('a base dataset id is required (see dlab datasets)');
    const kind = flagString(ctx.args, 'kind');
    if (!kind) throw new UsageError('--kind is required (uniform-noise, manipulation, pattern, intensity, blur, background, compose)');
    const params: Record<string, string | number> = parseSets(ctx.args);
    const eps = flagNumber(ctx.args, 'epsilon', { min: 0 });
    if (eps !== undefined) params.epsilon = eps;
    const seed = flagNumber(ctx.args, 'seed', { integer: true, min: 0 }) ?? 0;
    const statsSamples = flagNumber(ctx.args, 'stats-samples', { integer: true, min: 8 });
    let blocks: { kind: string; params: Record<string, number | boolean | string> }[] | undefined;
    const blocksText = flagString(ctx.args, 'blocks');
    if (blocksText) {
      try {
        blocks = JSON.parse(blocksText) as typeof blocks;
      } catch {
        throw new UsageError(`--blocks must be JSON, e.g. '[{"kind":"pattern","params":{"texture":"checker"}}]'`);
      }
    }
    return withLab(ctx, async (lab) => {
      const entry = (await lab.handlers['perturbations/list']({})).find((e) => e.id === kind);
      const epsShown = params.epsilon ?? entry?.params.find((p) => p.key === 'epsilon')?.default ?? '?';
      const name = flagString(ctx.args, 'name') ?? `${base} ${kind} ε=${epsShown} seed ${seed}`;
      const { parseInput } = await import('../../shared/contract.js');
      const input = parseInput('perturbations/save', {
        name,
        baseId: base,
        kind,
        params,
        seed,
        ...(blocks ? { blocks } : {}),
        ...(statsSamples !== undefined ? { statsSamples } : {}),
      });
      const job = await lab.handlers['perturbations/save'](input);
      if (!ctx.json) ctx.out(`${entry?.learned ? 'training and saving' : 'saving'} ${kind} on ${base} as '${name}' (job ${job.id})`);
      const end = await followJob(ctx, lab, job, kind);
      if (end.status !== 'done') {
        if (ctx.json) ctx.out(JSON.stringify({ status: end.status, error: end.error }));
        else ctx.err(`dlab perturb: ${end.status}${end.error ? `: ${end.error}` : ''}`);
        return end.status === 'cancelled' ? 130 : 1;
      }
      const id = String(end.result!.datasetId);
      const row = lab.datasets.storedRow(id)!;
      const stats = row.stats as unknown as PerturbationStatsWire & { training?: Record<string, unknown> };
      if (ctx.json) ctx.out(JSON.stringify({ datasetId: id, name: row.info.name, parent: row.parentId, spec: row.spec, stats }, null, 2));
      else {
        ctx.out(`saved ${id}  '${row.info.name}'`);
        for (const line of formatStats(stats)) ctx.out(line);
        const t = stats.training as { initial?: { objective: number }; final?: { objective: number; entangledLoss: number; disentangledLoss: number }; unperturbed?: { objective: number }; steps?: number; seconds?: number } | undefined;
        if (t?.final) {
          ctx.out(
            `training: ${t.steps} steps in ${t.seconds?.toFixed(1)} s; objective J = L_ent − L_dis: unperturbed ${f4(t.unperturbed?.objective ?? NaN)}, ` +
              `initial ${f4(t.initial?.objective ?? NaN)}, final ${f4(t.final.objective)} (entangled ${f4(t.final.entangledLoss)}, disentangled ${f4(t.final.disentangledLoss)})`,
          );
        }
      }
      return 0;
    });
  },
};
