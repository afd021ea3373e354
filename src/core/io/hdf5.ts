/**
 * A minimal, defensive HDF5 reader: enough for numeric datasets written by
 * h5py (e.g. the official `3dshapes.h5`), streamed in row blocks so that
 * multi-gigabyte datasets never sit in memory whole.
 *
 * Supported: superblock versions 0–3; object header versions 1 and 2 (with
 * continuation blocks); groups as symbol tables (v1 B-tree + local heap) or
 * compact link messages; dataspace, datatype (fixed-point and IEEE float,
 * either byte order), filter pipeline and layout messages (versions 1–4);
 * compact, contiguous and chunked layouts — chunk index: v1 B-tree, or for
 * layout version 4 the single-chunk and implicit indexes; filters: deflate
 * and shuffle. Checksums of version-2 structures are not verified.
 *
 * Anything else (dense link storage, fixed/extensible-array or v2 B-tree
 * chunk indexes, other filters, strings, compound types, missing chunks,
 * structures past the end of the file) is refused with an Hdf5Error that
 * names it.
 *
 * This file is the public entry; the reader is split by concern under
 * ./hdf5/ (its index.ts lists the parts).
 */
export { Hdf5Dataset, Hdf5Error, Hdf5File, isHdf5Signature } from './hdf5/index.js';
export type { Hdf5DatasetInfo, Hdf5Dtype, RowBlock } from './hdf5/index.js';
