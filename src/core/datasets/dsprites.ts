/**
 * dSprites, generated procedurally on the official grid (Matthey et al. 2017):
 * shape 3 (square, ellipse, heart) × scale 6 (0.5…1) × orientation 40
 * (0…2π inclusive, as in the official `latents_values`) × x 32 × y 32
 * = 737,280 binary 64×64 images, index = row-major position.
 *
 * Geometry (our definition; the official renderer is not public):
 * - a pixel is on when its centre lies inside the sprite;
 * - x/y class i puts the sprite centre on the pixel corner 16 + i (pixel
 *   coordinates, x right, y down), so one step of a position factor is an
 *   exact one-pixel translation and no pixel centre lies on a square's edge;
 * - at scale 1 the square has side 20 px, the ellipse semi-axes 13 × 6.5 px,
 *   the heart is the curve (x²+y²−1)³ = x²y³ scaled by 9 px; every size is
 *   proportional to scale;
 * - orientation turns the sprite clockwise on screen by θ. The angle is first
 *   reduced modulo the shape's symmetry period (square π/2, ellipse π, heart
 *   2π), so squares a quarter turn apart and ellipses a half turn apart are
 *   identical images, as in the official data. On the official grid
 *   (step 2π/39, which divides no quarter or half turn) that makes orientation
 *   0 and 39 identical for every shape, and lets small squares/ellipses whose
 *   reduced angles differ by less than two grid steps rasterise alike, exactly
 *   as near-duplicates exist in the official file.
 */
import type { DatasetInfo } from '../../shared/domain.js';
import { indexToFactors } from './grid.js';
import type { GroundTruthDataset } from './types.js';

export const DSPRITES_SIZES = [3, 6, 40, 32, 32] as const;
export const SHAPES = ['square', 'ellipse', 'heart'] as const;
export type SpriteShape = (typeof SHAPES)[number];

const linspace = (a: number, b: number, n: number) =>
  Array.from({ length: n }, (_, i) => (n === 1 ? a : a + ((b - a) * i) / (n - 1)));

export const SCALE_VALUES = linspace(0.5, 1, 6);
export const ORIENTATION_VALUES = linspace(0, 2 * Math.PI, 40);
export const POSITION_VALUES = linspace(0, 1, 32);

const SIZE = 64;
const SYMMETRY: Record<SpriteShape, number> = { square: Math.PI / 2, ellipse: Math.PI, heart: 2 * Math.PI };
/** Half-extent bound of any sprite at scale 1, in pixels (for the scan box). */
const RADIUS = 15;

/** Sprite centre in pixel coordinates for a position class (0…31). */
export function positionToPixel(cls: number): number {
  return 16 + cls;
}

function reduceAngle(theta: number, period: number): number {
  const q = theta / period;
  const r = Math.round(q);
  if (Math.abs(q - r) < 1e-9) return 0;
  return (q - Math.floor(q)) * period;
}

function inside(shape: SpriteShape, u: number, v: number, scale: number): boolean {
  switch (shape) {
    case 'square': {
      const h = 10 * scale;
      return Math.abs(u) <= h && Math.abs(v) <= h;
    }
    case 'ellipse': {
      const a = 13 * scale;
      const b = 6.5 * scale;
      return (u * u) / (a * a) + (v * v) / (b * b) <= 1;
    }
    case 'heart': {
      const k = 9 * scale;
      // v grows downwards on screen; the heart's lobes are at the top.
      const x = u / k;
      const y = -v / k + 0.12;
      const r = x * x + y * y - 1;
      return r * r * r - x * x * y * y * y <= 0;
    }
  }
}

/**
 * Rasterise one sprite from continuous values into `out` (64×64 floats).
 * cx, cy: centre in pixel coordinates (x to the right, y down).
 */
export function renderSprite(
  shape: SpriteShape,
  scale: number,
  theta: number,
  cx: number,
  cy: number,
  out: Float32Array,
  offset = 0,
): void {
  out.fill(0, offset, offset + SIZE * SIZE);
  const t = reduceAngle(theta, SYMMETRY[shape]);
  const c = Math.cos(t);
  const s = Math.sin(t);
  const r = RADIUS * scale + 1;
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(SIZE - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(SIZE - 1, Math.ceil(cy + r));
  for (let py = y0; py <= y1; py++) {
    const dy = py + 0.5 - cy;
    for (let px = x0; px <= x1; px++) {
      const dx = px + 0.5 - cx;
      // rotate the pixel back into the sprite's frame
      const u = c * dx + s * dy;
      const v = -s * dx + c * dy;
      if (inside(shape, u, v, scale)) out[offset + py * SIZE + px] = 1;
    }
  }
}

export const dspritesInfo: DatasetInfo = {
  id: 'dsprites',
  name: 'dSprites',
  description:
    '2D sprites (square, ellipse, heart) on the official dSprites factor grid, generated procedurally. Binary 64×64 images.',
  factors: [
    { name: 'shape', size: 3, labels: [...SHAPES], cyclic: false },
    { name: 'scale', size: 6, values: SCALE_VALUES, cyclic: false },
    { name: 'orientation', size: 40, values: ORIENTATION_VALUES, cyclic: true },
    { name: 'pos_x', size: 32, values: POSITION_VALUES, cyclic: false },
    { name: 'pos_y', size: 32, values: POSITION_VALUES, cyclic: false },
  ],
  count: 737280,
  imageShape: [64, 64, 1],
  source: 'procedural',
  approximation: false,
  binary: true,
  provenance:
    'Procedural generator on the official dSprites grid (shape 3 × scale 6 × orientation 40 × x 32 × y 32, row-major). ' +
    'Same factors, order and symmetries as the official file; the pixel rasterisation is our own.',
};

export class DSprites implements GroundTruthDataset {
  readonly info = dspritesInfo;
  private readonly f = new Array<number>(5);

  render(index: number, out: Float32Array, offset = 0): void {
    const f = indexToFactors(DSPRITES_SIZES, index, this.f);
    renderSprite(
      SHAPES[f[0]!]!,
      SCALE_VALUES[f[1]!]!,
      ORIENTATION_VALUES[f[2]!]!,
      positionToPixel(f[3]!),
      positionToPixel(f[4]!),
      out,
      offset,
    );
  }
}
