/** Long tasks (imports, learned perturbations, analyses): progress, cancel, result. */
import { z } from 'zod';

export const JobStatus = z.enum(['running', 'done', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;

export const JobInfo = z.object({
  id: z.string(),
  kind: z.string(),
  title: z.string(),
  status: JobStatus,
  /** 0…1 */
  fraction: z.number(),
  message: z.string(),
  /** Free-form numbers for charts (e.g. a training curve). */
  series: z.record(z.string(), z.array(z.tuple([z.number(), z.number()]))),
  error: z.string().nullable(),
  /** What the job produced (e.g. { datasetId }). */
  result: z.record(z.string(), z.unknown()).nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type JobInfo = z.infer<typeof JobInfo>;
