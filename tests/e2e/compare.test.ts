import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Download } from 'playwright-core';
import { fullShot, labApi, servedLab, shot, watchErrors } from './browser.js';

const lab = servedLab();

/**
 * A tiny finished study: β-VAE on dSprites as original, a blurred variant in
 * the "manipulated" role (the learned manipulation takes too long for an
 * E2E test) and uniform noise, two seeds: six conv runs of 20 steps.
 */
const spec = {
  name: 'compare e2e',
  methods: [{ id: 'beta_vae', model: 'beta_vae', params: { beta: 4 } }],
  datasets: [
    {
      base: 'dsprites',
      latent: 3,
      variants: [
        { role: 'original' },
        { role: 'manipulated', kind: 'blur', params: { sigma_max: 1.5 }, seed: 0 },
        { role: 'noise', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 0 },
      ],
    },
  ],
  seeds: [0, 1],
  training: { arch: 'conv', latent: 3, steps: 20, batch: 8, lr: 1e-3, progressEvery: 10, checkpointEvery: 20, codesSamples: 150 },
  // and MIG every 10 steps during training, for the curves over seeds
  evaluation: { metrics: ['mig'], periodic: { every: 10, samples: 150 } },
};

const api = <T>(name: string, input: unknown): Promise<T> => labApi<T>(lab, name, input);

async function bytesOf(d: Download): Promise<Buffer> {
  const p = await d.path();
  return fs.readFileSync(p);
}

describe('Compare screen and Table 1 in Chromium against dlab serve', () => {
  it('groups a tiny study’s runs by variant, charts and exports them, and shows Table 1 with its exports', async () => {
    const { study } = await api<{ study: { id: string } }>('studies/create', { spec });
    // wait until the six runs are trained and scored
    await expect
      .poll(async () => (await api<{ counts: { evaluated: number; failed: number } }>('studies/get', { id: study.id })).counts, { timeout: 170_000, interval: 1000 })
      .toMatchObject({ evaluated: 6, failed: 0 });

    const page = await lab.browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    const errors = watchErrors(page);

    // ---- Run detail of one of the study's runs: no Extend (the study compares its runs at one budget), a note in its place
    const { runs: studyRuns } = await api<{ runs: { id: string }[] }>('runs/list', { study: study.id, limit: 1 });
    await page.goto(`${lab.url}#/run?id=${studyRuns[0]!.id}`);
    const note = page.locator('[data-field="extend-study"]');
    await note.waitFor();
    expect(await note.innerText()).toBe(`In study ${study.id}: its runs share one budget of ${spec.training.steps} steps`);
    expect(await page.locator('[data-action="extend"]').count()).toBe(0);
    await shot(page, 'run-detail-study-run');

    // ---- Runs tab: grouped by (method, dataset variant) with mean ± sd and N
    await page.goto(`${lab.url}#/compare`);
    await page.locator('[data-screen="compare"] [data-testid="compare-table"]').waitFor();
    await expect.poll(() => page.locator('[data-testid="compare-table"] tbody[data-group]').count(), { timeout: 30_000 }).toBe(3);
    const groupKeys = await page.locator('[data-testid="compare-table"] tbody[data-group]').evaluateAll((els) => els.map((e) => e.getAttribute('data-group')));
    // the blurred dataset is a derived dataset of another kind: "other"; the noise one is "noise"
    expect(groupKeys).toEqual(['beta_vae|dsprites|original', 'beta_vae|dsprites|noise', 'beta_vae|dsprites|other']);
    // rows can show before their scores have loaded ('–'): wait until every group has its numbers
    await expect
      .poll(async () => (await page.locator('[data-testid="group-mean"]').allInnerTexts()).filter((t) => /^\d\.\d{3} ± \d\.\d{3}$/.test(t)).length, { timeout: 30_000 })
      .toBe(3);
    expect(await page.locator('[data-input="metric"]').inputValue()).toBe('mig');
    for (const key of groupKeys) {
      const g = page.locator(`tbody[data-group="${key}"]`);
      expect(await g.locator('[data-testid="group-n"]').innerText()).toBe('2');
      // mean ± sd of the two seeds, both shown with three decimals
      expect(await g.locator('[data-testid="group-mean"]').innerText()).toMatch(/^\d\.\d{3} ± \d\.\d{3}$/);
      // the group's mean is the mean of its members' shown values (to rounding)
      const members = (await g.locator('[data-testid="run-score"]').allInnerTexts()).map(Number);
      const mean = Number((await g.locator('[data-testid="group-mean"]').innerText()).split(' ± ')[0]);
      expect(members).toHaveLength(2);
      expect(Math.abs(mean - (members[0]! + members[1]!) / 2)).toBeLessThanOrEqual(0.0011);
    }
    // all runs share β = 4: no hyperparameter differs; without the toggle the β column is shown
    expect(await page.locator('[data-param-col]').count()).toBe(0);
    await page.locator('[data-input="only-differing"]').uncheck();
    await expect.poll(() => page.locator('[data-param-col="beta"]').count()).toBe(1);

    // the bar chart: one bar per variant for the method (3 values)
    const bars = page.locator('canvas[data-chart="variants"]');
    await bars.waitFor();
    expect(await bars.getAttribute('data-kind')).toBe('bar');
    expect(await bars.getAttribute('data-points')).toBe('3');
    // and the scatter of β against MIG: six runs
    expect(await page.locator('canvas[data-chart="scatter"]').getAttribute('data-points')).toBe('6');
    // no setting differs: the scatter's default is the method's own β, not a training setting
    expect(await page.locator('[data-input="scatter-param"]').inputValue()).toBe('beta');
    await fullShot(page, 'compare-runs');
    // MIG during training: per variant the mean over the two seeds at steps 10 and 20, and its 95 % interval (3 × (2 + 2 + 2) points)
    const curves = page.locator('canvas[data-chart="curves"]');
    await curves.waitFor();
    expect(await curves.getAttribute('data-kind')).toBe('line');
    expect(await curves.getAttribute('data-points')).toBe('18');
    await curves.scrollIntoViewIfNeeded();
    await shot(page, 'compare-curves');

    // export the bar chart as PNG at 96 dpi, through the engine
    const chartPanel = page.locator('.compare-chart-panel').filter({ has: bars });
    await chartPanel.locator('[data-input="dpi"]').fill('96');
    const [png] = await Promise.all([page.waitForEvent('download'), chartPanel.locator('[data-export="png"]').click()]);
    expect(png.suggestedFilename()).toMatch(/\.png$/);
    const pngBytes = await bytesOf(png);
    expect([...pngBytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // a 480×320 pt chart at 96 dpi: 640×427 px (IHDR width and height)
    expect(pngBytes.readUInt32BE(16)).toBe(640);
    fs.mkdirSync(path.join('test-results', 'screenshots'), { recursive: true });
    fs.writeFileSync(path.join('test-results', 'screenshots', 'compare-export.png'), pngBytes);

    // the box plot of the same groups
    await page.locator('[data-chart-kind="box"]').click();
    await expect.poll(() => bars.getAttribute('data-kind')).toBe('box');
    expect(await bars.getAttribute('data-points')).toBe('6');
    await bars.scrollIntoViewIfNeeded();
    await shot(page, 'compare-box');
    const [svg] = await Promise.all([page.waitForEvent('download'), chartPanel.locator('[data-export="svg"]').click()]);
    expect((await bytesOf(svg)).toString('utf8')).toMatch(/<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);

    // the grouped table as LaTeX
    const [tex0] = await Promise.all([page.waitForEvent('download'), page.locator('[data-export="table-tex"]').first().click()]);
    const tex0Text = (await bytesOf(tex0)).toString('utf8');
    expect(tex0Text).toContain('\\toprule');
    expect(tex0Text).toMatch(/beta\\_vae & dsprites & original & 2 &/);

    // ---- Table 1 tab
    await page.locator('[data-tab="table1"]').click();
    await page.locator('[data-testid="table1-table"]').waitFor();
    const row = page.locator('[data-testid="table1-table"] tr[data-method="beta_vae"][data-dataset="dsprites"]');
    await row.waitFor();
    for (const v of ['original', 'manipulated', 'noise']) expect(await row.locator(`[data-variant="${v}"]`).innerText()).toMatch(/^\d\.\d{3} ± \d\.\d{3} \(2\)$/);
    expect(await row.locator('[data-contrast="manipulated"]').innerText()).toMatch(/^[+−]\d\.\d{3} \[-?\d\.\d{3}, -?\d\.\d{3}\]$/);
    // a verdict per contrast the study judges (original − manipulated, original − noise, …), each a known verdict
    expect(await row.locator('[data-verdict]').count()).toBeGreaterThanOrEqual(2);
    for (const v of await row.locator('[data-verdict]').evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict')))) {
      expect(['reproduced', 'not_reproduced', 'inconclusive', 'insufficient_data', 'no_claim']).toContain(v);
    }
    // the paper's numbers side by side, marked as transcribed
    expect(await page.locator('[data-testid="published-note"]').innerText()).toContain('transcribed — verify before citing');
    // β-VAE on dSprites, original: the paper's 0.23 (0.08) as transcribed in resources (PAPER.md)
    expect(await row.locator('[data-published="original"]').innerText()).toBe('0.230 ± 0.080');
    expect(await row.locator('[data-published="manipulated"]').innerText()).toBe('0.070 ± 0.090');
    expect(await row.locator('[data-published="noise"]').innerText()).toBe('0.140 ± 0.070');
    // MIG during training per (method, variant), from studies/results: the mean over the two seeds at steps 10 and 20 and its 95 % interval (3 × (2 + 2 + 2) points)
    const t1curves = page.locator('[data-testid="table1-curves"] canvas[data-chart="table1-curves"]');
    await t1curves.waitFor();
    expect(await t1curves.getAttribute('data-kind')).toBe('line');
    expect(await t1curves.getAttribute('data-points')).toBe('18');
    const results = await api<{ curves?: { key: string; points: { step: number; n: number; mean: number; lo: number | null; hi: number | null }[] }[] }>('studies/results', { id: study.id });
    expect(results.curves!.map((c) => c.key)).toEqual(['beta_vae|dsprites|original', 'beta_vae|dsprites|manipulated', 'beta_vae|dsprites|noise']);
    for (const c of results.curves!) {
      expect(c.points.map((p) => [p.step, p.n])).toEqual([
        [10, 2],
        [20, 2],
      ]);
      for (const p of c.points) expect(p.lo! <= p.mean && p.mean <= p.hi!).toBe(true);
    }
    await page.locator('[data-testid="table1-curves"]').scrollIntoViewIfNeeded();
    await shot(page, 'compare-table1-curves');
    await fullShot(page, 'compare-table1');

    const [tex] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="table1"] [data-export="table-tex"]').click()]);
    expect(tex.suggestedFilename()).toMatch(/\.tex$/);
    const texText = (await bytesOf(tex)).toString('utf8');
    expect(texText).toContain('\\toprule');
    expect(texText).toContain('\\bottomrule');
    expect(texText).toMatch(/beta\\_vae & dsprites &/);

    // the study's full export: a job, then its files listed and downloadable
    await page.locator('[data-action="write-export"]').click();
    await expect.poll(() => page.locator('[data-testid="export-job"]').getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
    await page.locator('[data-testid="export-files"] [data-file="table1.tex"]').waitFor();
    const [file] = await Promise.all([page.waitForEvent('download'), page.locator('[data-file="table1.tex"]').click()]);
    expect((await bytesOf(file)).toString('utf8')).toContain('\\toprule');
    await fullShot(page, 'compare-table1-export');

    // a study whose runs score nothing during training: the chart's empty state says how to get one
    const { study: plain } = await api<{ study: { id: string } }>('studies/create', { spec: { ...spec, name: 'compare e2e, no curves', evaluation: { metrics: ['mig'] } }, start: false });
    await page.locator('[data-action="reload-studies"]').click();
    await expect.poll(() => page.locator(`[data-input="study"] option[value="${plain.id}"]`).count()).toBe(1);
    await page.locator('[data-input="study"]').selectOption(plain.id);
    const empty = page.locator('[data-testid="table1-curves-empty"]');
    await empty.waitFor();
    expect(await empty.innerText()).toMatch(/^No MIG during training: launch with evaluation every N steps/);
    expect(await page.locator('canvas[data-chart="table1-curves"]').count()).toBe(0);
    await empty.scrollIntoViewIfNeeded();
    await shot(page, 'compare-table1-curves-empty');

    // one more original run at another learning rate: its group says what its runs differ in, and the column shows it
    const [extra] = await api<{ id: string }[]>('runs/launch', {
      config: { model: 'beta_vae', params: { beta: 4 }, datasetId: 'dsprites', ...spec.training, lr: 5e-4, evaluate: ['mig'], evalEvery: 10, evalMetrics: ['mig'], evalSamples: 150 },
      seeds: [2],
    });
    await expect
      .poll(async () => {
        const d = await api<{ status: string }>('runs/get', { id: extra!.id });
        return d.status === 'finished' && (await api<{ metric: string }[]>('runs/evaluations', { id: extra!.id })).some((e) => e.metric === 'mig');
      }, { timeout: 60_000, interval: 500 })
      .toBe(true);
    await page.locator('[data-tab="runs"]').click();
    await page.locator('[data-action="reload"]').click();
    const original = page.locator('tbody[data-group="beta_vae|dsprites|original"]');
    await expect.poll(() => original.locator('[data-testid="group-n"]').innerText(), { timeout: 30_000 }).toBe('3');
    expect(await original.locator('[data-testid="group-differing"]').innerText()).toBe('differ in lr');
    expect(await page.locator('[data-testid="group-differing"]').count()).toBe(1); // the other groups share their settings
    await page.locator('[data-input="only-differing"]').check();
    await expect.poll(() => page.locator('[data-param-col]').evaluateAll((els) => els.map((e) => e.getAttribute('data-param-col')))).toEqual(['lr']);
    const lrs = await original.locator('tr.member-row td:nth-child(4)').allInnerTexts();
    expect(lrs.sort()).toEqual(['0.0005', '0.001', '0.001']);
    await original.scrollIntoViewIfNeeded();
    await shot(page, 'compare-differing');

    expect(errors).toEqual([]);
    await page.close();
  }, 340_000);
});
