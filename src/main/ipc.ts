/**
 * ipcMain wiring generated from the contract: one handler per request,
 * every payload validated by the shared dispatcher, events forwarded.
 */
import { channel, requestNames, type Reply } from '../shared/contract.js';
import { dispatch, type Handlers } from '../shared/dispatch.js';

export interface IpcMainLike {
  handle(channel: string, listener: (event: unknown, payload: unknown) => Promise<Reply<unknown>>): void;
  removeHandler(channel: string): void;
}

export function registerIpc(ipc: IpcMainLike, handlers: Handlers): () => void {
  for (const name of requestNames) {
    ipc.handle(channel.request(name), (_event, payload) => dispatch(handlers, name, payload));
  }
  return () => {
    for (const name of requestNames) ipc.removeHandler(channel.request(name));
  };
}
