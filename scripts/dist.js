#!/usr/bin/env node
// `npm run dist`: installable desktop app with electron-builder
// (configuration: electron-builder.yml).
//
//   node scripts/dist.js [--linux|--mac|--win] [--dir] [--probe-only] [-- electron-builder args]
//
// 1. Probe, with a short timeout, the hosts the packaging downloads from: the
//    Electron runtime, electron-builder's tools (AppImage, fpm, NSIS…), and
//    Electron's headers for rebuilding better-sqlite3. Offline, or where a
//    mirror is unreachable, stop with ONE line saying so.
// 2. Build the app (electron-vite build → out/).
// 3. electron-builder with a beforeBuild hook that rebuilds only the native
//    modules tied to V8's ABI (better-sqlite3) for Electron — N-API modules
//    (@tensorflow/tfjs-node-gpu) are carried as they are — and puts the
//    Node build of better-sqlite3 back afterwards so `npm test` keeps working.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const has = (f) => argv.includes(f);
const PROBE_TIMEOUT_MS = Number(process.env.DLAB_DIST_PROBE_TIMEOUT_MS ?? 4000);

/** One line on stderr, exit 1: the whole failure report. */
function fail(line) {
  process.stderr.write(`npm run dist: ${line}\n`);
  process.exit(1);
}

function electronVersion() {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function targetPlatform() {
  if (has('--linux')) return 'linux';
  if (has('--mac')) return 'darwin';
  if (has('--win')) return 'win32';
  return process.platform;
}

/** The hosts this build downloads from (mirrors from the environment win), each with why. */
export function downloadSources(env = process.env, platform = targetPlatform(), version = electronVersion()) {
  const cacheRoot = env.ELECTRON_CACHE ?? (process.platform === 'darwin' ? path.join(os.homedir(), 'Library', 'Caches', 'electron') : process.platform === 'win32' ? path.join(env.LOCALAPPDATA ?? os.homedir(), 'electron', 'Cache') : path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'electron'));
  const zip = `electron-v${version}-${platform}-${process.arch}.zip`;
  const cached = (dir, name) => {
    try {
      return fs.readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith(name));
    } catch {
      return false;
    }
  };
  const sources = [];
  if (!cached(cacheRoot, zip)) {
    sources.push({ url: env.ELECTRON_MIRROR ?? 'https://github.com/electron/electron/releases/', why: `the Electron ${version} runtime (${zip})` });
  }
  sources.push({
    url: env.ELECTRON_BUILDER_BINARIES_MIRROR ?? 'https://github.com/electron-userland/electron-builder-binaries/releases/',
    why: platform === 'linux' ? "electron-builder's AppImage and fpm (.deb) tools" : platform === 'win32' ? "electron-builder's NSIS tools" : "electron-builder's tools",
  });
  sources.push({ url: env.npm_config_disturl ?? env.ELECTRON_HEADERS_URL ?? 'https://www.electronjs.org/headers/', why: 'Electron headers to rebuild better-sqlite3' });
  return sources;
}

/** Resolve when the host answers anything at all (any HTTP status) within the timeout. */
function reachable(url, timeoutMs = PROBE_TIMEOUT_MS) {
  return new Promise((resolve) => {
    let u;
    try {
      u = new URL(url);
    } catch {
      return resolve({ ok: false, error: `not a URL: ${url}` });
    }
    const lib = u.protocol === 'http:' ? http : https;
    const req = lib.request(u, { method: 'HEAD', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve({ ok: true, status: res.statusCode });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (e) => resolve({ ok: false, error: e.code ? `${e.code}` : e.message }));
    req.end();
  });
}

async function probe() {
  if (process.env.DLAB_DIST_SKIP_PROBE === '1') return;
  const version = electronVersion();
  if (!version) fail('the electron package is not installed (run npm ci first)');
  const sources = downloadSources(process.env, targetPlatform(), version);
  const results = await Promise.all(sources.map((s) => reachable(s.url)));
  const bad = sources.map((s, i) => ({ ...s, r: results[i] })).filter((s) => !s.r.ok);
  if (bad.length) {
    const hosts = [...new Set(bad.map((b) => new URL(b.url).host))].join(', ');
    const what = bad.map((b) => b.why).join('; ');
    fail(`cannot reach ${hosts} (${bad[0].r.error}) to download ${what} — build where the network is available, or point ELECTRON_MIRROR / ELECTRON_BUILDER_BINARIES_MIRROR / npm_config_disturl at reachable mirrors.`);
  }
}

function buildApp() {
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) fail('the app build (electron-vite build) failed: see above');
  for (const f of ['out/main/index.js', 'out/main/worker.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {
    if (!fs.existsSync(path.join(root, f))) fail(`the build did not produce ${f}`);
  }
  for (const f of ['resources/icon.png', 'resources/icons/512x512.png']) {
    if (!fs.existsSync(path.join(root, f))) fail(`missing icon ${f} (render it from resources/icon.svg, see README → Desktop app)`);
  }
}

/** Native modules that must be rebuilt for Electron's ABI (V8 addons; N-API ones load as they are). */
const ABI_MODULES = ['better-sqlite3'];

async function packageApp() {
  let builder;
  try {
    builder = require('electron-builder');
  } catch {
    fail('electron-builder is not installed (run npm ci)');
  }
  const { rebuild } = createRequire(require.resolve('app-builder-lib/package.json'))('@electron/rebuild');
  const addon = path.join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  const backup = path.join(os.tmpdir(), `dlab-better-sqlite3-${process.pid}.node`);
  if (fs.existsSync(addon)) fs.copyFileSync(addon, backup);
  const platformFlag = has('--linux') ? builder.Platform.LINUX : has('--mac') ? builder.Platform.MAC : has('--win') ? builder.Platform.WINDOWS : builder.Platform.current();
  const passThrough = argv.includes('--') ? argv.slice(argv.indexOf('--') + 1) : [];
  try {
    await builder.build({
      projectDir: root,
      targets: platformFlag.createTarget(has('--dir') ? ['dir'] : null),
      config: {
        extends: null,
        // rebuild only the V8-ABI modules for Electron; returning false skips electron-builder's own rebuild
        beforeBuild: async (ctx) => {
          await rebuild({ buildPath: ctx.appDir, electronVersion: ctx.electronVersion, arch: ctx.arch, platform: ctx.platform.nodeName, onlyModules: ABI_MODULES, force: true });
          return false;
        },
        ...(passThrough.includes('--publish-never') ? { publish: null } : {}),
      },
    });
  } catch (e) {
    const msg = String(e?.message ?? e).split('\n').find((l) => l.trim()) ?? 'unknown error';
    fail(`electron-builder failed: ${msg.trim()} (DEBUG=electron-builder npm run dist for the details)`);
  } finally {
    // the dev tree keeps its Node build of better-sqlite3 (tests, CLI)
    if (fs.existsSync(backup)) {
      fs.copyFileSync(backup, addon);
      fs.rmSync(backup, { force: true });
    }
  }
  console.log(`npm run dist: done — installers in ${path.join(root, 'release')}`);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  await probe();
  if (has('--probe-only')) {
    console.log('npm run dist: the download hosts are reachable');
    process.exit(0);
  }
  buildApp();
  await packageApp();
}
