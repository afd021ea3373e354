/**
 * What `dlab study status` reads from Slurm: `squeue` for queued tasks,
 * `sacct` for ended ones (accounting on), else `scontrol show job` (accounting
 * off, as on the one-node test cluster). Stand-in commands on PATH print the
 * lines Slurm prints in these formats (sacct -n -P -X -o
 * JobID,State,NodeList,Start,End,ExitCode; scontrol -o; squeue -o %F|%K|%T|%N|%S).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endedTasks, squeueTasks } from '../../../src/core/cluster/slurm.js';

let dir: string;
let oldPath: string | undefined;

/** A stand-in command that prints `text` and exits with `code`, and records its arguments. */
function fake(name: string, text: string, code = 0) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${path.join(dir, `${name}.args`)}'\ncat <<'EOF_OUT'\n${text}\nEOF_OUT\nexit ${code}\n`, { mode: 0o755 });
}
const argsOf = (name: string) => (fs.existsSync(path.join(dir, `${name}.args`)) ? fs.readFileSync(path.join(dir, `${name}.args`), 'utf8').trim().split('\n') : []);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlab-slurm-'));
  oldPath = process.env.PATH;
  process.env.PATH = `${dir}${path.delimiter}${oldPath ?? ''}`;
});
afterEach(() => {
  process.env.PATH = oldPath;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('ended tasks from sacct', () => {
  it('reads each array task, the first word of the state, and no placeholder of pending tasks', () => {
    fake(
      'sacct',
      [
        '4711_0|COMPLETED|node01|2026-12-01T10:00:00|2026-12-01T10:40:12|0:0',
        '4711_1|FAILED|node02|2026-12-01T10:00:01|2026-12-01T10:05:00|1:0',
        '4711_2|CANCELLED by 1000|node03|2026-12-01T10:00:02|2026-12-01T10:20:00|0:15',
        '4711_3|PENDING|None assigned|Unknown|Unknown|0:0',
        '4711_[4-7%2]|PENDING|None assigned|Unknown|Unknown|0:0',
      ].join('\n'),
    );
    fake('scontrol', '', 1);
    const t = endedTasks(['4711']);
    expect(argsOf('sacct')).toEqual(['-n -P -X -j 4711 -o JobID,State,NodeList,Start,End,ExitCode']);
    expect(argsOf('scontrol')).toEqual([]);
    expect([...t.keys()]).toEqual(['4711_0', '4711_1', '4711_2', '4711_3']);
    expect(t.get('4711_0')).toEqual({ state: 'COMPLETED', node: 'node01', start: '2026-12-01T10:00:00', end: '2026-12-01T10:40:12', exitCode: '0:0' });
    expect(t.get('4711_1')).toMatchObject({ state: 'FAILED', exitCode: '1:0' });
    expect(t.get('4711_2')).toMatchObject({ state: 'CANCELLED', node: 'node03', exitCode: '0:15' });
    // a requeued task waiting again: no node, no times
    expect(t.get('4711_3')).toEqual({ state: 'PENDING', node: null, start: null, end: null, exitCode: '0:0' });
  });

  it('asks for several jobs at once', () => {
    fake('sacct', '4711_0|COMPLETED|node01|2026-12-01T10:00:00|2026-12-01T10:40:12|0:0\n4800_5|TIMEOUT|node04|2026-12-01T11:00:00|2026-12-01T13:00:00|0:0');
    const t = endedTasks(['4711', '4800']);
    expect(argsOf('sacct')[0]).toContain('-j 4711,4800');
    expect(t.get('4800_5')).toMatchObject({ state: 'TIMEOUT', node: 'node04' });
  });

  it('accounting off (sacct fails) or empty: the controller answers per job', () => {
    fake('sacct', 'sacct: error: Slurm accounting storage is disabled', 1);
    fake(
      'scontrol',
      'JobId=4712 ArrayJobId=4711 ArrayTaskId=1 JobName=dlab-study JobState=COMPLETED Reason=None ExitCode=0:0 StartTime=2026-12-01T10:00:00 EndTime=2026-12-01T10:41:00 NodeList=node02',
    );
    const t = endedTasks(['4711']);
    expect(argsOf('scontrol')).toEqual(['show job -o 4711']);
    expect(t.get('4711_1')).toEqual({ state: 'COMPLETED', node: 'node02', start: '2026-12-01T10:00:00', end: '2026-12-01T10:41:00', exitCode: '0:0' });

    fs.rmSync(path.join(dir, 'scontrol.args'));
    fake('sacct', '');
    expect(endedTasks(['4711']).get('4711_1')).toMatchObject({ state: 'COMPLETED' });
    expect(argsOf('scontrol')).toEqual(['show job -o 4711']);
  });
});

describe('queued tasks from squeue', () => {
  it('reads array job, index, state, node and start', () => {
    fake('squeue', '4711|0|RUNNING|node01|2026-12-01T10:00:00\n4711|1|PENDING||N/A');
    const t = squeueTasks(['4711']);
    expect(t.get('4711_0')).toEqual({ state: 'RUNNING', node: 'node01', start: '2026-12-01T10:00:00', end: null, exitCode: null });
    expect(t.get('4711_1')).toEqual({ state: 'PENDING', node: null, start: null, end: null, exitCode: null });
  });

  it('a list with a job squeue no longer knows is refused whole: each job is asked for alone', () => {
    const file = path.join(dir, 'squeue');
    fs.writeFileSync(
      file,
      `#!/bin/sh\necho "$4" >> '${path.join(dir, 'squeue.args')}'\ncase "$4" in *,*) echo 'squeue: error: Invalid job id specified' >&2; exit 1;; 4711) echo '4711|2|RUNNING|node05|2026-12-01T12:00:00';; *) exit 1;; esac\n`,
      { mode: 0o755 },
    );
    const t = squeueTasks(['4711', '4690']);
    expect(argsOf('squeue')).toEqual(['4711,4690', '4711', '4690']);
    expect([...t.keys()]).toEqual(['4711_2']);
    expect(t.get('4711_2')).toMatchObject({ state: 'RUNNING', node: 'node05' });
  });
});
