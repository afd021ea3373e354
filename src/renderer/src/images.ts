/** Decode the contract's ImageBatch into ImageData for canvases. */
import type { ImageBatch } from '../../shared/domain';

export function decodeBatch(batch: ImageBatch): ImageData[] {
  const [n, h, w, c] = batch.shape;
  const bin = atob(batch.dataBase64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const out: ImageData[] = [];
  for (let k = 0; k < n; k++) {
    const img = new ImageData(w, h);
    const base = k * h * w * c;
    for (let p = 0; p < h * w; p++) {
      const o = p * 4;
      if (c === 1) {
        const v = bytes[base + p]!;
        img.data[o] = img.data[o + 1] = img.data[o + 2] = v;
      } else {
        img.data[o] = bytes[base + p * c]!;
        img.data[o + 1] = bytes[base + p * c + 1]!;
        img.data[o + 2] = bytes[base + p * c + 2]!;
      }
      img.data[o + 3] = 255;
    }
    out.push(img);
  }
  return out;
}
