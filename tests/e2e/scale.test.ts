/**
 * 10,000 runs stay usable: a served lab filled with synthetic runs (the
 * scratch lab of this test file), the Runs screen pages (and scrolls its
 * virtualised table) through all of them,
 * a filter and a sort give the engine's answers, and Compare groups them in
 * one request. The measured times are printed (this asserts behaviour, not
 * speed: the machines that run it vary a lot).
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillSyntheticRuns } from '../../src/core/runs/bench-ui.js';
import { openDb, type Db } from '../../src/core/store/db.js';
import { RunRepository } from '../../src/core/store/runs.js';
import { fullShot, servedLab, shot, watchErrors } from './browser.js';

const N = 10_000;
const lab = servedLab();
let db: Db;
let repo: RunRepository;

beforeAll(() => {
  // the served lab's own store (WAL: the server reads what this connection writes)
  db = openDb(path.join(lab.labDir, 'lab.sqlite'));
  const t = performance.now();
  fillSyntheticRuns(db, N, 7);
  console.log(`scale e2e: filled ${N} synthetic runs in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  repo = new RunRepository(db);
});
afterAll(() => db?.close());

/**
 * Time in the page from an action to the first animation frame whose table
 * shows the expected first row and range label (requestAnimationFrame, so
 * the figure is what a person sees, to a frame, not a polling interval).
 */
async function timeInPage(page: import('playwright-core').Page, act: 'type' | 'click', target: string, value: string, range: string, firstId: string): Promise<number> {
  return page.evaluate(
    ({ act, target, value, range, firstId }) =>
      new Promise<number>((resolve, reject) => {
        const el = document.querySelector(target) as HTMLInputElement | null;
        if (!el) return reject(new Error(`no ${target}`));
        const t0 = performance.now();
        if (act === 'type') {
          el.value = value;
          el.dispatchEvent(new Event('input', { bubbles: true }));
        } else el.click();
        const check = () => {
          const shown = document.querySelector('[data-testid="page-range"]')?.textContent;
          const first = document.querySelector('[data-screen="runs"] tr.run-row')?.getAttribute('data-run');
          if (shown === range && first === firstId) resolve(performance.now() - t0);
          else if (performance.now() - t0 > 30_000) reject(new Error(`still ${shown} / ${first}`));
          else requestAnimationFrame(check);
        };
        check();
      }),
    { act, target, value, range, firstId },
  );
}

/**
 * The ids of every row of the page shown, in order. The table is virtualised
 * (only rows near the viewport are in the DOM), so this scrolls the app's
 * <main> from the top to the end of the table as a person would, collecting
 * each row by its index, and scrolls back to the top.
 */
const rowIds = (page: import('playwright-core').Page) =>
  page.evaluate(async () => {
    const main = document.querySelector('main.main') as HTMLElement;
    const table = document.querySelector('[data-testid="runs-table"]') as HTMLElement;
    const n = Number(table.dataset.rows);
    const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const byIndex = new Map<number, string>();
    main.scrollTop = 0;
    await frame();
    for (let guard = 0; guard < 10_000; guard++) {
      for (const b of document.querySelectorAll<HTMLElement>('[data-screen="runs"] tbody.run-body')) byIndex.set(Number(b.dataset.index), b.querySelector('tr.run-row')!.getAttribute('data-run')!);
      if (byIndex.size >= n || main.scrollTop + main.clientHeight >= main.scrollHeight - 1) break;
      main.scrollTop += Math.max(200, main.clientHeight - 200);
      await frame();
    }
    main.scrollTop = 0;
    await frame();
    return Array.from({ length: n }, (_, i) => byIndex.get(i) ?? `missing row ${i}`);
  });

describe('10,000 runs', () => {
  it('Runs screen: first rows, every row reachable by paging, filter and sort match the engine', async () => {
    const page = await lab.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = watchErrors(page);

    const t0 = performance.now();
    await page.goto(`${lab.url}#/runs`);
    await page.locator('[data-screen="runs"] tr.run-row').first().waitFor({ timeout: 60_000 });
    const firstRowsMs = performance.now() - t0;
    await expect.poll(() => page.locator('[data-testid="runs-total"]').innerText(), { timeout: 30_000 }).toBe(`${N} runs`);
    const counts = repo.query({ limit: 1 }).counts;
    for (const [status, n] of Object.entries(counts)) expect(await page.locator(`[data-count="${status}"]`).innerText()).toBe(` · ${n} ${status}`);
    // one page of 100 rows, of which only those near the viewport are in the DOM
    expect(await page.locator('[data-testid="runs-table"]').getAttribute('data-rows')).toBe('100');
    const inDom = await page.locator('tr.run-row').count();
    expect(inDom).toBeGreaterThan(10);
    expect(inDom).toBeLessThan(60);
    expect(new Set(await rowIds(page)).size).toBe(100);
    await shot(page, 'scale-runs');

    // every run is reachable: 500 a page, page by page
    await page.locator('[data-testid="page-size"]').selectOption('500');
    await expect.poll(() => page.locator('[data-testid="runs-table"]').getAttribute('data-rows'), { timeout: 30_000 }).toBe('500');
    const seen = new Set<string>();
    for (let p = 1; p <= N / 500; p++) {
      await expect.poll(() => page.locator('[data-testid="page-range"]').innerText(), { timeout: 30_000 }).toBe(`${(p - 1) * 500 + 1}–${p * 500} of ${N}`);
      // the range label can change before the rows do: wait for a full page none of whose rows was seen before
      await expect.poll(async () => { const ids = await rowIds(page); return ids.length === 500 && ids.every((id) => !seen.has(id)); }, { timeout: 30_000 }).toBe(true);
      for (const id of await rowIds(page)) seen.add(id);
      if (p < N / 500) await page.locator('[data-page="next"]').click();
    }
    expect(seen.size).toBe(N);
    await page.locator('[data-page="first"]').click();
    await expect.poll(() => page.locator('[data-testid="page-range"]').innerText()).toBe(`1–500 of ${N}`);

    // a filter: the engine's matches, in the engine's order
    const text = 'beta_vae shapes3d beta=4';
    const want = repo.query({ text, sort: 'started', desc: true, limit: 500 });
    expect(want.total).toBeGreaterThan(0);
    await page.waitForTimeout(500); // a person types after the page has settled
    const filterMs = await timeInPage(page, 'type', '[data-testid="runs-filter"]', text, `1–${Math.min(500, want.total)} of ${want.total}`, want.runs[0]!.id);
    await expect.poll(() => rowIds(page), { timeout: 30_000 }).toEqual(want.runs.map((r) => r.id));
    const filterRequestMs = await page.locator('[data-testid="page-ms"]').innerText();
    for (const r of want.runs) expect(r.model === 'beta_vae' && r.datasetId === 'shapes3d' && r.config.params.beta === 4).toBe(true);

    // sort by seed (ascending), then by method (descending after a second click), within the filter
    const bySeed = repo.query({ text, sort: 'seed', desc: false, limit: 500 }).runs.map((r) => r.id);
    const sortMs = await timeInPage(page, 'click', 'th.sortable[data-sort="seed"]', '', `1–${Math.min(500, want.total)} of ${want.total}`, bySeed[0]!);
    await expect.poll(() => rowIds(page), { timeout: 30_000 }).toEqual(bySeed);
    const seeds = bySeed.map((id) => repo.summary(id)!.seed);
    expect([...seeds].sort((a, b) => a - b)).toEqual(seeds);
    await page.locator('[data-testid="runs-filter"]').fill('');
    await page.locator('th.sortable', { hasText: 'method' }).click();
    await page.locator('th.sortable', { hasText: 'method' }).click();
    const byMethod = repo.query({ sort: 'model', desc: true, limit: 500 }).runs.map((r) => r.id);
    await expect.poll(() => rowIds(page), { timeout: 30_000 }).toEqual(byMethod);
    // selection survives paging
    await page.locator(`tr[data-run="${byMethod[0]}"] td.check input`).check();
    await page.locator('[data-page="next"]').click();
    await expect.poll(async () => (await rowIds(page))[0], { timeout: 30_000 }).not.toBe(byMethod[0]);
    await expect.poll(() => page.locator('.bulk-bar').innerText()).toContain('1 selected');
    await fullShot(page, 'scale-runs-sorted');

    // the method filter (a select) narrows to the engine's answer
    await page.locator('[data-testid="model-filter"]').selectOption('pcl');
    const pcl = repo.query({ model: ['pcl'], sort: 'model', desc: true, limit: 500 });
    expect(pcl.total).toBeGreaterThan(0);
    await expect.poll(() => page.locator('[data-testid="page-range"]').innerText(), { timeout: 30_000 }).toBe(`1–${Math.min(500, pcl.total)} of ${pcl.total}`);
    await expect.poll(() => rowIds(page), { timeout: 30_000 }).toEqual(pcl.runs.map((r) => r.id));
    // and with the status filter too; then Clear filters: one request for both
    await page.locator('[data-testid="status-filter"]').selectOption('finished');
    const pclFinished = repo.query({ model: ['pcl'], status: ['finished'], limit: 1 }).total;
    await expect.poll(() => page.locator('[data-testid="page-range"]').innerText(), { timeout: 30_000 }).toBe(`1–${Math.min(500, pclFinished)} of ${pclFinished}`);
    const lists: string[] = [];
    const onRequest = (r: import('playwright-core').Request) => void (r.url().includes('/api/runs/list') && lists.push(r.postData() ?? ''));
    page.on('request', onRequest);
    await page.locator('[data-testid="clear-filters"]').click();
    await expect.poll(() => page.locator('[data-testid="page-range"]').innerText(), { timeout: 30_000 }).toContain(`of ${N}`);
    await page.waitForTimeout(300);
    page.off('request', onRequest);
    expect(lists).toHaveLength(1);
    expect(JSON.parse(lists[0]!)).not.toHaveProperty('model');
    expect(JSON.parse(lists[0]!)).not.toHaveProperty('status');

    // the date filter: one local day (this browser's time zone is the test process's), the engine's count
    const mid = repo.query({ offset: N / 2, limit: 1 }).runs[0]!.createdAt;
    const d = new Date(mid);
    const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    const inDay = repo.query({ from: new Date(`${day}T00:00:00`).toISOString(), to: new Date(`${day}T23:59:59.999`).toISOString(), limit: 1 }).total;
    expect(inDay).toBeGreaterThan(0);
    expect(inDay).toBeLessThan(N);
    await page.locator('[data-testid="from-filter"]').fill(day);
    await page.locator('[data-testid="to-filter"]').fill(day);
    await expect.poll(() => page.locator('[data-testid="page-range"]').innerText(), { timeout: 30_000 }).toBe(`1–${Math.min(500, inDay)} of ${inDay}`);
    await page.locator('[data-testid="clear-filters"]').click();
    await expect.poll(() => page.locator('[data-testid="page-range"]').innerText(), { timeout: 30_000 }).toContain(`of ${N}`);

    // the default page size (100 rows): a text filter and a sort, timed the same way
    await page.locator('[data-testid="page-size"]').selectOption('100');
    await expect.poll(() => page.locator('[data-testid="runs-table"]').getAttribute('data-rows'), { timeout: 30_000 }).toBe('100');
    await page.waitForTimeout(500);
    const text100 = 'pcl dsprites';
    const want100 = repo.query({ text: text100, sort: 'model', desc: true, limit: 100 });
    expect(want100.total).toBeGreaterThan(100);
    const filter100Ms = await timeInPage(page, 'type', '[data-testid="runs-filter"]', text100, `1–100 of ${want100.total}`, want100.runs[0]!.id);
    await expect.poll(() => rowIds(page), { timeout: 30_000 }).toEqual(want100.runs.map((r) => r.id));
    const request100 = await page.locator('[data-testid="page-ms"]').innerText();
    await page.waitForTimeout(300);
    const bySeed100 = repo.query({ text: text100, sort: 'seed', desc: false, limit: 100 }).runs;
    const sort100Ms = await timeInPage(page, 'click', 'th.sortable[data-sort="seed"]', '', `1–100 of ${want100.total}`, bySeed100[0]!.id);
    await expect.poll(() => rowIds(page), { timeout: 30_000 }).toEqual(bySeed100.map((r) => r.id));
    console.log(`scale e2e (${N} runs, 100 rows a page): filter "${text100}" → ${want100.total} runs on screen ${Math.round(filter100Ms)} ms after the input event (its request ${request100}); sort by seed ${Math.round(sort100Ms)} ms after the click`);

    console.log(`scale e2e (${N} runs, 500 rows a page): first rows ${Math.round(firstRowsMs)} ms after navigation; filter "${text}" → ${want.total} runs on screen ${Math.round(filterMs)} ms after the input event (its request ${filterRequestMs}); sort by seed ${Math.round(sortMs)} ms after the click (in-page, to the animation frame)`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('Compare: groups and seed statistics of 8,000 finished runs in one request, groups open on demand', async () => {
    const page = await lab.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = watchErrors(page);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    const t0 = performance.now();
    await page.goto(`${lab.url}#/compare`);
    await page.locator('[data-testid="compare-table"] tbody[data-group]').first().waitFor({ timeout: 60_000 });
    const groupsMs = performance.now() - t0;
    const finished = repo.query({ status: ['finished'], limit: 1 }).total;
    await expect.poll(() => page.locator('[data-testid="picked-count"]').innerText(), { timeout: 30_000 }).toBe(`${finished} of ${finished} runs picked`);
    // collapsed: no member rows until a group opens; no per-run requests
    expect(await page.locator('tr.member-row').count()).toBe(0);
    expect(requests.filter((p) => p.endsWith('/runs/evaluations')).length).toBe(0);
    expect(requests.filter((p) => p.endsWith('/runs/compare')).length).toBeGreaterThanOrEqual(1);
    const key = 'beta_vae|dsprites|original';
    const g = page.locator(`tbody[data-group="${key}"]`);
    const n = Number(await g.locator('[data-testid="group-n"]').innerText());
    const mig = repo.compareRows({ status: ['finished'], model: ['beta_vae'], dataset: ['dsprites'] }, 'mig').map((r) => r.score).filter((v): v is number => typeof v === 'number');
    expect(n).toBe(mig.length);
    const mean = mig.reduce((a, b) => a + b, 0) / mig.length;
    expect(Math.abs(Number((await g.locator('[data-testid="group-mean"]').innerText()).split(' ± ')[0]) - mean)).toBeLessThanOrEqual(0.0011);
    await g.locator('[data-action="expand"]').click();
    await expect.poll(() => g.locator('tr.member-row[data-run]').count(), { timeout: 30_000 }).toBe(mig.length);
    // un-pick one member: the group's N drops by one
    await g.locator('tr.member-row[data-run] td.check input').first().uncheck();
    await expect.poll(() => g.locator('[data-testid="group-n"]').innerText(), { timeout: 30_000 }).toBe(String(mig.length - 1));
    await page.locator('canvas[data-chart="variants"]').waitFor();
    await shot(page, 'scale-compare');
    console.log(`scale e2e (${N} runs, loaded machine): Compare groups shown ${Math.round(groupsMs)} ms after navigation`);
    expect(errors).toEqual([]);
    await page.close();
  });
});
