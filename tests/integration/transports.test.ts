import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Lab } from '../../src/core/lab.js';
import { registerIpc, type IpcMainLike } from '../../src/main/ipc.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { channel, type Reply, type RequestName } from '../../src/shared/contract.js';
import { tmpDir } from '../helpers/tmp.js';

let lab: Lab;
let server: RunningServer;
const tmp = tmpDir();
const ipcHandlers = new Map<string, (e: unknown, p: unknown) => Promise<Reply<unknown>>>();

beforeAll(async () => {
  const rendererDir = path.join(tmp.dir, 'renderer');
  fs.mkdirSync(rendererDir);
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  lab = await Lab.open({ labDir: path.join(tmp.dir, 'lab') });
  server = await startServer({ lab, rendererDir });
  const ipc: IpcMainLike = { handle: (c, fn) => ipcHandlers.set(c, fn), removeHandler: (c) => ipcHandlers.delete(c) };
  registerIpc(ipc, lab.handlers);
});
afterAll(async () => {
  await server.close();
  await lab.close();
  tmp.cleanup();
});

async function http(name: string, payload: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.origin}/api/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}`, ...headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  return { status: res.status, body: (await res.json()) as Reply<unknown> };
}
const ipc = (name: RequestName, payload: unknown) => ipcHandlers.get(channel.request(name))!({}, payload);

describe('both transports', () => {
  const same: [RequestName, unknown][] = [
    ['lab/info', {}],
    ['datasets/list', {}],
    ['datasets/get', { id: 'dsprites' }],
    ['datasets/samples', { id: 'dsprites', count: 4, seed: 11 }],
    ['datasets/samples', { id: 'dsprites', indices: [0, 1, 737279] }],
    ['datasets/traverse', { id: 'dsprites', index: 12345, factor: 2, steps: 5 }],
  ];
  for (const [name, payload] of same) {
    it(`${name} gives the same answer over HTTP and IPC`, async () => {
      const a = await http(name, payload);
      const b = await ipc(name, payload);
      expect(a.status).toBe(200);
      expect(a.body).toEqual(b);
      expect(a.body.ok).toBe(true);
    });
  }

  it('samples carry the right factors and images', async () => {
    const r = await ipc('datasets/samples', { id: 'dsprites', indices: [0, 737279] });
    if (!r.ok) throw new Error(r.error.message);
    const res = r.result as { factors: number[][]; images: { shape: number[]; dataBase64: string } };
    expect(res.factors).toEqual([[0, 0, 0, 0, 0], [2, 5, 39, 31, 31]]);
    expect(res.images.shape).toEqual([2, 64, 64, 1]);
    const bytes = Buffer.from(res.images.dataBase64, 'base64');
    expect(bytes.length).toBe(2 * 4096);
    expect(new Set(bytes)).toEqual(new Set([0, 255]));
  });

  it('a traversal varies only the chosen factor', async () => {
    const r = await ipc('datasets/traverse', { id: 'dsprites', factors: [1, 2, 3, 4, 5], factor: 3 });
    if (!r.ok) throw new Error(r.error.message);
    const f = (r.result as { factors: number[][] }).factors;
    expect(f).toHaveLength(32);
    f.forEach((row, i) => expect(row).toEqual([1, 2, 3, i, 5]));
  });

  it('invalid payloads give the same typed error on both, and the server stays up', async () => {
    for (const [name, payload] of [
      ['datasets/get', { id: 7 }],
      ['datasets/samples', { id: 'dsprites', count: 100000 }],
      ['datasets/traverse', { id: 'dsprites', index: 0, factor: 9 }],
      ['datasets/samples', { id: 'dsprites', indices: [737280] }],
    ] as [RequestName, unknown][]) {
      const a = await http(name, payload);
      const b = await ipc(name, payload);
      expect(a.status).toBe(400);
      expect(a.body).toEqual(b);
      expect(a.body).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    }
    const missing = await http('datasets/get', { id: 'nope' });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const notJson = await http('datasets/get', '{not json');
    expect(notJson.status).toBe(400);
    const unknown = await http('system/exec', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ ok: false, error: { code: 'unknown_request' } });
    const big = await http('datasets/get', JSON.stringify({ id: 'x'.repeat(2 << 20) }));
    expect(big.status).toBe(413);
    expect((await http('lab/info', {})).status).toBe(200);
  });
});

describe('browser-mode security', () => {
  it('refuses requests and pages without the token (401)', async () => {
    expect((await fetch(`${server.origin}/`)).status).toBe(401);
    expect((await fetch(`${server.origin}/?token=wrong`)).status).toBe(401);
    const api = await fetch(`${server.origin}/api/lab/info`, { method: 'POST', body: '{}' });
    expect(api.status).toBe(401);
    expect((await http('lab/info', {}, { Authorization: 'Bearer nope' })).status).toBe(401);
  });

  it('serves the page with the token, sets a strict cookie and CSP', async () => {
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/dlab_token=.*HttpOnly; SameSite=Strict/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${server.origin}/index.html`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${server.origin}/..%2f..%2fetc/passwd`, { headers: { cookie } })).status).toBe(404);
  });

  it('refuses other origins and foreign Host headers (403)', async () => {
    expect((await http('lab/info', {}, { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await http('lab/info', {}, { Origin: server.origin })).status).toBe(200);
  });

  it('WebSocket: 401 without the token, events with it', async () => {
    const wsUrl = server.origin.replace('http', 'ws') + '/ws';
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(wsUrl);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(401);
    const foreign = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${wsUrl}?token=${server.token}`, { headers: { Origin: 'http://evil.example' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(foreign).toBe(403);
    const ws = new WebSocket(`${wsUrl}?token=${server.token}`);
    const messages: unknown[] = [];
    await new Promise<void>((resolve) => {
      ws.on('message', (m) => {
        messages.push(JSON.parse(String(m)));
        if (messages.length === 2) resolve();
        if (messages.length === 1) lab.events.emit('lab/log', { level: 'info', message: 'hello' });
      });
    });
    expect(messages[0]).toMatchObject({ type: 'hello' });
    expect(messages[1]).toEqual({ type: 'event', name: 'lab/log', payload: { level: 'info', message: 'hello' } });
    ws.close();
  });
});
