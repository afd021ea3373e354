/**
 * Adam on plain Float32Arrays (TF1 / disentanglement_lib formulation):
 *   t ← t + 1,  lr_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)
 *   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  w ← w − lr_t·m/(√v + ε)
 *
 * The optimiser keeps a master copy of each weight, its moments and t in JS
 * memory, reads gradients straight from the backend (a view of the wasm heap
 * where possible), and writes each updated weight back with one assign. State
 * is exact Float32 data, so a checkpoint restores it bit for bit.
 */
import type { Tensor, Variable } from '@tensorflow/tfjs';
import type { AdamSettings } from '../models/objectives/types.js';
import type { Tf } from '../compute/backend.js';

export interface AdamSlot {
  name: string;
  variable: Variable;
  w: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

export class Adam {
  t = 0;
  readonly slots: AdamSlot[];

  constructor(
    private readonly tf: Tf,
    readonly settings: AdamSettings,
    params: readonly { name: string; variable: Variable }[],
  ) {
    this.slots = params.map((p) => {
      const w = Float32Array.from(p.variable.dataSync() as Float32Array);
      return { name: p.name, variable: p.variable, w, m: new Float32Array(w.length), v: new Float32Array(w.length) };
    });
  }

  get variables(): Variable[] {
    return this.slots.map((s) => s.variable);
  }

  /** Read a gradient's values without copying where the backend allows it (valid until the next allocation). */
  private read(g: Tensor): Float32Array {
    if (this.tf.getBackend() === 'wasm') {
      const be = this.tf.backend() as unknown as { typedArrayFromHeap(t: Tensor): Float32Array };
      return be.typedArrayFromHeap(g);
    }
    return g.dataSync() as Float32Array;
  }

  /** Name of the first slot whose gradient has a NaN or ±Inf, or null. */
  firstNonFinite(grads: Record<string, Tensor>): string | null {
    for (const s of this.slots) {
      const g = grads[s.variable.name];
      if (!g) continue;
      const a = this.read(g);
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += a[i]! * 0;
      // x·0 is 0 for finite x and NaN for NaN/±Inf.
      if (sum !== 0) return s.name;
    }
    return null;
  }

  /** Apply one update; variables without a gradient are left as they are (their moments too). */
  apply(grads: Record<string, Tensor>): void {
    const { lr, beta1, beta2, epsilon } = this.settings;
    this.t += 1;
    const t = this.t;
    const lrT = (lr * Math.sqrt(1 - Math.pow(beta2, t))) / (1 - Math.pow(beta1, t));
    const c1 = 1 - beta1;
    const c2 = 1 - beta2;
    for (const s of this.slots) {
      const gt = grads[s.variable.name];
      if (!gt) continue;
      const g = this.read(gt);
      const { w, m, v } = s;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]!;
        const mi = beta1 * m[i]! + c1 * gi;
        const vi = beta2 * v[i]! + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i]! - (lrT * m[i]!) / (Math.sqrt(v[i]!) + epsilon);
      }
      this.push(s);
    }
  }

  /** Write a slot's master weights to its variable. */
  push(s: AdamSlot): void {
    const tf = this.tf;
    const t = tf.tensor(s.w, s.variable.shape, 'float32');
    s.variable.assign(t);
    t.dispose();
  }
}
