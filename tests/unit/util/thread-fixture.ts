/** A worker-thread entry for tests/unit/util/thread-job.test.ts: tasks that answer, fail, spin and move bytes. */
import { LabError } from '../../../src/shared/contract.js';
import { serveThreadTasks } from '../../../src/core/util/thread-job.js';

export const fixtureTasks = {
  add: (a: { x: number; y: number }) => a.x + a.y,
  /** Doubles every value; the result's buffer is moved back. */
  double: (a: { values: Float64Array }) => {
    const out = new Float64Array(a.values.length);
    for (let i = 0; i < out.length; i++) out[i] = 2 * a.values[i]!;
    return { out, received: a.values.length };
  },
  fail: (a: { code: 'invalid_payload' | 'not_found' | 'plain' }) => {
    if (a.code === 'plain') throw new Error('a plain error');
    throw new LabError(a.code, `failed with ${a.code}`);
  },
  /** Busy for ms milliseconds (synchronous: only terminating the thread stops it). */
  spin: (a: { ms: number }) => {
    const end = Date.now() + a.ms;
    let n = 0;
    while (Date.now() < end) n++;
    return n;
  },
  /** Allocates until the thread's heap limit stops it. */
  hog: () => {
    const keep: number[][] = [];
    for (;;) keep.push(Array.from({ length: 1 << 16 }, (_, i) => i + keep.length));
  },
  threadId: async () => (await import('node:worker_threads')).threadId,
};

serveThreadTasks(fixtureTasks);
