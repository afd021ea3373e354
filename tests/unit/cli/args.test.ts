import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/cli/args.js';
import { flagList } from '../../../src/cli/command.js';

describe('parseArgs', () => {
  it('--evaluate takes a metric list (dlab train --evaluate mig,dci)', () => {
    const a = parseArgs(['train', '--evaluate', 'mig,dci', '--json']);
    expect(a.positionals).toEqual(['train']);
    expect(flagList(a, 'evaluate')).toEqual(['mig', 'dci']);
    expect(a.flags['json']).toBe(true);
  });

  it('boolean flags take no value; --x=v and repeated flags collect', () => {
    const a = parseArgs(['--json', 'x', '--set', 'a=1', '--set=b=2']);
    expect(a.positionals).toEqual(['x']);
    expect(a.flags['set']).toEqual(['a=1', 'b=2']);
  });
});
