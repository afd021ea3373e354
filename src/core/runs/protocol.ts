/** Messages between the main process (RunSupervisor) and a training worker. */
import type { RunConfig } from '../../shared/runs.js';
import type { StoredDatasetRow } from '../datasets/service.js';
import type { MetricScore } from '../metrics/types.js';

export interface StartMessage {
  type: 'start';
  runId: string;
  config: RunConfig;
  labDir: string;
  /** runs/<id> inside the lab dir. */
  runDir: string;
  /** The dataset's stored row and its ancestors' (empty for built-in datasets). */
  datasetRows: StoredDatasetRow[];
  /** Checkpoint folder to resume from (absolute), or null for a fresh start. */
  resumeFrom: string | null;
  /** Compute threads (wasm: XNNPACK's pool); default 1. */
  threads?: number;
  /** 'train' (default) or 'evaluate' a finished run from its checkpoint. */
  mode?: 'train' | 'evaluate';
  /** Metrics to compute (after training, or in evaluate mode). */
  evaluate?: EvaluateRequest;
}

export interface EvaluateRequest {
  metrics: string[];
  settings?: Record<string, Record<string, unknown>>;
  seed: number;
  geometryPoints?: number;
  /**
   * Score the checkpoint of this step (default: the latest) on a fresh seeded
   * sample of `points` grid points, as the periodic evaluation does; the
   * scores are stored as that step's point of the metric series.
   */
  step?: number;
  points?: number;
}

export interface StopMessage {
  type: 'stop';
  /** paused/cancelled: save a checkpoint, then exit. */
  reason: 'paused' | 'cancelled';
}

export type ToWorker = StartMessage | StopMessage;

export interface FileRecord {
  /** Relative to the lab dir. */
  path: string;
  size: number;
  sha256: string;
}

export type FromWorker =
  | { type: 'started'; backend: string; notes: string[]; step: number; threads?: number }
  | {
      type: 'progress';
      step: number;
      losses: Record<string, number>;
      klPerDim?: number[];
      stepsPerSec: number;
      etaSec: number;
    }
  | { type: 'checkpoint'; step: number; dir: string; files: FileRecord[] }
  | { type: 'codes'; files: FileRecord[]; samples: number }
  | { type: 'evaluation'; score: MetricScore; index: number; total: number }
  /** Scores of the weights at `step` on the fixed sample (periodic evaluation, or evaluate mode with points). */
  | { type: 'series'; step: number; scores: MetricScore[]; encodeSeconds: number; evalSeconds: number }
  | { type: 'stopped'; reason: 'paused' | 'cancelled'; step: number }
  | { type: 'done'; step: number }
  | { type: 'failed'; step: number; error: string; kind: 'nonfinite' | 'error' };
