import { UsageError, flagNumber, type Command } from '../command.js';
import { flagBool } from '../helpers.js';

export const benchUiCommand: Command = {
  path: ['bench', 'ui'],
  summary: 'Scale benchmark of the run screens: fill a scratch lab (a temporary folder, never yours) with N synthetic runs and time runs/list pages, filters, sorts and the Compare aggregate, with the bytes of each answer.',
  usage: 'dlab bench ui [--runs 10000] [--page 100] [--repeats 5] [--seed 1] [--keep] [--json]',
  async run(ctx) {
    const runs = flagNumber(ctx.args, 'runs', { integer: true, min: 1 }) ?? 10_000;
    if (runs > 1_000_000) throw new UsageError('--runs: at most 1,000,000');
    const pageSize = flagNumber(ctx.args, 'page', { integer: true, min: 1 }) ?? 100;
    if (pageSize > 500) throw new UsageError('--page: at most 500 (the largest page runs/list serves)');
    const { runUiBench } = await import('../../core/runs/bench-ui.js');
    const r = runUiBench({
      runs,
      pageSize,
      repeats: flagNumber(ctx.args, 'repeats', { integer: true, min: 1 }) ?? 5,
      seed: flagNumber(ctx.args, 'seed', { integer: true, min: 0 }) ?? 1,
      keep: flagBool(ctx.args, 'keep', false),
    });
    if (ctx.json) {
      ctx.out(JSON.stringify(r, null, 2));
      return 0;
    }
    ctx.out(`scratch lab: ${r.runs} synthetic runs filled in ${r.fillSeconds.toFixed(1)} s (database ${(r.dbBytes / 1e6).toFixed(1)} MB)${r.keptAt ? `, kept at ${r.keptAt}` : ', removed'}; pages of ${r.pageSize}`);
    ctx.out(`${'request'.padEnd(50)} ${'ms'.padStart(8)} ${'rows'.padStart(6)} ${'total'.padStart(7)} ${'JSON KB'.padStart(9)} ${'gzip KB'.padStart(9)}`);
    for (const t of r.timings)
      ctx.out(`${t.name.padEnd(50)} ${t.ms.toFixed(1).padStart(8)} ${String(t.rows).padStart(6)} ${String(t.total).padStart(7)} ${(t.bytes / 1024).toFixed(1).padStart(9)} ${(t.gzipBytes / 1024).toFixed(1).padStart(9)}`);
    const over = r.timings.filter((t) => t.name.startsWith('runs/list') || t.name.startsWith('filter') || t.name.startsWith('sort')).filter((t) => t.bytes > 100 * 1024);
    ctx.out(over.length ? `pages over 100 KB: ${over.map((t) => t.name).join(', ')}` : 'every page is under 100 KB');
    return 0;
  },
};
