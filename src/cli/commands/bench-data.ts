/** `dlab bench data [--json] [--batches N] [--batch-size N] [--dir PATH] [--keep]` */
import { type Command, flagNumber, flagString } from '../command.js';
import { flagBool } from '../helpers.js';

export const benchDataCommand: Command = {
  path: ['bench', 'data'],
  summary: 'Time and peak memory to cache full dSprites and to read random batches from the cache',
  usage:
    'dlab bench data [--json] [--batches N (1000)] [--batch-size N (64)] [--dir PATH] [--keep]\n' +
    '  Materialises all 737,280 dSprites images into a bit-packed cache (≈377 MB; a temporary\n' +
    '  directory unless --dir), then reads N random batches from it, in memory and by positioned reads.',
  async run(ctx) {
    const { benchData } = await import('../../core/datasets/bench.js');
    const batches = flagNumber(ctx.args, 'batches', { integer: true, min: 1 }) ?? 1000;
    const batchSize = flagNumber(ctx.args, 'batch-size', { integer: true, min: 1 }) ?? 64;
    const dir = flagString(ctx.args, 'dir');
    const keep = flagBool(ctx.args, 'keep');
    let last = '';
    const r = await benchData({
      dir,
      keep,
      batches,
      batchSize,
      onProgress: (phase, f) => {
        if (!ctx.tty || ctx.json) return;
        const line = `${phase} ${Math.floor(f * 100)}%`;
        if (line !== last) process.stderr.write(`\r${line}   `);
        last = line;
      },
    });
    if (ctx.tty && !ctx.json) process.stderr.write('\r\x1b[K');
    if (ctx.json) {
      ctx.out(JSON.stringify(r));
      return 0;
    }
    const b = r.build;
    ctx.out(`dSprites cache: ${b.images} images, ${(b.bytes / 1e6).toFixed(1)} MB bit-packed`);
    ctx.out(`  build: ${b.seconds.toFixed(1)} s (${Math.round(b.imagesPerSecond)} images/s), peak RSS ${b.peakRssMB} MB (before ${b.rssBeforeMB} MB)`);
    for (const x of r.read) {
      ctx.out(`  read ${x.batches} random batches of ${x.batchSize} (${x.mode}, open ${x.openSeconds.toFixed(2)} s): ${x.seconds.toFixed(2)} s, ${x.msPerBatch.toFixed(3)} ms/batch, peak RSS ${x.peakRssMB} MB`);
    }
    ctx.out(`Shapes3D approximation render: ${r.shapes3dMsPerImage.toFixed(3)} ms/image`);
    ctx.out(`process max RSS: ${r.processMaxRssMB} MB`);
    if (keep || dir) ctx.out(`cache kept in ${r.dir}`);
    return 0;
  },
};

export default benchDataCommand;
