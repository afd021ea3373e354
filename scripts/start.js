#!/usr/bin/env node
// `npm start`: build the app, then launch the desktop window. Where the
// Electron runtime cannot be obtained (an offline machine) or there is no
// display, say so in one line and start browser mode instead.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

const build = spawnSync(process.execPath, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (build.status !== 0) {
  console.error('npm start: the build failed (see above)');
  process.exit(1);
}

function electronBinary() {
  const dir = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(dir, 'path.txt');
  const existing = () => {
    if (!fs.existsSync(pathFile)) return null;
    const bin = path.join(dir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
    return fs.existsSync(bin) ? bin : null;
  };
  if (!fs.existsSync(dir)) return { bin: null, why: 'the electron package is not installed' };
  let bin = existing();
  if (bin) return { bin };
  console.log('Fetching the Electron runtime (first launch)…');
  const r = spawnSync(process.execPath, [path.join(dir, 'install.js')], { cwd: dir, stdio: 'pipe', timeout: 600_000 });
  bin = existing();
  if (bin) return { bin };
  const detail = String(r.stderr ?? '').split('\n').find((l) => /error/i.test(l))?.trim();
  return { bin: null, why: `the Electron runtime could not be downloaded${detail ? ` (${detail.slice(0, 120)})` : ''}` };
}

const { bin, why } = electronBinary();
const headless = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
if (bin && !headless) {
  const child = spawn(bin, [root, ...args], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const reason = bin ? 'there is no display (DISPLAY/WAYLAND_DISPLAY unset)' : why;
  console.log(`Desktop window unavailable: ${reason}; starting browser mode instead.`);
  const child = spawn(process.execPath, [path.join(root, 'bin', 'dlab.js'), 'serve', ...args], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}
