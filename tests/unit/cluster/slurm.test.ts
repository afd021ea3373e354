import { describe, expect, it } from 'vitest';
import { arrayRange, HOW_TO_REACH_SLURM, renderScript, which } from '../../../src/core/cluster/slurm.js';
import { taskEnv } from '../../../src/core/cluster/service.js';

const base = { jobName: 'dlab-study-1', jobDir: '/labs/a/cluster/c1', indices: [0, 1, 2, 3], node: '/usr/bin/node', dlab: '/opt/dlab/bin/dlab.js', env: {} };

describe('the sbatch script', () => {
  it('writes one array task per cell with the limit, requeue, the options and the absolute dlab', () => {
    const s = renderScript({ ...base, options: { partition: 'gpu', gres: 'gpu:1', cpusPerTask: 4, mem: '16G', time: '02:00:00', account: 'lab', qos: 'normal', arrayLimit: 3, extra: ['#SBATCH --constraint=a100'] }, env: { DLAB_BACKEND: 'wasm' } });
    expect(s.startsWith('#!/bin/bash\n')).toBe(true);
    for (const l of ['--array=0-3%3', '--requeue', '--partition=gpu', '--gres=gpu:1', '--cpus-per-task=4', '--mem=16G', '--time=02:00:00', '--account=lab', '--qos=normal', '--constraint=a100', '--signal=B:TERM@60'])
      expect(s).toContain(`#SBATCH ${l}`);
    expect(s).toContain('#SBATCH --output=/labs/a/cluster/c1/tasks/%a/slurm-%A_%a.out');
    expect(s).toContain("export DLAB_BACKEND='wasm'");
    expect(s).toContain(`exec '/usr/bin/node' '/opt/dlab/bin/dlab.js' cluster task --job-dir '/labs/a/cluster/c1' --index "$SLURM_ARRAY_TASK_ID"`);
  });

  it('defaults: 2 CPUs a task, 8 tasks at once', () => {
    const s = renderScript({ ...base, options: {} });
    expect(s).toContain('#SBATCH --array=0-3%8');
    expect(s).toContain('#SBATCH --cpus-per-task=2');
    expect(s).not.toContain('--partition');
  });

  it('refuses values that would break a #SBATCH line', () => {
    expect(() => renderScript({ ...base, options: { partition: 'a b' } })).toThrow(/partition/);
    expect(() => renderScript({ ...base, options: { gres: 'gpu:1\n#SBATCH --x' } })).toThrow(/gres/);
    expect(() => renderScript({ ...base, options: { extra: ['rm -rf /'] } })).toThrow(/#SBATCH/);
  });

  it('array ranges', () => {
    expect(arrayRange([0, 1, 2, 3])).toBe('0-3');
    expect(arrayRange([3, 1])).toBe('1,3');
    expect(arrayRange([0, 1, 2, 5, 7, 8])).toBe('0-2,5,7-8');
  });
});

describe('reaching Slurm', () => {
  it('finds sbatch on PATH only, and explains the login node and SSH forwarding otherwise', () => {
    expect(which('sbatch', { PATH: '/nonexistent' })).toBeNull();
    expect(HOW_TO_REACH_SLURM).toMatch(/login node/);
    expect(HOW_TO_REACH_SLURM).toMatch(/dlab serve/);
    expect(HOW_TO_REACH_SLURM).toMatch(/ssh -L/);
  });

  it('passes the DLAB_* settings to the tasks, never DLAB_HOME', () => {
    expect(taskEnv({ DLAB_HOME: '/x', DLAB_BACKEND: 'cpu', HOME: '/root' })).toEqual({ DLAB_BACKEND: 'cpu' });
  });
});
