import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../../src/core/store/db.js';
import { RunRepository, type LeaseHolder } from '../../../src/core/store/runs.js';
import { hostKey, newOwnerId, ownerGone, parseOwnerId, pidAlive } from '../../../src/core/util/process.js';
import type { RunConfig } from '../../../src/shared/runs.js';

const dirs: string[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const config: RunConfig = {
  model: 'beta_vae',
  params: { beta: 4 },
  datasetId: 'dsprites',
  arch: 'fc',
  latent: 4,
  steps: 10,
  batch: 4,
  lr: 1e-3,
  seed: 1,
  progressEvery: 1,
  checkpointEvery: 5,
  codesSamples: 0,
  evaluate: [],
};

function repo() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dlab-lease-'));
  dirs.push(d);
  const db = openDb(path.join(d, 'lab.sqlite'));
  cleanups.push(() => db.close());
  const runs = new RunRepository(db);
  const add = (id: string, status = 'queued') => {
    runs.insert(id, config);
    db.prepare('UPDATE runs SET status = ? WHERE id = ?').run(status, id);
  };
  const forge = (id: string, ownerId: string | null, pid: number | null, leaseUntil: number | null) =>
    db.prepare('UPDATE runs SET owner_id = ?, owner_pid = ?, lease_until = ? WHERE id = ?').run(ownerId, pid, leaseUntil, id);
  return { db, runs, add, forge };
}

const TTL = 10_000;
const holder = (pid = process.pid): LeaseHolder => ({ ownerId: newOwnerId(pid), pid, ttlMs: TTL });
/** A pid no process has (above any pid_max). */
const DEAD_PID = 2 ** 30 - 3;

describe('owner ids', () => {
  it('name the host, the pid and a random part, and parse back', () => {
    const a = newOwnerId();
    expect(a).not.toBe(newOwnerId());
    expect(parseOwnerId(a)).toEqual({ host: hostKey(), pid: process.pid });
    expect(parseOwnerId('nonsense')).toBeNull();
  });

  it('an owner is provably gone only on this host with its pid dead', () => {
    expect(pidAlive(DEAD_PID)).toBe(false);
    expect(ownerGone(newOwnerId(DEAD_PID))).toBe(true);
    expect(ownerGone(newOwnerId(process.pid))).toBe(false);
    expect(ownerGone(`some-other-host:${DEAD_PID}:x`)).toBe(false);
    expect(ownerGone('legacy')).toBe(false);
  });
});

describe('run leases', () => {
  it('claim: one owner wins; another takes the run only once the lease has run out', () => {
    const { runs, add } = repo();
    add('r');
    const a = holder();
    const b = holder();
    const t = 1_000_000;
    expect(runs.claim('r', a, t)).toBe(true);
    expect(runs.owner('r')).toMatchObject({ ownerId: a.ownerId, pid: process.pid, leaseUntil: t + TTL, heartbeatAt: t });
    expect(runs.claim('r', b, t + 1)).toBe(false);
    expect(runs.heldElsewhere('r', b.ownerId, t + 1)).toBe(true);
    expect(runs.heldElsewhere('r', a.ownerId, t + 1)).toBe(false);
    expect(runs.claim('r', a, t + 1)).toBe(true); // its own again
    expect(runs.claim('r', b, t + 1 + TTL)).toBe(true);
    expect(runs.owner('r')!.ownerId).toBe(b.ownerId);
  });

  it('claim only takes queued runs', () => {
    const { runs, add } = repo();
    add('f', 'finished');
    expect(runs.claim('f', holder())).toBe(false);
    expect(runs.claim('missing', holder())).toBe(false);
  });

  it('a fresh lease of a provably dead owner on this host does not pin the run', () => {
    const { runs, add, forge } = repo();
    add('r');
    forge('r', newOwnerId(DEAD_PID), DEAD_PID, Date.now() + 60_000);
    expect(runs.claim('r', holder())).toBe(true);
  });

  it('a fresh lease of an owner on another host holds, whatever its pid means here', () => {
    const { runs, add, forge } = repo();
    add('r');
    forge('r', `another-host:${DEAD_PID}:abc`, DEAD_PID, Date.now() + 60_000);
    expect(runs.claim('r', holder())).toBe(false);
    forge('r', `another-host:${DEAD_PID}:abc`, DEAD_PID, Date.now() - 1);
    expect(runs.claim('r', holder())).toBe(true);
  });

  it('markOrphansInterrupted: expired, ownerless and own-but-idle runs are interrupted; live leases are left alone', () => {
    const { runs, add, forge } = repo();
    const self = holder();
    const now = Date.now();
    for (const id of ['expired-live-pid', 'expired-pid1', 'no-owner', 'fresh', 'mine-active', 'mine-idle', 'legacy-pid', 'queued-expired']) add(id, 'running');
    runs.setStatus('queued-expired', 'queued');
    forge('expired-live-pid', `${hostKey()}:${process.pid}:old`, process.pid, now - 1); // pid alive but unrelated (reused)
    forge('expired-pid1', `${hostKey()}:1:old`, 1, now - 5000);
    forge('fresh', `${hostKey()}:${process.pid}:other`, process.pid, now + 5000);
    forge('mine-active', self.ownerId, process.pid, now + 5000);
    forge('mine-idle', self.ownerId, process.pid, now + 5000);
    forge('legacy-pid', null, process.pid, null); // written by schema v3: a bare pid, no lease
    forge('queued-expired', `${hostKey()}:1:old`, 1, now - 1);
    const marked = runs.markOrphansInterrupted(self.ownerId, now, (id) => id === 'mine-active');
    expect(marked.sort()).toEqual(['expired-live-pid', 'expired-pid1', 'legacy-pid', 'mine-idle', 'no-owner']);
    for (const id of marked) {
      expect(runs.summary(id)!.status).toBe('interrupted');
      expect(runs.owner(id)).toEqual({ ownerId: null, pid: null, leaseUntil: null, heartbeatAt: null, control: null });
    }
    expect(runs.summary('expired-pid1')!.error).toMatch(/stopped renewing its lease/);
    expect(runs.summary('fresh')!.status).toBe('running');
    expect(runs.summary('mine-active')!.status).toBe('running');
    expect(runs.summary('queued-expired')!.status).toBe('queued');
    // an interrupted run resumes: queued, then claimable (the old bare-pid owner never blocks it)
    runs.setStatus('expired-live-pid', 'queued');
    expect(runs.claim('expired-live-pid', self)).toBe(true);
  });

  it('a zombie owner (pid alive to kill -0) holds only until its lease runs out', async () => {
    if (process.platform !== 'linux') return;
    // `sleep 0` exits and stays a zombie: its parent (exec'd into `sleep 30`) never reaps it
    const sh = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    cleanups.push(() => sh.kill('SIGKILL'));
    const zombie = Number(await new Promise<string>((resolve) => sh.stdout!.once('data', (d) => resolve(String(d).trim()))));
    for (let i = 0; i < 100 && !/\) Z /.test(fs.readFileSync(`/proc/${zombie}/stat`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 20));
    expect(fs.readFileSync(`/proc/${zombie}/stat`, 'utf8')).toMatch(/\) Z /);
    expect(pidAlive(zombie)).toBe(true);
    const { runs, add, forge } = repo();
    add('r', 'running');
    const self = holder();
    const now = Date.now();
    forge('r', `${hostKey()}:${zombie}:z`, zombie, now + 2000);
    expect(runs.markOrphansInterrupted(self.ownerId, now)).toEqual([]);
    expect(runs.markOrphansInterrupted(self.ownerId, now + 2000)).toEqual(['r']);
    runs.setStatus('r', 'queued');
    expect(runs.claim('r', self, now + 2000)).toBe(true);
  });

  it('heartbeats renew the lease; a lease taken away is reported lost, reclaimed while nobody else took the run', () => {
    const { runs, add } = repo();
    add('a');
    add('b');
    const self = holder();
    const other = holder();
    const t = 5_000_000;
    expect(runs.claim('a', self, t)).toBe(true);
    expect(runs.claim('b', self, t)).toBe(true);
    runs.setStatus('a', 'running');
    runs.setStatus('b', 'running');
    expect(runs.renewLeases(['a', 'b'], self, t + 1000)).toEqual([]);
    expect(runs.owner('a')).toMatchObject({ leaseUntil: t + 1000 + TTL, heartbeatAt: t + 1000 });
    // our event loop stalls; another process marks both interrupted, then resumes and takes b
    expect(runs.markOrphansInterrupted(other.ownerId, t + 1000 + TTL).sort()).toEqual(['a', 'b']);
    runs.setStatus('b', 'queued');
    expect(runs.claim('b', other, t + 1000 + TTL)).toBe(true);
    runs.setStatus('b', 'running');
    expect(runs.renewLeases(['a', 'b'], self, t + 2000 + TTL)).toEqual(['a', 'b']);
    expect(runs.reclaim('a', self, t + 2000 + TTL)).toBe(true);
    expect(runs.summary('a')).toMatchObject({ status: 'running', error: null });
    expect(runs.reclaim('b', self, t + 2000 + TTL)).toBe(false);
    expect(runs.owner('b')!.ownerId).toBe(other.ownerId);
  });

  it('control requests reach the owner by its id; clearOwner with an id only releases that owner', () => {
    const { runs, add } = repo();
    add('r');
    const self = holder();
    const other = holder();
    expect(runs.claim('r', self)).toBe(true);
    runs.setStatus('r', 'running');
    runs.requestControl('r', 'cancelled');
    expect(runs.controlRequests(other.ownerId)).toEqual([]);
    expect(runs.controlRequests(self.ownerId)).toEqual([{ id: 'r', control: 'cancelled' }]);
    runs.clearOwner('r', other.ownerId);
    expect(runs.owner('r')!.ownerId).toBe(self.ownerId);
    runs.clearOwner('r', self.ownerId);
    expect(runs.owner('r')).toEqual({ ownerId: null, pid: null, leaseUntil: null, heartbeatAt: null, control: null });
  });
});
