/**
 * Studies on a Slurm cluster (the cluster room, `src/core/cluster/`).
 *
 * - `cluster/check`: whether this lab reaches Slurm (sbatch on PATH), and how
 *   it would otherwise (the CLI on a login node; `dlab serve` there, over SSH
 *   port forwarding).
 * - `cluster/preview`: the sbatch script a submission would use (nothing written).
 * - `cluster/submit`: write the job folder and submit it; the Slurm job id.
 * - `cluster/status`: each submitted cell with its Slurm state and node;
 *   collects finished results first (unless `collect: false`).
 * - `cluster/cancel`: scancel the study's queued and running tasks.
 * - `cluster/resubmit`: submit the failed cells again.
 */
import { z } from 'zod';
import { Id } from '../domain.js';

const Token = z.string().min(1).max(200).regex(/^[A-Za-z0-9_.:,=+/@%-]+$/, 'letters, digits and _.:,=+/@%-');

export const SlurmOptions = z
  .object({
    partition: Token.optional(),
    gres: Token.optional(),
    cpusPerTask: z.number().int().min(1).max(1024).optional(),
    mem: Token.optional(),
    time: z
      .string()
      .regex(/^(\d+-)?\d{1,3}(:\d{2}){0,2}$/, '[D-]HH:MM:SS')
      .optional(),
    account: Token.optional(),
    qos: Token.optional(),
    arrayLimit: z.number().int().min(1).max(100_000).optional(),
    extra: z
      .array(
        z
          .string()
          .max(500)
          .regex(/^#SBATCH [^\n\r]+$/, "'#SBATCH …' lines"),
      )
      .max(50)
      .optional(),
  })
  .strict();
export type SlurmOptions = z.infer<typeof SlurmOptions>;

const ClusterJobCell = z.object({ index: z.number().int(), key: z.string(), method: z.string(), model: z.string(), dataset: z.string(), variant: z.string(), seed: z.number().int(), datasetId: z.string() });

export const SubmitAnswer = z.object({
  jobId: z.string(),
  jobDir: z.string(),
  studyId: z.string(),
  script: z.string(),
  cells: z.array(ClusterJobCell),
  slurmJobId: z.string().nullable(),
  dryRun: z.boolean(),
});

export const ClusterCellStatus = z.object({
  jobId: z.string(),
  index: z.number().int(),
  key: z.string(),
  state: z.enum(['queued', 'running', 'done', 'failed']),
  collected: z.boolean(),
  slurmJobId: z.string(),
  slurmState: z.string().nullable(),
  node: z.string().nullable(),
  start: z.string().nullable(),
  end: z.string().nullable(),
  reason: z.string().nullable(),
  step: z.number().int().nullable(),
  logTail: z.string().nullable(),
});
export type ClusterCellStatus = z.infer<typeof ClusterCellStatus>;

export const CollectAnswer = z.object({
  imported: z.array(z.object({ index: z.number().int(), runs: z.array(z.string()) })),
  refused: z.array(z.object({ index: z.number().int(), reason: z.string() })),
});

export const clusterRequests = {
  'cluster/check': {
    summary: 'Whether this lab reaches Slurm (sbatch on PATH); how it talks to Slurm otherwise.',
    input: z.object({}).strict(),
    output: z.object({ ok: z.boolean(), sbatch: z.string().nullable(), message: z.string() }),
  },
  'cluster/preview': {
    summary: 'The sbatch script a submission of the study would use; nothing is written or submitted.',
    input: z.object({ studyId: Id, options: SlurmOptions.optional() }).strict(),
    output: SubmitAnswer,
  },
  'cluster/submit': {
    summary: 'Make the study’s derived datasets, write the job folder (script, manifest, inputs) and submit it with sbatch.',
    input: z.object({ studyId: Id, options: SlurmOptions.optional() }).strict(),
    output: SubmitAnswer,
  },
  'cluster/status': {
    summary: 'Each submitted cell: queued/running/done/failed, Slurm state, node, times, log tail; collects finished results first.',
    input: z.object({ studyId: Id, collect: z.boolean().optional() }).strict(),
    output: z.object({ cells: z.array(ClusterCellStatus), collected: CollectAnswer.nullable() }),
  },
  'cluster/cancel': {
    summary: 'scancel the study’s queued and running tasks.',
    input: z.object({ studyId: Id }).strict(),
    output: z.object({ cancelled: z.array(z.string()) }),
  },
  'cluster/resubmit': {
    summary: 'Submit the study’s failed cells again (each resumes its own last checkpoint).',
    input: z.object({ studyId: Id }).strict(),
    output: z.object({ submissions: z.array(z.object({ jobId: z.string(), slurmJobId: z.string(), indices: z.array(z.number().int()), script: z.string() })) }),
  },
} as const;
