/**
 * Where the lab keeps its data: `--lab-dir`, else DLAB_HOME, else the same
 * folder Electron uses as userData for this app, so the CLI and the desktop
 * app share one lab.
 */
import * as os from 'node:os';
import * as path from 'node:path';

export const APP_NAME = 'Disentanglement Lab';

export function defaultUserDataDir(platform = process.platform, env = process.env, home = os.homedir()): string {
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_NAME);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_NAME);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), APP_NAME);
}

export function resolveLabDir(explicit?: string, env = process.env): string {
  if (explicit) return path.resolve(explicit);
  if (env.DLAB_HOME) return path.resolve(env.DLAB_HOME);
  return defaultUserDataDir();
}
