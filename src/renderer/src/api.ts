/**
 * The renderer's typed client for the contract. Under Electron it talks to
 * the preload's `window.lab`; in a browser it uses HTTP + WebSocket against
 * `dlab serve` (the access token comes from the page URL or its cookie).
 */
import {
  LabError,
  channel,
  type EventName,
  type EventPayload,
  type LabApi,
  type Reply,
  type RequestInput,
  type RequestName,
  type RequestOutput,
} from '../../shared/contract';

function unwrap<T>(reply: Reply<T>): T {
  if (reply.ok) return reply.result;
  throw LabError.from(reply.error);
}

function electronClient(bridge: NonNullable<Window['lab']>): LabApi & { transport: string } {
  return {
    transport: 'electron',
    async request(name, input) {
      return unwrap(await bridge.request(name, input)) as never;
    },
    on(name, listener) {
      return bridge.on(name, listener as (p: unknown) => void);
    },
  };
}

function browserClient(): LabApi & { transport: string } {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token') ?? sessionStorage.getItem('dlab-token') ?? '';
  if (token) sessionStorage.setItem('dlab-token', token);
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  let socket: WebSocket | null = null;
  let retry = 500;
  const connect = () => {
    const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${channel.ws}?token=${encodeURIComponent(token)}`;
    socket = new WebSocket(wsUrl);
    socket.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as { type: string; name?: string; payload?: unknown };
      if (msg.type === 'event' && msg.name) for (const l of listeners.get(msg.name) ?? []) l(msg.payload);
    };
    socket.onopen = () => (retry = 500);
    socket.onclose = () => {
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10_000);
    };
  };
  connect();
  return {
    transport: 'browser',
    async request<N extends RequestName>(name: N, input: RequestInput<N>): Promise<RequestOutput<N>> {
      const res = await fetch(channel.httpPath(name), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(input),
      });
      let reply: Reply<RequestOutput<N>>;
      try {
        reply = (await res.json()) as Reply<RequestOutput<N>>;
      } catch {
        throw new LabError('internal', `HTTP ${res.status} from the lab server`);
      }
      if (res.status === 401 || res.status === 403) {
        const e = reply as unknown as { message?: string };
        throw new LabError('unauthorized', e.message ?? 'not authorised');
      }
      return unwrap(reply);
    },
    on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void) {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener as (p: unknown) => void);
      return () => set!.delete(listener as (p: unknown) => void);
    },
  };
}

export const lab: LabApi & { transport: string } = window.lab ? electronClient(window.lab) : browserClient();

// ---- dataset file uploads (browser mode; see the server's POST /upload) ----

/** Whether files can be sent to the Lab from the page (browser mode; the desktop app passes paths instead). */
export const canUpload = lab.transport === 'browser';

export interface UploadedFile {
  uploadId: string;
  name: string;
  bytes: number;
}

/**
 * Stream a file to `POST /upload?name=…` (XMLHttpRequest, for upload
 * progress); resolves with the id that `datasets/import` takes.
 */
export function uploadFile(file: File, opts: { onProgress?: (sent: number, total: number) => void; signal?: AbortSignal } = {}): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/upload?name=${encodeURIComponent(file.name)}`);
    const token = new URL(window.location.href).searchParams.get('token') ?? sessionStorage.getItem('dlab-token');
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let body: Partial<UploadedFile> & { message?: string } = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        /* not JSON */
      }
      if (xhr.status === 200 && body.uploadId) resolve(body as UploadedFile);
      else {
        const code = xhr.status === 401 || xhr.status === 403 ? 'unauthorized' : 'invalid_payload';
        reject(new LabError(code, body.message ?? `upload failed (HTTP ${xhr.status})`));
      }
    };
    xhr.onerror = () => reject(new LabError('internal', 'upload failed: the connection to the lab server was lost'));
    xhr.onabort = () => reject(new LabError('cancelled', 'upload cancelled'));
    opts.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}
