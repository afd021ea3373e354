/**
 * Importer for the official Shapes3D file `3dshapes.h5`: `images` uint8
 * N×64×64×3 and `labels` float N×6 (floor hue, wall hue, object hue, scale,
 * shape, orientation), N = 480,000 in row-major factor order.
 */
import type { Hdf5File } from '../../io/hdf5.js';
import type { CacheWriter } from '../cache.js';
import { gridCount } from '../grid.js';
import { GridLabelChecker, ImportError, describeShape } from './common.js';

export const SHAPES3D_OFFICIAL_SIZES = [10, 10, 10, 8, 4, 15];

export interface Shapes3dPlan {
  sizes: number[];
  count: number;
  values: number[][];
}

function member(h5: Hdf5File, key: string): void {
  const names = h5.list('/');
  if (!names.includes(key)) throw new ImportError(`Shapes3D file has no '${key}' dataset (found: ${names.join(', ') || 'nothing'})`);
}

export async function checkShapes3d(h5: Hdf5File, sizes: number[], signal?: AbortSignal): Promise<Shapes3dPlan> {
  if (sizes.length !== 6) throw new ImportError('Shapes3D has 6 factors');
  const count = gridCount(sizes);
  member(h5, 'images');
  member(h5, 'labels');
  const images = h5.dataset('images');
  if (images.dtype.kind !== 'u' || images.dtype.size !== 1) {
    throw new ImportError(`'images' has dtype ${images.dtype.kind}${images.dtype.size * 8}, expected uint8`);
  }
  const want = [count, 64, 64, 3];
  if (images.shape.length !== 4 || images.shape.some((n, i) => n !== want[i])) {
    throw new ImportError(`'images' has shape ${describeShape(images.shape)}, expected ${describeShape(want)}`);
  }
  const labels = h5.dataset('labels');
  if (labels.dtype.kind !== 'f') throw new ImportError(`'labels' has dtype ${labels.dtype.kind}${labels.dtype.size * 8}, expected floats`);
  if (labels.shape.length !== 2 || labels.shape[0] !== count || labels.shape[1] !== 6) {
    throw new ImportError(`'labels' has shape ${describeShape(labels.shape)}, expected ${describeShape([count, 6])}`);
  }
  const lab = await labels.readAllAsFloat64(signal);
  const checker = new GridLabelChecker(sizes, [0, 1, 2, 3, 4, 5], "'labels'");
  for (let i = 0; i < count; i++) {
    if ((i & 0xffff) === 0) signal?.throwIfAborted();
    checker.check(i, (c) => lab[i * 6 + c]!);
  }
  return { sizes, count, values: checker.values };
}

export async function streamShapes3dImages(
  h5: Hdf5File,
  plan: Shapes3dPlan,
  writer: CacheWriter,
  opts: { signal?: AbortSignal; onImageBytes?: (n: number) => void } = {},
): Promise<void> {
  const images = h5.dataset('images');
  let next = 0;
  for await (const blk of images.rowBlocks({ signal: opts.signal })) {
    if (blk.start !== next) throw new ImportError(`'images' rows arrive out of order`);
    next += blk.rows;
    await writer.writeBytes(blk.data);
    opts.onImageBytes?.(blk.data.length);
  }
  if (next !== plan.count) throw new ImportError(`'images' gave ${next} of ${plan.count} rows`);
}
