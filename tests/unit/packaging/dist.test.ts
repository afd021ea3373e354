/** `npm run dist` fails fast with one line where the download hosts cannot be reached, and goes on where they can. */
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tmpDir } from '../../helpers/tmp.js';

const tmp = tmpDir('dlab-dist-');
afterAll(() => tmp.cleanup());

function runDist(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'dist.js'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ELECTRON_CACHE: path.join(tmp.dir, 'empty-cache'), DLAB_DIST_PROBE_TIMEOUT_MS: '3000', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

/** A port nothing listens on (connections are refused). */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('scripts/dist.js reachability probe', () => {
  it('unreachable mirrors: exit 1 with one line naming the host and what it was for, no stack trace, in seconds', async () => {
    const port = await closedPort();
    const base = `http://127.0.0.1:${port}/`;
    const r = await runDist(['--probe-only'], { ELECTRON_MIRROR: base, ELECTRON_BUILDER_BINARIES_MIRROR: base, npm_config_disturl: base });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^npm run dist: cannot reach 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\) to download the Electron \\d+\\.\\d+\\.\\d+ runtime`));
    expect(lines[0]).toContain('ELECTRON_MIRROR');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('a host that never answers is given up on after the timeout', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent = http.createServer(() => {
      /* never answers */
    });
    silent.on('connection', (s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const r = await runDist(['--probe-only'], { ELECTRON_MIRROR: base, ELECTRON_BUILDER_BINARIES_MIRROR: base, npm_config_disturl: base, DLAB_DIST_PROBE_TIMEOUT_MS: '1000' });
    for (const s of sockets) s.destroy();
    await new Promise<void>((r2) => silent.close(() => r2()));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/no answer within 1 s/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.ms).toBeLessThan(8_000);
  });

  it('reachable mirrors (any HTTP status): the probe passes', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mirror/`;
    const r = await runDist(['--probe-only'], { ELECTRON_MIRROR: base, ELECTRON_BUILDER_BINARIES_MIRROR: base, npm_config_disturl: base });
    await new Promise<void>((r2) => server.close(() => r2()));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('npm run dist: the download hosts are reachable');
    expect(seen).toEqual(['HEAD /mirror/', 'HEAD /mirror/', 'HEAD /mirror/']);
  });
});
