/**
 * Browser mode: the built renderer and the contract over HTTP + WebSocket.
 *
 * - Binds to 127.0.0.1 unless told otherwise.
 * - A random token is part of the printed URL; every request and socket must
 *   carry it (query `token`, header `Authorization: Bearer …`, or the
 *   HttpOnly SameSite=Strict cookie set when the page is opened with it).
 *   Without it: 401.
 * - Requests whose Origin is not this server's own are refused (403), and so
 *   are Host headers that are not this server (DNS rebinding).
 * - Requests: POST /api/<request name> with the JSON payload; the reply is the
 *   contract's envelope. Events: pushed on the WebSocket at /ws.
 * - Uploads: POST /upload?name=<file name> with the file as the body, streamed
 *   to the lab's tmp folder (16 GiB at most); the reply is { uploadId, name,
 *   bytes } for `datasets/import`.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { channel, isRequestName, requestNames } from '../shared/contract.js';
import { dispatch } from '../shared/dispatch.js';
import type { Lab } from '../core/lab.js';
import { DEFAULT_MAX_UPLOAD_BYTES, UploadError } from '../core/datasets/uploads.js';

export interface ServeOptions {
  lab: Lab;
  host?: string;
  port?: number;
  /** Folder of the built renderer (index.html and assets). */
  rendererDir: string;
  token?: string;
  /** Largest accepted request body. */
  maxBodyBytes?: number;
  /** Largest accepted upload (POST /upload; default 16 GiB). */
  maxUploadBytes?: number;
}

export interface RunningServer {
  url: string;
  origin: string;
  port: number;
  host: string;
  token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

const COOKIE = 'dlab_token';

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function tokenOf(req: http.IncomingMessage, url: URL): string | undefined {
  const q = url.searchParams.get('token');
  if (q) return q;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  const cookie = req.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === COOKIE) return decodeURIComponent(v.join('='));
    }
  }
  return undefined;
}

export function csp(origin: string): string {
  const ws = origin.replace(/^http/, 'ws');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url');
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  const rendererDir = path.resolve(opts.rendererDir);
  const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
  let origin = '';
  let allowedHosts = new Set<string>();

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...headers,
    });
    res.end(text);
  };

  const checkOrigin = (req: http.IncomingMessage): string | null => {
    const hostHeader = req.headers.host?.toLowerCase();
    if (!hostHeader) return 'missing Host header';
    if (!loopback) {
      // Bound to a non-loopback address on purpose: any Host, but the page must come from that same host.
      const o = req.headers.origin;
      return o === undefined || o.toLowerCase() === `http://${hostHeader}` ? null : `origin ${o} refused`;
    }
    if (!allowedHosts.has(hostHeader)) return 'unexpected Host header';
    const o = req.headers.origin;
    if (o !== undefined && o !== origin && !allowedHosts.has(o.replace(/^https?:\/\//, '').toLowerCase())) {
      return `origin ${o} refused`;
    }
    return null;
  };

  const serveStatic = (res: http.ServerResponse, urlPath: string, setCookie: boolean) => {
    let rel = decodeURIComponent(urlPath);
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(rendererDir, '.' + rel);
    if (!file.startsWith(rendererDir + path.sep)) return send(res, 404, { code: 'not_found', message: 'not found' });
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      if (rel === '/index.html') {
        return send(res, 503, `The renderer is not built (${rendererDir} has no index.html). Run: npm run build`);
      }
      return send(res, 404, { code: 'not_found', message: 'not found' });
    }
    if (!stat.isFile()) return send(res, 404, { code: 'not_found', message: 'not found' });
    const ext = path.extname(file);
    const headers: Record<string, string> = {
      'Content-Type': MIME[ext] ?? 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': ext === '.html' ? 'no-store' : 'private, max-age=3600',
    };
    if (ext === '.html') {
      headers['Content-Security-Policy'] = csp(origin);
      headers['X-Frame-Options'] = 'DENY';
      headers['Referrer-Policy'] = 'no-referrer';
    }
    if (setCookie) headers['Set-Cookie'] = `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
    res.writeHead(200, headers);
    fs.createReadStream(file).pipe(res);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const originProblem = checkOrigin(req);
    if (originProblem) return send(res, 403, { code: 'unauthorized', message: originProblem });
    const given = tokenOf(req, url);
    if (!given || !safeEqual(given, token)) {
      return send(res, 401, { code: 'unauthorized', message: 'missing or wrong access token: open the URL printed by `dlab serve`' });
    }
    // ---- upload route (dataset files for datasets/import) ----
    if (url.pathname === '/upload') {
      if (req.method !== 'POST') return send(res, 405, { code: 'invalid_payload', message: 'use POST' }, { Allow: 'POST' });
      const maxUpload = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
      const length = req.headers['content-length'];
      const declared = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
      const refuse = (status: number, message: string) => {
        // the client may still be sending: answer, then drop the connection
        send(res, status, { code: 'invalid_payload', message }, { Connection: 'close' });
        res.once('finish', () => req.destroy());
      };
      opts.lab.imports.uploads
        .receive(req, url.searchParams.get('name') ?? '', { maxBytes: maxUpload, declaredBytes: declared })
        .then(
          (u) => send(res, 200, { uploadId: u.id, name: u.name, bytes: u.bytes }),
          (e: unknown) => {
            if (res.headersSent) return;
            if (e instanceof UploadError) refuse(e.status, e.message);
            else refuse(500, `upload failed: ${(e as Error).message}`);
          },
        );
      return;
    }
    // ---- end upload route ----
    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return send(res, 405, { code: 'invalid_payload', message: 'use POST' }, { Allow: 'POST' });
      const name = url.pathname.slice('/api/'.length);
      if (!isRequestName(name)) {
        return send(res, 404, { ok: false, error: { code: 'unknown_request', message: `unknown request '${name.slice(0, 100)}'` } });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let aborted = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody && !aborted) {
          aborted = true;
          send(res, 413, { ok: false, error: { code: 'invalid_payload', message: `request body over ${maxBody} bytes` } });
          req.destroy();
        } else if (!aborted) chunks.push(c);
      });
      req.on('end', () => {
        if (aborted) return;
        let payload: unknown;
        try {
          const text = Buffer.concat(chunks).toString('utf8');
          payload = text.length ? JSON.parse(text) : {};
        } catch {
          return send(res, 400, { ok: false, error: { code: 'invalid_payload', message: 'body is not valid JSON' } });
        }
        void dispatch(opts.lab.handlers, name, payload).then((reply) => {
          const status = reply.ok ? 200 : reply.error.code === 'invalid_payload' ? 400 : reply.error.code === 'not_found' ? 404 : reply.error.code === 'internal' ? 500 : 409;
          send(res, status, reply);
        });
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { code: 'invalid_payload', message: 'method not allowed' });
    serveStatic(res, url.pathname, url.searchParams.has('token'));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const refuse = (status: number, text: string) => {
      socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (url.pathname !== channel.ws) return refuse(404, 'Not Found');
    if (checkOrigin(req)) return refuse(403, 'Forbidden');
    const given = tokenOf(req, url);
    if (!given || !safeEqual(given, token)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      // The socket only carries events to the page; requests go over HTTP.
      ws.on('message', () => ws.close(1003, 'requests go over HTTP'));
      ws.send(JSON.stringify({ type: 'hello', requests: requestNames }));
    });
  });
  const unsubscribe = opts.lab.events.onAny((name, payload) => {
    const text = JSON.stringify({ type: 'event', name, payload });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  origin = `http://${hostForUrl}:${port}`;
  allowedHosts = new Set([`${hostForUrl}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`].map((h) => h.toLowerCase()));
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    host,
    token,
    close: async () => {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
