import { UsageError, flagList, flagNumber, type Command } from '../command.js';
import { withLab } from '../helpers.js';
import { progressLine } from '../progress.js';

export const evaluateCommand: Command = {
  path: ['evaluate'],
  summary: 'Score a trained run on its dataset with the metric suite; scores are stored with their provenance.',
  usage: 'dlab evaluate <run> [--metrics mig,dci,…,decoder_geometry] [--set metric.key=value …] [--seed S] [--step S --points P] [--json]',
  async run(ctx) {
    const id = ctx.args.positionals[0];
    if (!id) throw new UsageError('a run id is required (see dlab runs)');
    const settings: Record<string, Record<string, string>> = {};
    for (const kv of flagList(ctx.args, 'set') ?? []) {
      const m = /^([a-z_]+)\.([a-z_0-9]+)=(.+)$/.exec(kv);
      if (!m) throw new UsageError(`--set expects metric.key=value (e.g. factor_vae.num_train=1000), got '${kv}'`);
      (settings[m[1]!] ??= {})[m[2]!] = m[3]!;
    }
    const metrics = flagList(ctx.args, 'metrics');
    const seed = flagNumber(ctx.args, 'seed', { integer: true, min: 0 });
    // a checkpoint's step on the fixed sample: the periodic evaluation's scoring, stored as that step's series point
    const step = flagNumber(ctx.args, 'step', { integer: true, min: 0 });
    const points = flagNumber(ctx.args, 'points', { integer: true, min: 16 });
    return withLab(ctx, async (lab) => {
      // settings arrive as strings from the command line: numbers where they parse
      const typed = Object.fromEntries(
        Object.entries(settings).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([a, b]) => [a, b === 'true' ? true : b === 'false' ? false : Number.isFinite(Number(b)) ? Number(b) : b]))]),
      );
      const job = await lab.handlers['runs/evaluate']({
        id,
        ...(metrics ? { metrics } : {}),
        ...(Object.keys(typed).length ? { settings: typed } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(step !== undefined ? { step } : {}),
        ...(points !== undefined ? { points } : {}),
      });
      const off = lab.events.on('jobs/progress', (j) => {
        if (j.id !== job.id) return;
        if (ctx.json) ctx.out(JSON.stringify({ type: 'progress', fraction: j.fraction, message: j.message }));
        else if (ctx.tty) process.stdout.write(progressLine('evaluate', j.fraction, j.message.slice(0, 50)));
      });
      const done = await lab.jobs.wait(job.id);
      off();
      if (ctx.tty && !ctx.json) process.stdout.write('\n');
      if (done.status !== 'done') throw new Error(done.error ?? done.status);
      const atStep = step !== undefined || points !== undefined;
      const stored = atStep ? lab.runs.metricSeries.points(id).filter((p) => step === undefined || p.step === step) : lab.runs.evaluations(id);
      const latest = new Map(stored.map((e) => [e.metric, e]));
      const asked = new Set(Object.keys((done.result as { scores: Record<string, unknown> }).scores));
      const scores = [...latest.values()].filter((e) => asked.has(e.metric));
      if (ctx.json) ctx.out(JSON.stringify({ type: 'result', run: id, scores }, null, 2));
      else
        for (const s of scores) {
          const extra = Object.entries(s.scores)
            .filter(([k]) => k !== s.primary)
            .map(([k, v]) => `${k} ${v.toFixed(3)}`)
            .join(', ');
          ctx.out(`${s.metric.padEnd(18)} ${s.value === null ? `failed: ${s.error}` : s.value.toFixed(4)}  ${extra}  (${JSON.stringify(s.provenance.samples)}, ${s.seconds.toFixed(1)} s)`);
        }
      return 0;
    });
  },
};
