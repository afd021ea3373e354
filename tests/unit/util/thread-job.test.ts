/**
 * The worker-thread pool (src/core/util/thread-job.ts) on a fixture worker:
 * results and moved buffers, error codes, timeouts and cancels that stop the
 * thread, the queue cap, idle threads ending by themselves.
 */
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { typeScriptThreadEntry } from '../../../src/core/threads.js';
import { ThreadPool, transferablesOf, type ThreadPoolOptions } from '../../../src/core/util/thread-job.js';
import { LabError } from '../../../src/shared/contract.js';
import type { fixtureTasks } from './thread-fixture.js';

const entry = () => typeScriptThreadEntry(path.join(__dirname, 'thread-fixture.ts'));
let pool: ThreadPool<typeof fixtureTasks> | undefined;
const make = (opts: Partial<ThreadPoolOptions> = {}) => (pool = new ThreadPool<typeof fixtureTasks>({ entry, ...opts }));
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    expect(e).toBeInstanceOf(LabError);
    return `${(e as LabError).code}: ${(e as LabError).message}`;
  }
};

describe('ThreadPool', () => {
  it('runs tasks in a thread and moves typed arrays both ways', async () => {
    const p = make();
    expect(await p.run('add', { x: 2, y: 3 })).toBe(5);
    const values = new Float64Array([1, 2, 3.5]);
    const r = await p.run('double', { values }, { transfer: [values.buffer] });
    expect(values.byteLength).toBe(0); // moved, not copied
    expect(r.received).toBe(3);
    expect(Array.from(r.out)).toEqual([2, 4, 7]);
    expect(await p.run('threadId', undefined as never)).toBeGreaterThan(0);
  });

  it('errors come back as LabError with their code; a plain Error is internal', async () => {
    const p = make();
    expect(await codeOf(p.run('fail', { code: 'invalid_payload' }))).toBe('invalid_payload: failed with invalid_payload');
    expect(await codeOf(p.run('fail', { code: 'not_found' }))).toBe('not_found: failed with not_found');
    expect(await codeOf(p.run('fail', { code: 'plain' }))).toBe('internal: a plain error');
    expect(await p.run('add', { x: 1, y: 1 })).toBe(2); // the thread is still fine
  });

  it('a job over its timeout is stopped (cancelled) and the pool goes on with a fresh thread', async () => {
    const p = make({ maxThreads: 1 });
    const first = await p.run('threadId', undefined as never);
    const t0 = Date.now();
    expect(await codeOf(p.run('spin', { ms: 60_000 }, { timeoutMs: 300 }))).toMatch(/^cancelled: spin took longer than 0.3 s and was stopped/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await p.run('add', { x: 4, y: 4 })).toBe(8);
    expect(await p.run('threadId', undefined as never)).not.toBe(first);
  });

  it('an abort stops a running job and drops a waiting one', async () => {
    const p = make({ maxThreads: 1 });
    const ac = new AbortController();
    const running = p.run('spin', { ms: 60_000 }, { signal: ac.signal });
    const waiting = p.run('add', { x: 1, y: 2 }, { signal: ac.signal });
    const other = p.run('add', { x: 5, y: 5 });
    setTimeout(() => ac.abort(), 200);
    expect(await codeOf(running)).toBe('cancelled: spin was cancelled');
    expect(await codeOf(waiting)).toBe('cancelled: add was cancelled');
    expect(await other).toBe(10);
    expect(await codeOf(p.run('add', { x: 1, y: 1 }, { signal: ac.signal }))).toMatch(/^cancelled/);
  });

  it('at most maxThreads run; beyond maxQueued waiting a job is refused (conflict)', async () => {
    const p = make({ maxThreads: 2, maxQueued: 1 });
    const a = p.run('spin', { ms: 300 });
    const b = p.run('spin', { ms: 300 });
    const c = p.run('add', { x: 1, y: 1 }); // waits
    expect(p.size).toBe(2);
    expect(await codeOf(p.run('add', { x: 1, y: 1 }))).toMatch(/^conflict: too many heavy requests at once \(2 running, 1 waiting\)/);
    await Promise.all([a, b]);
    expect(await c).toBe(2);
  });

  it('a thread that runs out of memory fails its job (internal), not the process', async () => {
    const p = make({ maxHeapMb: 32 });
    expect(await codeOf(p.run('hog', undefined as never))).toMatch(/^internal: hog failed: its worker thread ran out of memory/);
    expect(await p.run('add', { x: 3, y: 4 })).toBe(7);
  });

  it('idle threads end by themselves; a closed pool refuses work', async () => {
    const p = make({ idleMs: 100 });
    await p.run('add', { x: 1, y: 1 });
    expect(p.size).toBe(1);
    await new Promise((r) => setTimeout(r, 600));
    expect(p.size).toBe(0);
    expect(await p.run('add', { x: 2, y: 2 })).toBe(4); // started again on demand
    await p.close();
    expect(await codeOf(p.run('add', { x: 1, y: 1 }))).toMatch(/^cancelled: the lab is closing/);
  });
});

describe('transferablesOf', () => {
  it('moves typed arrays that own their buffer, never a view into a shared slab', () => {
    const own = new Uint8Array(16);
    const pooled = Buffer.from('small'); // from Node's shared pool
    expect(transferablesOf(own)).toEqual([own.buffer]);
    expect(transferablesOf({ own, pooled, n: 1 })).toEqual([own.buffer]);
    expect(transferablesOf(pooled)).toEqual([]);
    expect(transferablesOf('text')).toEqual([]);
  });
});
