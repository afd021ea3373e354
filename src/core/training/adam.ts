/**
 * Adam on plain Float32Arrays (TF1 / disentanglement_lib formulation):
 *   t ← t + 1,  lr_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)
 *   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  w ← w − lr_t·m/(√v + ε)
 *
 * The optimiser keeps a master copy of each weight, its moments and t in JS
 * memory, reads gradients straight from the backend (a view of the wasm heap
 * where possible), and writes each updated weight back with one assign. State
 * is exact Float32 data, so a checkpoint restores it bit for bit.
 *
 * On a device backend (webgpu: reads are asynchronous only) the same update
 * runs on the device as tfjs ops (`applyOnDevice`): the moments live in
 * tensors beside the weights, nothing is read back per step, and `pull()`
 * (async) copies weights and moments into the Float32Arrays for checkpoints.
 */
import type { Tensor, Variable } from '@tensorflow/tfjs';
import type { AdamSettings } from '../models/objectives/types.js';
import type { Tf } from '../compute/backend.js';
import { readOnDevice } from '../compute/webgpu.js';

export interface AdamSlot {
  name: string;
  variable: Variable;
  w: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** The moments on the device (device mode only). */
  mT?: Variable;
  vT?: Variable;
}

export class Adam {
  t = 0;
  readonly slots: AdamSlot[];

  constructor(
    private readonly tf: Tf,
    readonly settings: AdamSettings,
    params: readonly { name: string; variable: Variable }[],
    /** Keep the moments on the device and update there (async-only backends); `pull()` fills the arrays. */
    readonly onDevice = false,
  ) {
    this.slots = params.map((p) => {
      if (onDevice) {
        const n = p.variable.size;
        const mT = tf.variable(tf.zeros(p.variable.shape), false);
        const vT = tf.variable(tf.zeros(p.variable.shape), false);
        return { name: p.name, variable: p.variable, w: new Float32Array(n), m: new Float32Array(n), v: new Float32Array(n), mT, vT };
      }
      const w = Float32Array.from(p.variable.dataSync() as Float32Array);
      return { name: p.name, variable: p.variable, w, m: new Float32Array(w.length), v: new Float32Array(w.length) };
    });
  }

  /** Device mode: copy weights and moments from the device into the slots' arrays (checkpoints). */
  async pull(): Promise<void> {
    if (!this.onDevice) return;
    for (const s of this.slots) {
      s.w.set(await readOnDevice(s.variable));
      if (s.mT) s.m.set(await readOnDevice(s.mT));
      if (s.vT) s.v.set(await readOnDevice(s.vT));
    }
  }

  /**
   * Device mode: one 0/NaN flag per slot with a gradient, as a tensor (x·0
   * summed: 0 for finite gradients, NaN otherwise), read with the losses.
   */
  nonFiniteFlags(grads: Record<string, Tensor>): { names: string[]; flags: Tensor | null } {
    const tf = this.tf;
    const names: string[] = [];
    const parts: Tensor[] = [];
    for (const s of this.slots) {
      const g = grads[s.variable.name];
      if (!g) continue;
      names.push(s.name);
      parts.push(tf.sum(tf.mul(g, 0)));
    }
    if (!parts.length) return { names, flags: null };
    const flags = tf.stack(parts);
    for (const p of parts) p.dispose();
    return { names, flags };
  }

  /** The same update as `apply`, as tfjs ops on the device (no reads). */
  applyOnDevice(grads: Record<string, Tensor>): void {
    const tf = this.tf;
    const { lr, beta1, beta2, epsilon } = this.settings;
    this.t += 1;
    const t = this.t;
    const lrT = (lr * Math.sqrt(1 - Math.pow(beta2, t))) / (1 - Math.pow(beta1, t));
    tf.tidy(() => {
      for (const s of this.slots) {
        const g = grads[s.variable.name];
        if (!g || !s.mT || !s.vT) continue;
        const m = tf.add(tf.mul(s.mT, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(s.vT, beta2), tf.mul(tf.square(g), 1 - beta2));
        const w = tf.sub(s.variable, tf.div(tf.mul(m, lrT), tf.add(tf.sqrt(v), epsilon)));
        s.mT.assign(m);
        s.vT.assign(v);
        s.variable.assign(w);
      }
    });
  }

  /** Free the device moments. */
  dispose(): void {
    for (const s of this.slots) {
      s.mT?.dispose();
      s.vT?.dispose();
    }
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
    if (s.mT && s.vT) {
      const m = tf.tensor(s.m, s.variable.shape, 'float32');
      const v = tf.tensor(s.v, s.variable.shape, 'float32');
      s.mT.assign(m);
      s.vT.assign(v);
      m.dispose();
      v.dispose();
    }
  }
}
