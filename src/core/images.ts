/** Float images in [0,1] → uint8 batches for the wire. */
import type { ImageBatch } from '../shared/domain.js';

export function toImageBatch(data: Float32Array, n: number, shape: readonly [number, number, number]): ImageBatch {
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    bytes[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return { shape: [n, shape[0], shape[1], shape[2]], dataBase64: Buffer.from(bytes).toString('base64') };
}
