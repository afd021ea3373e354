/**
 * The HDF5 reader, split by concern (the module comment of ../hdf5.ts says
 * what it supports):
 *   common.ts        error, signature, public types, internal records
 *   raw-file.ts      raw reads and the superblock
 *   object-header.ts object header messages (v1, v2, continuations)
 *   groups.ts        group members (symbol tables, link messages)
 *   messages.ts      dataspace, datatype, filter pipeline, layout messages
 *   chunks.ts        chunk indexes and filters (deflate, shuffle)
 *   dataset.ts       the dataset reader API (row blocks, read whole)
 *   file.ts          the open file: list, resolve, dataset
 */
export { Hdf5Error, isHdf5Signature } from './common.js';
export type { Hdf5DatasetInfo, Hdf5Dtype, RowBlock } from './common.js';
export { Hdf5Dataset } from './dataset.js';
export type { RowBlockOptions } from './dataset.js';
export { Hdf5File } from './file.js';
