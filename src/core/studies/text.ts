/** Plain-text tables of a study's results (for the terminal). */
import type { StudyResults } from '../../shared/requests/studies.js';

const METHOD: Record<string, string> = { ae: 'AE', beta_vae: 'β-VAE', factor_vae: 'FactorVAE', beta_tcvae: 'β-TCVAE', slow_vae: 'SlowVAE', pcl: 'PCL' };
const VERDICT: Record<string, string> = {
  reproduced: 'reproduced',
  not_reproduced: 'NOT reproduced',
  inconclusive: 'inconclusive',
  insufficient_data: 'too few runs',
  no_claim: '(no claim)',
};

const f2 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '  –  ' : v.toFixed(2));
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function render(rows: string[][], right: boolean[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  return rows.map((r) => r.map((c, i) => (right[i] ? lpad(c, widths[i]!) : pad(c, widths[i]!))).join('  ').trimEnd());
}

/** Table 1: per dataset, ours (mean ± sd, n) vs the paper, the drop under manipulation with its CI, and the verdict. */
export function formatTable1(r: StudyResults): string {
  const lines: string[] = [];
  const datasets = [...new Set(r.groups.map((g) => g.dataset))];
  const variants = [...new Set(r.groups.map((g) => g.variant))];
  const metric = r.metric === 'mig' ? 'MIG' : r.metric;
  for (const d of datasets) {
    lines.push('', `${metric} on ${d} — ours: mean ± sd (n) | paper: mean (sd)`);
    const header = ['method', ...variants.map((v) => v), 'Δ orig−manip [95% CI]', 'paper Δ', 'verdict'];
    const rows: string[][] = [header];
    for (const m of [...new Set(r.groups.filter((g) => g.dataset === d).map((g) => g.method))]) {
      const cells = variants.map((v) => {
        const g = r.groups.find((x) => x.method === m && x.dataset === d && x.variant === v);
        const p = r.published?.cells.find((x) => x.method === m && x.dataset === d && x.variant === v);
        const ours = g ? `${f2(g.mean)} ± ${g.sd === null ? '–' : f2(g.sd)} (${g.n})` : '–';
        return p ? `${ours} | ${f2(p.mean)} (${f2(p.sd)})` : ours;
      });
      const c = r.comparisons.find((x) => x.method === m && x.dataset === d && x.a === 'original' && x.b === 'manipulated');
      rows.push([
        METHOD[m] ?? m,
        ...cells,
        c ? `${f2(c.diff)} ${c.ci ? `[${f2(c.ci[0])}, ${f2(c.ci[1])}]` : '[–]'}` : '–',
        c?.published ? f2(c.published.diff) : '–',
        c ? VERDICT[c.verdict] ?? c.verdict : '–',
      ]);
    }
    lines.push(...render(rows, rows[0]!.map((_, i) => i > 0 && i <= variants.length + 2)));
    const noise = r.comparisons.filter((x) => x.dataset === d && x.a === 'noise' && x.b === 'manipulated' && x.expected !== 'none');
    if (noise.length) {
      lines.push('', `manipulation vs matched noise on ${d} (paper: noise does much less harm): noise − manipulated`);
      const nr: string[][] = [['method', 'Δ [95% CI]', 'paper Δ', 'verdict']];
      for (const c of noise) nr.push([METHOD[c.method] ?? c.method, `${f2(c.diff)} ${c.ci ? `[${f2(c.ci[0])}, ${f2(c.ci[1])}]` : '[–]'}`, c.published ? f2(c.published.diff) : '–', VERDICT[c.verdict] ?? c.verdict]);
      lines.push(...render(nr, [false, true, true, false]));
    }
  }
  if (r.published) lines.push('', `Published: ${r.published.source} — ${r.published.note}.`);
  lines.push(`Bootstrap: ${r.bootstrap.resamples} resamples (seed ${r.bootstrap.seed}), ${Math.round(r.bootstrap.level * 100)}% expanded percentile intervals (Hesterberg 2015: widened for few seeds by t quantiles); verdict: CI of the drop above 0 → reproduced, below 0 → not reproduced, containing 0 → inconclusive, fewer than 3 runs per group → too few runs (PCL: no drop claimed; tested once its original reaches half the paper's value, else inconclusive).`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
