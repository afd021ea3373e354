import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { Wiring } from '../../src/core/wiring.js';
import { tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());
const ROOMS = ['store', 'jobs', 'datasets', 'runs', 'perturbations', 'studies', 'cluster', 'export', 'app'];

describe('the wiring place', () => {
  it('builds the rooms in order and closes each once, in reverse build order', async () => {
    const events: string[] = [];
    const lab = await Lab.open({ labDir: path.join(tmp.dir, 'a'), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false, trace: (e, r) => events.push(`${e} ${r}`) });
    expect(events).toEqual(ROOMS.map((r) => `build ${r}`));
    expect((await lab.handlers['lab/info']({})).backend).toBe('cpu');
    await Promise.all([lab.close(), lab.close()]);
    await lab.close();
    expect(events.slice(ROOMS.length)).toEqual([...ROOMS].reverse().map((r) => `close ${r}`));
  });

  it('a closed lab leaves no listener on the process: opening and closing twelve labs adds none', async () => {
    const before = process.listenerCount('exit');
    for (let i = 0; i < 12; i++) {
      const lab = await Lab.open({ labDir: path.join(tmp.dir, `l${i}`), backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
      expect(process.listenerCount('exit')).toBeGreaterThan(before); // the perturbations room's draft cleanup, while open
      await lab.close();
      expect(process.listenerCount('exit')).toBe(before);
    }
  });

  it('when building fails half-way, closes what was built (in reverse) and nothing else, and the store is closed', async () => {
    const events: string[] = [];
    const trace = (e: 'build' | 'close', r: string) => {
      events.push(`${e} ${r}`);
      if (e === 'build' && r === 'studies') throw new Error('studies room refused to build');
    };
    const dir = path.join(tmp.dir, 'b');
    await expect(Lab.open({ labDir: dir, backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false, trace })).rejects.toThrow(/studies room refused/);
    await new Promise((r) => setTimeout(r, 50));
    const built = ['store', 'jobs', 'datasets', 'runs', 'perturbations'];
    expect(events).toEqual([...built.map((r) => `build ${r}`), 'build studies', ...[...built].reverse().map((r) => `close ${r}`)]);
    // the store was closed: the same lab opens again (and closes cleanly)
    const again = await Lab.open({ labDir: dir, backend: { backend: 'cpu', notes: [] }, adoptQueuedRuns: false });
    await again.close();
  });

  it('Wiring: a close that throws does not stop the others; the first error is reported', async () => {
    const calls: string[] = [];
    const w = new Wiring();
    w.add('a', () => ({ close: () => void calls.push('a') }));
    w.add('b', () => ({
      close: () => {
        calls.push('b');
        throw new Error('b failed');
      },
    }));
    w.add('c', () => ({ close: async () => void calls.push('c') }));
    await expect(w.close()).rejects.toThrow('b failed');
    await expect(w.close()).rejects.toThrow('b failed');
    expect(calls).toEqual(['c', 'b', 'a']);
  });
});
