/**
 * Checkpoints: a folder with
 *   checkpoint.json — model, settings, step, optimiser counters, and a table
 *                     of the tensors in tensors.bin (name, kind, shape, offset)
 *   tensors.bin     — float32 little-endian: every weight with its Adam
 *                     moments, for the model and the second player.
 * The step's randomness is a function of (seed, step), so seed and step are
 * the full random state. Restoring is exact (the same float32 bits).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Adam } from './adam.js';
import type { Trainer } from './trainer.js';

export const CHECKPOINT_FORMAT = 'dlab-checkpoint';
export const CHECKPOINT_VERSION = 1;

interface TensorEntry {
  group: 'main' | 'aux';
  name: string;
  kind: 'weight' | 'adam_m' | 'adam_v';
  shape: number[];
  /** Offset in float32 elements. */
  offset: number;
  length: number;
}

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  modelId: string;
  params: Record<string, number | boolean | string>;
  arch: string;
  latent: number;
  imageShape: number[];
  batch: number;
  lr: number;
  seed: number;
  step: number;
  backend: string;
  datasetId: string;
  rng: { scheme: 'fork-per-step'; seed: number; nextStep: number };
  optimizers: { main: { t: number }; aux?: { t: number } };
  tensors: TensorEntry[];
}

function groups(tr: Trainer): [('main' | 'aux'), Adam][] {
  const g: [('main' | 'aux'), Adam][] = [['main', tr.main]];
  if (tr.aux) g.push(['aux', tr.aux]);
  return g;
}

export async function saveCheckpoint(tr: Trainer, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  // device backends (webgpu): weights and moments come down with async reads first
  await tr.pull();
  const entries: TensorEntry[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const [group, adam] of groups(tr)) {
    for (const s of adam.slots) {
      for (const [kind, data] of [
        ['weight', s.w],
        ['adam_m', s.m],
        ['adam_v', s.v],
      ] as const) {
        entries.push({ group, name: s.name, kind, shape: [...s.variable.shape], offset, length: data.length });
        chunks.push(data);
        offset += data.length;
      }
    }
  }
  const bin = new Float32Array(offset);
  let o = 0;
  for (const c of chunks) {
    bin.set(c, o);
    o += c.length;
  }
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    modelId: tr.modelId,
    params: tr.params,
    arch: tr.arch,
    latent: tr.latent,
    imageShape: [...tr.imageShape],
    batch: tr.batch,
    lr: tr.lr,
    seed: tr.seed,
    step: tr.globalStep,
    backend: tr.backend,
    datasetId: tr.dataset.info.id,
    rng: { scheme: 'fork-per-step', seed: tr.seed, nextStep: tr.globalStep },
    optimizers: { main: { t: tr.main.t }, ...(tr.aux ? { aux: { t: tr.aux.t } } : {}) },
    tensors: entries,
  };
  const bytes = new Uint8Array(bin.buffer, bin.byteOffset, bin.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');
  await fs.writeFile(path.join(dir, 'tensors.bin'), bytes);
  await fs.writeFile(path.join(dir, 'checkpoint.json'), JSON.stringify(meta, null, 1));
}

export async function readCheckpointMeta(dir: string): Promise<CheckpointMeta> {
  const meta = JSON.parse(await fs.readFile(path.join(dir, 'checkpoint.json'), 'utf8')) as CheckpointMeta;
  if (meta.format !== CHECKPOINT_FORMAT) throw new Error(`${dir} is not a dlab checkpoint`);
  if (meta.version !== CHECKPOINT_VERSION) throw new Error(`unsupported checkpoint version ${meta.version}`);
  return meta;
}

/** Load a checkpoint into a trainer built with the same model settings; returns the step to continue from. */
export async function restoreCheckpoint(tr: Trainer, dir: string): Promise<number> {
  const meta = await readCheckpointMeta(dir);
  const mismatch: string[] = [];
  if (meta.modelId !== tr.modelId) mismatch.push(`model ${meta.modelId} ≠ ${tr.modelId}`);
  if (meta.arch !== tr.arch) mismatch.push(`arch ${meta.arch} ≠ ${tr.arch}`);
  if (meta.latent !== tr.latent) mismatch.push(`latent ${meta.latent} ≠ ${tr.latent}`);
  if (meta.imageShape.join('x') !== tr.imageShape.join('x')) mismatch.push(`image shape ${meta.imageShape.join('×')} ≠ ${tr.imageShape.join('×')}`);
  if (mismatch.length) throw new Error(`checkpoint does not fit this trainer: ${mismatch.join('; ')}`);
  const buf = await fs.readFile(path.join(dir, 'tensors.bin'));
  const aligned = new Uint8Array(buf.byteLength);
  aligned.set(buf);
  const bin = new Float32Array(aligned.buffer, 0, aligned.byteLength / 4);
  const table = new Map(meta.tensors.map((e) => [`${e.group}|${e.name}|${e.kind}`, e]));
  const take = (group: string, name: string, kind: string, length: number): Float32Array => {
    const e = table.get(`${group}|${name}|${kind}`);
    if (!e) throw new Error(`checkpoint lacks ${kind} of ${group}/${name}`);
    if (e.length !== length || e.offset + e.length > bin.length) throw new Error(`checkpoint ${kind} of ${name} has the wrong size`);
    return bin.subarray(e.offset, e.offset + e.length);
  };
  // Read everything first, then apply (a bad file leaves the trainer untouched).
  const staged: [Adam, number, Float32Array, Float32Array, Float32Array][] = [];
  for (const [group, adam] of groups(tr)) {
    adam.slots.forEach((s, i) => {
      staged.push([adam, i, take(group, s.name, 'weight', s.w.length), take(group, s.name, 'adam_m', s.m.length), take(group, s.name, 'adam_v', s.v.length)]);
    });
  }
  for (const [adam, i, w, m, v] of staged) {
    const s = adam.slots[i]!;
    s.w.set(w);
    s.m.set(m);
    s.v.set(v);
    adam.push(s);
  }
  tr.main.t = meta.optimizers.main.t;
  if (tr.aux) tr.aux.t = meta.optimizers.aux?.t ?? 0;
  return meta.step;
}
