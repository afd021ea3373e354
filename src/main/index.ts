/**
 * Electron main process: one secure window, the Lab behind ipcMain.
 */
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../core/lab.js';
import { resolveLabDir } from '../core/labdir.js';
import { channel } from '../shared/contract.js';
import { registerIpc } from './ipc.js';
import { DESKTOP_CSP, hardenWebContents, windowOptions } from './window.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1];
  const pref = process.argv.find((a) => a.startsWith(name + '='));
  return pref?.slice(name.length + 1);
}

let lab: Lab | undefined;

async function createWindow(): Promise<void> {
  const win = new BrowserWindow(windowOptions(path.join(here, '../preload/index.cjs')));
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
  const labDir = resolveLabDir(argValue('--lab-dir') ?? process.env.DLAB_HOME ?? app.getPath('userData'));
  lab = await Lab.open({ labDir });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [DESKTOP_CSP] } });
  });
  registerIpc(ipcMain, {
    ...lab.handlers,
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
