/**
 * A room of the engine: what its factory returns to the wiring place
 * (`lab.ts`) — its contract handlers, its services for the rooms built after
 * it, and how to close it. Rooms are built in order and closed in reverse.
 */
export interface Room<H> {
  handlers: H;
  close?(): void | Promise<void>;
}
