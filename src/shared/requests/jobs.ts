/** Requests about long tasks. */
import { z } from 'zod';
import { JobInfo } from '../jobs.js';

export const jobRequests = {
  'jobs/list': { summary: 'Long tasks of this session, newest first.', input: z.object({}).strict(), output: z.array(JobInfo) },
  'jobs/get': { summary: 'One long task.', input: z.object({ id: z.string().max(64) }).strict(), output: JobInfo },
  'jobs/cancel': { summary: 'Cancel a running task (nothing it would have written is kept).', input: z.object({ id: z.string().max(64) }).strict(), output: JobInfo },
} as const;
