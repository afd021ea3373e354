/**
 * `dlab`: the lab from the command line. Exit codes: 0 ok, 1 failure,
 * 2 usage. Errors are one line on stderr.
 */
import pkg from '../../package.json' with { type: 'json' };
import type { Lab } from '../core/lab.js';
import { resolveLabDir } from '../core/labdir.js';
import { parseArgs } from './args.js';
import { UsageError, flagString, unknownFlagError, type CliContext, type Command } from './command.js';
import { commands } from './commands/index.js';

function findCommand(positionals: string[]): { command: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const c of commands) {
    if (c.path.every((w, i) => positionals[i] === w) && (!best || c.path.length > best.path.length)) best = c;
  }
  return best ? { command: best, rest: positionals.slice(best.path.length) } : undefined;
}

function help(): string {
  const lines = [`dlab ${pkg.version} — Disentanglement Lab`, '', 'usage: dlab <command> [options]', '', 'commands:'];
  for (const c of commands) lines.push(`  ${c.usage}`, `      ${c.summary}`);
  lines.push('', 'global options: --lab-dir DIR (or DLAB_HOME), --json, --help');
  return lines.join('\n');
}

export interface MainIo {
  out(text: string): void;
  err(text: string): void;
  tty: boolean;
}

const defaultIo: MainIo = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
  tty: Boolean(process.stdout.isTTY),
};

let pipeGuarded = false;
/**
 * `dlab info | head -c 10`: once the reader has gone, writing to stdout fails
 * with EPIPE. The POSIX convention is to just exit — quietly, with 0 — rather
 * than die on an unhandled 'error' with a stack trace.
 */
function guardStdio(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    try {
      process.stderr.write(`dlab: writing to stdout failed: ${e.message.split('\n')[0]}\n`);
    } finally {
      process.exit(1);
    }
  });
  // nowhere left to report a stderr failure: ignore it rather than crash
  process.stderr.on('error', () => undefined);
}

export async function main(argv: string[], io: MainIo = defaultIo): Promise<number> {
  if (io === defaultIo) guardStdio();
  let args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err(`dlab: ${(e as Error).message}`);
    return 2;
  }
  if (args.flags.version) {
    io.out(pkg.version);
    return 0;
  }
  if (args.positionals.length === 0) {
    (args.flags.help ? io.out : io.err)(help());
    return args.flags.help ? 0 : 2;
  }
  const found = findCommand(args.positionals);
  if (!found) {
    io.err(`dlab: unknown command '${args.positionals.join(' ')}' (see dlab --help)`);
    return 2;
  }
  const { command, rest } = found;
  if (args.flags.help) {
    io.out(`${command.usage}\n  ${command.summary}`);
    return 0;
  }
  const unknown = unknownFlagError(command, args.flags);
  if (unknown) {
    io.err(`dlab ${command.path.join(' ')}: ${unknown.message}\nusage: ${command.usage}`);
    return 2;
  }
  // --lab-dir, else DLAB_HOME, else the folder chosen in Preferences, else the app's default
  const labDir = async (): Promise<string> => {
    const explicit = flagString(args, 'lab-dir');
    if (explicit || process.env.DLAB_HOME) return resolveLabDir(explicit);
    const prefs = await import('../core/app/prefs.js');
    return prefs.nextLabDirFrom(prefs.locationFile()) ?? resolveLabDir();
  };
  const ctx: CliContext = {
    args: { positionals: rest, flags: args.flags },
    json: args.flags.json === true,
    tty: io.tty,
    out: io.out,
    err: io.err,
    labDir,
    // Loaded lazily: usage errors and pure commands never start the compute backend.
    openLab: async (): Promise<Lab> => {
      const dir = await labDir();
      const prefs = await import('../core/app/prefs.js');
      // the preferred backend (DLAB_BACKEND wins) applies to the CLI and its training workers too
      const preferred = prefs.backendFromPrefs(prefs.readPrefs(dir));
      if (preferred) process.env.DLAB_BACKEND = preferred;
      return (await import('../core/lab.js')).Lab.open({ labDir: dir, adoptQueuedRuns: false });
    },
  };
  try {
    return await command.run(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`dlab ${command.path.join(' ')}: ${e.message}\nusage: ${command.usage}`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`dlab ${command.path.join(' ')}: ${msg.split('\n')[0]}`);
    return 1;
  }
}
