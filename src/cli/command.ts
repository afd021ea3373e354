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
  /** Its options are the `--name`s written here (and `flags`): any other is refused before it runs. */
  usage: string;
  /** Options it takes that its usage leaves out (for tests and the app's own calls). */
  flags?: readonly string[];
  run(ctx: CliContext): Promise<number>;
}

/** The options every command takes. */
export const GLOBAL_FLAGS: readonly string[] = ['lab-dir', 'json', 'help', 'version'];

/** The options a command takes: those its usage names, its extra `flags` and the global ones. */
export function commandFlags(c: Pick<Command, 'usage' | 'flags'>): Set<string> {
  const known = new Set([...GLOBAL_FLAGS, ...(c.flags ?? [])]);
  for (const m of c.usage.matchAll(/--([a-z][a-z0-9-]*)/g)) known.add(m[1]!);
  return known;
}

/**
 * Edit distance (insertions, deletions, substitutions) of two short words;
 * a dozen lines do it, so no package for it.
 */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * A usage error for the first option the command does not take (a typo such
 * as --eval-evry would otherwise be ignored, and an hour's training run
 * without its curve), naming the closest one it does take; null when all are known.
 */
export function unknownFlagError(c: Pick<Command, 'usage' | 'flags'>, flags: Readonly<Record<string, unknown>>): UsageError | null {
  const known = commandFlags(c);
  const bad = Object.keys(flags).find((f) => !known.has(f));
  if (bad === undefined) return null;
  let best: { flag: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(bad, k);
    if (!best || d < best.d) best = { flag: k, d };
  }
  const near = best && best.d <= (bad.length >= 5 ? 2 : 1) ? ` (did you mean --${best.flag}?)` : '';
  return new UsageError(`unknown option --${bad}${near}`);
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
