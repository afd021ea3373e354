/**
 * Metric curves during training, in Chromium against `dlab serve`: Launch's
 * "evaluate every N steps" field, then Run detail drawing the MIG curve live
 * beside the loss curves, with the cost of one evaluation.
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { fullShot, servedLab, watchErrors } from './browser.js';

const lab = servedLab();
const points = async (page: Page, chart: string) => Number((await page.locator(`[data-chart="${chart}"]`).getAttribute('data-points')) ?? 0);

describe('metric curves in Chromium against dlab serve', () => {
  it('launches a tiny run scoring MIG every 6 steps and shows the curve on Run detail, live and when finished', async () => {
    const page = await lab.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = watchErrors(page);

    await page.goto(`${lab.url}#/launch`);
    await page.locator('[data-model="beta_vae"]').click();
    await page.locator('[data-param="beta"] [data-input="beta"]').waitFor();
    await page.locator('[data-arch="conv"]').click();
    const settings: Record<string, string> = { latent: '4', steps: '24', batch: '8', lr: '0.001', progressEvery: '2', checkpointEvery: '12', codesSamples: '200' };
    for (const [k, v] of Object.entries(settings)) await page.locator(`[data-input="${k}"]`).fill(v);
    await page.locator('[data-input="seeds"]').fill('0');
    // no final suite: only the curves
    await page.locator('[data-testid="evaluate-metrics"] [data-metric="mig"]').waitFor();
    for (const box of await page.locator('[data-testid="evaluate-metrics"] input[data-metric]').all()) if (await box.isChecked()) await box.uncheck();

    // the periodic evaluation: off by default, a metric choice once on
    expect(await page.locator('[data-input="eval-every"]').inputValue()).toBe('0');
    await page.locator('[data-input="eval-every"]').fill('6');
    await page.locator('[data-eval-metric="mig"]').waitFor();
    expect(await page.locator('[data-eval-metric="mig"]').isChecked()).toBe(true);
    await page.locator('[data-eval-metric="mig"]').uncheck();
    await expect.poll(() => page.locator('[data-testid="eval-error"]').innerText()).toContain('at least one metric');
    expect(await page.locator('[data-action="launch"]').isDisabled()).toBe(true);
    await page.locator('[data-eval-metric="mig"]').check();
    await page.locator('[data-input="eval-samples"]').fill('300');
    await expect.poll(() => page.locator('[data-action="launch"]').isDisabled()).toBe(false);
    await fullShot(page, 'launch-eval-every');
    await page.locator('[data-action="launch"]').click();

    await page.waitForURL(/#\/run\?id=/);
    const runId = new URL(page.url()).hash.split('id=')[1]!;
    await page.locator('[data-testid="metric-curves"]').waitFor();
    // live: the first point lands while the run trains (or, on a fast machine, the run is already done)
    await expect.poll(() => points(page, 'metric-mig'), { timeout: 150_000, interval: 250 }).toBeGreaterThan(0);
    const status = await page.locator('[data-testid="run-status"]').getAttribute('data-status');
    if (status === 'running') await fullShot(page, 'run-detail-metric-curve-live');
    await expect
      .poll(() => page.locator('[data-testid="run-status"]').getAttribute('data-status'), { timeout: 150_000, interval: 500 })
      .toBe('finished');
    // ⌊24/6⌋ = 4 points, beside the loss curve (every progress report: 12)
    await expect.poll(() => points(page, 'metric-mig'), { timeout: 20_000 }).toBe(4);
    await expect.poll(() => points(page, 'loss'), { timeout: 20_000 }).toBe(12);
    expect(await page.locator('[data-chart="metric-mig"]').innerText()).toContain('MIG');
    // MIG per factor beside it: the same 4 steps for each of dSprites' five factors
    await expect.poll(() => points(page, 'metric-mig-factors'), { timeout: 20_000 }).toBe(4);
    expect(await page.locator('[data-chart="metric-mig-factors"]').innerText()).toContain('MIG per factor');
    expect(await page.locator('[data-testid="eval-cost"]').innerText()).toMatch(/one evaluation \(step 24\): [\d.]+ s, of which encoding [\d.]+ s/);

    // the same points through the contract, with provenance
    const res = await page.evaluate(async (id) => {
      const token = sessionStorage.getItem('dlab-token') ?? '';
      const r = await fetch('/api/runs/metricSeries', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify({ id, metric: 'mig' }) });
      return (await r.json()) as { ok: boolean; result: { step: number; provenance: Record<string, unknown> }[] };
    }, runId);
    expect(res.ok).toBe(true);
    expect(res.result.map((p) => p.step)).toEqual([6, 12, 18, 24]);
    expect(res.result[0]!.provenance).toMatchObject({ points: 300, step: 6, seed: 0 });
    // the per-factor gaps the chart draws, and their mean is the MIG of the point
    for (const p of res.result as unknown as { value: number; details: { per_factor: number[] } }[]) {
      expect(p.details.per_factor).toHaveLength(5);
      expect(p.details.per_factor.reduce((a, b) => a + b, 0) / 5).toBeCloseTo(p.value, 12);
    }
    const file = await fullShot(page, 'run-detail-metric-curve');
    expect(fs.statSync(file).size).toBeGreaterThan(20_000);
    expect(errors).toEqual([]);
  });
});
