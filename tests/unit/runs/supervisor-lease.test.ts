/**
 * The supervisor's side of run leases, with a stand-in worker (fake-worker.mjs):
 * heartbeats, a lease another process took away, one that lapsed but nobody
 * took, and a queued run another live owner holds.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatasetService } from '../../../src/core/datasets/service.js';
import { EventBus } from '../../../src/core/events.js';
import { openDb } from '../../../src/core/store/db.js';
import { RunRepository } from '../../../src/core/store/runs.js';
import { RunSupervisor } from '../../../src/core/runs/supervisor.js';
import { hostKey } from '../../../src/core/util/process.js';
import type { RunConfig } from '../../../src/shared/runs.js';

const fakeWorker = path.join(path.dirname(new URL(import.meta.url).pathname), 'fake-worker.mjs');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const config = (steps: number): RunConfig => ({
  model: 'beta_vae',
  params: { beta: 4 },
  datasetId: 'dsprites',
  arch: 'fc',
  latent: 4,
  steps,
  batch: 4,
  lr: 1e-3,
  seed: 1,
  progressEvery: 1,
  checkpointEvery: 5,
  codesSamples: 0,
  evaluate: [],
});

function setup(opts: { leaseMs?: number; heartbeatMs?: number } = {}) {
  const labDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlab-sup-'));
  const db = openDb(path.join(labDir, 'lab.sqlite'));
  const runs = new RunRepository(db);
  const events = new EventBus();
  const sup = new RunSupervisor({
    labDir,
    runs,
    datasets: new DatasetService(db, labDir),
    events,
    worker: { path: fakeWorker, execArgv: [] },
    leaseMs: opts.leaseMs ?? 2000,
    heartbeatMs: opts.heartbeatMs ?? 50,
  });
  cleanups.push(() => fs.rmSync(labDir, { recursive: true, force: true }));
  cleanups.push(() => {
    db.close();
  });
  cleanups.push(() => sup.close());
  return { db, runs, sup, events };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, f: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
const other = `${hostKey()}:${process.pid}:another-supervisor`;

describe('RunSupervisor leases', () => {
  it('holds its running runs under its owner id and renews the lease on every heartbeat', async () => {
    const { runs, sup } = setup({ leaseMs: 2000, heartbeatMs: 50 });
    const r = sup.launch(config(1000));
    await until('running', () => (runs.summary(r.id)!.step ?? 0) > 0);
    const first = runs.owner(r.id)!;
    expect(first.ownerId).toBe(sup.ownerId);
    expect(first.pid).toBe(process.pid);
    expect(first.leaseUntil! - first.heartbeatAt!).toBe(2000);
    await until('a renewal', () => runs.owner(r.id)!.heartbeatAt! > first.heartbeatAt!);
    expect(runs.owner(r.id)!.leaseUntil!).toBeGreaterThan(first.leaseUntil!);
    sup.stop(r.id, 'cancelled');
    expect((await sup.waitFor(r.id, 10_000)).status).toBe('cancelled');
    expect(runs.owner(r.id)!.ownerId).toBeNull();
  });

  it('a run another process declared orphaned and took: its worker is stopped and its record left alone', async () => {
    const { runs, sup } = setup();
    const r = sup.launch(config(100_000));
    await until('running', () => runs.summary(r.id)!.step > 0);
    // as another process does once our lease has lapsed: interrupted, resumed, claimed
    expect(runs.markOrphansInterrupted(other, Date.now() + 60_000)).toEqual([r.id]);
    runs.setStatus(r.id, 'queued');
    expect(runs.claim(r.id, { ownerId: other, pid: process.pid, ttlMs: 60_000 })).toBe(true);
    runs.setStatus(r.id, 'running', { error: null });
    await until('the worker to be stopped', () => !sup.isActive(r.id));
    const step = runs.summary(r.id)!.step;
    await sleep(200);
    expect(runs.summary(r.id)).toMatchObject({ status: 'running', step, error: null });
    expect(runs.owner(r.id)!.ownerId).toBe(other);
  });

  it('a lapsed lease nobody took yet is reclaimed by its live owner, and the run carries on to the end', async () => {
    const { runs, sup, events } = setup();
    const seen: string[] = [];
    events.on('runs/status', (p) => seen.push(p.run.status));
    const r = sup.launch(config(60));
    await until('running', () => runs.summary(r.id)!.step > 0);
    expect(runs.markOrphansInterrupted(other, Date.now() + 60_000)).toEqual([r.id]);
    expect(runs.summary(r.id)!.status).toBe('interrupted');
    await until('the reclaim', () => runs.summary(r.id)!.status === 'running');
    expect(runs.owner(r.id)!.ownerId).toBe(sup.ownerId);
    const done = await sup.waitFor(r.id, 10_000);
    expect(done.status).toBe('finished');
    expect(done.step).toBe(60);
    expect(seen).toContain('finished');
  });

  it('a queued run another live owner holds waits; it starts here once that lease has run out', async () => {
    const { db, runs, sup } = setup();
    const r = sup.launch(config(5));
    await sup.waitFor(r.id, 10_000);
    runs.setStatus(r.id, 'cancelled');
    db.prepare('UPDATE runs SET owner_id = ?, owner_pid = ?, lease_until = ? WHERE id = ?').run(other, process.pid, Date.now() + 60_000, r.id);
    sup.resume(r.id);
    await sleep(300);
    expect(sup.isActive(r.id)).toBe(false);
    expect(runs.summary(r.id)!.status).toBe('queued');
    db.prepare('UPDATE runs SET lease_until = ? WHERE id = ?').run(Date.now() - 1, r.id);
    await until('the run to start here', () => sup.isActive(r.id) || runs.summary(r.id)!.status === 'finished');
    expect((await sup.waitFor(r.id, 10_000)).status).toBe('finished');
  });

  it('cancel of a run whose owner is gone settles it at once (no worker to ask)', async () => {
    const { db, runs, sup } = setup();
    const r = sup.launch(config(5));
    await sup.waitFor(r.id, 10_000);
    db.prepare("UPDATE runs SET status = 'running', owner_id = ?, owner_pid = 1, lease_until = ? WHERE id = ?").run('gone-host:1:x', Date.now() - 1, r.id);
    expect(sup.stop(r.id, 'cancelled').status).toBe('cancelled');
    expect(runs.owner(r.id)!.ownerId).toBeNull();
  });
});
