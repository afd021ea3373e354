import { describe, expect, it, vi } from 'vitest';
import { channel, requestNames, type Reply } from '../../../src/shared/contract.js';
import type { Handlers } from '../../../src/shared/dispatch.js';
import { registerIpc, type IpcMainLike } from '../../../src/main/ipc.js';
import { hardenWebContents, secureWebPreferences, windowOptions, DESKTOP_CSP } from '../../../src/main/window.js';

class FakeIpcMain implements IpcMainLike {
  handlers = new Map<string, (event: unknown, payload: unknown) => Promise<Reply<unknown>>>();
  handle(ch: string, fn: (event: unknown, payload: unknown) => Promise<Reply<unknown>>) {
    if (this.handlers.has(ch)) throw new Error(`second handler for ${ch}`);
    this.handlers.set(ch, fn);
  }
  removeHandler(ch: string) {
    this.handlers.delete(ch);
  }
}

describe('Electron adapter (without the Electron binary)', () => {
  const handlers = Object.fromEntries(requestNames.map((n) => [n, vi.fn(async () => ({ echoed: n }))])) as unknown as Handlers;

  it('registers exactly one ipcMain handler per contract request, and removes them', async () => {
    const ipc = new FakeIpcMain();
    const off = registerIpc(ipc, handlers);
    expect([...ipc.handlers.keys()].sort()).toEqual(requestNames.map((n) => channel.request(n)).sort());
    const reply = await ipc.handlers.get(channel.request('datasets/get'))!({}, { id: 'dsprites' });
    expect(reply).toEqual({ ok: true, result: { echoed: 'datasets/get' } });
    const bad = await ipc.handlers.get(channel.request('datasets/get'))!({}, { id: { $gt: '' } });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    off();
    expect(ipc.handlers.size).toBe(0);
  });

  it('creates windows with the secure options', () => {
    const prefs = secureWebPreferences('/app/preload.cjs');
    expect(prefs).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(windowOptions('/p.cjs').webPreferences).toEqual(secureWebPreferences('/p.cjs'));
    expect(DESKTOP_CSP).toContain("default-src 'self'");
    expect(DESKTOP_CSP).toContain("script-src 'self'");
    expect(DESKTOP_CSP).not.toContain('unsafe-inline');
    expect(DESKTOP_CSP).not.toContain('unsafe-eval');
  });

  it('denies new windows and navigation away from the app', () => {
    const listeners = new Map<string, (event: { preventDefault(): void }, url: string) => void>();
    let openHandler: ((d: { url: string }) => { action: string }) | undefined;
    const contents = {
      on: (name: string, fn: (event: { preventDefault(): void }, url: string) => void) => listeners.set(name, fn),
      setWindowOpenHandler: (fn: (d: { url: string }) => { action: string }) => (openHandler = fn),
      getURL: () => 'file:///app/out/renderer/index.html',
    };
    hardenWebContents(contents as never, 'file:///app/out/renderer/index.html');
    expect(openHandler!({ url: 'https://evil.example' })).toEqual({ action: 'deny' });
    const nav = (name: string, url: string) => {
      const prevent = vi.fn();
      listeners.get(name)!({ preventDefault: prevent }, url);
      return prevent.mock.calls.length > 0;
    };
    expect(nav('will-navigate', 'https://evil.example/')).toBe(true);
    expect(nav('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(nav('will-navigate', 'file:///app/out/renderer/index.html#/datasets')).toBe(false);
    expect(nav('will-redirect', 'http://127.0.0.1:1/')).toBe(true);
    expect(nav('will-attach-webview', '')).toBe(true);
  });
});

describe('preload', () => {
  it('exposes exactly request and on as window.lab, and refuses names outside the contract', async () => {
    const exposed: Record<string, unknown> = {};
    const invoke = vi.fn(async (ch: string, payload: unknown) => ({ ok: true, result: { ch, payload } }));
    vi.doMock('electron', () => ({
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
      ipcRenderer: { invoke, on: vi.fn(), removeListener: vi.fn() },
    }));
    await import('../../../src/preload/index.js');
    expect(Object.keys(exposed)).toEqual(['lab']);
    const api = exposed.lab as { request(n: string, p: unknown): Promise<unknown>; on: unknown };
    expect(Object.keys(api).sort()).toEqual(['on', 'request']);
    expect(await api.request('datasets/list', {})).toEqual({ ok: true, result: { ch: channel.request('datasets/list'), payload: {} } });
    expect(await api.request('shell/exec', { cmd: 'rm' })).toMatchObject({ ok: false, error: { code: 'unknown_request' } });
    expect(invoke).toHaveBeenCalledTimes(1);
    vi.doUnmock('electron');
  });
});
