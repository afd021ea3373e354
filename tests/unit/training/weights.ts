/** Shared by the training tests: a trainer's weights (both players) and a bit-for-bit comparison. */
import type { Trainer } from '../../../src/core/training/trainer.js';

export function weights(t: Trainer): Float32Array[] {
  return [...t.main.slots, ...(t.aux?.slots ?? [])].map((s) => Float32Array.from(s.variable.dataSync() as Float32Array));
}

export function sameBits(a: Float32Array[], b: Float32Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = new Uint32Array(a[i]!.buffer, a[i]!.byteOffset, a[i]!.length);
    const y = new Uint32Array(b[i]!.buffer, b[i]!.byteOffset, b[i]!.length);
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}
