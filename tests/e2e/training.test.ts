import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { fullShot, servedLab, watchErrors } from './browser.js';

const lab = servedLab();
/** Fraction of a canvas's pixels brighter than 20/255 (any channel). */
function litFraction(canvas: Locator): Promise<number> {
  return canvas.evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.max(d[i]!, d[i + 1]!, d[i + 2]!) > 20) lit++;
    return lit / (c.width * c.height);
  });
}

const points = async (page: Page, chart: string) => Number((await page.locator(`[data-chart="${chart}"]`).getAttribute('data-points')) ?? 0);

describe('training screens in Chromium against dlab serve', () => {
  it('launches a tiny conv run, watches its curves grow, and shows reconstructions, traversals and the runs table', async () => {
    const page = await lab.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = watchErrors(page);

    // ---- Launch: a form generated from the method's ParamSpecs
    await page.goto(`${lab.url}#/launch`);
    await page.locator('[data-model="beta_vae"]').click();
    await page.locator('[data-param="beta"] [data-input="beta"]').waitFor();
    // the paper hint for β on dSprites is 8 (PAPER.md), one click applies it
    await page.locator('[data-param="beta"] .chip', { hasText: 'dSprites 8' }).click();
    expect(await page.locator('[data-input="beta"]').inputValue()).toBe('8');
    await page.locator('[data-input="beta"]').fill('4');
    // the architecture toggle; the tiny run uses conv (its checkpoints are ~8 MB against fc's ~170 MB: faster here overall)
    await page.locator('[data-arch="fc"]').click();
    await expect.poll(() => page.locator('.summary-panel').innerText()).toMatch(/· fc/);
    await page.locator('[data-arch="conv"]').click();
    await expect.poll(() => page.locator('.summary-panel').innerText()).toMatch(/· conv/);
    const settings: Record<string, string> = { latent: '4', steps: '30', batch: '8', lr: '0.001', progressEvery: '2', checkpointEvery: '10', codesSamples: '200' };
    for (const [k, v] of Object.entries(settings)) await page.locator(`[data-input="${k}"]`).fill(v);
    await page.locator('[data-input="seeds"]').fill('0');
    // validation: an out-of-range value blocks the launch, with the reason shown
    await page.locator('[data-input="latent"]').fill('65');
    await expect.poll(() => page.locator('[data-testid="launch-errors"]').innerText()).toContain('latent');
    expect(await page.locator('[data-action="launch"]').isDisabled()).toBe(true);
    await page.locator('[data-input="latent"]').fill('4');
    await expect.poll(() => page.locator('[data-action="launch"]').isDisabled()).toBe(false);
    await expect.poll(() => page.locator('[data-testid="launch-backend"]').innerText()).toMatch(/^(wasm|cpu|tensorflow)$/);
    await fullShot(page, 'launch');

    await page.locator('[data-action="launch"]').click();

    // ---- Run detail: live curves
    await page.waitForURL(/#\/run\?id=/);
    const runId = new URL(page.url()).hash.split('id=')[1]!;
    expect(runId).toMatch(/^[A-Za-z0-9_.:-]+$/);
    await page.locator('[data-screen="run"] [data-testid="run-status"]').waitFor();
    await expect.poll(() => points(page, 'loss'), { timeout: 120_000, interval: 250 }).toBeGreaterThan(0);
    const first = await points(page, 'loss');
    await expect.poll(() => points(page, 'loss'), { timeout: 120_000, interval: 250 }).toBeGreaterThan(first);
    // KL per dimension: one line per latent dimension
    await page.locator('[data-chart="kl_dim"]').waitFor();

    // ---- Runs, while it trains: the row follows the events; a selection survives the updates
    await page.locator('[data-nav="runs"]').click();
    const row = page.locator(`[data-run="${runId}"]`);
    await row.waitFor();
    const stepOf = async () => Number(/^([\d,]+) \//.exec(await row.locator('.progress-text').innerText())?.[1]?.replace(/,/g, '') ?? -1);
    let runsShot = false;
    // (on a fast machine the run may already be over; the live checks need it running with steps to go:
    // at its last step a run is still 'running' while it writes its codes and scores)
    const s0 = await stepOf();
    if ((await row.locator('[data-status]').getAttribute('data-status')) === 'running' && s0 >= 0 && s0 < Number(settings.steps)) {
      await row.locator('td.check input').check();
      await expect.poll(stepOf, { timeout: 60_000, interval: 250 }).toBeGreaterThan(s0);
      expect(await row.locator('td.check input').isChecked()).toBe(true);
      await fullShot(page, 'runs');
      runsShot = true;
    }
    // a click on the row opens its detail
    await row.locator('td').nth(2).click();
    await page.waitForURL(new RegExp(`#/run\\?id=${runId}`));

    await expect
      .poll(() => page.locator('[data-testid="run-status"]').getAttribute('data-status'), { timeout: 150_000, interval: 500 })
      .toBe('finished');
    // every progress report (step 2, 4, …, 30) ends up on the chart
    await expect.poll(() => points(page, 'loss'), { timeout: 20_000 }).toBe(15);
    await expect.poll(() => points(page, 'kl_dim'), { timeout: 20_000 }).toBe(15);

    // the pictures come from the final checkpoint
    await expect.poll(() => page.locator('[data-testid="visuals-step"]').innerText(), { timeout: 60_000 }).toBe('checkpoint at step 30');
    // reconstructions: originals above, reconstructions below, real pixels in both
    await expect.poll(() => page.locator('[data-testid="recon-reconstructions"] canvas').count(), { timeout: 60_000 }).toBe(12);
    expect(await page.locator('[data-testid="recon-originals"] canvas').count()).toBe(12);
    expect(await litFraction(page.locator('[data-testid="recon-originals"] canvas').first())).toBeGreaterThan(0.005);
    expect(await litFraction(page.locator('[data-testid="recon-reconstructions"] canvas').first())).toBeGreaterThan(0.005);

    // traversals: one row per latent dimension (4), 9 steps each, labelled with KL
    await expect.poll(() => page.locator('[data-testid="traversal-grid"] .trav-row[data-dim]').count(), { timeout: 60_000 }).toBe(4);
    expect(await page.locator('[data-testid="traversal-grid"] canvas').count()).toBe(36);
    const kls = await page.locator('[data-testid="traversal-grid"] .trav-label .small').allInnerTexts();
    expect(kls).toHaveLength(4);
    for (const k of kls) expect(k).toMatch(/^KL /);
    let lit = 0;
    for (const c of await page.locator('[data-testid="traversal-grid"] canvas').all()) lit = Math.max(lit, await litFraction(c));
    expect(lit).toBeGreaterThan(0.005);

    // picking a source image re-traverses from it
    const picked = await page.locator('[data-testid="recon-originals"] .tile').nth(2).getAttribute('title');
    await page.locator('[data-testid="recon-originals"] .tile').nth(2).click();
    await expect.poll(() => page.locator('[data-testid="trav-index"]').inputValue()).toBe(picked!.match(/^#(\d+)/)![1]);

    // the run stored 200 codes: the latent scatter is drawn
    await page.locator('[data-testid="latent-scatter"] canvas').waitFor({ timeout: 30_000 });

    // 200 stored codes: 134 train / 66 test (2/3 : 1/3); metrics chosen on Launch were computed when the run finished: scores with provenance, MI and DCI matrices
    const scores = page.locator('[data-testid="scores"]');
    await scores.locator('[data-metric="mig"]').waitFor({ timeout: 30_000 });
    for (const m of ['mig', 'dci', 'sap', 'modularity', 'explicitness', 'active_units', 'gaussian_tc', 'decoder_geometry']) {
      await expect.poll(() => scores.locator(`[data-metric="${m}"]`).count(), { timeout: 20_000 }).toBe(1);
    }
    const migValue = Number(await scores.locator('[data-metric="mig"] td.num').innerText());
    expect(migValue).toBeGreaterThanOrEqual(0);
    expect(migValue).toBeLessThanOrEqual(1);
    expect(await scores.locator('[data-metric="mig"]').getAttribute('title')).toMatch(/samples: \{"train":134\}[\s\S]*seed: 0; codes: posterior means/);
    expect(await page.locator('[data-testid="evaluation"] .heatmap').count()).toBe(2);
    const file = await fullShot(page, 'run-detail');
    expect(fs.statSync(file).size).toBeGreaterThan(20_000);

    // ---- Runs, afterwards: the finished run; tags and filters
    await page.locator('[data-nav="runs"]').click();
    await row.waitFor();
    expect(await row.locator('[data-status]').getAttribute('data-status')).toBe('finished');
    expect(await row.innerText()).toContain('30 / 30');
    await row.locator('[data-action="add-tag"]').click();
    await row.locator('[data-testid="tag-input"]').fill('e2e-tiny');
    await row.locator('[data-testid="tag-input"]').press('Enter');
    await row.locator('[data-tag="e2e-tiny"]').waitFor();
    await page.locator('[data-testid="runs-filter"]').fill('no-such-run');
    await expect.poll(() => page.locator('.run-row').count()).toBe(0);
    await page.locator('[data-testid="runs-filter"]').fill('e2e-tiny');
    await expect.poll(() => page.locator('.run-row').count()).toBe(1);
    await page.locator('[data-testid="status-filter"]').selectOption('failed');
    await expect.poll(() => page.locator('.run-row').count()).toBe(0);
    await page.locator('[data-testid="status-filter"]').selectOption('finished');
    await expect.poll(() => page.locator('.run-row').count()).toBe(1);
    if (!runsShot) await fullShot(page, 'runs');
    expect(errors).toEqual([]);
  });
});
