import * as fs from 'node:fs';
import { writeNpy } from '../../core/io/npy.js';
import { renderBatch } from '../../core/datasets/grid.js';
import { imageSize } from '../../core/datasets/types.js';
import { UsageError, flagString, type Command } from '../command.js';
import { withLab } from '../helpers.js';

export const datasetsCommand: Command = {
  path: ['datasets'],
  summary: 'List the datasets the lab knows.',
  usage: 'dlab datasets [--json]',
  async run(ctx) {
    return withLab(ctx, async (lab) => {
      const list = lab.datasets.list();
      if (ctx.json) ctx.out(JSON.stringify(list, null, 2));
      else
        for (const d of list) {
          ctx.out(`${d.id.padEnd(28)} ${String(d.count).padStart(8)} images  ${d.imageShape.join('×').padEnd(8)} ${d.source}${d.approximation ? ' (approximation)' : ''}  ${d.name}`);
        }
      return 0;
    });
  },
};

export const datasetShowCommand: Command = {
  path: ['dataset', 'show'],
  summary: 'Name, factors, count, image shape and source of one dataset.',
  usage: 'dlab dataset show <id> [--json]',
  async run(ctx) {
    const id = ctx.args.positionals[0];
    if (!id) throw new UsageError('dataset show needs a dataset id');
    return withLab(ctx, async (lab) => {
      const info = lab.datasets.get(id);
      if (ctx.json) ctx.out(JSON.stringify(info, null, 2));
      else {
        ctx.out(`${info.name} (${info.id})${info.approximation ? ' — approximation' : ''}`);
        ctx.out(info.description);
        ctx.out(`images: ${info.count}  shape: ${info.imageShape.join('×')}  source: ${info.source}`);
        ctx.out('factors:');
        for (const f of info.factors) ctx.out(`  ${f.name.padEnd(14)} ${String(f.size).padStart(4)}${f.cyclic ? '  (cyclic)' : ''}`);
        ctx.out(`provenance: ${info.provenance}`);
        if (info.sha256) ctx.out(`sha256: ${info.sha256}`);
      }
      return 0;
    });
  },
};

export const datasetSampleCommand: Command = {
  path: ['dataset', 'sample'],
  summary: 'Write images at given indices as a float32 N×H×W×C .npy file.',
  usage: 'dlab dataset sample <id> --indices i,j,… --out file.npy [--json]',
  async run(ctx) {
    const id = ctx.args.positionals[0];
    if (!id) throw new UsageError('dataset sample needs a dataset id');
    const indicesText = flagString(ctx.args, 'indices');
    const outFile = flagString(ctx.args, 'out');
    if (!indicesText) throw new UsageError('--indices i,j,… is required');
    if (!outFile) throw new UsageError('--out file.npy is required');
    const indices = indicesText.split(',').map((s) => {
      const t = s.trim();
      if (!/^\d+$/.test(t)) throw new UsageError(`--indices: '${t}' is not a non-negative integer`);
      return Number(t);
    });
    if (indices.length > 100_000) throw new UsageError('--indices: at most 100,000 images at once');
    return withLab(ctx, async (lab) => {
      const ds = await lab.datasets.open(id);
      const bad = indices.find((i) => i >= ds.info.count);
      if (bad !== undefined) throw new Error(`index ${bad} outside 0…${ds.info.count - 1} for ${id}`);
      const data = renderBatch(ds, indices);
      const [h, w, c] = ds.info.imageShape;
      fs.writeFileSync(outFile, writeNpy(data, [indices.length, h, w, c]));
      const summary = { dataset: id, file: outFile, shape: [indices.length, h, w, c], dtype: 'float32', bytes: indices.length * imageSize(ds.info) * 4 };
      ctx.out(ctx.json ? JSON.stringify(summary) : `wrote ${summary.shape.join('×')} float32 to ${outFile}`);
      return 0;
    });
  },
};
