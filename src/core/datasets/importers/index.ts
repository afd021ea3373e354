/**
 * Import the official dataset files a user already has into a dataset cache:
 * dSprites `.npz`, Shapes3D `3dshapes.h5`, MPI3D toy/real `.npz`.
 *
 * Each import validates keys, dtypes, shapes, factor sizes and (where the file
 * has labels) that the labels follow the row-major factor grid; computes the
 * SHA-256 of the source file; and streams the image bytes straight into the
 * cache (see cache.ts) under temporary names, renamed only at the end. Any
 * failure or cancellation throws an Error naming the problem and leaves the
 * target directory as it was.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DatasetInfo, Factor } from '../../../shared/domain.js';
import { Hdf5Error, Hdf5File, isHdf5Signature } from '../../io/hdf5.js';
import { ZipError, ZipReader } from '../../io/zip.js';
import { CACHE_DATA_FILE, CACHE_HEADER_FILE, CacheError, CachedDataset, CacheWriter, type CacheHeader, type OpenCacheOptions } from '../cache.js';
import { dspritesInfo } from '../dsprites.js';
import { gridCount } from '../grid.js';
import { shapes3dInfo } from '../shapes3d.js';
import { ImportError, sha256File } from './common.js';
import {
  DSPRITES_OFFICIAL_SIZES,
  MPI3D_FACTOR_NAMES,
  checkDsprites,
  checkMpi3d,
  streamDspritesImages,
  streamMpi3dImages,
  type NpzContext,
} from './npz.js';
import { SHAPES3D_OFFICIAL_SIZES, checkShapes3d, streamShapes3dImages } from './shapes3d-h5.js';

export { ImportError } from './common.js';
export type ImportKind = 'dsprites' | 'shapes3d' | 'mpi3d';

export interface ImportOptions {
  /** Which dataset the file holds; detected from its contents when left out. */
  kind?: ImportKind;
  /** Directory for the cache (created if missing; must not hold a cache unless `overwrite`). */
  targetDir: string;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** Replace a cache already in targetDir. */
  overwrite?: boolean;
  /**
   * Factor sizes to expect instead of the official grid (tests and custom
   * subsets): dSprites 5 sizes (without the colour factor), Shapes3D 6, MPI3D 7.
   */
  factorSizes?: number[];
}

export interface ImportedFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface ImportResult {
  info: DatasetInfo;
  header: CacheHeader;
  /** The cache files written: data first, then the header. */
  files: ImportedFile[];
}

/** Identify an official file by its contents. */
export function detectKind(filePath: string): ImportKind {
  const fd = openSync(filePath, 'r');
  const head = new Uint8Array(8);
  try {
    readSync(fd, head, 0, 8, 0);
  } finally {
    closeSync(fd);
  }
  if (isHdf5Signature(head)) return 'shapes3d';
  if (head[0] === 0x50 && head[1] === 0x4b) {
    const zip = ZipReader.open(filePath);
    try {
      if (zip.get('imgs.npy')) return 'dsprites';
      if (zip.get('images.npy')) return 'mpi3d';
      const keys = zip.entries.map((e) => e.name).join(', ');
      throw new ImportError(`unrecognised .npz: no 'imgs' (dSprites) or 'images' (MPI3D) array (found: ${keys || 'nothing'})`);
    } finally {
      zip.close();
    }
  }
  throw new ImportError('unrecognised file: neither an HDF5 file (Shapes3D) nor a .npz zip archive (dSprites, MPI3D)');
}

function factorsWithValues(template: Factor[], sizes: number[], values: number[][]): Factor[] {
  return template.map((f, k) => {
    const out: Factor = { name: f.name, size: sizes[k]!, cyclic: f.cyclic };
    const v = values[k];
    if (f.labels && sizes[k] === f.labels.length) out.labels = f.labels;
    else if (v && v.every((x) => Number.isFinite(x))) out.values = v;
    return out;
  });
}

function importedInfo(
  kind: ImportKind,
  file: string,
  sha: string,
  factors: Factor[],
  extra: { name: string; description: string; binary: boolean; channels: number; note: string },
): DatasetInfo {
  const count = gridCount(factors.map((f) => f.size));
  return {
    id: `${kind}-import-${sha.slice(0, 12)}`,
    name: extra.name,
    description: extra.description,
    factors,
    count,
    imageShape: [64, 64, extra.channels],
    source: 'imported',
    approximation: false,
    binary: extra.binary,
    provenance:
      `Imported from the user's file ${basename(file)} (SHA-256 ${sha}). ${extra.note} ` +
      'Checked: keys, dtypes, shapes, factor sizes' +
      (kind === 'mpi3d' ? ' (the file has no labels; the order is the official row-major one).' : ', and that the labels follow the row-major factor grid.'),
    sha256: sha,
  };
}

/** Import an official dataset file into a cache directory. */
export async function importDataset(filePath: string, opts: ImportOptions): Promise<ImportResult> {
  const { signal } = opts;
  let st;
  try {
    st = statSync(filePath);
  } catch {
    throw new ImportError(`cannot import ${filePath}: file not found`);
  }
  if (!st.isFile()) throw new ImportError(`cannot import ${filePath}: not a regular file`);
  const fail = (e: unknown): never => {
    if ((e as Error)?.name === 'AbortError') throw e;
    if (e instanceof ImportError || e instanceof ZipError || e instanceof Hdf5Error || e instanceof CacheError) {
      throw new ImportError(`cannot import ${basename(filePath)}: ${e.message}`);
    }
    throw e;
  };
  let kind: ImportKind;
  try {
    kind = detectKind(filePath);
  } catch (e) {
    return fail(e);
  }
  if (opts.kind && opts.kind !== kind) {
    throw new ImportError(`cannot import ${basename(filePath)}: it looks like a ${kind} file, not ${opts.kind}`);
  }
  // progress: hashing the file, then streaming the images
  let hashed = 0;
  let imageDone = 0;
  let imageTotal = 1;
  let lastReport = -1;
  const report = () => {
    if (!opts.onProgress) return;
    const f = 0.2 * Math.min(1, hashed / Math.max(1, st.size)) + 0.8 * Math.min(1, imageDone / imageTotal);
    if (f - lastReport >= 0.005 || f === 1) {
      lastReport = f;
      opts.onProgress(f);
    }
  };
  let writer: CacheWriter | undefined;
  let zip: ZipReader | undefined;
  let h5: Hdf5File | undefined;
  try {
    if (kind === 'shapes3d') {
      h5 = Hdf5File.open(filePath);
      const plan = await checkShapes3d(h5, opts.factorSizes ?? SHAPES3D_OFFICIAL_SIZES, signal);
      const sha = await sha256File(filePath, { signal, onBytes: (n) => ((hashed += n), report()) });
      const info = importedInfo(kind, filePath, sha, factorsWithValues(shapes3dInfo.factors, plan.sizes, plan.values), {
        name: 'Shapes3D (imported)',
        description: 'The official Shapes3D images (Burgess & Kim 2018), imported from the user’s 3dshapes.h5.',
        binary: false,
        channels: 3,
        note: 'Official Shapes3D data.',
      });
      writer = await CacheWriter.create(opts.targetDir, info, { overwrite: opts.overwrite });
      imageTotal = plan.count * 64 * 64 * 3;
      await streamShapes3dImages(h5, plan, writer, { signal, onImageBytes: (n) => ((imageDone += n), report()) });
    } else {
      zip = ZipReader.open(filePath);
      const ctx: NpzContext = { zip, file: filePath, signal, onImageBytes: (n) => ((imageDone += n), report()) };
      if (kind === 'dsprites') {
        const plan = await checkDsprites(ctx, opts.factorSizes ?? DSPRITES_OFFICIAL_SIZES);
        const sha = await sha256File(filePath, { signal, onBytes: (n) => ((hashed += n), report()) });
        const info = importedInfo(kind, filePath, sha, factorsWithValues(dspritesInfo.factors, plan.sizes, plan.values), {
          name: 'dSprites (imported)',
          description: 'The official dSprites images (Matthey et al. 2017), imported from the user’s .npz.',
          binary: true,
          channels: 1,
          note: 'Official dSprites data; the colour factor (size 1) is dropped.',
        });
        writer = await CacheWriter.create(opts.targetDir, info, { overwrite: opts.overwrite });
        imageTotal = plan.count * 4096;
        await streamDspritesImages(ctx, plan, writer);
      } else {
        const plan = await checkMpi3d(ctx, opts.factorSizes);
        const sha = await sha256File(filePath, { signal, onBytes: (n) => ((hashed += n), report()) });
        const factors: Factor[] = MPI3D_FACTOR_NAMES.map((name, k) => ({ name, size: plan.sizes[k]!, cyclic: false }));
        const info = importedInfo(kind, filePath, sha, factors, {
          name: plan.variant === 'real' ? 'MPI3D real (imported)' : plan.variant === 'toy' ? 'MPI3D toy (imported)' : 'MPI3D (imported, custom grid)',
          description: `MPI3D ${plan.variant} images (Gondal et al. 2019), imported from the user’s .npz.`,
          binary: false,
          channels: 3,
          note: `MPI3D ${plan.variant} (variant inferred from the image count).`,
        });
        writer = await CacheWriter.create(opts.targetDir, info, { overwrite: opts.overwrite });
        imageTotal = plan.count * 64 * 64 * 3;
        await streamMpi3dImages(ctx, plan, writer);
      }
    }
    const header = await writer.commit();
    report();
    const dataPath = join(writer.dir, CACHE_DATA_FILE);
    const headerPath = join(writer.dir, CACHE_HEADER_FILE);
    const headerSha = await sha256File(headerPath);
    return {
      info: header.info,
      header,
      files: [
        { path: dataPath, bytes: header.dataBytes, sha256: header.sha256 },
        { path: headerPath, bytes: statSync(headerPath).size, sha256: headerSha },
      ],
    };
  } catch (e) {
    await writer?.abort();
    return fail(e);
  } finally {
    zip?.close();
    h5?.close();
  }
}

/** Open an imported (or any cached) dataset as a GroundTruthDataset. */
export function openImported(targetDir: string, opts?: OpenCacheOptions): CachedDataset {
  return CachedDataset.open(targetDir, opts);
}
