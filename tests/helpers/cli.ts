import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from './tmp.js';

export const dlabBin = path.join(repoRoot, 'bin', 'dlab.js');

export function runDlab(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [dlabBin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Start `dlab serve --json` and resolve with its URL. */
export function startServe(labDir: string, extra: string[] = []) {
  const child = spawn(process.execPath, [dlabBin, 'serve', '--json', '--lab-dir', labDir, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const ready = new Promise<{ url: string; origin: string }>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += String(d);
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { url: string; origin: string });
    });
    child.on('exit', (code) => reject(new Error(`dlab serve exited ${code}: ${stderr}`)));
  });
  return {
    ready,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
