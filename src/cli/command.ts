/**
 * CLI commands: each is a small module exporting a `Command`, listed in
 * `commands/index.ts`. Exit codes: 0 ok, 1 failure, 2 usage.
 */
import type { Lab } from '../core/lab.js';

export interface ParsedArgs {
  positionals: string[];
  /** --flag value / --flag=value / --flag (true); repeated flags collect into arrays. */
  flags: Record<string, string | boolean | string[]>;
}

export interface CliContext {
  args: ParsedArgs;
  json: boolean;
  /** Whether stdout is a terminal (progress bars only there). */
  tty: boolean;
  out(text: string): void;
  err(text: string): void;
  /** The lab folder (--lab-dir, DLAB_HOME, Preferences, default) without opening the lab. */
  labDir(): Promise<string>;
  /** Opens the lab (lab dir from --lab-dir / DLAB_HOME / default). Runs left queued by the app are not started. */
  openLab(): Promise<Lab>;
}

export interface Command {
  /** Words that select it, e.g. ['eval'] or ['bench', 'metrics']. */
  path: string[];
  summary: string;
  usage: string;
  run(ctx: CliContext): Promise<number>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function flagString(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  if (v === undefined || v === false) return undefined;
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function flagNumber(args: ParsedArgs, name: string, opts: { integer?: boolean; min?: number } = {}): number | undefined {
  const s = flagString(args, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min)) {
    throw new UsageError(`--${name} must be ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}, got '${s}'`);
  }
  return n;
}

export function flagList(args: ParsedArgs, name: string): string[] | undefined {
  const v = args.flags[name];
  if (v === undefined || v === false) return undefined;
  if (v === true) throw new UsageError(`--${name} needs a value`);
  const all = Array.isArray(v) ? v : [v];
  return all.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}
