/** Requests of the datasets room. */
import { z } from 'zod';
import { DatasetInfo, Id, ImageBatch, LabInfo } from '../domain.js';

const MAX_BATCH = 256;

export const SampleResult = z.object({
  datasetId: Id,
  indices: z.array(z.number().int().nonnegative()),
  /** Factor classes of each image (N×K). */
  factors: z.array(z.array(z.number().int())),
  images: ImageBatch,
});
export type SampleResult = z.infer<typeof SampleResult>;

export const datasetRequests = {
  'lab/info': {
    summary: 'Version, compute backend, lab directory and schema version.',
    input: z.object({}).strict(),
    output: LabInfo,
  },
  'datasets/list': {
    summary: 'Every dataset the lab knows: built-in, imported and derived.',
    input: z.object({}).strict(),
    output: z.array(DatasetInfo),
  },
  'datasets/get': {
    summary: 'One dataset by id.',
    input: z.object({ id: Id }).strict(),
    output: DatasetInfo,
  },
  'datasets/samples': {
    summary: 'Images at given indices, or a seeded uniform sample of the factor grid.',
    input: z
      .object({
        id: Id,
        indices: z.array(z.number().int().nonnegative()).min(1).max(MAX_BATCH).optional(),
        count: z.number().int().min(1).max(MAX_BATCH).optional(),
        seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
      })
      .strict()
      .refine((v) => (v.indices === undefined) !== (v.count === undefined), {
        message: 'give either indices or count',
      }),
    output: SampleResult,
  },
  'datasets/traverse': {
    summary: 'Images along one factor from a chosen point (all other factors held).',
    input: z
      .object({
        id: Id,
        /** The starting point: a grid index, or factor classes. */
        index: z.number().int().nonnegative().optional(),
        factors: z.array(z.number().int().nonnegative()).max(32).optional(),
        factor: z.number().int().nonnegative().max(31),
        /** At most this many images, evenly spaced over the factor's classes. */
        steps: z.number().int().min(2).max(64).optional(),
      })
      .strict()
      .refine((v) => (v.index === undefined) !== (v.factors === undefined), {
        message: 'give either index or factors',
      }),
    output: SampleResult,
  },
} as const;
