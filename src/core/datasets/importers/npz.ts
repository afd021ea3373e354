/**
 * Importers for the official NumPy `.npz` files:
 * - dSprites (`dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`): `imgs` uint8
 *   N×64×64 (0/1), `latents_classes` N×6 integers and `latents_values` N×6
 *   floats, whose first column is the colour factor of size 1;
 * - MPI3D (toy / real): `images` uint8 N×64×64×3, N = 460,800 (toy:
 *   4·4·2·3·3·40·40) or 1,036,800 (real: 6·6·2·3·3·40·40).
 */
import type { ZipReader } from '../../io/zip.js';
import type { CacheWriter } from '../cache.js';
import { gridCount } from '../grid.js';
import {
  GridLabelChecker,
  ImportError,
  type NpyHeader,
  StreamReader,
  describeShape,
  forEachRow,
  numberAt,
  readNpyHeader,
} from './common.js';

export const DSPRITES_OFFICIAL_SIZES = [3, 6, 40, 32, 32];
export const MPI3D_TOY_SIZES = [4, 4, 2, 3, 3, 40, 40];
export const MPI3D_REAL_SIZES = [6, 6, 2, 3, 3, 40, 40];
export const MPI3D_FACTOR_NAMES = [
  'object_color',
  'object_shape',
  'object_size',
  'camera_height',
  'background_color',
  'horizontal_axis',
  'vertical_axis',
];

export interface NpzContext {
  zip: ZipReader;
  file: string;
  signal?: AbortSignal;
  /** Called with the number of image bytes just streamed. */
  onImageBytes?: (n: number) => void;
}

function entryName(zip: ZipReader, key: string, what: string): string {
  const name = `${key}.npy`;
  if (!zip.get(name)) {
    const keys = zip.entries.map((e) => e.name.replace(/\.npy$/, '')).join(', ');
    throw new ImportError(`${what} file has no '${key}' array (found: ${keys || 'nothing'})`);
  }
  return name;
}

/**
 * Run `fn` on one array of the archive: its parsed header and a reader
 * positioned at its data. The entry's file handle is released however `fn`
 * ends (a bad header, a wrong dtype or shape, a label that fails its check),
 * not when the garbage collector gets to it: a failed import must not keep
 * the researcher's file open in the long-lived main process.
 */
async function withArray<T>(ctx: NpzContext, key: string, what: string, fn: (header: NpyHeader, reader: StreamReader) => Promise<T>): Promise<T> {
  const name = entryName(ctx.zip, key, what);
  const gen = ctx.zip.stream(ctx.zip.get(name)!, { signal: ctx.signal });
  try {
    const reader = new StreamReader(gen);
    const header = await readNpyHeader(reader, key);
    if (header.fortran && header.shape.length > 1) throw new ImportError(`'${key}' is stored in Fortran order, which is not supported`);
    return await fn(header, reader);
  } finally {
    await gen.return(undefined);
  }
}

/** Peek at an array's header without reading its data. */
export async function peekArray(ctx: NpzContext, key: string, what: string): Promise<NpyHeader> {
  return withArray(ctx, key, what, async (header) => header);
}

function expectShape(key: string, h: NpyHeader, shape: number[]): void {
  if (h.shape.length !== shape.length || h.shape.some((n, i) => n !== shape[i])) {
    throw new ImportError(`'${key}' has shape ${describeShape(h.shape)}, expected ${describeShape(shape)}`);
  }
}

async function streamImages(ctx: NpzContext, key: string, what: string, shape: number[], writer: CacheWriter): Promise<void> {
  await withArray(ctx, key, what, async (header, reader) => {
    if (header.kind !== 'u' || header.itemSize !== 1) throw new ImportError(`'${key}' has dtype '${header.descr}', expected uint8`);
    expectShape(key, header, shape);
    const expected = shape.reduce((x, y) => x * y, 1);
    let got = 0;
    for await (const chunk of reader.rest()) {
      ctx.signal?.throwIfAborted();
      got += chunk.length;
      if (got > expected) throw new ImportError(`'${key}' holds more data than its shape ${describeShape(shape)} (oversized or corrupt file)`);
      await writer.writeBytes(chunk);
      ctx.onImageBytes?.(chunk.length);
    }
    if (got < expected) throw new ImportError(`'${key}' ends after ${got} of ${expected} bytes (truncated file?)`);
  });
}

// ---- dSprites ------------------------------------------------------------

export interface DspritesPlan {
  sizes: number[];
  count: number;
  /** Physical values of the 5 factors, from latents_values. */
  values: number[][];
}

/** Validate keys, dtypes, shapes and the label grid of a dSprites npz. */
export async function checkDsprites(ctx: NpzContext, sizes: number[]): Promise<DspritesPlan> {
  const what = 'dSprites';
  if (sizes.length !== 5) throw new ImportError('dSprites has 5 factors (plus the colour factor of size 1)');
  const count = gridCount(sizes);
  const img = await peekArray(ctx, 'imgs', what);
  if (img.kind !== 'u' || img.itemSize !== 1) throw new ImportError(`'imgs' has dtype '${img.descr}', expected uint8`);
  expectShape('imgs', img, [count, 64, 64]);
  // latents_classes: [0, shape, scale, orientation, x, y] per row, in row-major order
  await withArray(ctx, 'latents_classes', what, async (h, reader) => {
    if (h.kind === 'f') throw new ImportError(`'latents_classes' has dtype '${h.descr}', expected integers`);
    expectShape('latents_classes', h, [count, 6]);
    const checker = new GridLabelChecker([1, ...sizes], [0, 1, 2, 3, 4, 5], "'latents_classes'", true);
    await forEachRow(reader.rest(), 6 * h.itemSize, count, "'latents_classes'", (v, i) =>
      checker.check(i, (c) => numberAt(v, c * h.itemSize, h.kind, h.itemSize, h.littleEndian)), ctx.signal);
  });
  const values = await withArray(ctx, 'latents_values', what, async (h, reader) => {
    if (h.kind !== 'f') throw new ImportError(`'latents_values' has dtype '${h.descr}', expected floats`);
    expectShape('latents_values', h, [count, 6]);
    const checker = new GridLabelChecker([1, ...sizes], [0, 1, 2, 3, 4, 5], "'latents_values'");
    await forEachRow(reader.rest(), 6 * h.itemSize, count, "'latents_values'", (v, i) =>
      checker.check(i, (c) => numberAt(v, c * h.itemSize, h.kind, h.itemSize, h.littleEndian)), ctx.signal);
    return checker.values.slice(1);
  });
  return { sizes, count, values };
}

export async function streamDspritesImages(ctx: NpzContext, plan: DspritesPlan, writer: CacheWriter): Promise<void> {
  await streamImages(ctx, 'imgs', 'dSprites', [plan.count, 64, 64], writer);
}

// ---- MPI3D ---------------------------------------------------------------

export interface Mpi3dPlan {
  sizes: number[];
  count: number;
  variant: 'toy' | 'real' | 'custom';
}

export async function checkMpi3d(ctx: NpzContext, sizes?: number[]): Promise<Mpi3dPlan> {
  const h = await peekArray(ctx, 'images', 'MPI3D');
  if (h.kind !== 'u' || h.itemSize !== 1) throw new ImportError(`'images' has dtype '${h.descr}', expected uint8`);
  if (h.shape.length !== 4 || h.shape[1] !== 64 || h.shape[2] !== 64 || h.shape[3] !== 3) {
    throw new ImportError(`'images' has shape ${describeShape(h.shape)}, expected (N, 64, 64, 3)`);
  }
  const n = h.shape[0]!;
  let plan: Mpi3dPlan;
  if (sizes) {
    if (sizes.length !== 7) throw new ImportError('MPI3D has 7 factors');
    plan = { sizes, count: gridCount(sizes), variant: 'custom' };
  } else if (n === gridCount(MPI3D_TOY_SIZES)) plan = { sizes: MPI3D_TOY_SIZES, count: n, variant: 'toy' };
  else if (n === gridCount(MPI3D_REAL_SIZES)) plan = { sizes: MPI3D_REAL_SIZES, count: n, variant: 'real' };
  else {
    throw new ImportError(
      `'images' holds ${n} images; MPI3D toy has ${gridCount(MPI3D_TOY_SIZES)} (${MPI3D_TOY_SIZES.join('×')}) and real ${gridCount(MPI3D_REAL_SIZES)} (${MPI3D_REAL_SIZES.join('×')})`,
    );
  }
  if (plan.count !== n) throw new ImportError(`'images' holds ${n} images, the factor grid ${describeShape(plan.sizes)} needs ${plan.count}`);
  return plan;
}

export async function streamMpi3dImages(ctx: NpzContext, plan: Mpi3dPlan, writer: CacheWriter): Promise<void> {
  await streamImages(ctx, 'images', 'MPI3D', [plan.count, 64, 64, 3], writer);
}
