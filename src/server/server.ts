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
 * - Nothing a client sends can throw out of the server: a malformed cookie or
 *   token is a wrong token (401), a malformed path 400, malformed HTTP 400,
 *   and any other exception in a handler a logged 500 (a destroyed socket for
 *   the WebSocket upgrade).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
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
  /** Where the server reports what went wrong inside it (one line each); default stderr. */
  log?: (line: string) => void;
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

/** decodeURIComponent that answers undefined for malformed percent-encoding instead of throwing. */
function decodeOrUndefined(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The token the request carries; '' when it carries one that cannot be read (a wrong token, never a throw). */
function tokenOf(req: http.IncomingMessage, url: URL): string | undefined {
  const q = url.searchParams.get('token');
  if (q) return q;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  const cookie = req.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === COOKIE) return decodeOrUndefined(v.join('=')) ?? '';
    }
  }
  return undefined;
}

function hasToken(req: http.IncomingMessage, url: URL, token: string): boolean {
  const given = tokenOf(req, url);
  return given ? safeEqual(given, token) : false;
}

/** The request target as a URL; undefined when it cannot be parsed. */
function parseTarget(req: http.IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://placeholder');
  } catch {
    return undefined;
  }
}

const oneLine = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split('\n')[0]!.slice(0, 500);

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

/** Responses shorter than this go uncompressed. */
const GZIP_MIN_BYTES = 1024;

/** Whether an Accept-Encoding header admits gzip (`gzip;q=0` refuses it). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const item of value.split(',')) {
    const [name, ...params] = item.trim().toLowerCase().split(';');
    if (name !== 'gzip' && name !== 'x-gzip') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  }
  return false;
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (host.trim() === '') throw new Error('host must not be empty (use 127.0.0.1, or 0.0.0.0 for every interface)');
  const log = opts.log ?? ((line: string) => void process.stderr.write(`dlab serve: ${line}\n`));
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url');
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  const rendererDir = path.resolve(opts.rendererDir);
  const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
  let origin = '';
  let allowedHosts = new Set<string>();
  let allowedOrigins = new Set<string>();

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    // gzip what is worth it when the client accepts it (a page of runs: ≈10× smaller)
    const gzip = text.length >= GZIP_MIN_BYTES && acceptsGzip(res.req?.headers['accept-encoding']);
    const payload = gzip ? zlib.gzipSync(text, { level: text.length > 1 << 20 ? 1 : 6 }) : text;
    res.writeHead(status, {
      'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...(gzip ? { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' } : {}),
      ...headers,
    });
    res.end(payload);
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
    // The page's origin, scheme included: exactly http://<one of this server's names>:<port>.
    const o = req.headers.origin;
    if (o !== undefined && !allowedOrigins.has(o.toLowerCase())) return `origin ${o.slice(0, 200)} refused`;
    return null;
  };

  const serveStatic = (res: http.ServerResponse, urlPath: string, setCookie: boolean) => {
    let rel = decodeOrUndefined(urlPath);
    if (rel === undefined) return send(res, 400, { code: 'invalid_payload', message: 'malformed percent-encoding in the path' });
    if (rel.includes('\0')) return send(res, 400, { code: 'invalid_payload', message: 'NUL in the path' });
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
    const stream = fs.createReadStream(file);
    stream.on('error', (e) => {
      log(`reading ${file} failed: ${oneLine(e)}`);
      res.destroy();
    });
    stream.pipe(res);
  };

  /** The answer to a request whose handler failed: a 500 if nothing was sent yet, else the connection dropped. */
  const failed = (req: http.IncomingMessage, res: http.ServerResponse, e: unknown) => {
    log(`${req.method ?? '?'} ${(req.url ?? '').slice(0, 200)} failed: ${oneLine(e)}`);
    try {
      if (!res.headersSent) send(res, 500, { ok: false, error: { code: 'internal', message: 'internal server error' } }, { Connection: 'close' });
      else res.destroy();
    } catch {
      res.destroy();
    }
  };

  /** Runs fn; an exception it throws (e.g. from a 'data' or 'end' listener) answers 500 instead of escaping. */
  const guarded =
    <A extends unknown[]>(req: http.IncomingMessage, res: http.ServerResponse, fn: (...a: A) => void) =>
    (...a: A) => {
      try {
        fn(...a);
      } catch (e) {
        failed(req, res, e);
      }
    };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.on('error', () => undefined); // a client that goes away mid-body is not our failure
    const url = parseTarget(req);
    if (!url) return send(res, 400, { code: 'invalid_payload', message: 'malformed request target' });
    const originProblem = checkOrigin(req);
    if (originProblem) return send(res, 403, { code: 'unauthorized', message: originProblem });
    if (!hasToken(req, url, token)) {
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
        )
        .catch((e: unknown) => failed(req, res, e));
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
      req.on('data', guarded(req, res, (c: Buffer) => {
        size += c.length;
        if (size > maxBody && !aborted) {
          aborted = true;
          send(res, 413, { ok: false, error: { code: 'invalid_payload', message: `request body over ${maxBody} bytes` } });
          req.destroy();
        } else if (!aborted) chunks.push(c);
      }));
      req.on('end', guarded(req, res, () => {
        if (aborted) return;
        let payload: unknown;
        try {
          const text = Buffer.concat(chunks).toString('utf8');
          payload = text.length ? JSON.parse(text) : {};
        } catch {
          return send(res, 400, { ok: false, error: { code: 'invalid_payload', message: 'body is not valid JSON' } });
        }
        // dispatch is called inside the promise chain, so a synchronous throw is caught too
        const t0 = performance.now();
        Promise.resolve()
          .then(() => dispatch(opts.lab.handlers, name, payload))
          .then((reply) => {
            const status = reply.ok ? 200 : reply.error.code === 'invalid_payload' ? 400 : reply.error.code === 'not_found' ? 404 : reply.error.code === 'internal' ? 500 : 409;
            // the handler's time (validation, the engine, the reply's validation), for the browser's devtools and the screens' timings
            send(res, status, reply, { 'Server-Timing': `app;dur=${(performance.now() - t0).toFixed(1)}` });
          })
          .catch((e: unknown) => failed(req, res, e));
      }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { code: 'invalid_payload', message: 'method not allowed' });
    serveStatic(res, url.pathname, url.searchParams.has('token'));
  };

  const server = http.createServer((req, res) => guarded(req, res, handle)(req, res));

  // Malformed HTTP (a garbage request line, a bad header, headers too large, a timeout): answer and close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    try {
      if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
      const [status, text] =
        err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] : [400, 'Bad Request'];
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } catch {
      socket.destroy();
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const sockets = new Set<WebSocket>();
  wss.on('error', (e) => log(`websocket server: ${oneLine(e)}`));
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // the http server no longer watches this socket: a reset while we answer must not become an uncaught 'error'
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string) => {
      socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    try {
      const url = parseTarget(req);
      if (!url) return refuse(400, 'Bad Request');
      if (url.pathname !== channel.ws) return refuse(404, 'Not Found');
      if (checkOrigin(req)) return refuse(403, 'Forbidden');
      if (!hasToken(req, url, token)) return refuse(401, 'Unauthorized');
      wss.handleUpgrade(req, socket, head, (ws) => {
        sockets.add(ws);
        ws.on('close', () => sockets.delete(ws));
        // e.g. a frame over maxPayload: drop that socket, not the server
        ws.on('error', () => ws.terminate());
        // The socket only carries events to the page; requests go over HTTP.
        ws.on('message', () => ws.close(1003, 'requests go over HTTP'));
        ws.send(JSON.stringify({ type: 'hello', requests: requestNames }));
      });
    } catch (e) {
      log(`websocket upgrade ${(req.url ?? '').slice(0, 200)} failed: ${oneLine(e)}`);
      socket.destroy();
    }
  });
  const unsubscribe = opts.lab.events.onAny((name, payload) => {
    try {
      const text = JSON.stringify({ type: 'event', name, payload });
      for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
    } catch (e) {
      log(`pushing event ${name} failed: ${oneLine(e)}`);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  origin = `http://${hostForUrl}:${port}`;
  allowedHosts = new Set([`${hostForUrl}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`].map((h) => h.toLowerCase()));
  allowedOrigins = new Set([...allowedHosts].map((h) => `http://${h}`));
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
