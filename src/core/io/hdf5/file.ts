/**
 * An open HDF5 file: group listing, path resolution and opening datasets.
 */
import { Hdf5Error, type ChunkRef } from './common.js';
import { readChunkBTree } from './chunks.js';
import { Hdf5Dataset } from './dataset.js';
import { readLinks } from './groups.js';
import { parseDataspace, parseDatatype, parseFilters, parseLayout } from './messages.js';
import { readMessages } from './object-header.js';
import { RawFile } from './raw-file.js';

export class Hdf5File {
  readonly fileSize: number;

  private constructor(
    readonly path: string,
    private readonly raw: RawFile,
  ) {
    this.fileSize = raw.fileSize;
  }

  static open(path: string): Hdf5File {
    return new Hdf5File(path, RawFile.open(path));
  }

  close(): void {
    this.raw.close();
  }

  read(at: number, length: number, what = 'data'): Uint8Array {
    return this.raw.read(at, length, what);
  }

  /** Names of the members of a group ('/' = root). */
  list(path = '/'): string[] {
    return [...readLinks(this.raw, this.resolve(path)).keys()];
  }

  private resolve(path: string): number {
    let addr = this.raw.rootAddress;
    for (const part of path.split('/').filter(Boolean)) {
      const next = readLinks(this.raw, addr).get(part);
      if (next === undefined) throw new Hdf5Error(`HDF5 file has no object '${path}'`);
      addr = next;
    }
    return addr;
  }

  dataset(path: string): Hdf5Dataset {
    const address = this.resolve(path);
    const msgs = readMessages(this.raw, address);
    const space = msgs.find((m) => m.type === 0x01);
    const type = msgs.find((m) => m.type === 0x03);
    const layout = msgs.find((m) => m.type === 0x08);
    if (!space || !type || !layout) throw new Hdf5Error(`HDF5 object '${path}' is not a dataset`);
    const shape = parseDataspace(this.raw, space.data);
    const dtype = parseDatatype(this.raw, type.data, path);
    const pipe = msgs.find((m) => m.type === 0x0b);
    const filters = pipe ? parseFilters(pipe.data, path) : [];
    const lay = parseLayout(this.raw, layout.data, shape.length, path);
    return new Hdf5Dataset(this, path, shape, dtype, lay, filters);
  }

  /** Leaves of a version-1 B-tree of raw-data chunks, in key order. */
  chunkIndex(root: number, rank: number): ChunkRef[] {
    return readChunkBTree(this.raw, root, rank);
  }
}
