/**
 * The Perturb screen in Chromium against `dlab serve`: build a uniform-noise
 * dSprites dataset, see the preview and the statistics, compare the variance
 * structure, save it, and find it on the Datasets screen. Screenshots go to
 * test-results/screenshots/perturb-*.png.
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { servedLab, shot, watchErrors } from './browser.js';

const lab = servedLab();
/** Share of pixels brighter than `lv` in a canvas, the brightest value, and the share strictly between 0 and 255. */
const canvasLevels = (c: HTMLCanvasElement, lv: number) => {
  const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
  let lit = 0;
  let max = 0;
  let mid = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i]! > lv) lit++;
    if (d[i]! > max) max = d[i]!;
    if (d[i]! > 0 && d[i]! < 255) mid++;
  }
  return { lit: lit / (c.width * c.height), max, mid: mid / (c.width * c.height) };
};

describe('Perturb screen in Chromium against dlab serve', () => {
  it('builds a uniform-noise dSprites dataset: preview, statistics, analysis, save, then it is on the Datasets screen', async () => {
    const page = await lab.browser.newPage({ viewport: { width: 1500, height: 1100 } });
    const errors = watchErrors(page);
    await page.goto(lab.url);
    await page.locator('[data-nav="perturb"]').click();
    await page.locator('[data-screen="perturb"]').waitFor();

    // dSprites and uniform noise are preselected; ε starts at the paper's value for dSprites
    await expect.poll(() => page.locator('[data-testid="base"]').inputValue(), { timeout: 20_000 }).toBe('dsprites');
    await page.selectOption('[data-testid="kind"]', 'uniform-noise');
    await expect.poll(() => page.locator('[data-input="epsilon"]').inputValue()).toBe('0.1');
    expect(await page.locator('[data-param="epsilon"] [data-hint="dsprites"]').innerText()).toContain('0.1');

    // the live preview: 6 originals, 6 perturbed, 6 differences, with max|Δ| ≤ ε under each
    await expect.poll(() => page.locator('[data-testid="preview-perturbed"] canvas').count(), { timeout: 30_000 }).toBe(6);
    expect(await page.locator('[data-testid="preview-difference"] canvas').count()).toBe(6);
    const maxima = (await page.locator('[data-testid="preview-difference"] figcaption').allInnerTexts()).map((t) => Number(t.replace('max', '').trim()));
    expect(maxima).toHaveLength(6);
    for (const m of maxima) {
      expect(m).toBeLessThanOrEqual(0.1);
      expect(m).toBeGreaterThan(0.09);
    }
    // perturbed images are no longer binary: many pixels strictly between 0 and 255
    const pert = await page.locator('[data-testid="preview-perturbed"] canvas').first().evaluate(canvasLevels, 0);
    expect(pert.mid).toBeGreaterThan(0.3);
    // the difference image uses the full range (ε → white)
    const diff = await page.locator('[data-testid="preview-difference"] canvas').first().evaluate(canvasLevels, 200);
    expect(diff.max).toBeGreaterThan(240);

    // statistics panel
    const maxStat = Number(await page.locator('[data-stat="maxAbsDelta"]').innerText());
    expect(maxStat).toBeGreaterThan(0.09);
    expect(maxStat).toBeLessThanOrEqual(0.1);
    expect(await page.locator('[data-stat="collisions"]').innerText()).toBe('0');
    const clipped = parseFloat(await page.locator('[data-stat="clipped"]').innerText());
    expect(clipped).toBeGreaterThan(40); // binary images: about half of the noise is clipped away
    expect(clipped).toBeLessThan(60);

    // ε slider: 0.05 halves the largest change
    await page.locator('[data-input="epsilon"]').fill('0.05');
    await page.locator('[data-input="epsilon"]').press('Enter');
    await expect.poll(async () => Number(await page.locator('[data-stat="maxAbsDelta"]').innerText()), { timeout: 20_000 }).toBeLessThanOrEqual(0.05);
    await page.locator('[data-param="epsilon"] [data-hint="dsprites"]').click();
    await expect.poll(async () => Number(await page.locator('[data-stat="maxAbsDelta"]').innerText()), { timeout: 20_000 }).toBeGreaterThan(0.09);

    // reseed: other sample indices
    const before = await page.locator('[data-testid="preview"] .tile').first().getAttribute('title');
    await page.locator('[data-testid="reseed"]').click();
    await expect.poll(() => page.locator('[data-testid="preview"] .tile').first().getAttribute('title'), { timeout: 20_000 }).not.toBe(before);

    // variance structure before / after
    await page.locator('[data-testid="analyze"]').click();
    await page.locator('[data-testid="alignment"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-chart="per-factor"] canvas').count()).toBe(1);
    expect(await page.locator('[data-chart="overlap-before"] canvas').count()).toBe(1);
    expect(await page.locator('[data-chart="overlap-after"] canvas').count()).toBe(1);
    expect(Number(await page.locator('[data-stat="alignment"]').innerText())).toBeGreaterThan(0);
    await shot(page, 'perturb-preview');
    await page.locator('[data-chart="overlap-after"]').scrollIntoViewIfNeeded();
    await shot(page, 'perturb-analysis');

    // save as a dataset
    await page.locator('[data-testid="save-name"]').fill('Noisy dSprites (e2e)');
    await page.locator('[data-testid="save"]').click();
    await page.locator('[data-testid="saved"]').waitFor({ timeout: 60_000 });
    const savedText = await page.locator('[data-testid="saved"]').innerText();
    const id = /dsprites\.uniform-noise\.[0-9a-f]{12}/.exec(savedText)?.[0];
    expect(id).toBeTruthy();
    await shot(page, 'perturb-saved');

    // saving it again is refused with a clear message
    await page.locator('[data-testid="save-name"]').fill('another name');
    await page.locator('[data-testid="save"]').click();
    await expect.poll(() => page.locator('[data-testid="error"]').innerText(), { timeout: 20_000 }).toContain('already saved as');

    // the link leads to the Datasets screen, where it is listed and shows perturbed samples
    await page.locator('[data-testid="saved-link"]').click();
    await page.locator('[data-screen="datasets"]').waitFor();
    const item = page.locator(`[data-dataset="${id}"]`);
    await item.waitFor({ timeout: 20_000 });
    expect(await item.innerText()).toContain('Noisy dSprites (e2e)');
    expect(await item.innerText()).toContain('derived');
    await item.click();
    await expect.poll(() => page.locator('[data-testid="sample-grid"] canvas').count(), { timeout: 20_000 }).toBe(16);
    const s = await page.locator('[data-testid="sample-grid"] canvas').first().evaluate(canvasLevels, 0);
    expect(s.mid).toBeGreaterThan(0.3);
    const file = await shot(page, 'perturb-datasets');
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
    // the one console error is the lab.browser logging the refused duplicate save (HTTP 409)
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 409 (Conflict)']);
  });

  it('trains the learned manipulation with a live curve, previews the draft, and cancels a long training', async () => {
    const page = await lab.browser.newPage({ viewport: { width: 1500, height: 1100 } });
    const errors = watchErrors(page);
    await page.goto(lab.url + '#/perturb');
    await expect.poll(() => page.locator('[data-testid="base"]').inputValue(), { timeout: 20_000 }).toBe('dsprites');
    await page.selectOption('[data-testid="kind"]', 'manipulation');
    await expect.poll(() => page.locator('[data-testid="preview"]').count()).toBe(0); // nothing to preview before training
    const set = async (key: string, v: string) => {
      await page.locator(`[data-input="${key}"]`).fill(v);
      await page.locator(`[data-input="${key}"]`).press('Enter');
    };
    // a small problem: trains in a few seconds
    await set('train_points', '64');
    await set('steps', '60');
    await set('resolution', '8');
    await page.locator('[data-testid="train"]').click();
    await expect.poll(() => page.locator('[data-testid="train-status"]').innerText(), { timeout: 120_000 }).toContain('done');
    expect(Number(await page.locator('[data-chart="train-curve"]').getAttribute('data-points'))).toBe(60);
    // the variance-structure term's own curve and report (structure weight 1 by default)
    expect(Number(await page.locator('[data-chart="train-structure"]').getAttribute('data-points'))).toBe(60);
    await expect.poll(() => page.locator('[data-testid="structure-report"]').innerText()).toMatch(/structure loss [0-9.e-]+ → [0-9.e-]+; alignment distance of the step Gram/);
    await expect.poll(() => page.locator('[data-testid="preview-perturbed"] canvas').count(), { timeout: 30_000 }).toBe(6);
    const maxima = (await page.locator('[data-testid="preview-difference"] figcaption').allInnerTexts()).map((t) => Number(t.replace('max', '').trim()));
    for (const m of maxima) expect(m).toBeLessThanOrEqual(0.1);
    await shot(page, 'perturb-manipulation');

    // a long training can be cancelled
    await set('steps', '20000');
    await page.locator('[data-testid="train"]').click();
    await expect.poll(async () => Number(await page.locator('[data-chart="train-curve"]').getAttribute('data-points')), { timeout: 60_000 }).toBeGreaterThan(2);
    await page.locator('[data-testid="cancel-train"]').click();
    await expect.poll(() => page.locator('[data-testid="train-status"]').innerText(), { timeout: 30_000 }).toContain('cancelled');
    expect(errors).toEqual([]);
  });
});
