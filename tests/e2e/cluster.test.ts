/**
 * The "Run on a Slurm cluster…" panel in Chromium against dlab serve: its
 * fields with defaults and the generated script before anything is
 * submitted (the submission itself runs in tests/integration/slurm.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { labApi, servedLab, shot, watchErrors } from './browser.js';

const lab = servedLab();

const spec = {
  name: 'cluster e2e',
  methods: [
    { id: 'ae', model: 'ae' },
    { id: 'beta_vae', model: 'beta_vae', params: { beta: 4 } },
  ],
  datasets: [{ base: 'dsprites', latent: 3, variants: [{ role: 'original' }, { role: 'noise', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 0 }] }],
  seeds: [0],
  training: { arch: 'conv', latent: 3, steps: 20, batch: 8, lr: 1e-3, progressEvery: 10, checkpointEvery: 20, codesSamples: 150 },
  evaluation: { metrics: ['mig'] },
};

const api = <T>(name: string, input: unknown): Promise<T> => labApi<T>(lab, name, input);

describe('the cluster panel', () => {
  it('shows the fields with defaults and the generated script before submission', async () => {
    const { study } = await api<{ study: { id: string } }>('studies/create', { spec, start: false });
    const check = await api<{ ok: boolean; message: string }>('cluster/check', {});
    const page = await lab.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = watchErrors(page);
    await page.goto(`${lab.url}#/compare`);
    await page.locator('[data-tab="table1"]').click();
    const panel = page.locator('[data-testid="cluster-panel"]');
    await panel.locator('[data-action="cluster-open"]').click();
    expect(await panel.locator('[data-input="cpus-per-task"]').inputValue()).toBe('2');
    expect(await panel.locator('[data-input="array-limit"]').inputValue()).toBe('8');
    if (!check.ok) await expect.poll(() => panel.locator('[data-testid="cluster-unavailable"]').textContent()).toMatch(/login node.*dlab serve/s);
    await panel.locator('[data-input="partition"]').fill('debug');
    await panel.locator('[data-input="array-limit"]').fill('2');
    await panel.locator('[data-action="cluster-preview"]').click();
    const script = panel.locator('[data-testid="cluster-script"]');
    await script.waitFor();
    const text = (await script.textContent()) ?? '';
    expect(text).toContain('#SBATCH --array=0-3%2');
    expect(text).toContain('#SBATCH --partition=debug');
    expect(text).toContain(`#SBATCH --job-name=dlab-${study.id}`);
    expect(text).toMatch(/cluster task --job-dir/);
    // nothing was submitted or written
    expect((await api<{ cells: unknown[] }>('cluster/status', { studyId: study.id })).cells).toEqual([]);
    await shot(page, 'cluster-panel');
    expect(errors).toEqual([]);
  }, 120_000);
});
