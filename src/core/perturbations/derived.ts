/**
 * The common machinery of derived datasets: per-image seeded randomness, the
 * derived DatasetInfo, and `OffsetDataset`, which applies an offset function
 * under the ε bound and the [0, 1] clip, counting both kinds of clipping.
 */
import type { DatasetInfo } from '../../shared/domain.js';
import { indexToFactors } from '../datasets/grid.js';
import type { GroundTruthDataset } from '../datasets/types.js';
import { imageSize } from '../datasets/types.js';
import { Rng } from '../util/rng.js';
import type { ClipCounters, DerivedDataset, OffsetFn, PerturbationSpec } from './types.js';

/** lowbias32 (Wellons): a bijective 32-bit mixer. */
export function mix32(x: number): number {
  x = x >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** FNV-1a of a string (32 bits). */
export function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * An independent generator for image `index` under `seed` and a purpose
 * label: the same (seed, label, index) always gives the same stream, and
 * different indices never share a starting state (the state words are
 * bijective functions of seed and index).
 */
export function imageRng(seed: number, label: string, index: number): Rng {
  const a = mix32((seed >>> 0) ^ hashString(label));
  const b = mix32(index >>> 0);
  const c = mix32(a ^ 0x9e3779b9 ^ mix32(b + 0x6a09e667));
  const d = (mix32(b ^ 0xbb67ae85) | 1) >>> 0;
  const rng = new Rng([a, b, c, d]);
  for (let i = 0; i < 8; i++) rng.nextUint32();
  return rng;
}

/** A seed for sub-purpose `label` derived from `seed` (stable). */
export function subSeed(seed: number, label: string | number): number {
  return mix32((seed >>> 0) ^ mix32(hashString(String(label))));
}

/** Canonical JSON (sorted keys) for hashing specs. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/** Short stable hash of a spec's identity (kind, params, seed, parent, blocks). */
export function specHash(spec: Pick<PerturbationSpec, 'kind' | 'params' | 'seed' | 'parentId' | 'blocks'>): string {
  const text = canonicalJson({ kind: spec.kind, params: spec.params, seed: spec.seed, parentId: spec.parentId, blocks: spec.blocks });
  const h1 = hashString(text);
  const h2 = mix32(hashString(`${text}#`) ^ h1);
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/** Id of a derived dataset: `<parent>.<kind>.<hash>` (fits the Id schema). */
export function derivedId(spec: PerturbationSpec): string {
  const parent = spec.parentId.slice(0, 80);
  return `${parent}.${spec.kind.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 24)}.${specHash(spec).slice(0, 12)}`;
}

export function derivedInfo(parent: GroundTruthDataset, spec: PerturbationSpec, name: string, what: string): DatasetInfo {
  const eps = Number(spec.params.epsilon);
  return {
    ...parent.info,
    id: derivedId(spec),
    name: `${parent.info.name} — ${name} (ε=${eps})`,
    description: `${parent.info.name} perturbed: ${what}`,
    factors: parent.info.factors.map((f) => ({ ...f })),
    source: 'derived',
    binary: false,
    sha256: undefined,
    parent: parent.info.id,
    provenance:
      `Derived from '${parent.info.id}' by perturbation '${spec.kind}' (seed ${spec.seed}, params ${canonicalJson(spec.params)}` +
      (spec.blocks ? `, blocks ${canonicalJson(spec.blocks)}` : '') +
      `): x' = clip01(x + clip(δ, ±ε)), computed per image index. Same factors and order as the parent.`,
  };
}

/**
 * A tiny margin so that the float32 result never differs from the parent by
 * more than ε (the rounding of x + δ to float32 is at most 2⁻²⁴ < 2⁻²³).
 */
const ROUNDING_MARGIN = 2 ** -23;

export class OffsetDataset implements DerivedDataset {
  readonly info: DatasetInfo;
  readonly epsilon: number;
  readonly report?: Record<string, unknown>;
  private readonly size: number;
  private readonly x: Float32Array;
  private readonly d: Float32Array;
  private readonly f: number[];
  private readonly counters: ClipCounters = { images: 0, pixels: 0, boundClipped: 0, clippedLow: 0, clippedHigh: 0 };

  constructor(
    readonly parent: GroundTruthDataset,
    readonly spec: PerturbationSpec,
    private readonly fn: OffsetFn,
    opts: { name: string; what: string; report?: Record<string, unknown> },
  ) {
    const eps = Number(spec.params.epsilon);
    if (!(eps >= 0 && eps <= 1)) throw new Error(`epsilon must be in [0, 1], got ${String(spec.params.epsilon)}`);
    this.epsilon = eps;
    this.info = derivedInfo(parent, spec, opts.name, opts.what);
    this.report = opts.report;
    this.size = imageSize(parent.info);
    this.x = new Float32Array(this.size);
    this.d = new Float32Array(this.size);
    this.f = new Array<number>(parent.info.factors.length);
  }

  private compute(index: number): void {
    this.parent.render(index, this.x, 0);
    this.d.fill(0);
    const sizes = this.parent.info.factors.map((f) => f.size);
    this.fn(index, indexToFactors(sizes, index, this.f), this.x, this.d);
  }

  offset(index: number, out: Float32Array, offset = 0): void {
    this.compute(index);
    const b = Math.max(0, this.epsilon - ROUNDING_MARGIN);
    for (let j = 0; j < this.size; j++) {
      const v = this.d[j]!;
      out[offset + j] = v > b ? b : v < -b ? -b : Number.isNaN(v) ? 0 : v;
    }
  }

  render(index: number, out: Float32Array, offset = 0): void {
    this.compute(index);
    const b = Math.max(0, this.epsilon - ROUNDING_MARGIN);
    const c = this.counters;
    let boundClipped = 0;
    let low = 0;
    let high = 0;
    for (let j = 0; j < this.size; j++) {
      let v = this.d[j]!;
      if (Number.isNaN(v)) v = 0;
      if (v > b) {
        v = b;
        boundClipped++;
      } else if (v < -b) {
        v = -b;
        boundClipped++;
      }
      let y = this.x[j]! + v;
      if (y < 0) {
        y = 0;
        if (v !== 0) low++;
      } else if (y > 1) {
        y = 1;
        if (v !== 0) high++;
      }
      out[offset + j] = y;
    }
    c.images++;
    c.pixels += this.size;
    c.boundClipped += boundClipped;
    c.clippedLow += low;
    c.clippedHigh += high;
  }

  clipCounters(): ClipCounters {
    return { ...this.counters };
  }
}

/** Normalised factor value in [0, 1]: class/(size−1) (0 for size 1); cyclic factors (1 − cos 2πc/size)/2. */
export function factorUnit(size: number, cls: number, cyclic: boolean): number {
  if (size <= 1) return 0;
  if (cyclic) return (1 - Math.cos((2 * Math.PI * cls) / size)) / 2;
  return cls / (size - 1);
}
