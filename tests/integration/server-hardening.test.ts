/**
 * Browser mode must survive whatever a client sends: malformed cookies, paths
 * and HTTP, foreign origins, handler exceptions. Each case checks the status
 * and then that the same server still answers an authorized request.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Lab } from '../../src/core/lab.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { dlabBin, runDlab } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

let lab: Lab;
let server: RunningServer;
const logged: string[] = [];
const tmp = tmpDir();
const rendererDir = path.join(tmp.dir, 'renderer');
const SECRET = 'outside-the-renderer-folder';

beforeAll(async () => {
  fs.mkdirSync(rendererDir);
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  fs.writeFileSync(path.join(tmp.dir, 'secret.txt'), SECRET);
  lab = await Lab.open({ labDir: path.join(tmp.dir, 'lab') });
  server = await startServer({ lab, rendererDir, log: (l) => logged.push(l) });
});
afterAll(async () => {
  await server?.close();
  await lab?.close();
  tmp.cleanup();
});

interface Answer {
  status: number;
  body: string;
}

/** A real HTTP request; the path goes out exactly as given. */
function request(method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path: target, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const bearer = () => ({ Authorization: `Bearer ${server.token}` });

/** The server is still up: an authorized lab/info answers 200 with ok. */
async function stillServes() {
  const r = await request('POST', '/api/lab/info', { ...bearer(), 'Content-Type': 'application/json' }, '{}');
  expect(r.status).toBe(200);
  expect(JSON.parse(r.body)).toMatchObject({ ok: true });
}

/** Raw bytes over TCP; resolves with everything the server sent before it closed. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.port, '127.0.0.1');
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (text += d));
    sock.on('error', reject);
    sock.on('close', () => resolve(text));
    sock.setTimeout(10_000, () => sock.destroy());
    sock.write(bytes);
  });
}

/** Status of a WebSocket upgrade (101 when it opened). */
function upgrade(query: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => resolve(-1));
  });
}

const BAD_COOKIE = 'dlab_token=%E0%A4%A';

describe('a malformed cookie is a wrong token (401), never a crash', () => {
  it('GET /', async () => {
    expect((await request('GET', '/', { Cookie: BAD_COOKIE })).status).toBe(401);
    expect((await request('GET', '/index.html', { Cookie: `other=1; ${BAD_COOKIE}` })).status).toBe(401);
    await stillServes();
  });

  it('POST /api/lab/info', async () => {
    const r = await request('POST', '/api/lab/info', { Cookie: BAD_COOKIE, 'Content-Type': 'application/json' }, '{}');
    expect(r.status).toBe(401);
    await stillServes();
  });

  it('the /ws upgrade', async () => {
    expect(await upgrade('', { Cookie: BAD_COOKIE })).toBe(401);
    await stillServes();
    expect(await upgrade(`?token=${server.token}`)).toBe(101);
  });

  it('a good cookie still works', async () => {
    const page = await request('GET', `/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect((await request('GET', '/index.html', { Cookie: `dlab_token=${encodeURIComponent(server.token)}` })).status).toBe(200);
  });
});

describe('static files', () => {
  it('GET /%ZZ with the token is 400', async () => {
    const r = await request('GET', '/%ZZ', bearer());
    expect(r.status).toBe(400);
    expect((await request('GET', '/assets/%E0%A4%A.js', bearer())).status).toBe(400);
    await stillServes();
  });

  it('traversal never leaves the renderer folder (400/404)', async () => {
    const attempts = [
      '/..%2f..%2fetc/passwd',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/../secret.txt',
      '/..%5csecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2fetc%2fpasswd',
      '/index.html%00',
      '/%00',
      '/..%00/secret.txt',
    ];
    for (const target of attempts) {
      const r = await request('GET', target, bearer());
      expect([400, 404], target).toContain(r.status);
      expect(r.body).not.toContain(SECRET);
      expect(r.body).not.toContain('root:');
    }
    // the same over a raw socket, where no client normalises the path
    const rawAnswer = await raw(`GET /../secret.txt HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${server.token}\r\nConnection: close\r\n\r\n`);
    expect(rawAnswer).toMatch(/^HTTP\/1\.1 40[04] /);
    expect(rawAnswer).not.toContain(SECRET);
    expect((await request('GET', '/index.html%00', bearer())).status).toBe(400);
    await stillServes();
  });
});

describe('malformed HTTP over a raw socket is 400 and the connection ends', () => {
  it('a garbage request line', async () => {
    const answer = await raw('THIS IS NOT HTTP\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    await stillServes();
  });

  it('a malformed header', async () => {
    const answer = await raw(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nthis header has no colon\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const badChars = await raw(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Bad\u0001: a\r\n\r\n`);
    expect(badChars).toMatch(/^HTTP\/1\.1 400 /);
    await stillServes();
  });

  it('an absolute-form target that is not a URL', async () => {
    const answer = await raw(`GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    await stillServes();
  });
});

describe('Origin must be exactly http://<this server>:<port>', () => {
  it('a wrong scheme is refused (403) on requests and on the socket', async () => {
    const api = (origin: string) => request('POST', '/api/lab/info', { ...bearer(), Origin: origin, 'Content-Type': 'application/json' }, '{}');
    for (const scheme of ['https', 'ws', 'wss', 'ftp']) {
      expect((await api(`${scheme}://127.0.0.1:${server.port}`)).status, scheme).toBe(403);
      expect((await api(`${scheme}://localhost:${server.port}`)).status, scheme).toBe(403);
    }
    expect((await api('null')).status).toBe(403);
    expect((await api(`http://127.0.0.1:${server.port}.evil.example`)).status).toBe(403);
    expect(await upgrade(`?token=${server.token}`, { Origin: `https://127.0.0.1:${server.port}` })).toBe(403);
    expect((await api(`http://127.0.0.1:${server.port}`)).status).toBe(200);
    expect((await api(`http://localhost:${server.port}`)).status).toBe(200);
    expect(await upgrade(`?token=${server.token}`, { Origin: `http://127.0.0.1:${server.port}` })).toBe(101);
    await stillServes();
  });
});

describe('exceptions inside the server', () => {
  it('a handler that throws answers a logged 500', async () => {
    const uploads = lab.imports.uploads;
    const receive = uploads.receive.bind(uploads);
    uploads.receive = () => {
      throw new Error('boom inside the upload handler');
    };
    try {
      const r = await request('POST', '/upload?name=x.npz', bearer(), 'abc');
      expect(r.status).toBe(500);
    } finally {
      uploads.receive = receive;
    }
    expect(logged.some((l) => l.includes('boom inside the upload handler'))).toBe(true);
    await stillServes();
  });

  it('a WebSocket frame over the size limit drops that socket, not the server', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await new Promise<void>((resolve) => ws.on('open', () => resolve()));
    const code = await new Promise<number>((resolve) => {
      ws.on('close', (c) => resolve(c));
      ws.on('error', () => undefined);
      ws.send(Buffer.alloc(200 * 1024));
    });
    expect(code).toBe(1009);
    await stillServes();
  });
});

describe('the host', () => {
  it('an empty host is refused by startServer and by dlab serve (exit 2)', async () => {
    await expect(startServer({ lab, rendererDir, host: '' })).rejects.toThrow(/host/);
    await expect(startServer({ lab, rendererDir, host: '  ' })).rejects.toThrow(/host/);
    for (const args of [['--host', ''], ['--host=']]) {
      const r = runDlab(['serve', ...args, '--renderer-dir', rendererDir, '--lab-dir', path.join(tmp.dir, 'cli-lab')]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--host must not be empty/);
      expect(r.stdout).not.toMatch(/http:\/\/:/);
    }
    await stillServes();
  });

  it('0.0.0.0 warns that it listens on all interfaces', async () => {
    const child = spawn(
      process.execPath,
      [dlabBin, 'serve', '--json', '--host', '0.0.0.0', '--port', '0', '--renderer-dir', rendererDir, '--lab-dir', path.join(tmp.dir, 'cli-lab')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    try {
      await new Promise<void>((resolve, reject) => {
        const check = () => stderr.includes('all interfaces') && resolve();
        child.stderr.on('data', check);
        child.on('exit', (code) => reject(new Error(`dlab serve exited ${code}: ${stderr}`)));
      });
      expect(stderr).toMatch(/warning: listening on all interfaces \(0\.0\.0\.0\)/);
    } finally {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
    }
  }, 60_000);
});

describe('dlab with stdout closed early (EPIPE)', () => {
  /** Runs dlab with a reader that stops reading after `keep` bytes (0: before anything is written). */
  function readOnly(args: string[], keep: number): Promise<{ code: number | null; got: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [dlabBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let got = '';
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += String(d)));
      if (keep === 0) child.stdout.destroy();
      else
        child.stdout.on('data', (d) => {
          got += String(d);
          if (got.length >= keep) {
            got = got.slice(0, keep);
            child.stdout.destroy();
          }
        });
      child.on('exit', (code) => resolve({ code, got, stderr }));
    });
  }

  it('dlab info into a reader that closes exits 0 with nothing on stderr', async () => {
    const labDir = path.join(tmp.dir, 'cli-lab');
    // closed before dlab writes: the write certainly fails with EPIPE
    const early = await readOnly(['info', '--lab-dir', labDir], 0);
    expect(early.code).toBe(0);
    expect(early.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(early.stderr).toBe('');
    // like `dlab info | head -c 10`
    const head = await readOnly(['info', '--lab-dir', labDir], 10);
    expect(head.code).toBe(0);
    expect(head.got).toHaveLength(10);
    expect(head.stderr).toBe('');
  }, 60_000);
});
