/**
 * A procedural APPROXIMATION of Shapes3D (Burgess & Kim 2018) on the official
 * factor grid: floor hue 10 × wall hue 10 × object hue 10 × scale 8 ×
 * shape 4 (cube, cylinder, sphere, capsule) × orientation 15 = 480,000 RGB
 * 64×64 images, index = row-major position (the order of `3dshapes.h5`).
 *
 * The official images come from a MuJoCo scene that is not reproduced here.
 * This is our own small analytic renderer, with the same factors and factor
 * values but different pixels:
 *
 * - World frame: x right, y up, z towards the camera. The floor is the plane
 *   y = 0, the back wall the plane z = −WALL_DISTANCE. The object stands on
 *   the floor at the origin. A pinhole camera (SHAPES3D_CAMERA) looks at it
 *   from the front and above, with no roll and no yaw, so the floor/wall edge
 *   is a horizontal line in the image.
 * - Every pixel is the mean of a 2×2 grid of rays (the samples sit at
 *   1/4 and 3/4 of the pixel); each ray is intersected analytically with the
 *   object, else with the floor or the wall.
 * - Shapes, in units of the scale factor s (object frame, base centre at the
 *   origin): cube of side s; upright cylinder of radius s/2 and height s;
 *   sphere of radius s/2 resting on the floor; capsule lying along the
 *   object's x axis (radius 0.3·s, straight part 0.7·s long).
 * - Orientation θ turns the object about the vertical axis through its centre
 *   (positive θ is counter-clockwise seen from above). The object's key light
 *   turns with it, which is what the official orbiting camera does to the
 *   object's appearance: so even the sphere and the upright cylinder change
 *   with θ (their shading moves), and orientation stays identifiable for
 *   every shape. Floor and wall are lit by a fixed point light, so orientation,
 *   scale and shape change only pixels the object covers.
 * - Lambert shading with an ambient term; no shadows, no reflections.
 * - Colours: hue h ∈ {0, 0.1, …, 0.9} converted from HSV with full
 *   saturation and value, multiplied by the shading.
 */
import type { DatasetInfo } from '../../shared/domain.js';
import { indexToFactors } from './grid.js';
import type { GroundTruthDataset } from './types.js';

export const SHAPES3D_SIZES = [10, 10, 10, 8, 4, 15] as const;
export const SHAPES3D_SHAPES = ['cube', 'cylinder', 'sphere', 'capsule'] as const;
export type Shapes3DShape = (typeof SHAPES3D_SHAPES)[number];

/** Official values (labels of 3dshapes.h5): hues 0, 0.1, …, 0.9. */
export const HUE_VALUES = Array.from({ length: 10 }, (_, i) => i / 10);
export const SCALE3D_VALUES = Array.from({ length: 8 }, (_, i) => 0.75 + (0.5 * i) / 7);
/** Degrees, −30 … 30 in steps of 30/7. */
export const ORIENTATION3D_VALUES = Array.from({ length: 15 }, (_, i) => -30 + (60 * i) / 14);

const SIZE = 64;
const NPIX = SIZE * SIZE;
const SAMPLES = 4;

/** Scene and camera geometry (world units). */
export const SHAPES3D_CAMERA = {
  position: [0, 2.3, 6.4] as const,
  target: [0, 0.75, 0] as const,
  /** Vertical field of view, degrees. */
  fovY: 32,
  /** The back wall is the plane z = −wallDistance. */
  wallDistance: 3,
};

/** Full-saturation, full-value HSV → RGB for hue h ∈ [0, 1). */
export function hueToRgb(h: number): [number, number, number] {
  const x = (((h % 1) + 1) % 1) * 6;
  const i = Math.floor(x);
  const f = x - i;
  switch (i) {
    case 0: return [1, f, 0];
    case 1: return [1 - f, 1, 0];
    case 2: return [0, 1, f];
    case 3: return [0, 1 - f, 1];
    case 4: return [f, 0, 1];
    default: return [1, 0, 1 - f];
  }
}

// ---- camera ------------------------------------------------------------

type V3 = [number, number, number];
const sub = (a: readonly number[], b: readonly number[]): V3 => [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
const dot = (a: readonly number[], b: readonly number[]) => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
const cross = (a: readonly number[], b: readonly number[]): V3 => [
  a[1]! * b[2]! - a[2]! * b[1]!,
  a[2]! * b[0]! - a[0]! * b[2]!,
  a[0]! * b[1]! - a[1]! * b[0]!,
];
const norm = (a: readonly number[]): V3 => {
  const l = Math.hypot(a[0]!, a[1]!, a[2]!);
  return [a[0]! / l, a[1]! / l, a[2]! / l];
};

const CAM = SHAPES3D_CAMERA.position;
const FWD = norm(sub(SHAPES3D_CAMERA.target, CAM));
const RIGHT = norm(cross(FWD, [0, 1, 0]));
const UP = cross(RIGHT, FWD);
const TAN_HALF = Math.tan((SHAPES3D_CAMERA.fovY * Math.PI) / 360);

/** Light for floor and wall: a point light above, in front and to the left. */
const ROOM_LIGHT: V3 = [-2.5, 5, 4];
const ROOM_AMBIENT = 0.3;
const ROOM_DIFFUSE = 0.75;
/** Object key light, fixed in the object's frame (turns with orientation). */
const OBJ_LIGHT = norm([-0.6, 0.75, 0.55]);
const OBJ_AMBIENT = 0.25;
const OBJ_DIFFUSE = 0.75;

/** Per-sample ray directions (world) and background shading, computed once. */
interface Precomputed {
  dirs: Float64Array; // NPIX·SAMPLES·3
  floorShade: Float32Array; // per sample: shade if the ray hits the floor, else 0
  wallShade: Float32Array; // per sample: shade if the ray hits the wall, else 0
  floorSum: Float32Array; // per pixel: mean over samples of floorShade
  wallSum: Float32Array;
}

let pre: Precomputed | undefined;

function roomShade(p: V3, n: V3): number {
  const l = sub(ROOM_LIGHT, p);
  const d = Math.hypot(l[0], l[1], l[2]);
  const lambert = Math.max(0, dot(n, l) / d);
  return Math.min(1, ROOM_AMBIENT + ROOM_DIFFUSE * lambert);
}

function precompute(): Precomputed {
  if (pre) return pre;
  const dirs = new Float64Array(NPIX * SAMPLES * 3);
  const floorShade = new Float32Array(NPIX * SAMPLES);
  const wallShade = new Float32Array(NPIX * SAMPLES);
  const floorSum = new Float32Array(NPIX);
  const wallSum = new Float32Array(NPIX);
  const wz = -SHAPES3D_CAMERA.wallDistance;
  for (let py = 0; py < SIZE; py++) {
    for (let px = 0; px < SIZE; px++) {
      const p = py * SIZE + px;
      for (let k = 0; k < SAMPLES; k++) {
        const sx = px + (k & 1 ? 0.75 : 0.25);
        const sy = py + (k & 2 ? 0.75 : 0.25);
        const u = ((2 * sx) / SIZE - 1) * TAN_HALF;
        const v = (1 - (2 * sy) / SIZE) * TAN_HALF;
        const d: V3 = [
          FWD[0] + u * RIGHT[0] + v * UP[0],
          FWD[1] + u * RIGHT[1] + v * UP[1],
          FWD[2] + u * RIGHT[2] + v * UP[2],
        ];
        const s = p * SAMPLES + k;
        dirs[3 * s] = d[0];
        dirs[3 * s + 1] = d[1];
        dirs[3 * s + 2] = d[2];
        // floor (y = 0) or wall (z = wz), whichever the ray meets first
        const tFloor = d[1] < 0 ? -CAM[1] / d[1] : Infinity;
        const tWall = d[2] < 0 ? (wz - CAM[2]) / d[2] : Infinity;
        if (tFloor < tWall) {
          const hit: V3 = [CAM[0] + tFloor * d[0], 0, CAM[2] + tFloor * d[2]];
          floorShade[s] = roomShade(hit, [0, 1, 0]);
        } else {
          const hit: V3 = [CAM[0] + tWall * d[0], CAM[1] + tWall * d[1], wz];
          wallShade[s] = roomShade(hit, [0, 0, 1]);
        }
        floorSum[p]! += floorShade[s]! / SAMPLES;
        wallSum[p]! += wallShade[s]! / SAMPLES;
      }
    }
  }
  pre = { dirs, floorShade, wallShade, floorSum, wallSum };
  return pre;
}

/** Project a world point to pixel coordinates (x right, y down). */
export function projectToPixel(p: readonly number[]): [number, number] {
  const q = sub(p, CAM);
  const z = dot(q, FWD);
  const u = dot(q, RIGHT) / z / TAN_HALF;
  const v = dot(q, UP) / z / TAN_HALF;
  return [((u + 1) * SIZE) / 2, ((1 - v) * SIZE) / 2];
}

// ---- analytic intersections in the object frame (unit scale) ------------

/** Normal of the last hit (object frame). */
let nx = 0;
let ny = 0;
let nz = 0;

const HALF = 0.5; // cube half side, cylinder and sphere radius at scale 1
const CAP_R = 0.3;
const CAP_H = 0.35; // half length of the capsule's straight part

/** Ray o + t·d against the shape; returns t of the first entry or −1 (normal in nx, ny, nz). */
function intersect(shape: number, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number): number {
  switch (shape) {
    case 0: { // cube [-½,½] × [0,1] × [-½,½], slab method
      let tmin = -Infinity;
      let tmax = Infinity;
      let axis = -1;
      let sign = 0;
      // x
      if (dx !== 0) {
        const t1 = (-HALF - ox) / dx;
        const t2 = (HALF - ox) / dx;
        const lo = Math.min(t1, t2);
        if (lo > tmin) { tmin = lo; axis = 0; sign = dx > 0 ? -1 : 1; }
        tmax = Math.min(tmax, Math.max(t1, t2));
      } else if (ox < -HALF || ox > HALF) return -1;
      if (dy !== 0) {
        const t1 = (0 - oy) / dy;
        const t2 = (2 * HALF - oy) / dy;
        const lo = Math.min(t1, t2);
        if (lo > tmin) { tmin = lo; axis = 1; sign = dy > 0 ? -1 : 1; }
        tmax = Math.min(tmax, Math.max(t1, t2));
      } else if (oy < 0 || oy > 2 * HALF) return -1;
      if (dz !== 0) {
        const t1 = (-HALF - oz) / dz;
        const t2 = (HALF - oz) / dz;
        const lo = Math.min(t1, t2);
        if (lo > tmin) { tmin = lo; axis = 2; sign = dz > 0 ? -1 : 1; }
        tmax = Math.min(tmax, Math.max(t1, t2));
      } else if (oz < -HALF || oz > HALF) return -1;
      if (tmax < tmin || tmin <= 0) return -1;
      nx = axis === 0 ? sign : 0;
      ny = axis === 1 ? sign : 0;
      nz = axis === 2 ? sign : 0;
      return tmin;
    }
    case 1: { // upright cylinder, radius ½, y ∈ [0, 1]
      let best = -1;
      const a = dx * dx + dz * dz;
      if (a > 0) {
        const b = ox * dx + oz * dz;
        const c = ox * ox + oz * oz - HALF * HALF;
        const disc = b * b - a * c;
        if (disc >= 0) {
          const t = (-b - Math.sqrt(disc)) / a;
          const y = oy + t * dy;
          if (t > 0 && y >= 0 && y <= 2 * HALF) {
            best = t;
            nx = (ox + t * dx) / HALF;
            ny = 0;
            nz = (oz + t * dz) / HALF;
          }
        }
      }
      if (dy < 0) {
        const t = (2 * HALF - oy) / dy;
        const x = ox + t * dx;
        const z = oz + t * dz;
        if (t > 0 && x * x + z * z <= HALF * HALF && (best < 0 || t < best)) {
          best = t;
          nx = 0;
          ny = 1;
          nz = 0;
        }
      }
      return best;
    }
    case 2: // sphere, radius ½, centre (0, ½, 0)
      return sphere(ox, oy - HALF, oz, dx, dy, dz, HALF);
    default: { // capsule along x: segment (±CAP_H, CAP_R, 0), radius CAP_R
      let best = -1;
      let bx = 0, by = 0, bz = 0;
      const cy = oy - CAP_R;
      const a = dy * dy + dz * dz;
      if (a > 0) {
        const b = cy * dy + oz * dz;
        const c = cy * cy + oz * oz - CAP_R * CAP_R;
        const disc = b * b - a * c;
        if (disc >= 0) {
          const t = (-b - Math.sqrt(disc)) / a;
          const x = ox + t * dx;
          if (t > 0 && x >= -CAP_H && x <= CAP_H) {
            best = t;
            bx = 0;
            by = (cy + t * dy) / CAP_R;
            bz = (oz + t * dz) / CAP_R;
          }
        }
      }
      for (const end of [-CAP_H, CAP_H]) {
        const t = sphere(ox - end, cy, oz, dx, dy, dz, CAP_R);
        if (t > 0 && (best < 0 || t < best)) {
          best = t;
          bx = nx;
          by = ny;
          bz = nz;
        }
      }
      nx = bx;
      ny = by;
      nz = bz;
      return best;
    }
  }
}

function sphere(ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, r: number): number {
  const a = dx * dx + dy * dy + dz * dz;
  const b = ox * dx + oy * dy + oz * dz;
  const c = ox * ox + oy * oy + oz * oz - r * r;
  const disc = b * b - a * c;
  if (disc < 0) return -1;
  const t = (-b - Math.sqrt(disc)) / a;
  if (t <= 0) return -1;
  nx = (ox + t * dx) / r;
  ny = (oy + t * dy) / r;
  nz = (oz + t * dz) / r;
  return t;
}

/** Horizontal radius and height of each shape at scale 1 (for the screen bounding box). */
const EXTENT: Record<number, [number, number]> = {
  0: [HALF * Math.SQRT2, 2 * HALF],
  1: [HALF, 2 * HALF],
  2: [HALF, 2 * HALF],
  3: [CAP_H + CAP_R, 2 * CAP_R],
};

/** Pixel rectangle [x0, x1] × [y0, y1] (inclusive) that can contain the object. */
export function objectPixelBounds(shape: number, scale: number): [number, number, number, number] {
  const [r, h] = EXTENT[shape]!;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const x of [-r, r]) for (const y of [0, h]) for (const z of [-r, r]) {
    const [u, v] = projectToPixel([x * scale, y * scale, z * scale]);
    x0 = Math.min(x0, u); x1 = Math.max(x1, u); y0 = Math.min(y0, v); y1 = Math.max(y1, v);
  }
  const clamp = (v: number) => Math.min(SIZE - 1, Math.max(0, v));
  return [clamp(Math.floor(x0) - 1), clamp(Math.ceil(x1) + 1), clamp(Math.floor(y0) - 1), clamp(Math.ceil(y1) + 1)];
}

/**
 * Render one scene from factor values into `out` (64·64·3 floats, HWC).
 * Hues in [0, 1), scale around 1, orientation in degrees, shape 0…3.
 */
export function renderScene(
  floorHue: number,
  wallHue: number,
  objectHue: number,
  scale: number,
  shape: number,
  orientationDeg: number,
  out: Float32Array,
  offset = 0,
): void {
  const P = precompute();
  const [fr, fg, fb] = hueToRgb(floorHue);
  const [wr, wg, wb] = hueToRgb(wallHue);
  const [or, og, ob] = hueToRgb(objectHue);
  const { floorSum, wallSum, floorShade, wallShade, dirs } = P;
  for (let p = 0; p < NPIX; p++) {
    const f = floorSum[p]!;
    const w = wallSum[p]!;
    const o = offset + 3 * p;
    out[o] = fr * f + wr * w;
    out[o + 1] = fg * f + wg * w;
    out[o + 2] = fb * f + wb * w;
  }
  // Object frame: p_obj = R_y(−θ)·(p_world) / scale.
  const th = (orientationDeg * Math.PI) / 180;
  const c = Math.cos(th);
  const s = Math.sin(th);
  const inv = 1 / scale;
  // R_y(−θ) maps (x, z) ↦ (c·x − s·z, s·x + c·z) for a counter-clockwise (seen from above) turn θ.
  const ox = (c * CAM[0] - s * CAM[2]) * inv;
  const oy = CAM[1] * inv;
  const oz = (s * CAM[0] + c * CAM[2]) * inv;
  const [x0, x1, y0, y1] = objectPixelBounds(shape, scale);
  for (let py = y0; py <= y1; py++) {
    for (let px = x0; px <= x1; px++) {
      const p = py * SIZE + px;
      let r = 0, g = 0, b = 0;
      let hits = 0;
      for (let k = 0; k < SAMPLES; k++) {
        const si = p * SAMPLES + k;
        const wx = dirs[3 * si]!;
        const wy = dirs[3 * si + 1]!;
        const wz = dirs[3 * si + 2]!;
        const t = intersect(shape, ox, oy, oz, c * wx - s * wz, wy, s * wx + c * wz);
        if (t > 0) {
          hits++;
          const lam = nx * OBJ_LIGHT[0] + ny * OBJ_LIGHT[1] + nz * OBJ_LIGHT[2];
          const shade = OBJ_AMBIENT + OBJ_DIFFUSE * (lam > 0 ? lam : 0);
          r += or * shade;
          g += og * shade;
          b += ob * shade;
        } else {
          const f = floorShade[si]!;
          const w = wallShade[si]!;
          r += fr * f + wr * w;
          g += fg * f + wg * w;
          b += fb * f + wb * w;
        }
      }
      if (hits > 0) {
        const o = offset + 3 * p;
        out[o] = r / SAMPLES;
        out[o + 1] = g / SAMPLES;
        out[o + 2] = b / SAMPLES;
      }
    }
  }
}

export const shapes3dInfo: DatasetInfo = {
  id: 'shapes3d',
  name: 'Shapes3D (approximation)',
  description:
    'A floor, a back wall and one object (cube, cylinder, sphere or capsule) on the official Shapes3D factor grid, ' +
    'drawn by our own analytic renderer. RGB 64×64 images. An approximation: same factors and order, different pixels.',
  factors: [
    { name: 'floor_hue', size: 10, values: HUE_VALUES, cyclic: true },
    { name: 'wall_hue', size: 10, values: HUE_VALUES, cyclic: true },
    { name: 'object_hue', size: 10, values: HUE_VALUES, cyclic: true },
    { name: 'scale', size: 8, values: SCALE3D_VALUES, cyclic: false },
    { name: 'shape', size: 4, labels: [...SHAPES3D_SHAPES], cyclic: false },
    { name: 'orientation', size: 15, values: ORIENTATION3D_VALUES, cyclic: false },
  ],
  count: 480000,
  imageShape: [64, 64, 3],
  source: 'procedural',
  approximation: true,
  binary: false,
  provenance:
    'APPROXIMATION of Shapes3D (Burgess & Kim 2018), not the official images: procedural analytic ray caster ' +
    '(floor plane, back wall, one object; Lambert shading, 2×2 supersampling, no shadows) on the official grid ' +
    'floor hue 10 × wall hue 10 × object hue 10 × scale 8 × shape 4 × orientation 15, row-major, official factor values. ' +
    'Orientation turns the object and its key light; floor and wall never move. Import 3dshapes.h5 for the real data.',
};

export class Shapes3D implements GroundTruthDataset {
  readonly info = shapes3dInfo;
  private readonly f = new Array<number>(6);

  render(index: number, out: Float32Array, offset = 0): void {
    const f = indexToFactors(SHAPES3D_SIZES, index, this.f);
    renderScene(
      HUE_VALUES[f[0]!]!,
      HUE_VALUES[f[1]!]!,
      HUE_VALUES[f[2]!]!,
      SCALE3D_VALUES[f[3]!]!,
      f[4]!,
      ORIENTATION3D_VALUES[f[5]!]!,
      out,
      offset,
    );
  }
}

/** Registry entry: `{ info, create }`. */
export const shapes3dEntry = { info: shapes3dInfo, create: (): GroundTruthDataset => new Shapes3D() };
