/**
 * Ground-truth datasets: every image is a deterministic function of a factor
 * combination, and the image with index i is the combination at row-major
 * position i of the factor grid (the order of the official files).
 */
import type { DatasetInfo } from '../../shared/domain.js';

export interface GroundTruthDataset {
  readonly info: DatasetInfo;
  /**
   * Write image `index` as float32 values in [0, 1], HWC order, into
   * `out[offset … offset + H·W·C)`.
   */
  render(index: number, out: Float32Array, offset?: number): void;
}

export function imageSize(info: Pick<DatasetInfo, 'imageShape'>): number {
  const [h, w, c] = info.imageShape;
  return h * w * c;
}
