/**
 * Options a command does not take are refused before it runs: a typo such as
 * --eval-evry used to be ignored (an hour's training without its curve), and
 * `dlab runs curves --limit 5` silently drew every run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandFlags, unknownFlagError } from '../../../src/cli/command.js';
import { commands } from '../../../src/cli/commands/index.js';
import { main } from '../../../src/cli/main.js';

const find = (...words: string[]) => commands.find((c) => c.path.join(' ') === words.join(' '))!;

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), tty: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('the options a command takes', () => {
  it('are the --names of its usage, its extra flags and the global ones', () => {
    const known = commandFlags({ usage: 'dlab x <id> [--alpha N] [--beta-gamma] [--set key=value …]', flags: ['hidden'] });
    expect([...known].sort()).toEqual(['alpha', 'beta-gamma', 'help', 'hidden', 'json', 'lab-dir', 'set', 'version']);
  });

  it('an unknown one is named, with the closest known one when it is near', () => {
    const train = find('train');
    expect(unknownFlagError(train, { model: 'beta_vae', 'eval-evry': '1000' })?.message).toBe('unknown option --eval-evry (did you mean --eval-every?)');
    expect(unknownFlagError(train, { latnet: '5' })?.message).toBe('unknown option --latnet (did you mean --latent?)');
    expect(unknownFlagError(train, { zzz: true })?.message).toBe('unknown option --zzz');
    expect(unknownFlagError(train, { model: 'm', dataset: 'd', 'eval-every': '1000', 'eval-metrics': 'mig', 'checkpoint-every': '9', codes: '120', 'progress-every': '1', json: true, 'lab-dir': 'x' })).toBeNull();
  });

  it('dlab train with a typo exits 2 before anything starts (no lab folder made)', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dlab-flags-')), 'lab');
    try {
      const r = await run(['train', '--model', 'beta_vae', '--dataset', 'dsprites', '--eval-evry', '1000', '--lab-dir', dir]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^dlab train: unknown option --eval-evry \(did you mean --eval-every\?\)\nusage: dlab train --model M/);
      expect(fs.existsSync(dir)).toBe(false);
    } finally {
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });

  it('dlab runs curves refuses the listing options it has no use for', async () => {
    for (const flag of ['--sort', '--limit', '--offset']) {
      const r = await run(['runs', 'curves', '--metric', 'mig', flag, '5']);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`unknown option ${flag}`);
    }
    // dlab runs takes them
    expect(unknownFlagError(find('runs'), { sort: 'created', limit: '5', offset: '0', asc: true })).toBeNull();
  });

  it('every command takes the global options and --help still answers', async () => {
    for (const c of commands) for (const g of ['json', 'help', 'lab-dir']) expect(commandFlags(c).has(g)).toBe(true);
    const r = await run(['runs', 'curves', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^dlab runs curves --metric M/);
  });
});
