/**
 * Preload (sandboxed): exposes exactly the contract as `window.lab` —
 * `request(name, payload)` for the contract's requests and `on(name, fn)` for
 * its events. Nothing else of Electron or Node reaches the page.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { channel, isEventName, isRequestName, type LabBridge, type Reply } from '../shared/contract.js';

const bridge: LabBridge = {
  request(name: string, payload: unknown): Promise<Reply<unknown>> {
    if (!isRequestName(name)) {
      return Promise.resolve({ ok: false, error: { code: 'unknown_request', message: `unknown request '${String(name).slice(0, 100)}'` } });
    }
    return ipcRenderer.invoke(channel.request(name), payload) as Promise<Reply<unknown>>;
  },
  on(name: string, listener: (payload: unknown) => void): () => void {
    if (!isEventName(name)) throw new Error(`unknown event '${String(name)}'`);
    const handler = (_e: unknown, msg: { name: string; payload: unknown }) => {
      if (msg.name === name) listener(msg.payload);
    };
    ipcRenderer.on(channel.event, handler);
    return () => ipcRenderer.removeListener(channel.event, handler);
  },
};

contextBridge.exposeInMainWorld('lab', bridge);
