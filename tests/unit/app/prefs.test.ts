/** Preferences: round trip through prefs.json, invalid input refused, atomic write, the next lab location. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAppRoom } from '../../../src/core/app/room.js';
import { trainingPlan, backendFromPrefs, nextLabDirFrom, readPrefs, updatePrefs, writePrefs } from '../../../src/core/app/prefs.js';
import { dispatch, type Handlers } from '../../../src/shared/dispatch.js';
import { tmpDir } from '../../helpers/tmp.js';

const tmps: { cleanup(): void }[] = [];
function lab(): { labDir: string; loc: string; handlers: Handlers } {
  const t = tmpDir('dlab-prefs-');
  tmps.push(t);
  const labDir = path.join(t.dir, 'lab');
  fs.mkdirSync(labDir);
  const loc = path.join(t.dir, 'config', 'lab-location.json');
  const info = () => ({ backend: 'wasm' as const });
  const h = createAppRoom({ labDir, info: info as never }, { locationFile: loc }).handlers;
  return { labDir, loc, handlers: h as unknown as Handlers };
}
afterEach(() => {
  while (tmps.length) tmps.pop()!.cleanup();
});

describe('prefs.json', () => {
  it('defaults when there is no file', () => {
    const { labDir } = lab();
    expect(readPrefs(labDir)).toEqual({ version: 1, defaultBackend: 'auto', theme: 'dark', figures: { format: 'svg', dpi: 300 }, guide: { dismissed: false, done: [] }, training: { threadsPerRun: 'auto', maxConcurrentRuns: 'auto' } });
    expect(fs.existsSync(path.join(labDir, 'prefs.json'))).toBe(false);
  });

  it('round trip: a patch is merged, written, and read back the same', () => {
    const { labDir } = lab();
    updatePrefs(labDir, { theme: 'light', figures: { dpi: 600 } });
    updatePrefs(labDir, { figures: { format: 'pdf' }, guide: { done: ['datasets', 'perturb'] } });
    const onDisk = JSON.parse(fs.readFileSync(path.join(labDir, 'prefs.json'), 'utf8')) as unknown;
    expect(onDisk).toEqual({ version: 1, defaultBackend: 'auto', theme: 'light', figures: { format: 'pdf', dpi: 600 }, guide: { dismissed: false, done: ['datasets', 'perturb'] }, training: { threadsPerRun: 'auto', maxConcurrentRuns: 'auto' } });
    expect(readPrefs(labDir)).toEqual(onDisk);
    // nothing but prefs.json is left behind (the temp file was renamed)
    expect(fs.readdirSync(labDir)).toEqual(['prefs.json']);
  });

  it('invalid input is refused and the file is left as it was', () => {
    const { labDir } = lab();
    updatePrefs(labDir, { theme: 'light' });
    const before = fs.readFileSync(path.join(labDir, 'prefs.json'), 'utf8');
    for (const bad of [{ training: { threadsPerRun: 0 } }, { training: { maxConcurrentRuns: 'many' } }, { theme: 'blue' }, { figures: { dpi: 20 } }, { defaultBackend: 'webgl' }, { guide: { done: ['nowhere'] } }, { unknown: 1 }, 'light', null]) {
      expect(() => updatePrefs(labDir, bad)).toThrow(/invalid preferences/);
    }
    expect(fs.readFileSync(path.join(labDir, 'prefs.json'), 'utf8')).toBe(before);
    expect(() => writePrefs(labDir, { theme: 'blue' } as never)).toThrow();
  });

  it('a corrupt or invalid file reads as the defaults and is kept as prefs.json.bad', () => {
    const { labDir } = lab();
    fs.writeFileSync(path.join(labDir, 'prefs.json'), '{"theme": "light", "figures": {"dpi": 5}}');
    expect(readPrefs(labDir).theme).toBe('dark');
    expect(fs.readFileSync(path.join(labDir, 'prefs.json.bad'), 'utf8')).toContain('"dpi": 5');
    fs.writeFileSync(path.join(labDir, 'prefs.json'), '{not json');
    expect(readPrefs(labDir).figures.dpi).toBe(300);
    // a file with only some fields fills in the rest
    fs.writeFileSync(path.join(labDir, 'prefs.json'), '{"theme": "light"}');
    expect(readPrefs(labDir)).toMatchObject({ theme: 'light', defaultBackend: 'auto', figures: { format: 'svg', dpi: 300 } });
  });

  it('the backend preference becomes DLAB_BACKEND unless the environment already sets it', () => {
    const p = readPrefs(lab().labDir);
    expect(backendFromPrefs(p, {})).toBeUndefined();
    expect(backendFromPrefs({ ...p, defaultBackend: 'cpu' }, {})).toBe('cpu');
    expect(backendFromPrefs({ ...p, defaultBackend: 'cpu' }, { DLAB_BACKEND: 'wasm' })).toBeUndefined();
  });
});

describe('app/prefs/* through the contract dispatcher', () => {
  it('get and set; a new default backend and a new lab dir wait for a restart', async () => {
    const { labDir, loc, handlers } = lab();
    const got = await dispatch(handlers, 'app/prefs/get', {});
    expect(got).toMatchObject({ ok: true, result: { labDir, nextLabDir: null, backend: 'wasm', restartNeeded: [] } });

    const set = await dispatch(handlers, 'app/prefs/set', { theme: 'light', defaultBackend: 'cpu', nextLabDir: '/srv/other-lab' });
    expect(set.ok).toBe(true);
    const state = (set as { result: { prefs: { theme: string }; nextLabDir: string; restartNeeded: string[] } }).result;
    expect(state.prefs.theme).toBe('light');
    expect(state.nextLabDir).toBe(path.resolve('/srv/other-lab'));
    expect(state.restartNeeded).toEqual(['defaultBackend', 'labDir']);
    expect(nextLabDirFrom(loc)).toBe(path.resolve('/srv/other-lab'));
    expect(readPrefs(labDir).theme).toBe('light');

    // back to the default location
    const reset = await dispatch(handlers, 'app/prefs/set', { nextLabDir: null, defaultBackend: 'auto' });
    expect(reset).toMatchObject({ ok: true, result: { nextLabDir: null, restartNeeded: [] } });
    expect(fs.existsSync(loc)).toBe(false);
  });

  it('refuses invalid payloads with the issues, changing nothing', async () => {
    const { labDir, handlers } = lab();
    const r = await dispatch(handlers, 'app/prefs/set', { figures: { dpi: 5000 } });
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.error.code).toBe('invalid_payload');
    expect(r.ok === false && r.error.issues?.[0]?.path).toBe('figures.dpi');
    const r2 = await dispatch(handlers, 'app/prefs/set', { nextLabDir: 'relative/dir' });
    expect(r2.ok === false && r2.error.message).toMatch(/absolute path/);
    expect(fs.existsSync(path.join(labDir, 'prefs.json'))).toBe(false);
  });

  it('app/menu answers installed: false outside the desktop app', async () => {
    const { handlers } = lab();
    expect(await dispatch(handlers, 'app/menu', { screens: [{ id: 'datasets', label: 'Datasets' }] })).toEqual({ ok: true, result: { installed: false } });
  });
});

describe('the training plan', () => {
  it("'auto' gives each run the cores less one (at most 8) and as many runs as the cores less one hold", () => {
    const auto = { threadsPerRun: 'auto', maxConcurrentRuns: 'auto' } as const;
    expect(trainingPlan(auto, 1)).toEqual({ threadsPerRun: 1, maxConcurrentRuns: 1 });
    expect(trainingPlan(auto, 2)).toEqual({ threadsPerRun: 1, maxConcurrentRuns: 1 });
    expect(trainingPlan(auto, 4)).toEqual({ threadsPerRun: 3, maxConcurrentRuns: 1 });
    expect(trainingPlan(auto, 16)).toEqual({ threadsPerRun: 8, maxConcurrentRuns: 1 });
    expect(trainingPlan(auto, 32)).toEqual({ threadsPerRun: 8, maxConcurrentRuns: 3 });
    expect(trainingPlan({ threadsPerRun: 2, maxConcurrentRuns: 'auto' }, 16)).toEqual({ threadsPerRun: 2, maxConcurrentRuns: 7 });
    expect(trainingPlan({ threadsPerRun: 1, maxConcurrentRuns: 'auto' }, 2)).toEqual({ threadsPerRun: 1, maxConcurrentRuns: 1 });
    expect(trainingPlan({ threadsPerRun: 4, maxConcurrentRuns: 3 }, 2)).toEqual({ threadsPerRun: 4, maxConcurrentRuns: 3 });
  });

  it('a changed plan is stored and read back', () => {
    const { labDir } = lab();
    updatePrefs(labDir, { training: { threadsPerRun: 4 } });
    expect(readPrefs(labDir).training).toEqual({ threadsPerRun: 4, maxConcurrentRuns: 'auto' });
    updatePrefs(labDir, { training: { maxConcurrentRuns: 2 } });
    expect(readPrefs(labDir).training).toEqual({ threadsPerRun: 4, maxConcurrentRuns: 2 });
  });
});
