/**
 * Studies on a real Slurm: a one-node slurmctld + slurmd (+ munge) started
 * by scripts/slurm-test-setup.sh. A tiny study (2 methods × 2 variants × 1
 * seed) is submitted as a job array, one task is requeued while it trains
 * (it resumes in the same job), one is scancel'ed (its cell fails), the rest run to completion and are collected (Table 1
 * fills in); the failed cell is resubmitted and resumes; a corrupt result
 * bundle is refused with its reason and changes nothing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/core/lab.js';
import type { StudySpec } from '../../src/shared/requests/studies.js';
import { runDlab } from '../helpers/cli.js';
import { repoRoot, tmpDir } from '../helpers/tmp.js';

const setup = path.join(repoRoot, 'scripts', 'slurm-test-setup.sh');
const hasSlurm = ['slurmctld', 'slurmd', 'munged', 'sbatch'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
const isRoot = process.getuid?.() === 0;

const tmp = tmpDir();
const spec: StudySpec = {
  name: 'cluster tiny',
  methods: [
    { id: 'ae', model: 'ae' },
    { id: 'beta_vae', model: 'beta_vae', params: { beta: 4 } },
  ],
  datasets: [{ base: 'dsprites', latent: 3, variants: [{ role: 'original' }, { role: 'noise', kind: 'uniform-noise', params: { epsilon: 0.1 }, seed: 0 }] }],
  seeds: [0],
  training: { arch: 'conv', latent: 3, steps: 60, batch: 8, lr: 1e-3, progressEvery: 5, checkpointEvery: 10, codesSamples: 150 },
  evaluation: { metrics: ['mig'] },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inQueue = (jobId: string) => execFileSync('squeue', ['-h', '-r', '-j', jobId, '-o', '%i|%T'], { encoding: 'utf8' }).trim();
async function untilGone(jobId: string, timeoutMs = 240_000) {
  const t0 = Date.now();
  while (inQueue(jobId)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`job ${jobId} still queued: ${inQueue(jobId)}`);
    await sleep(500);
  }
}
const json = <T,>(s: string): T => JSON.parse(s.slice(s.indexOf('{'))) as T;

interface Cell {
  index: number;
  state: string;
  collected: boolean;
  slurmState: string | null;
  node: string | null;
  reason: string | null;
  slurmJobId: string;
}

describe.skipIf(!hasSlurm || !isRoot)('a study on a real one-node Slurm', () => {
  let labDir: string;
  let studyId: string;
  beforeAll(async () => {
    const r = spawnSync('bash', [setup, 'start'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`slurm set-up failed: ${r.stdout}${r.stderr}`);
    labDir = path.join(tmp.dir, 'lab');
    const lab = await Lab.open({ labDir });
    studyId = lab.studies.create(spec).id;
    await lab.close();
  }, 180_000);
  afterAll(() => {
    spawnSync('bash', [setup, 'stop'], { encoding: 'utf8', timeout: 60_000 });
    tmp.cleanup();
  });

  it('submits, resumes a requeued task, survives a killed one, collects, resubmits, refuses a corrupt bundle', async () => {
    const t0 = Date.now();
    const lab = ['--lab-dir', labDir];
    // --dry-run: the script, nothing submitted, nothing written
    const dry = runDlab(['study', 'submit', studyId, '--slurm', '--partition', 'debug', '--cpus-per-task', '1', '--array-limit', '2', '--time', '00:10:00', '--extra', '#SBATCH --comment=dlab-test', '--dry-run', ...lab]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('#SBATCH --array=0-3%2');
    expect(dry.stdout).toContain('#SBATCH --requeue');
    expect(dry.stdout).toContain('#SBATCH --comment=dlab-test');
    expect(dry.stdout).toMatch(/exec '\/.*node' '\/.*bin\/dlab\.js' cluster task --job-dir/);
    expect(fs.existsSync(path.join(labDir, 'cluster'))).toBe(false);

    const sub = runDlab(['study', 'submit', studyId, '--slurm', '--partition', 'debug', '--cpus-per-task', '1', '--array-limit', '2', '--json', ...lab]);
    expect(sub.code, sub.stderr).toBe(0);
    const submitted = json<{ slurmJobId: string; jobDir: string; cells: { index: number; datasetId: string }[]; script: string }>(sub.stdout);
    expect(submitted.cells).toHaveLength(4);
    const jobDir = submitted.jobDir;
    expect(fs.existsSync(path.join(jobDir, 'inputs.dlab.zip'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(jobDir, 'job.json'), 'utf8')).cells).toHaveLength(4);
    // the derived dataset was made once, here, before submission
    const noiseId = submitted.cells.find((c) => c.index === 1)!.datasetId;
    expect(noiseId).toMatch(/^dsprites\.uniform-noise\./);
    const A = submitted.slurmJobId;

    // once tasks 0 and 1 (running side by side) have a checkpoint: requeue task 0 (preemption) and
    // kill task 1; both stop at a checkpoint, task 0 comes back in the same job and resumes from it
    const stepOf = (i: number) => {
      const f = path.join(jobDir, 'tasks', String(i), 'state.json');
      return fs.existsSync(f) ? ((JSON.parse(fs.readFileSync(f, 'utf8')) as { step: number | null }).step ?? 0) : 0;
    };
    for (let i = 0; stepOf(0) < 12 || stepOf(1) < 12; i++) {
      if (i > 2400) throw new Error('tasks 0 and 1 never got past their first checkpoint');
      await sleep(50);
    }
    execFileSync('scontrol', ['requeue', `${A}_0`]);
    execFileSync('scancel', [`${A}_1`]);
    // a requeued job waits (BeginTime) before it is eligible again: now
    for (let i = 0; i < 100 && !inQueue(A).includes(`${A}_0|PENDING`); i++) await sleep(100);
    execFileSync('scontrol', ['update', `JobId=${A}_0`, 'StartTime=now']);
    await untilGone(A);
    const firstRound = (Date.now() - t0) / 1000;

    const log0 = fs.readFileSync(path.join(jobDir, 'tasks', '0', `slurm-${A}_0.out`), 'utf8');
    expect(log0).toMatch(/again; it was paused/);
    expect(log0).toMatch(/training run-\S+ from step [1-9]/);

    // status collects what finished: 3 done, the cancelled one failed
    const st = runDlab(['study', 'status', studyId, '--json', ...lab]);
    const s1 = json<{ cells: Cell[]; counts: Record<string, number> }>(st.stdout);
    expect(s1.counts, st.stdout).toMatchObject({ done: 3, failed: 1, queued: 0, running: 0 });
    const killed = s1.cells.find((c) => c.index === 1)!;
    expect(killed.state).toBe('failed');
    expect(killed.slurmState).toMatch(/CANCELLED/);
    for (const c of s1.cells.filter((c) => c.index !== 1)) {
      expect(c).toMatchObject({ state: 'done', collected: true, slurmState: 'COMPLETED' });
      expect(c.node).toBeTruthy();
    }
    let show = json<{ study: { counts: { evaluated: number } }; results: { rows?: unknown[] } | null }>(runDlab(['study', 'show', studyId, '--json', ...lab]).stdout);
    expect(show.study.counts.evaluated).toBe(3);
    // collecting again changes nothing
    const again = runDlab(['study', 'collect', studyId, '--json', ...lab]);
    expect(json<{ imported: unknown[]; refused: unknown[] }>(again.stdout)).toEqual({ imported: [], refused: [] });

    // resubmit the failed cell: it resumes from its own checkpoint
    const re = runDlab(['study', 'resubmit', studyId, '--failed', '--json', ...lab]);
    expect(re.code, re.stderr).toBe(0);
    const B = json<{ submissions: { slurmJobId: string; indices: number[] }[] }>(re.stdout).submissions[0]!;
    expect(B.indices).toEqual([1]);
    await untilGone(B.slurmJobId);
    const log1 = fs.readdirSync(path.join(jobDir, 'tasks', '1')).filter((f) => f.startsWith(`slurm-${B.slurmJobId}_`));
    expect(fs.readFileSync(path.join(jobDir, 'tasks', '1', log1[0]!), 'utf8')).toMatch(/training run-\S+ from step [1-9]/);

    // a corrupt result: refused with its reason, the cell failed, nothing imported
    const result1 = path.join(jobDir, 'tasks', '1', 'result.dlab.zip');
    const good = fs.readFileSync(result1);
    fs.writeFileSync(result1, good.subarray(0, Math.floor(good.length / 2)));
    const bad = runDlab(['study', 'collect', studyId, '--json', ...lab]);
    expect(bad.code).toBe(1);
    const refused = json<{ imported: unknown[]; refused: { index: number; reason: string }[] }>(bad.stdout);
    expect(refused.imported).toEqual([]);
    expect(refused.refused[0]).toMatchObject({ index: 1 });
    expect(refused.refused[0]!.reason).toMatch(/bundle refused/);
    const s2 = json<{ cells: Cell[] }>(runDlab(['study', 'status', studyId, '--json', ...lab]).stdout);
    expect(s2.cells.find((c) => c.index === 1)).toMatchObject({ state: 'failed' });
    expect(s2.cells.find((c) => c.index === 1)!.reason).toMatch(/bundle refused/);
    show = json(runDlab(['study', 'show', studyId, '--json', ...lab]).stdout);
    expect(show.study.counts.evaluated).toBe(3);

    // resubmitted: the task finds its run finished in its own lab and writes the bundle again; Table 1 complete
    const re2 = runDlab(['study', 'resubmit', studyId, '--failed', '--json', ...lab]);
    const C = json<{ submissions: { slurmJobId: string }[] }>(re2.stdout).submissions[0]!;
    await untilGone(C.slurmJobId);
    const s3 = json<{ counts: Record<string, number> }>(runDlab(['study', 'status', studyId, '--json', ...lab]).stdout);
    expect(s3.counts).toMatchObject({ done: 4, failed: 0 });
    show = json(runDlab(['study', 'show', studyId, '--json', ...lab]).stdout);
    expect(show.study.counts.evaluated).toBe(4);
    const table = runDlab(['study', 'results', studyId, ...lab]);
    expect(table.stdout).toMatch(/AE\s+0\.\d+ ± – \(1\)/);
    expect(table.stdout).toMatch(/β-VAE\s+0\.\d+ ± – \(1\)/);
    // the same through the contract (what the GUI's cluster panel asks)
    const l = await Lab.open({ labDir, adoptQueuedRuns: false });
    try {
      expect((await l.handlers['cluster/check']({})).ok).toBe(true);
      const viaContract = await l.handlers['cluster/status']({ studyId, collect: false });
      expect(viaContract.cells.filter((c) => c.state === 'done')).toHaveLength(4);
      await expect(l.handlers['cluster/preview']({ studyId })).rejects.toThrow(/nothing to submit/);
    } finally {
      await l.close();
    }
    console.log(`slurm study: first round ${firstRound.toFixed(0)} s, all ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }, 600_000);
});
