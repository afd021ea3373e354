/** Renderer keyboard shortcuts and guide steps agree with the desktop menu. */
import { describe, expect, it } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { buildMenuTemplate } from '../../../src/main/menu.js';
import { shortcutFor, type KeyLike } from '../../../src/renderer/src/components/guide/shortcuts.js';
import { availableSteps, stepForScreen } from '../../../src/renderer/src/components/guide/steps.js';

const screens = [
  { id: 'datasets', label: 'Datasets' },
  { id: 'perturb', label: 'Perturb' },
  { id: 'launch', label: 'Launch' },
  { id: 'runs', label: 'Runs' },
  { id: 'preferences', label: 'Preferences' },
  { id: 'about', label: 'About' },
];
const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });

describe('page shortcuts', () => {
  it('Ctrl+N (Cmd+N on a Mac) and Alt+N open the N-th screen; plain digits and other combinations do nothing', () => {
    expect(shortcutFor(key('1', { ctrlKey: true }), screens)).toEqual({ kind: 'screen', id: 'datasets' });
    expect(shortcutFor(key('3', { altKey: true }), screens)).toEqual({ kind: 'screen', id: 'launch' });
    expect(shortcutFor(key('4', { metaKey: true }), screens, true)).toEqual({ kind: 'screen', id: 'runs' });
    expect(shortcutFor(key('4', { metaKey: true }), screens, false)).toBeNull();
    expect(shortcutFor(key('2'), screens)).toBeNull();
    expect(shortcutFor(key('2', { ctrlKey: true, shiftKey: true }), screens)).toBeNull();
    expect(shortcutFor(key('2', { ctrlKey: true, altKey: true }), screens)).toBeNull();
    // 5 would be Preferences, which has its own key: not numbered
    expect(shortcutFor(key('5', { ctrlKey: true }), screens)).toBeNull();
    expect(shortcutFor(key(',', { ctrlKey: true }), screens)).toEqual({ kind: 'screen', id: 'preferences' });
    expect(shortcutFor(key('F1'), screens)).toEqual({ kind: 'guide' });
  });

  it('the page and the desktop menu give each screen the same number', () => {
    const template = buildMenuTemplate({
      platform: 'linux',
      appName: 'X',
      screens,
      actions: { openLabDir() {}, openExportsDir() {}, importDataset() {}, navigate() {}, showGuide() {} },
    });
    const flat = (items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] => items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flat(i.submenu) : [])]);
    const menuKeys = flat(template)
      .filter((i) => i.id?.startsWith('screen-'))
      .map((i) => [i.id!.slice('screen-'.length), i.accelerator!.replace('CmdOrCtrl+', '')]);
    const pageKeys = ['1', '2', '3', '4', '5', '6', '7', '8', '9']
      .map((n) => [shortcutFor(key(n, { ctrlKey: true }), screens), n] as const)
      .filter(([a]) => a?.kind === 'screen')
      .map(([a, n]) => [(a as { id: string }).id, n]);
    expect(pageKeys).toEqual(menuKeys);
    expect(pageKeys).toEqual([['datasets', '1'], ['perturb', '2'], ['launch', '3'], ['runs', '4']]);
  });
});

describe('guide steps', () => {
  it('only steps whose screens exist are offered, each leading to an existing screen', () => {
    const ids = ['datasets', 'perturb', 'launch', 'runs', 'run'];
    expect(availableSteps(ids).map((s) => [s.id, s.target])).toEqual([['datasets', 'datasets'], ['perturb', 'perturb'], ['launch', 'launch'], ['watch', 'runs']]);
    expect(availableSteps([...ids, 'compare']).map((s) => s.id)).toEqual(['datasets', 'perturb', 'launch', 'watch', 'compare']);
    expect(availableSteps(['datasets', 'run']).map((s) => [s.id, s.target])).toEqual([['datasets', 'datasets'], ['watch', 'run']]);
  });

  it('visiting a screen completes its step', () => {
    expect(stepForScreen('run')).toBe('watch');
    expect(stepForScreen('runs')).toBe('watch');
    expect(stepForScreen('launch')).toBe('launch');
    expect(stepForScreen('preferences')).toBeNull();
  });
});
