/**
 * Domain types shared by the engine, the transports and the renderer, each
 * with its runtime schema. No Node, no DOM.
 */
import { z } from 'zod';

/**
 * The safe-id rule for every id that can become a path segment (runs,
 * datasets, studies, uploads, artifacts): 1–128 characters of letters,
 * digits and `_ . -`, starting with a letter, digit or `_` — so never `.`,
 * `..`, a hidden name or something that reads as a flag, never a separator
 * or a character a file system refuses (`:` on Windows).
 */
export const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export function isSafeId(s: string): boolean {
  return SAFE_ID.test(s);
}
export const Id = z.string().min(1).max(128).regex(SAFE_ID, 'an id is letters, digits and _ . - (starting with a letter, digit or _)');
export type Id = z.infer<typeof Id>;

/** An absolute file path: POSIX `/…`, Windows `C:\…` or a UNC `\\server\…`. */
export const ABSOLUTE_PATH = /^(\/|[A-Za-z]:[\\/]|\\\\)/;

export const Factor = z.object({
  name: z.string().max(64),
  size: z.number().int().positive(),
  /** Physical value of each class, when meaningful (e.g. scale 0.5…1). */
  values: z.array(z.number()).optional(),
  /** Labels of each class, for categorical factors (e.g. shape names). */
  labels: z.array(z.string()).optional(),
  /** Whether the factor wraps around (orientation, hue). */
  cyclic: z.boolean(),
});
export type Factor = z.infer<typeof Factor>;

export const DatasetSource = z.enum(['procedural', 'imported', 'derived']);
export type DatasetSource = z.infer<typeof DatasetSource>;

export const DatasetInfo = z.object({
  id: Id,
  name: z.string().max(200),
  description: z.string().max(4000),
  factors: z.array(Factor),
  count: z.number().int().nonnegative(),
  imageShape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  source: DatasetSource,
  /** True where the data only approximates an official dataset. */
  approximation: z.boolean(),
  /** Binary images (0/1 pixels). */
  binary: z.boolean(),
  /** Where the data comes from, in words (generator, file, parent). */
  provenance: z.string().max(4000),
  /** SHA-256 of the source file, for imported data. */
  sha256: z.string().optional(),
  parent: Id.optional(),
});
export type DatasetInfo = z.infer<typeof DatasetInfo>;

export const ComputeBackend = z.enum(['tensorflow', 'webgpu', 'wasm', 'cpu']);
export type ComputeBackend = z.infer<typeof ComputeBackend>;

export const LabInfo = z.object({
  name: z.string(),
  version: z.string(),
  backend: ComputeBackend,
  /** The backend with its device, as runs record it (e.g. 'webgpu (llvmpipe)'). */
  backendLabel: z.string().optional(),
  /** Why the best backend is not in use (empty when it is). */
  backendNotes: z.array(z.string()),
  labDir: z.string(),
  schemaVersion: z.number().int(),
  node: z.string(),
  platform: z.string(),
});
export type LabInfo = z.infer<typeof LabInfo>;

/** Images on the wire: N images of H×W×C as uint8 (0…255), base64. */
export const ImageBatch = z.object({
  shape: z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int()]),
  dataBase64: z.string(),
});
export type ImageBatch = z.infer<typeof ImageBatch>;
