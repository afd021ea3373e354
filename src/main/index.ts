/**
 * Electron main process: one secure window, the Lab behind ipcMain.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, session, shell } from 'electron';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../core/lab.js';
import { resolveLabDir } from '../core/labdir.js';
import { channel } from '../shared/contract.js';
import { registerIpc } from './ipc.js';
import { DESKTOP_CSP, hardenWebContents, windowOptions } from './window.js';
// --- desktop app: menu, preferences applied at start (app packaging room) ---
import * as fs from 'node:fs';
import { backendFromPrefs, locationFile, nextLabDirFrom, readPrefs } from '../core/app/prefs.js';
import { dispatch } from '../shared/dispatch.js';
import { installMenu, navigateScript, showGuideScript, type MenuOptions, type ScreenRef } from './menu.js';

function runInPage(script: string): void {
  const win = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
  if (win && !win.isDestroyed()) void win.webContents.executeJavaScript(script).catch(() => undefined);
}

function appMenu(screens: ScreenRef[]): void {
  if (!lab) return;
  const labDir = lab.labDir;
  const actions: MenuOptions['actions'] = {
    openLabDir: () => void shell.openPath(labDir),
    openExportsDir: () => void shell.openPath(path.join(labDir, 'exports')),
    navigate: (id) => runInPage(navigateScript(id)),
    showGuide: () => runInPage(showGuideScript),
    importDataset: () => {
      const parent = BrowserWindow.getFocusedWindow();
      const options: Electron.OpenDialogOptions = {
        title: 'Import a dataset file',
        properties: ['openFile'],
        filters: [
          { name: 'Dataset files (dSprites/MPI3D .npz, Shapes3D .h5)', extensions: ['npz', 'h5', 'hdf5'] },
          { name: 'All files', extensions: ['*'] },
        ],
      };
      void (parent ? dialog.showOpenDialog(parent, options) : dialog.showOpenDialog(options)).then(async (r) => {
        const file = r.canceled ? undefined : r.filePaths[0];
        if (!file || !lab) return;
        const reply = await dispatch(lab.handlers, 'datasets/import', { path: file });
        if (!reply.ok) dialog.showErrorBox('Import failed', reply.error.message);
        else runInPage(navigateScript('datasets'));
      });
    },
  };
  installMenu(Menu, { platform: process.platform, appName: app.getName(), screens, actions, isDev: !app.isPackaged });
}

function windowIcon(): string | undefined {
  const icon = path.join(here, '../../resources/icons/512x512.png');
  return fs.existsSync(icon) ? icon : undefined;
}
// --- end desktop app ---

const here = path.dirname(fileURLToPath(import.meta.url));

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1];
  const pref = process.argv.find((a) => a.startsWith(name + '='));
  return pref?.slice(name.length + 1);
}

let lab: Lab | undefined;

async function createWindow(): Promise<void> {
  const win = new BrowserWindow(windowOptions(path.join(here, '../preload/index.cjs'), windowIcon()));
  const devUrl = process.env.ELECTRON_RENDERER_URL;
  const appUrl = devUrl ?? `file://${path.join(here, '../renderer/index.html')}`;
  hardenWebContents(win.webContents, appUrl);
  win.once('ready-to-show', () => win.show());
  const off = lab!.events.onAny((name, payload) => {
    if (!win.isDestroyed()) win.webContents.send(channel.event, { name, payload });
  });
  win.on('closed', off);
  if (devUrl) await win.loadURL(devUrl);
  else await win.loadFile(path.join(here, '../renderer/index.html'));
}

app.on('web-contents-created', (_e, contents) => {
  contents.setWindowOpenHandler(({ url }) => {
    // Links to documentation open in the user's browser, never inside the app.
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
});

void app.whenReady().then(async () => {
  // the lab location chosen in Preferences (for this start on) and the preferred backend (DLAB_BACKEND wins)
  const nextLabDir = nextLabDirFrom(locationFile());
  const labDir = resolveLabDir(argValue('--lab-dir') ?? process.env.DLAB_HOME ?? nextLabDir ?? app.getPath('userData'));
  const preferred = backendFromPrefs(readPrefs(labDir));
  if (preferred) process.env.DLAB_BACKEND = preferred;
  lab = await Lab.open({ labDir });
  appMenu([]);
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [DESKTOP_CSP] } });
  });
  registerIpc(ipcMain, {
    ...lab.handlers,
    // The renderer reports its screens: the View menu and Ctrl/Cmd+1…9 follow them.
    'app/menu': ({ screens }) => (appMenu(screens), { installed: true }),
    // The native open dialog for importing dataset files (the Lab's default says none is available).
    'dialog/openFile': async ({ title }) => {
      const parent = BrowserWindow.getFocusedWindow();
      const options: Electron.OpenDialogOptions = {
        title: title ?? 'Import a dataset file',
        properties: ['openFile'],
        filters: [
          { name: 'Dataset files (dSprites/MPI3D .npz, Shapes3D .h5)', extensions: ['npz', 'h5', 'hdf5'] },
          { name: 'All files', extensions: ['*'] },
        ],
      };
      const r = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
      return { path: r.canceled ? null : (r.filePaths[0] ?? null), available: true };
    },
  });
  await createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
let quitting = false;
app.on('before-quit', (event) => {
  // Stop training workers (their runs become resumable) and close the store before exiting.
  if (quitting || !lab) return;
  event.preventDefault();
  quitting = true;
  void lab.close().finally(() => app.quit());
});
