/**
 * Requests for bringing the official dataset files into the lab (and taking
 * stored datasets out again), plus the native open-file dialog.
 *
 * - `datasets/import` starts a job (see `jobs/*`, events `jobs/progress`);
 *   the job's result is `{ datasetId }`. The file comes either as a path on
 *   the machine running the Lab, or as an `uploadId` from browser mode's
 *   `POST /upload?name=…` route.
 * - `dialog/openFile` is answered by the Electron main process with the
 *   native dialog; elsewhere it answers `{ path: null, available: false }` and
 *   the UI falls back to a file input plus upload.
 */
import { z } from 'zod';
import { Id } from '../domain.js';
import { JobInfo } from '../jobs.js';

export const ImportKind = z.enum(['dsprites', 'shapes3d', 'mpi3d']);
export type ImportKind = z.infer<typeof ImportKind>;

/** Upload ids handed out by the browser-mode upload route. */
export const UploadId = z.string().regex(/^up-[0-9a-f]{32}$/, 'not an upload id');

export const importRequests = {
  'datasets/import': {
    summary: 'Import an official dataset file (dSprites .npz, Shapes3D .h5, MPI3D .npz) as a job; its result is { datasetId }.',
    input: z
      .object({
        /** Absolute path of the file on the machine running the Lab. */
        path: z.string().min(1).max(4096).optional(),
        /** Id returned by `POST /upload` (browser mode). */
        uploadId: UploadId.optional(),
        /** Which dataset the file holds; detected from its contents when left out. */
        kind: ImportKind.optional(),
        /** Display name (default: e.g. "dSprites (imported)"). */
        name: z.string().trim().min(1).max(200).optional(),
      })
      .strict()
      .refine((v) => (v.path === undefined) !== (v.uploadId === undefined), { message: 'give either path or uploadId' }),
    output: JobInfo,
  },
  'datasets/delete': {
    summary: 'Delete an imported or derived dataset and its files (refused while runs or derived datasets use it).',
    input: z.object({ id: Id }).strict(),
    output: z.object({ id: Id }),
  },
  'dialog/openFile': {
    summary: 'Ask the user for a file with the native dialog (desktop app only; elsewhere available: false).',
    input: z.object({ title: z.string().max(200).optional() }).strict(),
    output: z.object({ path: z.string().nullable(), available: z.boolean() }),
  },
} as const;
