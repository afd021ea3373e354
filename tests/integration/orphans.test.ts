/**
 * Nothing lost, nothing frozen: a training worker never outlives the process
 * that supervises it, and run ownership is a lease that runs out, so a run
 * whose owner died (SIGKILL, zombie, pid reused) can always be resumed, while
 * a run another live process trains is never stolen.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import { hostKey } from '../../src/core/util/process.js';
import { dlabBin } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

const tmp = tmpDir('dlab-orphans-');
const labDir = path.join(tmp.dir, 'lab');
const spawned: ChildProcess[] = [];
const labs: Lab[] = [];
afterAll(async () => {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const l of labs) await l.close();
  tmp.cleanup();
});

const hasProc = fs.existsSync('/proc/self/stat');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** [state, ppid] of a process from /proc/<pid>/stat, or null when it no longer exists. */
function procStat(pid: number): { state: string; ppid: number } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return null;
  }
}
/** Gone, or a zombie nobody has reaped yet: either way it runs no more. */
const exited = (pid: number) => {
  const s = procStat(pid);
  return s === null || s.state === 'Z' || s.state === 'X';
};
/** The training worker among a process's children (tsx also runs an esbuild service). */
function workersOf(pid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => procStat(p)?.ppid === pid)
    .filter((p) => {
      try {
        return /worker\.(ts|js)/.test(fs.readFileSync(`/proc/${p}/cmdline`, 'utf8'));
      } catch {
        return false;
      }
    });
}
async function until<T>(what: string, f: () => T | undefined | null | false, timeoutMs = 120_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `dlab train --json` in the background; its JSON lines as they come. */
function startTrain(seed: number) {
  const child = spawn(
    process.execPath,
    [dlabBin, 'train', '--model', 'beta_vae', '--dataset', 'dsprites', '--arch', 'fc', '--latent', '4', '--batch', '8', '--steps', '100000', '--seed', String(seed), '--progress-every', '1', '--checkpoint-every', '5', '--codes', '0', '--json', '--lab-dir', labDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  spawned.push(child);
  const lines: { type: string; id?: string; step?: number; status?: string; run?: { id: string; status: string } }[] = [];
  let buf = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    buf += String(d);
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const l of parts) if (l.startsWith('{')) lines.push(JSON.parse(l));
  });
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const lastStep = () => lines.filter((l) => l.type === 'progress').at(-1)?.step ?? 0;
  const runId = () => lines.find((l) => l.type === 'progress' || l.type === 'status')?.id;
  return { child, lines, exit, lastStep, runId, stderr: () => stderr };
}

/** Make a run look trained by another process: status running, leased to `ownerId` until `leaseUntil`. */
function forgeOwner(lab: Lab, id: string, ownerId: string, ownerPid: number, leaseUntil: number) {
  lab.db
    .prepare("UPDATE runs SET status = 'running', owner_id = ?, owner_pid = ?, lease_until = ?, heartbeat_at = ?, control = NULL WHERE id = ?")
    .run(ownerId, ownerPid, leaseUntil, leaseUntil - 10_000, id);
}

describe.skipIf(!hasProc)('orphaned workers and run leases', () => {
  let runId = '';

  it('SIGKILL of `dlab train` alone: its worker exits within seconds; a fresh Lab marks the run interrupted and resume continues from the last checkpoint', async () => {
    const t = startTrain(5);
    await until('a few trained steps', () => t.lastStep() >= 12 || t.child.exitCode !== null);
    expect(t.child.exitCode, t.stderr()).toBeNull();
    runId = t.runId()!;
    const workers = workersOf(t.child.pid!);
    expect(workers).toHaveLength(1);
    const worker = workers[0]!;
    expect(exited(worker)).toBe(false);

    const killedAt = Date.now();
    process.kill(t.child.pid!, 'SIGKILL'); // the parent only, not its process group
    expect((await t.exit).signal).toBe('SIGKILL');
    await until('the orphaned worker to exit', () => exited(worker), 5000);
    const exitMs = Date.now() - killedAt;
    console.log(`orphaned worker exited ${exitMs} ms after its parent's SIGKILL`);
    expect(exitMs).toBeLessThan(5000);

    // nothing trains on: no checkpoint appears after the worker's exit
    const cpDir = path.join(labDir, 'runs', runId, 'checkpoints');
    const onDisk = fs.readdirSync(cpDir).sort();
    await sleep(1500);
    expect(fs.readdirSync(cpDir).sort()).toEqual(onDisk);

    const lab = await Lab.open({ labDir });
    labs.push(lab);
    const r = lab.runs.summary(runId)!;
    expect(r.status).toBe('interrupted');
    expect(lab.runs.owner(runId)).toMatchObject({ ownerId: null, leaseUntil: null });
    const lastCp = lab.runs.checkpoints(runId).at(-1)!.step;
    expect(lastCp).toBeGreaterThanOrEqual(5);

    lab.handlers['runs/resume']({ id: runId });
    await until('the resumed run to train past its checkpoint', () => (lab.runs.summary(runId)!.step > lastCp + 2 ? true : undefined));
    const running = lab.runs.summary(runId)!;
    expect(running.status).toBe('running');
    expect(lab.runs.owner(runId)!.ownerId).toBe(lab.supervisor.ownerId);
    lab.handlers['runs/cancel']({ id: runId });
    expect((await lab.supervisor.waitFor(runId)).status).toBe('cancelled');
    expect(lab.runs.owner(runId)!.ownerId).toBeNull();
    await lab.close();
  });

  it('an expired lease frees a run even when its owner pid is alive (reused or a zombie); a fresh Lab marks it interrupted and it resumes', async () => {
    let lab = await Lab.open({ labDir });
    const before = lab.runs.summary(runId)!.step;
    // "owned" by this test runner's pid (alive, unrelated) and by pid 1, leases run out
    forgeOwner(lab, runId, `${hostKey()}:${process.pid}:a-dead-supervisor`, process.pid, Date.now() - 1);
    await lab.close();
    lab = await Lab.open({ labDir });
    labs.push(lab);
    let r = lab.runs.summary(runId)!;
    expect(r.status).toBe('interrupted');
    expect(r.error).toMatch(/stopped renewing its lease/);
    lab.handlers['runs/resume']({ id: runId });
    await until('the resumed run to train', () => lab.runs.summary(runId)!.step > before + 2);
    lab.handlers['runs/pause']({ id: runId });
    r = await lab.supervisor.waitFor(runId);
    expect(r.status).toBe('paused');

    // a live Lab's poll settles such a run too, and tells its UI
    const seen: string[] = [];
    const off = lab.events.on('runs/status', (p) => p.run.id === runId && seen.push(p.run.status));
    forgeOwner(lab, runId, `elsewhere:1:gone`, 1, Date.now() - 1);
    await until('the poll to mark the run interrupted', () => seen.includes('interrupted'), 5000);
    off();
    expect(lab.runs.summary(runId)!.status).toBe('interrupted');
    await lab.close();
  });

  it('a fresh lease from another live owner is not stolen: not marked, not resumed, control goes through the store', async () => {
    const other = `${hostKey()}:${process.pid}:another-live-supervisor`;
    let lab = await Lab.open({ labDir });
    forgeOwner(lab, runId, other, process.pid, Date.now() + 60_000);
    await lab.close();
    lab = await Lab.open({ labDir });
    labs.push(lab);
    expect(lab.runs.summary(runId)!.status).toBe('running');
    expect(() => lab.handlers['runs/resume']({ id: runId })).toThrow(/running/);
    lab.handlers['runs/cancel']({ id: runId });
    expect(lab.runs.owner(runId)).toMatchObject({ ownerId: other, control: 'cancelled' });
    expect(lab.runs.summary(runId)!.status).toBe('running');
    await sleep(1500); // the poll leaves it alone
    expect(lab.runs.summary(runId)!.status).toBe('running');
    expect(lab.supervisor.isActive(runId)).toBe(false);
    // once that lease lapses, it is free again
    lab.db.prepare('UPDATE runs SET lease_until = ? WHERE id = ?').run(Date.now() - 1, runId);
    lab.handlers['runs/cancel']({ id: runId });
    expect(lab.runs.summary(runId)!.status).toBe('cancelled');
    expect(lab.runs.owner(runId)!.ownerId).toBeNull();
    await lab.close();
  });

  it('`dlab run cancel` semantics across processes: a Lab cancels the run a `dlab train` process trains, keyed by its owner id', async () => {
    const t = startTrain(6);
    await until('a few trained steps', () => t.lastStep() >= 6 || t.child.exitCode !== null);
    expect(t.child.exitCode, t.stderr()).toBeNull();
    const id = t.runId()!;
    const lab = await Lab.open({ labDir });
    labs.push(lab);
    const owner = lab.runs.owner(id)!;
    expect(owner.ownerId).toMatch(new RegExp(`:${t.child.pid}:`));
    expect(owner.ownerId).not.toBe(lab.supervisor.ownerId);
    expect(owner.leaseUntil!).toBeGreaterThan(Date.now());
    // the heartbeat renews the lease
    await until('a heartbeat', () => (lab.runs.owner(id)!.heartbeatAt ?? 0) > owner.heartbeatAt!, 5000);
    lab.handlers['runs/cancel']({ id });
    const { code } = await t.exit;
    expect(code).toBe(1); // dlab train exits 1 for a run that did not finish
    const s = lab.runs.summary(id)!;
    expect(s.status).toBe('cancelled');
    expect(lab.runs.owner(id)!.ownerId).toBeNull();
    expect(t.lines.at(-1)).toMatchObject({ type: 'result', run: { id, status: 'cancelled' } });
    await lab.close();
  });
});
