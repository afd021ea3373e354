/**
 * Server side of the contract, shared by both transports: validate the name
 * and the payload, call the handler, wrap the result or the error in a Reply.
 */
import { LabError, isRequestName, parseInput, type Reply, type Requests } from './contract.js';
import type { z } from 'zod';

type RequestTable = Record<string, { input: z.ZodType; output: z.ZodType }>;

/** Handlers for one room's request table (a room's handler factory returns this). */
export type HandlersFor<R extends RequestTable> = {
  [N in keyof R]: (input: z.output<R[N]['input']>) => Promise<z.output<R[N]['output']>> | z.output<R[N]['output']>;
};

export type Handlers = HandlersFor<Requests>;

export async function dispatch(handlers: Handlers, name: unknown, payload: unknown): Promise<Reply<unknown>> {
  try {
    if (!isRequestName(name)) throw new LabError('unknown_request', `unknown request '${String(name).slice(0, 100)}'`);
    const input = parseInput(name, payload);
    const handler = handlers[name] as (input: unknown) => Promise<unknown> | unknown;
    const result = await handler(input);
    return { ok: true, result };
  } catch (e) {
    if (e instanceof LabError) return { ok: false, error: e.toJSON() };
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, error: { code: 'internal', message } };
  }
}
