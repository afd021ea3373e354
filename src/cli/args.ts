/** Minimal argv parser: positionals, --flag value, --flag=value, boolean flags. */
import type { ParsedArgs } from './command.js';

/** Flags that never take a value. */
export const BOOLEAN_FLAGS = new Set(['json', 'help', 'version', 'quiet', 'force', 'open', 'no-open', 'wait', 'detach', 'details', 'retry-failed', 'new']);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags: ParsedArgs['flags'] = {};
  const put = (k: string, v: string | boolean) => {
    const prev = flags[k];
    if (prev === undefined || typeof v === 'boolean') flags[k] = v;
    else if (Array.isArray(prev)) prev.push(v as string);
    else if (typeof prev === 'string') flags[k] = [prev, v as string];
    else flags[k] = v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      if (eq > 0) {
        put(a.slice(2, eq), a.slice(eq + 1));
        continue;
      }
      const name = a.slice(2);
      const next = argv[i + 1];
      if (BOOLEAN_FLAGS.has(name) || next === undefined || (next.startsWith('--') && next.length > 2)) put(name, true);
      else {
        put(name, next);
        i++;
      }
    } else if (a === '-h') put('help', true);
    else positionals.push(a);
  }
  return { positionals, flags };
}
