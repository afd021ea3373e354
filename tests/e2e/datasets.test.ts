import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { servedLab, shot, watchErrors } from './browser.js';

const lab = servedLab();
describe('Datasets screen in Chromium against dlab serve', () => {
  it('shows the dataset list, factor table, a sample grid and a traversal', async () => {
    const page = await lab.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(lab.url);
    await page.locator('[data-dataset="dsprites"]').waitFor();
    await expect.poll(() => page.locator('[data-testid="sample-grid"] canvas').count(), { timeout: 20_000 }).toBe(16);
    await expect.poll(() => page.locator('[data-testid="traversal"] canvas').count(), { timeout: 20_000 }).toBe(3);
    expect(await page.locator('.factor-table tbody tr').count()).toBe(5);
    await expect.poll(() => page.locator('[data-testid="status-bar"]').innerText(), { timeout: 20_000 }).toMatch(/compute: (wasm|cpu|tensorflow)/);
    // the sample canvases hold real sprites: some white pixels, mostly black
    const litFraction = await page.locator('[data-testid="sample-grid"] canvas').first().evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let lit = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i]! > 128) lit++;
      return lit / (c.width * c.height);
    });
    expect(litFraction).toBeGreaterThan(0.005);
    expect(litFraction).toBeLessThan(0.2);

    // traverse x position from a picked image: 16 steps
    await page.locator('[data-testid="sample-grid"] .tile').nth(3).click();
    await page.selectOption('[data-testid="traverse-factor"]', { label: 'pos_x' });
    await expect.poll(() => page.locator('[data-testid="traversal"] canvas').count(), { timeout: 20_000 }).toBe(16);
    const captions = await page.locator('[data-testid="traversal"] figcaption').allInnerTexts();
    expect(captions[0]).toBe('pos_x = 0');
    expect(captions[15]).toBe('pos_x = 1');
    const file = await shot(page, 'datasets');
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);
  });

  it('without the token: 401', async () => {
    const page = await lab.browser.newPage();
    const res = await page.goto(lab.origin + '/');
    expect(res?.status()).toBe(401);
    expect(await page.content()).toContain('access token');
  });
});
