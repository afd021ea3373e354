/**
 * The application menu, as a template built from plain data so that it can
 * be tested without the Electron binary: `buildMenuTemplate` returns the
 * template, `installMenu` hands it to whatever `Menu`-like object it is given
 * (Electron's `Menu` in the app, a fake in the tests).
 *
 * Screens get Ctrl/Cmd+1…9 in the order the renderer lists them (it reports
 * them with `app/menu`); the renderer handles the same keys itself in browser
 * mode (src/renderer/src/components/guide/shortcuts.ts).
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface ScreenRef {
  id: string;
  label: string;
}

export interface MenuActions {
  openLabDir(): void;
  openExportsDir(): void;
  importDataset(): void;
  navigate(screenId: string): void;
  showGuide(): void;
}

export interface MenuOptions {
  platform: NodeJS.Platform;
  appName: string;
  screens: ScreenRef[];
  actions: MenuActions;
  isDev?: boolean;
}

/** Accelerators the app binds, by purpose (also shown in Help → Keyboard shortcuts). */
export const SHORTCUTS = {
  preferences: 'CmdOrCtrl+,',
  importDataset: 'CmdOrCtrl+I',
  openLabDir: 'CmdOrCtrl+Shift+O',
  openExportsDir: 'CmdOrCtrl+Shift+E',
  guide: 'F1',
  screen: (n: number) => `CmdOrCtrl+${n}`,
} as const;

/** The screens that get a number key (the first nine, skipping Preferences/About, which have their own entries). */
export function numberedScreens(screens: ScreenRef[]): ScreenRef[] {
  return screens.filter((s) => s.id !== 'preferences' && s.id !== 'about').slice(0, 9);
}

export function buildMenuTemplate(o: MenuOptions): MenuItemConstructorOptions[] {
  const mac = o.platform === 'darwin';
  const a = o.actions;
  const prefsItem: MenuItemConstructorOptions = { id: 'preferences', label: mac ? 'Settings…' : 'Preferences…', accelerator: SHORTCUTS.preferences, click: () => a.navigate('preferences') };
  const aboutItem: MenuItemConstructorOptions = { id: 'about', label: `About ${o.appName}`, click: () => a.navigate('about') };

  const template: MenuItemConstructorOptions[] = [];
  if (mac) {
    template.push({
      label: o.appName,
      submenu: [aboutItem, { type: 'separator' }, prefsItem, { type: 'separator' }, { role: 'services' }, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { role: 'quit' }],
    });
  }
  template.push({
    id: 'file',
    label: '&File',
    submenu: [
      { id: 'import-dataset', label: 'Import Dataset…', accelerator: SHORTCUTS.importDataset, click: () => a.importDataset() },
      { type: 'separator' },
      { id: 'open-lab-dir', label: 'Open Lab Folder', accelerator: SHORTCUTS.openLabDir, click: () => a.openLabDir() },
      { id: 'export', label: 'Open Exports Folder', accelerator: SHORTCUTS.openExportsDir, click: () => a.openExportsDir() },
      ...(mac ? [] : ([{ type: 'separator' }, prefsItem, { type: 'separator' }, { role: 'quit', id: 'quit', accelerator: 'Ctrl+Q' }] as MenuItemConstructorOptions[])),
      ...(mac ? ([{ type: 'separator' }, { role: 'close' }] as MenuItemConstructorOptions[]) : []),
    ],
  });
  template.push({ role: 'editMenu', id: 'edit' });
  template.push({
    id: 'view',
    label: '&View',
    submenu: [
      ...numberedScreens(o.screens).map<MenuItemConstructorOptions>((s, i) => ({
        id: `screen-${s.id}`,
        label: s.label,
        accelerator: SHORTCUTS.screen(i + 1),
        click: () => a.navigate(s.id),
      })),
      { type: 'separator' },
      { role: 'reload' },
      ...(o.isDev ? ([{ role: 'toggleDevTools' }] as MenuItemConstructorOptions[]) : []),
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  });
  template.push({ role: 'windowMenu', id: 'window' });
  template.push({
    id: 'help',
    role: 'help',
    label: '&Help',
    submenu: [
      { id: 'guide', label: 'Getting Started Guide', accelerator: SHORTCUTS.guide, click: () => a.showGuide() },
      { id: 'compute', label: 'Compute Backend…', click: () => a.navigate('about') },
      ...(mac ? [] : ([{ type: 'separator' }, aboutItem] as MenuItemConstructorOptions[])),
    ],
  });
  return template;
}

export interface MenuLike<M> {
  buildFromTemplate(template: MenuItemConstructorOptions[]): M;
  setApplicationMenu(menu: M | null): void;
}

/** Build the template and make it the application menu. */
export function installMenu<M>(menu: MenuLike<M>, o: MenuOptions): M {
  const m = menu.buildFromTemplate(buildMenuTemplate(o));
  menu.setApplicationMenu(m);
  return m;
}

/**
 * Script that moves the renderer to a screen (sent with
 * `webContents.executeJavaScript`): the renderer routes on the URL hash.
 * The id is validated, so nothing but a hash change is ever sent.
 */
export function navigateScript(screenId: string, params: Record<string, string> = {}): string {
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(screenId)) throw new Error(`not a screen id: ${screenId}`);
  const q = new URLSearchParams(params).toString();
  return `window.location.hash = ${JSON.stringify(`#/${screenId}${q ? `?${q}` : ''}`)}; void 0`;
}

/** DOM event the renderer listens for to reopen the first-run guide (Help → Getting Started Guide). */
export const SHOW_GUIDE_EVENT = 'dlab-show-guide';
export const showGuideScript = `window.dispatchEvent(new Event(${JSON.stringify(SHOW_GUIDE_EVENT)})); void 0`;
