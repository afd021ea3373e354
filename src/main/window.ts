/**
 * The main window's options and hardening, kept free of side effects so the
 * security settings can be tested without the Electron binary.
 */
import type { BrowserWindowConstructorOptions, WebContents } from 'electron';

export function secureWebPreferences(preloadPath: string): NonNullable<BrowserWindowConstructorOptions['webPreferences']> {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

export function windowOptions(preloadPath: string, iconPath?: string): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Disentanglement Lab',
    backgroundColor: '#0f1419',
    ...(iconPath ? { icon: iconPath } : {}),
    webPreferences: secureWebPreferences(preloadPath),
  };
}

/** Deny navigation away from the app, new windows, webviews and permission prompts. */
export function hardenWebContents(contents: Pick<WebContents, 'on' | 'setWindowOpenHandler' | 'getURL'>, appUrl: string): void {
  const sameDocument = (url: string) => {
    try {
      const a = new URL(url);
      const b = new URL(appUrl);
      return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname;
    } catch {
      return false;
    }
  };
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event, url) => {
    if (!sameDocument(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!sameDocument(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Content-Security-Policy for the desktop renderer (also set as a meta tag in index.html). */
export const DESKTOP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');
