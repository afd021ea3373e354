/** Chromium via playwright-core against the system browser (Debian's chromium). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startServe } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { repoRoot } from '../helpers/tmp.js';

export const screenshotDir = path.join(repoRoot, 'test-results', 'screenshots');

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error('Chromium not found: install Debian\'s chromium (apt-get install chromium) or set CHROMIUM_PATH');
  return found;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function shot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A screenshot of the whole screen: the app scrolls inside <main>, so grow the viewport to fit it. */
export async function fullShot(page: Page, name: string): Promise<string> {
  const size = page.viewportSize()!;
  const height = await page.locator('.main').evaluate((m) => {
    m.scrollTop = 0;
    return m.scrollHeight;
  });
  await page.setViewportSize({ width: size.width, height: Math.min(4000, Math.max(size.height, height + 40)) });
  await page.waitForTimeout(300);
  const file = await shot(page, name);
  await page.setViewportSize(size);
  return file;
}

/** Collect page errors so a test can assert none happened. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return errors;
}

export interface ServedLab {
  /** Temporary folder of this test file (the lab lives in its `lab/`). */
  readonly dir: string;
  readonly labDir: string;
  /** The URL `dlab serve` printed (with the token) and its origin. */
  readonly url: string;
  readonly origin: string;
  readonly browser: Browser;
}

/** A contract request to the served lab over HTTP with its token; the result, or an Error with the envelope's message. */
export async function labApi<T>(lab: Pick<ServedLab, 'url' | 'origin'>, name: string, input: unknown): Promise<T> {
  const token = new URL(lab.url).searchParams.get('token') ?? '';
  const res = await fetch(`${lab.origin}/api/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(input),
  });
  const reply = (await res.json()) as { ok: boolean; result?: T; error?: { message: string } };
  if (!reply.ok) throw new Error(`${name}: ${reply.error?.message}`);
  return reply.result as T;
}

/**
 * `dlab serve` on a fresh temporary lab plus a Chromium, for one test file:
 * registers the beforeAll/afterAll that start and stop both.
 */
export function servedLab(): ServedLab {
  const tmp = tmpDir();
  const labDir = path.join(tmp.dir, 'lab');
  const serve = startServe(labDir);
  let browser: Browser | undefined;
  let served: { url: string; origin: string } | undefined;
  beforeAll(async () => {
    served = await serve.ready;
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await serve.stop();
    tmp.cleanup();
  });
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('servedLab() is used before its beforeAll ran');
    return v;
  };
  return {
    dir: tmp.dir,
    labDir,
    get url() {
      return ready(served).url;
    },
    get origin() {
      return ready(served).origin;
    },
    get browser() {
      return ready(browser);
    },
  };
}
