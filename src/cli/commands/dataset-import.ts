/** `dlab dataset import <file> [--kind dsprites|shapes3d|mpi3d] [--name N] [--json]` */
import * as path from 'node:path';
import type { JobInfo } from '../../shared/jobs.js';
import { UsageError, flagString, type Command } from '../command.js';

function bar(fraction: number, width = 28): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return '[' + '#'.repeat(filled) + '-'.repeat(width - filled) + ']';
}

export const datasetImportCommand: Command = {
  path: ['dataset', 'import'],
  summary: 'Import an official dataset file: dSprites .npz, Shapes3D 3dshapes.h5 or MPI3D toy/real .npz.',
  usage: 'dlab dataset import <file> [--kind dsprites|shapes3d|mpi3d] [--name NAME] [--json]',
  async run(ctx) {
    // the contract's schemas load here, not at start-up
    const [{ ImportKind }, { LabError }] = await Promise.all([import('../../shared/requests/imports.js'), import('../../shared/contract.js')]);
    const file = ctx.args.positionals[0];
    if (!file) throw new UsageError('dataset import needs a file');
    if (ctx.args.positionals.length > 1) throw new UsageError(`unexpected argument '${ctx.args.positionals[1]}'`);
    const kindText = flagString(ctx.args, 'kind');
    const kind = kindText === undefined ? undefined : ImportKind.safeParse(kindText);
    if (kind && !kind.success) throw new UsageError(`--kind must be dsprites, shapes3d or mpi3d, got '${kindText}'`);
    const name = flagString(ctx.args, 'name')?.trim();
    if (name !== undefined && (name.length === 0 || name.length > 200)) throw new UsageError('--name must be 1 to 200 characters');

    const lab = await ctx.openLab();
    const showBar = ctx.tty && !ctx.json;
    const started = Date.now();
    let onSignal: (() => void) | undefined;
    try {
      let job: JobInfo;
      try {
        job = lab.imports.start({ path: path.resolve(file), ...(kind?.data ? { kind: kind.data } : {}), ...(name ? { name } : {}) });
      } catch (e) {
        if (e instanceof LabError) throw new Error(e.message);
        throw e;
      }
      let last = '';
      const off = lab.events.on('jobs/progress', (j) => {
        if (j.id !== job.id || !showBar) return;
        const line = `${bar(j.fraction)} ${String(Math.floor(j.fraction * 100)).padStart(3)}%  ${j.message}`;
        if (line !== last) process.stderr.write(`\r${line}\x1b[K`);
        last = line;
      });
      onSignal = () => void lab.jobs.cancel(job.id);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const done = await lab.jobs.wait(job.id);
      off();
      if (showBar) process.stderr.write('\r\x1b[K');
      if (done.status === 'cancelled') throw new Error('cancelled; nothing was imported');
      if (done.status !== 'done') throw new Error(done.error ?? 'import failed');
      const datasetId = String(done.result?.datasetId);
      const info = lab.datasets.get(datasetId);
      const seconds = (Date.now() - started) / 1000;
      if (ctx.json) {
        ctx.out(JSON.stringify({ datasetId, name: info.name, count: info.count, imageShape: info.imageShape, sha256: info.sha256, seconds }));
      } else {
        ctx.out(`imported ${path.basename(file)} as ${datasetId}: ${info.name}, ${info.count.toLocaleString('en-US')} images ${info.imageShape.join('×')} (${seconds.toFixed(1)} s)`);
        ctx.out(`sha256 ${info.sha256}`);
      }
      return 0;
    } finally {
      if (onSignal) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      await lab.close();
    }
  },
};

export default datasetImportCommand;
