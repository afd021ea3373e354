/** The application menu template, built and installed through a fake Menu (no Electron binary). */
import { describe, expect, it } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { buildMenuTemplate, installMenu, navigateScript, type MenuActions, type MenuLike } from '../../../src/main/menu.js';

const screens = [
  { id: 'datasets', label: 'Datasets' },
  { id: 'perturb', label: 'Perturb' },
  { id: 'launch', label: 'Launch' },
  { id: 'runs', label: 'Runs' },
  { id: 'run', label: 'Run detail' },
  { id: 'compare', label: 'Compare' },
  { id: 'preferences', label: 'Preferences' },
  { id: 'about', label: 'About' },
];

function recorder() {
  const calls: string[] = [];
  const actions: MenuActions = {
    openLabDir: () => calls.push('openLabDir'),
    openExportsDir: () => calls.push('openExportsDir'),
    importDataset: () => calls.push('importDataset'),
    navigate: (id) => calls.push(`navigate:${id}`),
    showGuide: () => calls.push('showGuide'),
  };
  return { calls, actions };
}

/** Every item of a template, depth first. */
function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flatten(i.submenu) : [])]);
}

function click(item: MenuItemConstructorOptions | undefined) {
  expect(item?.click).toBeTypeOf('function');
  (item!.click as () => void)();
}

describe('application menu', () => {
  for (const platform of ['linux', 'win32', 'darwin'] as const) {
    it(`${platform}: File/Edit/View/Window/Help with the usual items and accelerators`, () => {
      const { calls, actions } = recorder();
      const installed: unknown[] = [];
      const fakeMenu: MenuLike<{ template: MenuItemConstructorOptions[] }> = {
        buildFromTemplate: (t: MenuItemConstructorOptions[]) => ({ template: t }),
        setApplicationMenu: (m: unknown) => installed.push(m),
      };
      const menu = installMenu(fakeMenu, { platform, appName: 'Disentanglement Lab', screens, actions });
      expect(installed).toEqual([menu]);
      const template = menu.template;
      const all = flatten(template);
      const byId = (id: string) => all.find((i) => i.id === id);
      const roles = all.map((i) => i.role).filter(Boolean);

      // top level
      const tops = template.map((t) => t.label ?? t.role);
      expect(tops).toEqual(platform === 'darwin' ? ['Disentanglement Lab', '&File', 'editMenu', '&View', 'windowMenu', '&Help'] : ['&File', 'editMenu', '&View', 'windowMenu', '&Help']);
      expect(roles).toEqual(expect.arrayContaining(['editMenu', 'windowMenu', 'quit', 'reload', 'togglefullscreen', 'zoomIn', 'zoomOut', 'resetZoom']));
      if (platform === 'darwin') expect(roles).toEqual(expect.arrayContaining(['hide', 'services', 'close']));

      // File
      expect(byId('import-dataset')?.accelerator).toBe('CmdOrCtrl+I');
      expect(byId('open-lab-dir')?.accelerator).toBe('CmdOrCtrl+Shift+O');
      expect(byId('export')?.label).toBe('Open Exports Folder');
      expect(byId('preferences')?.accelerator).toBe('CmdOrCtrl+,');
      expect(byId('preferences')?.label).toBe(platform === 'darwin' ? 'Settings…' : 'Preferences…');
      if (platform !== 'darwin') expect(byId('quit')?.accelerator).toBe('Ctrl+Q');

      // View: one entry per screen, Ctrl/Cmd+1… in order; Preferences/About are not numbered
      const screenItems = all.filter((i) => i.id?.startsWith('screen-'));
      expect(screenItems.map((i) => [i.label, i.accelerator])).toEqual([
        ['Datasets', 'CmdOrCtrl+1'],
        ['Perturb', 'CmdOrCtrl+2'],
        ['Launch', 'CmdOrCtrl+3'],
        ['Runs', 'CmdOrCtrl+4'],
        ['Run detail', 'CmdOrCtrl+5'],
        ['Compare', 'CmdOrCtrl+6'],
      ]);
      // accelerators are unique
      const accels = all.map((i) => i.accelerator).filter(Boolean);
      expect(new Set(accels).size).toBe(accels.length);

      // Help
      expect(byId('guide')?.accelerator).toBe('F1');
      expect(byId('about')?.label).toBe('About Disentanglement Lab');

      // the items do what they say
      click(byId('open-lab-dir'));
      click(byId('export'));
      click(byId('import-dataset'));
      click(byId('screen-launch'));
      click(byId('preferences'));
      click(byId('about'));
      click(byId('guide'));
      click(byId('compute'));
      expect(calls).toEqual(['openLabDir', 'openExportsDir', 'importDataset', 'navigate:launch', 'navigate:preferences', 'navigate:about', 'showGuide', 'navigate:about']);
    });
  }

  it('at most nine numbered screens', () => {
    const many = Array.from({ length: 12 }, (_, i) => ({ id: `s${i}`, label: `S${i}` }));
    const all = flatten(buildMenuTemplate({ platform: 'linux', appName: 'X', screens: many, actions: recorder().actions }));
    const numbered = all.filter((i) => i.id?.startsWith('screen-')).map((i) => i.accelerator);
    expect(numbered).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((n) => `CmdOrCtrl+${n}`));
  });

  it('navigation sends only a hash change for a valid screen id', () => {
    expect(navigateScript('launch')).toBe('window.location.hash = "#/launch"; void 0');
    expect(navigateScript('datasets', { import: '1' })).toBe('window.location.hash = "#/datasets?import=1"; void 0');
    expect(() => navigateScript('x"; alert(1); "')).toThrow(/not a screen id/);
  });
});
