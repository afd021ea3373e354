import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';

/** Whether a process with this pid exists (signal 0; EPERM means it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Which pids this process can see: the host name, plus the pid namespace on
 * Linux (two containers may share a host name but not their pids).
 */
export function hostKey(): string {
  return (cachedHostKey ??= computeHostKey());
}
let cachedHostKey: string | undefined;

function computeHostKey(): string {
  let ns = '';
  try {
    ns = /\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/pid'))?.[1] ?? '';
  } catch {
    /* not Linux, or no /proc */
  }
  return (os.hostname() || 'localhost').replace(/:/g, '_') + (ns ? `~${ns}` : '');
}

/** A fresh owner id for one process instance: `${host}:${pid}:${random}`. */
export function newOwnerId(pid = process.pid): string {
  return `${hostKey()}:${pid}:${crypto.randomBytes(6).toString('hex')}`;
}

/** The host and pid an owner id names (null when it is not of that form). */
export function parseOwnerId(ownerId: string): { host: string; pid: number } | null {
  const m = /^(.*):(\d+):[^:]+$/.exec(ownerId);
  return m ? { host: m[1]!, pid: Number(m[2]) } : null;
}

/**
 * True only when the owner is provably gone: it ran on this host (same pid
 * namespace) and its pid no longer exists. A live pid proves nothing (it may
 * be reused, or a zombie): then only the lease's expiry frees the run.
 */
export function ownerGone(ownerId: string, host = hostKey()): boolean {
  const o = parseOwnerId(ownerId);
  return o !== null && o.host === host && o.pid > 0 && !pidAlive(o.pid);
}
