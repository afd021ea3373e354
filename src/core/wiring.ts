/**
 * The order rooms are built in, and their closing in reverse: each room's
 * close runs once, also when building fails half-way (what was built is
 * closed, then the error goes on).
 */
import type { Room } from './room.js';

export type WiringTrace = (event: 'build' | 'close', room: string) => void;

export class Wiring {
  private readonly built: { name: string; close?: () => void | Promise<void> }[] = [];
  private closing: Promise<void> | null = null;

  constructor(private readonly trace?: WiringTrace) {}

  /** Build one room (synchronously) and remember how to close it. */
  add<R extends Partial<Room<unknown>>>(name: string, build: () => R): R {
    this.trace?.('build', name);
    const room = build();
    this.built.push({ name, ...(room.close ? { close: () => room.close!() } : {}) });
    return room;
  }

  /** Close every built room once, last built first; errors are collected and the first one thrown at the end. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      let first: unknown = null;
      for (const r of [...this.built].reverse()) {
        this.trace?.('close', r.name);
        try {
          await r.close?.();
        } catch (e) {
          first ??= e;
        }
      }
      if (first) throw first;
    })();
    return this.closing;
  }
}
