/**
 * Serialisation of the trained generator: the weights artifact (JSON, float32
 * values) written into ctx.artifactDir and recorded in the spec with its
 * SHA-256, and the checked read back on restore. Design: ../manipulation.ts.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { specHash } from '../derived.js';
import type { ArtifactRef, PerturbationSpec } from '../types.js';
import type { ManipulationWeights } from './types.js';

export function serializeWeights(wts: ManipulationWeights): string {
  return JSON.stringify({
    ...wts,
    w1: Array.from(wts.w1),
    b1: Array.from(wts.b1),
    w2: Array.from(wts.w2),
    b2: Array.from(wts.b2),
  });
}

export function parseWeights(text: string): ManipulationWeights {
  const o = JSON.parse(text) as Record<string, unknown>;
  const arr = (k: string) => {
    const v = o[k];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new Error(`manipulation weights: '${k}' is not a number array`);
    return Float32Array.from(v as number[]);
  };
  const num = (k: string) => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`manipulation weights: '${k}' is not a count`);
    return v;
  };
  const ints = (k: string, len?: number) => {
    const v = o[k];
    if (!Array.isArray(v) || (len !== undefined && v.length !== len) || !v.every((x) => Number.isInteger(x) && x > 0)) {
      throw new Error(`manipulation weights: '${k}' malformed`);
    }
    return v as number[];
  };
  if (o.format !== 'dlab-manipulation' || o.version !== 1) throw new Error('not a dlab manipulation weights file (format/version)');
  if (o.encoding !== undefined && o.encoding !== 'smooth' && o.encoding !== 'parity') throw new Error("manipulation weights: 'encoding' is neither 'smooth' nor 'parity'");
  const cyc = o.cyclic;
  if (!Array.isArray(cyc) || !cyc.every((x) => typeof x === 'boolean')) throw new Error("manipulation weights: 'cyclic' malformed");
  return {
    format: 'dlab-manipulation',
    version: 1,
    imageShape: ints('imageShape', 3) as [number, number, number],
    low: ints('low', 2) as [number, number],
    factorSizes: ints('factorSizes'),
    cyclic: cyc as boolean[],
    inputDim: num('inputDim'),
    ...(o.encoding === 'parity' ? { encoding: 'parity' as const } : {}),
    hidden: num('hidden'),
    w1: arr('w1'),
    b1: arr('b1'),
    w2: arr('w2'),
    b2: arr('b2'),
    mixing: Array.isArray(o.mixing) ? (o.mixing as number[][]) : [],
    sigma: Array.isArray(o.sigma) ? (o.sigma as number[]) : [],
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Writes the weights as `manipulation-<spec hash>.json` into dir; returns the reference to record in the spec. */
export async function saveWeights(dir: string, spec: PerturbationSpec, wts: ManipulationWeights): Promise<ArtifactRef> {
  const text = serializeWeights(wts);
  const file = `manipulation-${specHash(spec)}.json`;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, file), text, 'utf8');
  return { file, sha256: sha256(text), bytes: Buffer.byteLength(text, 'utf8') };
}

/** Reads the weights a spec recorded, refusing a file whose SHA-256 differs. */
export async function loadWeights(dir: string, ref: ArtifactRef): Promise<ManipulationWeights> {
  const text = await readFile(join(dir, ref.file), 'utf8');
  if (sha256(text) !== ref.sha256) throw new Error(`manipulation weights '${ref.file}' do not match their recorded SHA-256`);
  return parseWeights(text);
}
