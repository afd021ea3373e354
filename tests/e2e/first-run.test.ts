/**
 * First run in Chromium against `dlab serve` from an empty lab dir: the lab
 * dir is created, Datasets shows dSprites, the guide leads Datasets → Perturb
 * → Launch, remembers where it was (prefs.json), closes and comes back (F1);
 * the number shortcuts move between screens; the light theme applies at once
 * and survives a reload; About shows the compute diagnosis.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServe } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { launch, shot, watchErrors } from './browser.js';

const tmp = tmpDir('dlab-first-run-');
const labDir = path.join(tmp.dir, 'fresh', 'lab');
let serve: ReturnType<typeof startServe>;
let browser: Browser;
let url: string;

beforeAll(async () => {
  expect(fs.existsSync(labDir)).toBe(false);
  serve = startServe(labDir);
  ({ url } = await serve.ready);
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  tmp.cleanup();
});

const prefsOnDisk = () => JSON.parse(fs.readFileSync(path.join(labDir, 'prefs.json'), 'utf8')) as { theme: string; guide: { dismissed: boolean; done: string[] } };
const screenShown = (page: Page, id: string) => page.locator(`[data-screen="${id}"]`).waitFor({ timeout: 20_000 });
const guideStep = (page: Page, id: string) => page.locator(`[data-testid="guide"] [data-guide-step="${id}"]`);

describe('first run (browser mode)', () => {
  it('creates the lab dir and follows the guide from Datasets to Launch', async () => {
    // the lab dir exists with its store before any page is opened
    expect(fs.existsSync(path.join(labDir, 'lab.sqlite'))).toBe(true);
    expect(fs.existsSync(path.join(labDir, 'prefs.json'))).toBe(false);

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(url);

    // Datasets with dSprites, and the guide on its first step
    await page.locator('[data-dataset="dsprites"]').waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('[data-testid="sample-grid"] canvas').count(), { timeout: 20_000 }).toBe(16);
    const guide = page.locator('[data-testid="guide"]');
    await guide.waitFor();
    const steps = await guide.locator('[data-guide-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-guide-step')));
    // only steps whose screens exist: every one leads to a screen in the navigation
    const nav = await page.locator('[data-nav]').evaluateAll((els) => els.map((e) => e.getAttribute('data-nav')));
    expect(steps.slice(0, 4)).toEqual(['datasets', 'perturb', 'launch', 'watch']);
    const hrefs = await guide.locator('a.guide-title').evaluateAll((els) => els.map((e) => (e as HTMLAnchorElement).hash.replace('#/', '')));
    expect(hrefs.length).toBe(steps.length);
    for (const h of hrefs) expect(nav).toContain(h);
    expect(await page.locator('[data-testid="guide-progress"]').innerText()).toBe(`0/${steps.length}`);
    expect(await guide.locator('li.current').getAttribute('data-guide-step')).toBe('datasets');
    expect(await guide.locator('li.current .guide-text').innerText()).toContain('737,280 binary 64×64 sprites');
    await shot(page, 'first-run-1-datasets');

    // step 2: the guide's button leads on to Perturb; Datasets is ticked off
    expect(await guide.locator('[data-action="guide-go"]').innerText()).toBe('Next: Perturb →');
    await guide.locator('[data-action="guide-go"]').click();
    await screenShown(page, 'perturb');
    expect(new URL(page.url()).hash).toBe('#/perturb');
    await expect.poll(() => guideStep(page, 'datasets').getAttribute('data-done')).toBe('1');
    expect(await guide.locator('li.current').getAttribute('data-guide-step')).toBe('perturb');
    await shot(page, 'first-run-2-perturb');

    // step 3: Launch, with the method form ready
    expect(await guide.locator('[data-action="guide-go"]').innerText()).toBe('Next: Launch →');
    await guide.locator('[data-action="guide-go"]').click();
    await screenShown(page, 'launch');
    await page.locator('[data-action="launch"]').waitFor();
    await expect.poll(() => guideStep(page, 'perturb').getAttribute('data-done')).toBe('1');
    expect(await guide.locator('li.current').getAttribute('data-guide-step')).toBe('launch');
    expect(await guide.locator('li.current .guide-text').innerText()).toContain('Set Steps to 2,000');
    // the next step points at the runs list
    expect(await guide.locator('[data-action="guide-go"]').innerText()).toBe('Next: Runs →');
    await shot(page, 'first-run-3-launch');

    // progress is stored in prefs.json and survives a reload
    await expect.poll(() => (fs.existsSync(path.join(labDir, 'prefs.json')) ? prefsOnDisk().guide.done : [])).toEqual(['datasets', 'perturb']);
    await page.reload();
    await screenShown(page, 'launch');
    await expect.poll(() => page.locator('[data-testid="guide-progress"]').innerText()).toBe(`2/${steps.length}`);
    expect(await guide.locator('li.current').getAttribute('data-guide-step')).toBe('launch');

    // minimise, then close: it stays closed after a reload; F1 brings it back
    await guide.locator('[data-action="guide-collapse"]').click();
    expect(await guide.locator('.guide-pill').innerText()).toBe(`Getting started · 2/${steps.length}`);
    await guide.locator('.guide-pill').click();
    await guide.locator('[data-action="guide-dismiss"]').click();
    await expect.poll(() => guide.count()).toBe(0);
    expect(prefsOnDisk().guide.dismissed).toBe(true);
    await page.reload();
    await screenShown(page, 'launch');
    await page.waitForTimeout(500);
    expect(await guide.count()).toBe(0);
    await page.keyboard.press('F1');
    await guide.waitFor();
    await expect.poll(() => prefsOnDisk().guide.dismissed).toBe(false);
    expect(errors).toEqual([]);
  });

  it('following the guide on, a quick run finishes and Compare charts its score', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${url}#/launch`);
    await screenShown(page, 'launch');
    const guide = page.locator('[data-testid="guide"]');
    await guide.waitFor();
    expect(await guide.locator('li.current').getAttribute('data-guide-step')).toBe('launch');
    // β-VAE on dSprites is preselected; the guide suggests 2,000 steps — the test trains 30 to stay short
    await page.locator('[data-input="beta"]').waitFor();
    for (const [k, v] of Object.entries({ latent: '4', steps: '30', batch: '8', lr: '0.001', progressEvery: '5', checkpointEvery: '30', codesSamples: '300' })) {
      await page.locator(`[data-input="${k}"]`).fill(v);
    }
    // MIG is among the metrics computed when the run finishes (the default choice)
    expect(await page.locator('[data-testid="evaluate-metrics"] [data-metric="mig"]').isChecked()).toBe(true);
    await expect.poll(() => page.locator('[data-action="launch"]').isDisabled()).toBe(false);
    await page.locator('[data-action="launch"]').click();

    // watch it: Run detail until it has finished (and been scored)
    await page.waitForURL(/#\/run\?id=/);
    const runId = new URL(page.url()).hash.split('id=')[1]!;
    await expect
      .poll(() => page.locator('[data-testid="run-status"]').getAttribute('data-status'), { timeout: 180_000, interval: 500 })
      .toBe('finished');
    await page.locator('[data-testid="scores"] [data-metric="mig"]').waitFor({ timeout: 30_000 });
    // the guide ticks a step off when the user moves on: Launch is done, "watch it train" is current
    await expect.poll(() => guideStep(page, 'launch').getAttribute('data-done')).toBe('1');
    expect(await guide.locator('li.current').getAttribute('data-guide-step')).toBe('watch');

    // the guide's last step: Compare shows the run in its group with its MIG, and a chart of it
    expect(await guide.locator('[data-action="guide-go"]').innerText()).toBe('Next: Compare →');
    await guide.locator('[data-action="guide-go"]').click();
    await screenShown(page, 'compare');
    const row = page.locator(`[data-run="${runId}"]`);
    await row.waitFor({ timeout: 20_000 });
    // the row can show before its scores have loaded ('–'); wait for the number
    const scoreCell = row.locator('[data-testid="run-score"]');
    await expect.poll(() => scoreCell.innerText(), { timeout: 20_000 }).toMatch(/^\d\.\d{3}$/);
    const score = Number(await scoreCell.innerText());
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(1);
    expect(await page.locator('[data-testid="group-n"]').first().innerText()).toBe('1');
    await expect.poll(() => page.locator('canvas[data-chart="variants"]').getAttribute('data-points'), { timeout: 20_000 }).toBe('1');
    await expect.poll(() => guideStep(page, 'watch').getAttribute('data-done')).toBe('1');
    expect(await guide.locator('li.current').getAttribute('data-guide-step')).toBe('compare');
    await shot(page, 'first-run-6-compare');
    expect(errors).toEqual([]);
  });

  it('number shortcuts move between screens; the light theme applies at once and is remembered', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(url);
    await screenShown(page, 'datasets');
    await page.locator('body').click({ position: { x: 700, y: 5 } });
    await page.keyboard.press('Control+3');
    await screenShown(page, 'launch');
    await page.keyboard.press('Alt+1');
    await screenShown(page, 'datasets');
    await page.keyboard.press('Control+,');
    await screenShown(page, 'preferences');
    expect(await page.locator('[data-testid="prefs-labdir"]').innerText()).toBe(labDir);

    expect(await page.evaluate(() => document.documentElement.dataset.theme ?? 'dark')).toBe('dark');
    const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.locator('[data-theme-choice="light"]').check();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(darkBg).toBe('rgb(15, 20, 25)');
    expect(lightBg).toBe('rgb(244, 246, 248)');
    await expect.poll(() => prefsOnDisk().theme).toBe('light');

    // an out-of-range DPI is explained and not saved
    await page.locator('[data-testid="prefs-dpi"]').fill('20');
    await page.locator('[data-testid="prefs-dpi"]').press('Tab');
    expect(await page.locator('[data-testid="prefs-dpi-error"]').innerText()).toContain('72 to 1200');
    await page.locator('[data-testid="prefs-dpi"]').fill('600');
    await page.locator('[data-testid="prefs-dpi"]').press('Tab');
    await expect.poll(() => (prefsOnDisk() as unknown as { figures: { dpi: number } }).figures.dpi).toBe(600);
    await shot(page, 'first-run-4-preferences-light');

    await page.reload();
    await screenShown(page, 'preferences');
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    expect(await page.locator('[data-testid="prefs-dpi"]').inputValue()).toBe('600');

    // About → Compute: the diagnosis of this machine
    await page.locator('[data-nav="about"]').click();
    await screenShown(page, 'about');
    const headline = page.locator('[data-testid="compute-headline"]');
    await headline.waitFor({ timeout: 20_000 });
    expect(await headline.innerText()).toMatch(/^(wasm|cpu|tensorflow) — /);
    expect(await page.locator('[data-testid="compute-diagnosis"] .finding').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="compute-diagnosis"]').innerText()).toContain('CUDA Toolkit');
    await shot(page, 'first-run-5-about');
    expect(errors).toEqual([]);
  });
});
