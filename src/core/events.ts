/** The Lab's event bus; transports forward every event to the UI. */
import type { EventName, EventPayload } from '../shared/contract.js';

type AnyListener = (name: EventName, payload: unknown) => void;

export class EventBus {
  private listeners = new Set<AnyListener>();

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    for (const l of [...this.listeners]) {
      try {
        l(name, payload);
      } catch {
        // a failing listener (e.g. a closed socket) never breaks the engine
      }
    }
  }

  onAny(listener: AnyListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void {
    return this.onAny((n, p) => {
      if (n === name) listener(p as EventPayload<E>);
    });
  }
}
