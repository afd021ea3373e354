/** `dlab export study|runs|bundle` and `dlab import bundle`: headless exports. */
import * as fs from 'node:fs';
import * as path from 'node:path';
// the exporters load in the commands that use them, not at start-up
import type { StudyFormat } from '../../core/export/study.js';
import { UsageError, flagList, flagNumber, flagString, type Command } from '../command.js';
import { flagBool, withLab } from '../helpers.js';

const STUDY_FORMATS: StudyFormat[] = ['svg', 'pdf', 'png', 'csv', 'json', 'tex', 'html'];

export const exportStudyCommand: Command = {
  path: ['export', 'study'],
  summary: 'Write a study’s figures (svg/pdf/png), data (csv/json), tables (csv/tex) and HTML report into a folder.',
  usage: 'dlab export study <id> [--format svg,pdf,png,csv,json,tex,html] [--out DIR] [--dpi N] [--metric M] [--json]',
  async run(ctx) {
    const { exportStudy } = await import('../../core/studies/exports.js');
    const id = ctx.args.positionals[0];
    if (!id) throw new UsageError('a study id is required (see dlab study list)');
    const formats = (flagList(ctx.args, 'format') ?? STUDY_FORMATS) as StudyFormat[];
    for (const f of formats) if (!STUDY_FORMATS.includes(f)) throw new UsageError(`unknown format '${f}' (known: ${STUDY_FORMATS.join(', ')})`);
    const dpi = flagNumber(ctx.args, 'dpi', { integer: true, min: 36 });
    const out = flagString(ctx.args, 'out');
    const metric = flagString(ctx.args, 'metric');
    return withLab(ctx, async (lab) => {
      const r = exportStudy(lab, id, { formats, ...(dpi ? { dpi } : {}), ...(metric ? { metric } : {}), ...(out ? { outDir: path.resolve(out) } : {}) });
      if (ctx.json) ctx.out(JSON.stringify(r, null, 2));
      else {
        ctx.out(`${r.files.length} files in ${r.dir}`);
        for (const f of r.files) ctx.out(`  ${f}`);
      }
      return 0;
    });
  },
};

export const exportRunsCommand: Command = {
  path: ['export', 'runs'],
  summary: 'Runs as tables: runs.csv (configuration, status, latest scores) and scores.csv (every stored score with its provenance); or JSON.',
  usage: 'dlab export runs <id,id,…> [--format csv|json] [--out DIR] [--json]',
  async run(ctx) {
    const { toCsv } = await import('../../core/export/table.js');
    const ids = ctx.args.positionals.flatMap((p) => p.split(',')).map((s) => s.trim()).filter(Boolean);
    if (ids.length === 0) throw new UsageError('run ids are required (see dlab runs)');
    const format = flagString(ctx.args, 'format') ?? 'csv';
    if (format !== 'csv' && format !== 'json') throw new UsageError(`--format must be csv or json, got '${format}'`);
    const out = path.resolve(flagString(ctx.args, 'out') ?? '.');
    return withLab(ctx, async (lab) => {
      const runs = ids.map((id) => {
        const r = lab.runs.summary(id);
        if (!r) throw new Error(`no run '${id}'`);
        return r;
      });
      fs.mkdirSync(out, { recursive: true });
      const files: string[] = [];
      if (format === 'json') {
        const data = runs.map((r) => ({ run: r, evaluations: lab.runs.evaluations(r.id) }));
        fs.writeFileSync(path.join(out, 'runs.json'), JSON.stringify(data, null, 2));
        files.push('runs.json');
      } else {
        const latest = runs.map((r) => new Map(lab.runs.evaluations(r.id).map((e) => [e.metric, e.value])));
        const metrics = [...new Set(latest.flatMap((m) => [...m.keys()]))].sort();
        fs.writeFileSync(
          path.join(out, 'runs.csv'),
          toCsv({
            columns: ['id', 'model', 'params', 'dataset', 'seed', 'status', 'step', 'steps', 'arch', 'latent', 'batch', 'lr', 'backend', 'study', ...metrics],
            rows: runs.map((r, i) => [r.id, r.model, JSON.stringify(r.config.params), r.datasetId, r.seed, r.status, r.step, r.totalSteps, r.config.arch, r.config.latent, r.config.batch, r.config.lr, r.backend, r.experimentId, ...metrics.map((m) => latest[i]!.get(m) ?? null)]),
          }),
        );
        fs.writeFileSync(
          path.join(out, 'scores.csv'),
          toCsv({
            columns: ['run', 'metric', 'value', 'scores', 'settings', 'samples', 'seed', 'codes_are_means', 'created_at'],
            rows: runs.flatMap((r) =>
              lab.runs.evaluations(r.id).map((e) => [r.id, e.metric, e.value, JSON.stringify(e.scores), JSON.stringify(e.provenance.settings), JSON.stringify(e.provenance.samples), e.provenance.seed, String(e.provenance.codesAreMeans), e.createdAt]),
            ),
          }),
        );
        files.push('runs.csv', 'scores.csv');
      }
      if (ctx.json) ctx.out(JSON.stringify({ dir: out, files }));
      else ctx.out(`${files.join(', ')} in ${out}`);
      return 0;
    });
  },
};

export const exportBundleCommand: Command = {
  path: ['export', 'bundle'],
  summary: 'A study or a set of runs as a portable zip bundle (manifest with SHA-256 per file; latest checkpoints and codes included).',
  usage: 'dlab export bundle (--study ID | --runs id,id,…) --out FILE.zip [--checkpoints=false] [--codes=false] [--json]',
  async run(ctx) {
    const { exportBundle } = await import('../../core/export/bundle.js');
    const study = flagString(ctx.args, 'study');
    const runs = flagList(ctx.args, 'runs');
    if (!study === !runs) throw new UsageError('give either --study or --runs');
    const out = flagString(ctx.args, 'out');
    if (!out) throw new UsageError('--out FILE is required');
    return withLab(ctx, async (lab) => {
      const r = exportBundle(lab, { ...(study ? { studyId: study } : { runIds: runs! }), checkpoints: flagBool(ctx.args, 'checkpoints', true), codes: flagBool(ctx.args, 'codes', true) }, path.resolve(out));
      ctx.out(ctx.json ? JSON.stringify(r) : `${r.path}: ${r.runs} runs, ${r.datasets} derived datasets, ${r.files} files, ${r.bytes} bytes, sha256 ${r.sha256}`);
      return 0;
    });
  },
};

export const importBundleCommand: Command = {
  path: ['import', 'bundle'],
  summary: 'Import a bundle: checked (paths, symlinks, undeclared files, checksums, size limits), atomic, and idempotent (what exists is skipped).',
  usage: 'dlab import bundle <file.zip> [--json]',
  async run(ctx) {
    const { importBundle } = await import('../../core/export/bundle.js');
    const file = ctx.args.positionals[0];
    if (!file) throw new UsageError('a bundle file is required');
    return withLab(ctx, async (lab) => {
      const r = await importBundle(lab, path.resolve(file));
      ctx.out(
        ctx.json
          ? JSON.stringify(r)
          : `imported ${r.runsImported.length} runs (${r.runsSkipped.length} already here), ${r.datasetsImported.length} datasets (${r.datasetsSkipped.length} already here)${r.study ? `, study ${r.study}${r.studyImported ? '' : ' (already here)'}` : ''}`,
      );
      return 0;
    });
  },
};

export const exportCommands: Command[] = [exportStudyCommand, exportRunsCommand, exportBundleCommand, importBundleCommand];
