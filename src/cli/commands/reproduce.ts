/**
 * `dlab reproduce zietlow2021 [--scale quick|demo|demo-10k|full] [--datasets …] [--methods …] [--seeds N]`:
 * runs the paper's Table 1 study headless with progress, prints ours vs the
 * published numbers with verdicts and writes the report (HTML, figures,
 * tables). Running it again with the same arguments resumes the same study
 * (only what is missing is trained); --new=true starts a fresh one.
 */
import * as path from 'node:path';
import { UsageError, flagList, flagNumber, flagString, type Command } from '../command.js';
import { flagBool, withLab } from '../helpers.js';
import { formatDuration } from '../progress.js';
import { countsLine, runStudyForeground } from './study.js';

export const reproduceCommand: Command = {
  path: ['reproduce'],
  summary: 'Run a paper preset (zietlow2021: Table 1) headless, print ours vs published with verdicts, write the HTML report. Re-running resumes.',
  usage:
    'dlab reproduce <preset> [--scale quick|demo|demo-10k|full] [--datasets dsprites,shapes3d] [--methods ae,beta_vae,…] [--seeds N] [--concurrency N] [--out DIR] [--dpi N] [--new] [--json]',
  async run(ctx) {
    // loaded here, not at start-up
    const [{ canonicalJson }, { exportStudy }, { getPreset, presetToSpec }, { countCells }, { formatTable1 }] = await Promise.all([
      import('../../core/perturbations/derived.js'),
      import('../../core/studies/exports.js'),
      import('../../core/studies/presets.js'),
      import('../../core/studies/spec.js'),
      import('../../core/studies/text.js'),
    ]);
    const presetId = ctx.args.positionals[0];
    if (!presetId) throw new UsageError('a preset is required (e.g. zietlow2021)');
    const scale = flagString(ctx.args, 'scale') ?? 'quick';
    const datasets = flagList(ctx.args, 'datasets');
    const methods = flagList(ctx.args, 'methods');
    const seeds = flagNumber(ctx.args, 'seeds', { integer: true, min: 1 });
    const concurrency = flagNumber(ctx.args, 'concurrency', { integer: true, min: 1 });
    const dpi = flagNumber(ctx.args, 'dpi', { integer: true, min: 36 });
    const out = flagString(ctx.args, 'out');
    let spec;
    try {
      spec = presetToSpec(getPreset(presetId), { scale, ...(datasets ? { datasets } : {}), ...(methods ? { methods } : {}), ...(seeds !== undefined ? { seeds } : {}) });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    return withLab(ctx, async (lab) => {
      const svc = lab.studies;
      const same = flagBool(ctx.args, 'new') ? undefined : svc.repo.list().find((s) => canonicalJson(s.spec) === canonicalJson(spec));
      const study = same ?? svc.create(spec);
      const t0 = Date.now();
      if (!ctx.json) {
        ctx.out(`${same ? 'resuming' : 'created'} study ${study.id}: ${study.name}`);
        ctx.out(`  ${countCells(spec)} runs (${spec.methods.length} methods × ${spec.datasets.length} datasets × ${spec.datasets[0]!.variants.length} variants × ${spec.seeds.length} seeds), ${spec.training.arch} ${spec.training.steps} steps, batch ${spec.training.batch}; metrics ${spec.evaluation.metrics.join(', ')}; backend ${lab.info().backend}`);
      } else ctx.out(JSON.stringify({ type: 'study', id: study.id, resumed: !!same, runs: countCells(spec) }));
      const status = await runStudyForeground(ctx, lab, study.id, { ...(concurrency ? { concurrency } : {}) });
      const elapsed = (Date.now() - t0) / 1000;
      const detail = svc.detail(study.id);
      if (status === 'cancelled') {
        ctx.err(`paused after ${formatDuration(elapsed)}: ${countsLine(detail.counts)}. Continue with the same command, or dlab study resume ${study.id}.`);
        return 130;
      }
      const results = svc.results(study.id);
      const ex = exportStudy(lab, study.id, { formats: ['html', 'svg', 'pdf', 'png', 'csv', 'json', 'tex'], ...(dpi ? { dpi } : {}), ...(out ? { outDir: path.resolve(out) } : {}) });
      if (ctx.json) ctx.out(JSON.stringify({ type: 'result', study: study.id, status, elapsedSec: elapsed, counts: detail.counts, results, report: path.join(ex.dir, 'report.html') }));
      else {
        ctx.out(`${status} in ${formatDuration(elapsed)}: ${countsLine(detail.counts)}`);
        ctx.out(formatTable1(results));
        ctx.out(`\nreport: ${path.join(ex.dir, 'report.html')} (+ ${ex.files.length - 1} figure/table/data files)`);
      }
      return status === 'done' && detail.counts.failed === 0 ? 0 : 1;
    });
  },
};
