#!/usr/bin/env node
// `npm test`: type checks, lint, build, then unit, integration and end-to-end
// tests (Chromium through playwright-core). Ends with one summary line
// "tests: N passed, N failed".
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (pkg, file) => path.join(root, 'node_modules', pkg, file);
const results = path.join(root, 'test-results');
fs.mkdirSync(results, { recursive: true });

function chromium() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  if (candidates.some((p) => fs.existsSync(p))) return true;
  if (process.getuid?.() === 0 && fs.existsSync('/usr/bin/apt-get')) {
    console.log('Installing Debian\'s chromium for the end-to-end tests…');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return fs.existsSync('/usr/bin/chromium');
  }
  console.error('End-to-end tests need Chromium: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH.');
  return false;
}

// The webgpu unit tests run Dawn on Mesa's software rasteriser (llvmpipe) where no GPU is.
const MESA = ['libegl1', 'libegl-mesa0', 'libgles2', 'libgl1-mesa-dri'];
function mesa() {
  if (process.platform !== 'linux' || !fs.existsSync('/usr/bin/dpkg')) return;
  if (spawnSync('dpkg', ['-s', ...MESA], { stdio: 'ignore' }).status === 0) return;
  if (process.getuid?.() === 0 && fs.existsSync('/usr/bin/apt-get')) {
    console.log('Installing Mesa (EGL/GLES, llvmpipe) for the webgpu tests…');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', ...MESA], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else console.error(`The webgpu tests need Mesa's software rasteriser: apt-get install ${MESA.join(' ')}`);
}

const steps = [
  ['typecheck (tsc)', [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.node.json', '--noEmit']],
  ['typecheck (e2e)', [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.e2e.json', '--noEmit']],
  ['typecheck (vue-tsc)', [bin('vue-tsc', 'bin/vue-tsc.js'), '-p', 'tsconfig.web.json', '--noEmit']],
  ['lint', [bin('eslint', 'bin/eslint.js'), '.']],
  ['build', [bin('electron-vite', 'bin/electron-vite.js'), 'build']],
  ...['unit', 'integration', 'e2e'].map((p) => [
    `${p} tests`,
    [bin('vitest', 'vitest.mjs'), 'run', '--project', p, '--reporter=default', '--reporter=json', `--outputFile.json=${path.join(results, `${p}.json`)}`],
    p,
  ]),
];

let passed = 0;
let failed = 0;
const failures = [];
for (const [name, argv, project] of steps) {
  if (project === 'unit') mesa();
  if (project === 'e2e' && !chromium()) {
    failures.push(name);
    continue;
  }
  const t0 = Date.now();
  console.log(`\n▶ ${name}`);
  const jsonFile = project ? path.join(results, `${project}.json`) : null;
  if (jsonFile) fs.rmSync(jsonFile, { force: true });
  const r = spawnSync(process.execPath, argv, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } });
  if (jsonFile && fs.existsSync(jsonFile)) {
    const j = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
    passed += j.numPassedTests;
    failed += j.numFailedTests;
    if (j.numTotalTests === 0) failures.push(`${name} (ran no test)`);
  }
  console.log(`◀ ${name}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (r.status !== 0) failures.push(name);
}
console.log('');
if (failures.length) console.log(`failed steps: ${failures.join(', ')}`);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failures.length ? 1 : 0);
