import type { GeneratorEncoding } from './generator.js';
import type { StructureReport } from './structure.js';

/**
 * The learned manipulation's data: the trained generator weights (the
 * artifact) and the training report. The design is documented at the top of
 * ../manipulation.ts.
 */

export interface ManipulationWeights {
  format: 'dlab-manipulation';
  version: 1;
  imageShape: [number, number, number];
  /** Generator output grid (rows, cols); channels = imageShape[2]. */
  low: [number, number];
  factorSizes: number[];
  cyclic: boolean[];
  inputDim: number;
  /** The input encoding e(w) (generator.ts); absent in the first artifacts: 'smooth'. */
  encoding?: GeneratorEncoding;
  hidden: number;
  /** inputDim×hidden, row-major. */
  w1: Float32Array;
  b1: Float32Array;
  /** hidden×(low rows·cols·C), row-major. */
  w2: Float32Array;
  b2: Float32Array;
  /** References used in training (kept for the record). */
  mixing: number[][];
  sigma: number[];
}

export interface ManipulationEval {
  objective: number;
  entangledLoss: number;
  disentangledLoss: number;
}

export interface ManipulationReport {
  trainPoints: number;
  steps: number;
  /** Objective on fixed evaluation noise before training (m = 0 at init is not exact; this is the init generator). */
  initial: ManipulationEval;
  /** Same, for the parent images without any offset. */
  unperturbed: ManipulationEval;
  final: ManipulationEval;
  /** Every few steps: step, objective, entangled and disentangled loss (training noise). */
  history: { step: number; objective: number; entangledLoss: number; disentangledLoss: number; structureLoss?: number }[];
  /** The variance-structure term (structure.ts), when its weight was above 0. */
  structure?: StructureReport;
  mixingDistanceFromSignedPermutation: number;
  /** Fraction of training pixels clipped to [0, 1] at the end. */
  clippedFraction: number;
  seconds: number;
}
