/**
 * Where a training step spends its time: every kernel of the active backend
 * is wrapped (through tfjs's kernel registry) to add its wall time, by kernel
 * and by the phase the trainer says it is in (batch, forward, backward, read,
 * optimiser). Kernels of the cpu and wasm backends run synchronously, so the
 * times are exact; on a GPU backend they are dispatch times only. Meant for
 * `dlab bench train --profile`, never for training runs.
 */
import type { Tf } from './backend.js';

export type StepPhase = 'batch' | 'forward' | 'backward' | 'read' | 'optimiser';

export interface KernelTime {
  kernel: string;
  phase: StepPhase;
  calls: number;
  ms: number;
}

export interface StepProbe {
  /** The trainer enters a phase (kernels run from now on count towards it). */
  enter(phase: StepPhase): void;
}

export interface KernelProfiler extends StepProbe {
  /** Wall time per phase (between enter() calls) since the last reset. */
  phases(): Record<StepPhase, number>;
  kernels(): KernelTime[];
  reset(): void;
  /** Put the original kernels back. */
  restore(): void;
}

/** The family a kernel belongs to, for the profile's summary. */
export function kernelFamily(kernel: string): string {
  if (kernel === 'Conv2D' || kernel === 'FusedConv2D') return 'conv2d';
  if (kernel === 'Conv2DBackpropFilter') return 'conv2d filter-grad';
  if (kernel === 'Conv2DBackpropInput') return 'conv2d input-grad / transposed conv';
  if (kernel === 'BatchMatMul' || kernel === '_FusedMatMul') return 'matmul';
  if (['Sum', 'Max', 'Min', 'Mean', 'Prod', 'ArgMax', 'ArgMin', 'All', 'Any'].includes(kernel)) return 'reductions';
  if (['Reshape', 'Transpose', 'Slice', 'Concat', 'Identity', 'Cast', 'Tile', 'Pad', 'GatherV2', 'Pack', 'Unpack', 'StridedSlice', 'Fill', 'ZerosLike', 'OnesLike'].includes(kernel)) return 'copies & reshapes';
  return 'element-wise';
}

export function profileKernels(tf: Tf): KernelProfiler {
  const backend = tf.getBackend();
  const originals = tf.getKernelsForBackend(backend);
  const times = new Map<string, KernelTime>();
  const phaseMs: Record<StepPhase, number> = { batch: 0, forward: 0, backward: 0, read: 0, optimiser: 0 };
  let phase: StepPhase = 'batch';
  let since = performance.now();
  for (const cfg of originals) {
    const inner = cfg.kernelFunc;
    tf.unregisterKernel(cfg.kernelName, backend);
    tf.registerKernel({
      ...cfg,
      kernelFunc: ((args: Parameters<typeof inner>[0]) => {
        const t0 = performance.now();
        const out = inner(args);
        const key = `${cfg.kernelName}|${phase}`;
        const k = times.get(key) ?? { kernel: cfg.kernelName, phase, calls: 0, ms: 0 };
        k.calls++;
        k.ms += performance.now() - t0;
        times.set(key, k);
        return out;
      }) as typeof inner,
    });
  }
  return {
    enter(p) {
      const now = performance.now();
      phaseMs[phase] += now - since;
      since = now;
      phase = p;
    },
    phases() {
      const now = performance.now();
      phaseMs[phase] += now - since;
      since = now;
      return { ...phaseMs };
    },
    kernels: () => [...times.values()].sort((a, b) => b.ms - a.ms),
    reset() {
      times.clear();
      for (const k of Object.keys(phaseMs) as StepPhase[]) phaseMs[k] = 0;
      since = performance.now();
    },
    restore() {
      for (const cfg of originals) {
        tf.unregisterKernel(cfg.kernelName, backend);
        tf.registerKernel(cfg);
      }
    },
  };
}
