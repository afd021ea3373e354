/**
 * Importing a dataset file in Chromium against `dlab serve`: the file input
 * uploads it (POST /upload), the import job runs, the new dataset appears
 * selected in the list with its badge and hash, and its samples are drawn.
 * The file is a tiny dSprites-layout .npz built here (a 3×2×2×2×2 grid of
 * drawn shapes); DLAB_TEST_IMPORT_FACTOR_SIZES (test-only) tells the server's
 * importer to expect that grid.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { npy, npz } from '../unit/io/zip-writer.helper.js';
import { servedLab, shot, watchErrors } from './browser.js';

const SIZES = [3, 2, 2, 2, 2]; // shape, scale, orientation, pos_x, pos_y
process.env.DLAB_TEST_IMPORT_FACTOR_SIZES = JSON.stringify({ dsprites: SIZES });

const lab = servedLab();
/** 48 binary 64×64 images: a square, a disc or a diamond, two sizes, at four positions. */
function drawnDsprites(): { bytes: Uint8Array; lit: number[] } {
  const rows: number[][] = [];
  for (let s = 0; s < 3; s++) for (let sc = 0; sc < 2; sc++) for (let o = 0; o < 2; o++) for (let x = 0; x < 2; x++) for (let y = 0; y < 2; y++) rows.push([0, s, sc, o, x, y]);
  const n = rows.length;
  const imgs = new Uint8Array(n * 4096);
  const lit: number[] = [];
  rows.forEach(([, shape, scale, , px, py], i) => {
    const r = scale === 0 ? 7 : 11;
    const cx = 18 + 28 * px!;
    const cy = 18 + 28 * py!;
    let count = 0;
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 64; x++) {
        const dx = x - cx;
        const dy = y - cy;
        const on = shape === 0 ? Math.abs(dx) <= r && Math.abs(dy) <= r : shape === 1 ? dx * dx + dy * dy <= r * r : Math.abs(dx) + Math.abs(dy) <= r;
        if (on) {
          imgs[i * 4096 + y * 64 + x] = 1;
          count++;
        }
      }
    lit.push(count);
  });
  const classes = new BigInt64Array(n * 6);
  const values = new Float64Array(n * 6);
  const vals = [[1], [1, 2, 3], [0.5, 1], [0, Math.PI], [0, 1], [0, 1]];
  rows.forEach((r, i) => r.forEach((c, k) => ((classes[i * 6 + k] = BigInt(c)), (values[i * 6 + k] = vals[k]![c]!))));
  return {
    bytes: npz({ imgs: npy(imgs, [n, 64, 64]), latents_classes: npy(classes, [n, 6]), latents_values: npy(values, [n, 6]) }, { deflate: true }),
    lit,
  };
}

describe('importing a dataset file in the lab.browser', () => {
  it('imports a dSprites-layout .npz via the file input: listed, selected, samples drawn', async () => {
    const { bytes, lit } = drawnDsprites();
    const file = path.join(lab.dir, 'dsprites_small.npz');
    fs.writeFileSync(file, bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const id = `dsprites-import-${sha.slice(0, 12)}`;

    const page = await lab.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(lab.url);
    await page.locator('[data-dataset="dsprites"]').waitFor();
    await page.fill('[data-testid="import-name"]', 'Small dSprites');
    await page.setInputFiles('[data-testid="import-file"]', file);
    await page.locator('[data-testid="import-done"], [data-testid="import-error"]').first().waitFor({ timeout: 60_000 });
    if (await page.locator('[data-testid="import-error"]').count()) {
      await shot(page, 'import-failed');
      throw new Error(`import failed in the page: ${await page.locator('[data-testid="import-error"]').innerText()}`);
    }
    expect(await page.locator('[data-testid="import-done"]').innerText()).toBe('Imported dsprites_small.npz.');

    // listed and selected, with its source badge and hash
    const item = page.locator(`[data-dataset="${id}"]`);
    await item.waitFor();
    expect(await item.getAttribute('class')).toContain('active');
    expect(await item.locator('.name').innerText()).toBe('Small dSprites');
    expect(await item.locator('.badge.imported').innerText()).toBe('imported');
    expect(await item.innerText()).toContain(`sha256 ${sha.slice(0, 12)}`);
    expect(await page.locator('.detail-head h1').innerText()).toBe('Small dSprites');
    expect(await page.locator('.detail-head').innerText()).toContain(`sha256 ${sha}`);
    expect(await page.locator('.factor-table tbody tr').count()).toBe(5);
    expect(await page.locator('.factor-table tbody tr').first().locator('td').nth(2).innerText()).toBe('3');

    // its samples are drawn: each canvas shows one of the drawn shapes (lit pixel count as drawn)
    await expect.poll(() => page.locator('[data-testid="sample-grid"] canvas').count(), { timeout: 20_000 }).toBe(16);
    const counts = await page.locator('[data-testid="sample-grid"] canvas').evaluateAll((cs: HTMLCanvasElement[]) =>
      cs.map((c) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let on = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i]! > 128) on++;
        return on;
      }),
    );
    const labels = await page.locator('[data-testid="sample-grid"] .tile').evaluateAll((ts: HTMLElement[]) => ts.map((t) => t.title));
    labels.forEach((label, j) => {
      const index = Number(/^#(\d+):/.exec(label)![1]);
      expect(counts[j]).toBe(lit[index]);
    });
    const file1 = await shot(page, 'import');
    expect(fs.statSync(file1).size).toBeGreaterThan(10_000);

    // the stored dataset is on disk and in the server's lab
    expect(fs.readdirSync(path.join(lab.labDir, 'datasets'))).toContain(id);
    expect(fs.readdirSync(path.join(lab.labDir, 'tmp', 'uploads'))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('a truncated file is refused with the reason shown, and nothing is added', async () => {
    const { bytes } = drawnDsprites();
    const file = path.join(lab.dir, 'broken.npz');
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 200));
    const page = await lab.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(lab.url);
    await page.locator('[data-dataset="dsprites"]').waitFor();
    const before = fs.readdirSync(path.join(lab.labDir, 'datasets')).sort();
    await page.setInputFiles('[data-testid="import-file"]', file);
    const alert = page.locator('[data-testid="import-error"]');
    await alert.waitFor({ timeout: 60_000 });
    expect(await alert.innerText()).toMatch(/^cannot import broken\.npz: /);
    expect(fs.readdirSync(path.join(lab.labDir, 'datasets')).sort()).toEqual(before);
    expect(fs.readdirSync(path.join(lab.labDir, 'tmp')).filter((e) => e.startsWith('import-'))).toEqual([]);
    expect(fs.readdirSync(path.join(lab.labDir, 'tmp', 'uploads'))).toEqual([]);
    await shot(page, 'import-error');
    expect(errors).toEqual([]);
  });
});
