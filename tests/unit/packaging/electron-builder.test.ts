/**
 * electron-builder.yml: validated with electron-builder's own schema check,
 * and packed for real by electron-builder (`dir` target, with a stand-in
 * Electron distribution so nothing is downloaded) to check what the app
 * archive holds: the built output, resources/ and runtime dependencies, and
 * no sources, tests, scripts, maps or development packages.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tmpDir } from '../../helpers/tmp.js';

const require = createRequire(import.meta.url);
type Config = Record<string, unknown> & { linux: Record<string, unknown>; mac: Record<string, unknown>; win: Record<string, unknown>; asarUnpack: string[]; files: string[] };
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: unknown): Promise<Config>;
  validateConfiguration(config: unknown, debugLogger: unknown): Promise<void>;
};
const asar = require('@electron/asar') as { listPackage(archive: string): string[]; extractFile(archive: string, file: string): Buffer };
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const debugLogger = { isEnabled: false, add() {} };

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(file: string): [number, number] {
  const b = fs.readFileSync(file);
  expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

describe('electron-builder.yml', () => {
  it('passes electron-builder’s configuration validation, and a wrong option does not', async () => {
    const config = await getConfig(repoRoot, null, null);
    await expect(validateConfiguration(config, debugLogger)).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...config, linux: { ...config.linux, targets: ['AppImage'] } }, debugLogger)).rejects.toThrow(/targets/);
    await expect(validateConfiguration({ ...config, nsis: { oneClick: 'no' } }, debugLogger)).rejects.toThrow(/oneClick/);
  });

  it('app id, product name, one installer per platform, icons from resources/', async () => {
    const c = await getConfig(repoRoot, null, null);
    expect(c['appId']).toBe('org.disentanglementlab.app');
    expect(c['productName']).toBe('Disentanglement Lab');
    expect(c.linux['target']).toEqual(['AppImage', 'deb']);
    expect(c.mac['target']).toBe('dmg');
    expect(c.win['target']).toBe('nsis');
    expect(c['npmRebuild']).toBe(true);
    // icons: a PNG set for Linux, a large PNG electron-builder turns into .icns / .ico
    for (const s of [16, 32, 48, 64, 128, 256, 512]) expect(pngSize(path.join(repoRoot, String(c.linux['icon']), `${s}x${s}.png`))).toEqual([s, s]);
    expect(pngSize(path.join(repoRoot, String(c.mac['icon'])))).toEqual([1024, 1024]);
    expect(pngSize(path.join(repoRoot, String(c.win['icon'])))[0]).toBeGreaterThanOrEqual(256);
  });
});

describe('the packed app (electron-builder, dir target, stand-in Electron)', () => {
  const tmp = tmpDir('dlab-pack-');
  let files: string[] = [];
  let unpacked: string[] = [];
  let archive = '';

  beforeAll(async () => {
    for (const f of ['out/main/index.js', 'out/main/worker.js', 'out/main/thread-worker.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {
      if (!fs.existsSync(path.join(repoRoot, f))) {
        const r = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: repoRoot, stdio: 'ignore' });
        expect(r.status).toBe(0);
        break;
      }
    }
    // a stand-in for the Electron runtime: electron-builder copies it and renames the executable
    const dist = path.join(tmp.dir, 'electron-dist');
    fs.mkdirSync(path.join(dist, 'resources'), { recursive: true });
    fs.writeFileSync(path.join(dist, 'electron'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dist, 'version'), require('electron/package.json').version);
    const { build, Platform } = require('electron-builder') as typeof import('electron-builder');
    await build({
      projectDir: repoRoot,
      targets: Platform.LINUX.createTarget(['dir']),
      config: { extends: null, electronDist: dist, npmRebuild: false, directories: { output: path.join(tmp.dir, 'release') } },
    });
    const res = path.join(tmp.dir, 'release', 'linux-unpacked', 'resources');
    archive = path.join(res, 'app.asar');
    files = asar.listPackage(archive).map((f) => f.replace(/\\/g, '/').replace(/^\//, ''));
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    unpacked = walk(path.join(res, 'app.asar.unpacked')).map((f) => path.relative(path.join(res, 'app.asar.unpacked'), f).replace(/\\/g, '/'));
  }, 180_000);
  afterAll(() => tmp.cleanup());

  const shipped = (f: string) => files.includes(f);
  const topLevel = () => [...new Set(files.map((f) => f.split('/')[0]))].sort();
  const packages = () => {
    const names = new Set<string>();
    for (const f of files) {
      const m = /^(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)\/package\.json$/.exec(f);
      if (m) names.add(m[1]!);
    }
    return names;
  };

  it('holds the built output, resources/ and package.json, and nothing else at the top', () => {
    expect(topLevel()).toEqual(['node_modules', 'out', 'package.json', 'resources']);
    for (const f of ['out/main/index.js', 'out/main/worker.js', 'out/preload/index.cjs', 'out/renderer/index.html', 'resources/icon.png', 'resources/icons/512x512.png', 'resources/icon.svg']) {
      expect(shipped(f), f).toBe(true);
    }
    expect(files.some((f) => /^out\/main\/chunks\/.+\.js$/.test(f))).toBe(true);
    expect(files.some((f) => /^out\/renderer\/assets\/index-.+\.js$/.test(f))).toBe(true);
    expect(files.filter((f) => f.startsWith('resources/presets/')).length).toBeGreaterThan(0);
    // the worker-thread entry (charts, previews) and the threaded wasm glue the training worker writes out
    expect(shipped('out/main/thread-worker.js'), 'out/main/thread-worker.js').toBe(true);
    for (const g of ['tfjs-backend-wasm-threaded-simd.js', 'tfjs-backend-wasm-threaded-simd.worker.js']) {
      expect(shipped(`node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/${g}`), g).toBe(true);
    }
  });

  it('no sources, tests, scripts, maps or TypeScript anywhere', () => {
    const bad = files.filter(
      (f) => /^(src|tests|scripts|test-results|bin|release|dist|\.git|\.ci)(\/|$)/.test(f) || /\.(ts|mts|cts|tsx|map)$/.test(f) || /^(tsconfig[^/]*\.json|electron-builder\.yml|electron\.vite\.config\.ts|vitest\.config\.ts|README\.md|eslint\.config\.js)$/.test(f),
    );
    expect(bad).toEqual([]);
  });

  it('runtime dependencies only: no development packages, no renderer libraries bundled twice', () => {
    const names = packages();
    for (const dep of Object.keys(pkg.dependencies).filter((d) => !['vue', 'chart.js', 'tsx'].includes(d))) expect(names.has(dep), dep).toBe(true);
    for (const dev of Object.keys(pkg.devDependencies)) expect(names.has(dev), dev).toBe(false);
    for (const gone of ['vue', '@vue/runtime-core', 'chart.js', 'tsx', 'esbuild', 'postcss', '@babel/parser']) expect(names.has(gone), gone).toBe(false);
    // each shipped package's entry file is there
    for (const name of names) {
      const dir = files.find((f) => f.endsWith(`node_modules/${name}/package.json`))!.slice(0, -'package.json'.length);
      const meta = JSON.parse(asar.extractFile(archive, `${dir}package.json`).toString('utf8')) as { main?: string; exports?: unknown };
      if (!meta.main || meta.exports) continue;
      const main = path.posix.normalize(dir + meta.main);
      const candidates = [main, `${main}.js`, `${main}/index.js`];
      expect(candidates.some(shipped), `${name} main ${meta.main}`).toBe(true);
    }
  });

  it('every package the main process and the training worker import is in the archive', () => {
    const names = packages();
    const builtins = new Set(require('node:module').builtinModules as string[]);
    const mainJs = files.filter((f) => /^out\/(main|preload)\/.+\.(c?js)$/.test(f));
    const imported = new Set<string>();
    for (const f of mainJs) {
      const text = fs.readFileSync(path.join(repoRoot, f), 'utf8');
      for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']([^"'./][^"']*)["']/g)) {
        const spec = m[1]!;
        if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/[\w./-]*)?$/i.test(spec)) continue;
        if (spec.startsWith('node:') || builtins.has(spec.split('/')[0]!)) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    imported.delete('electron');
    expect([...imported].sort()).toEqual(expect.arrayContaining(['@tensorflow/tfjs', 'better-sqlite3', 'zod']));
    for (const name of imported) {
      // the optional GPU package is imported by a variable name and shipped when installed
      expect(names.has(name), name).toBe(true);
    }
  });

  it('native addons and wasm binaries are unpacked; the training worker stays in the archive', () => {
    expect(unpacked).toContain('node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    for (const w of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
      expect(unpacked).toContain(`node_modules/@tensorflow/tfjs-backend-wasm/dist/${w}`);
    }
    expect(unpacked.filter((f) => f.startsWith('out/'))).toEqual([]);
    // better-sqlite3 ships its addon, not its C sources or build intermediates
    expect(unpacked.filter((f) => /better-sqlite3\/(src|deps)\/|\/obj(\.target)?\/|test_extension/.test(f))).toEqual([]);
  });
});
