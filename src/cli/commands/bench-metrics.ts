import { runMetricsBench, BENCH_FACTOR_SIZES } from '../../core/metrics/bench.js';
import { METRIC_IDS } from '../../core/metrics/registry.js';
import { UsageError, flagList, flagNumber, type Command } from '../command.js';

export const benchMetricsCommand: Command = {
  path: ['bench', 'metrics'],
  summary: `Time every metric on 10,000/5,000 seeded synthetic codes (10 dims, factors ${BENCH_FACTOR_SIZES.join('×')}); seconds per metric.`,
  usage: 'dlab bench metrics [--metrics mig,dci,…] [--seed S] [--json]',
  async run(ctx) {
    const metrics = flagList(ctx.args, 'metrics');
    const bad = metrics?.find((m) => !METRIC_IDS.includes(m));
    if (bad) throw new UsageError(`unknown metric '${bad}' (known: ${METRIC_IDS.join(', ')})`);
    const seed = flagNumber(ctx.args, 'seed', { integer: true, min: 0 }) ?? 0;
    const r = await runMetricsBench({
      seed,
      ...(metrics ? { metrics } : {}),
      onMetric: (s) => {
        if (!ctx.json) ctx.out(`${s.metric.padEnd(14)} ${s.seconds.toFixed(2).padStart(8)} s wall ${(s.cpuSeconds ?? s.seconds).toFixed(2).padStart(8)} s cpu   ${s.error ? `error: ${s.error}` : `${s.primary} = ${s.value?.toFixed(4)}`}`);
      },
    });
    if (ctx.json) ctx.out(JSON.stringify(r, null, 2));
    else {
      ctx.out(`${'total'.padEnd(14)} ${r.totalSeconds.toFixed(2).padStart(8)} s wall ${r.totalCpuSeconds.toFixed(2).padStart(8)} s cpu   (node ${r.node}, ${r.nTrain} train / ${r.nTest} test, seed ${r.seed})`);
      ctx.out(`disentanglement_lib reference (one core): ${Object.entries(r.reference).map(([k, v]) => `${k} ${v} s`).join(', ')}`);
    }
    return r.metrics.some((m) => m.error) ? 1 : 0;
  },
};
