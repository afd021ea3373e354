/**
 * Pairs of observations for SlowVAE and PCL: x_t drawn uniformly from the
 * factor grid; x_{t+1} from the same grid with a sparse change of factors.
 *
 * Our reading of Klindt et al. (2021) for datasets given as factor grids:
 *  - the number of changing factors is k (or, for k = −1, uniform in 1…K);
 *  - which factors change is a uniform random subset of that size;
 *  - each changing factor moves by δ = round(Laplace(0, 1/rate)) grid steps;
 *    a step that would leave the factor's range is redrawn (up to 100 times,
 *    then clamped), so every x_{t+1} is a real grid point. δ may be 0, which
 *    makes the changes sparser still.
 * Cyclic factors (e.g. orientation) are treated like the others (no wrap).
 */
import type { ParamValues } from '../../shared/params.js';
import { gridStrides, sampleIndices } from '../datasets/grid.js';
import type { Rng } from '../util/rng.js';

export interface PairOptions {
  /** Laplace rate of each factor step (larger = smaller steps). */
  rate: number;
  /** Number of changing factors; −1 = uniform in 1…K per pair. */
  k: number;
}

export function pairOptions(params: ParamValues): PairOptions {
  const rate = typeof params['pair_rate'] === 'number' ? params['pair_rate'] : 1;
  const k = typeof params['pair_k'] === 'number' ? params['pair_k'] : -1;
  return { rate, k };
}

export interface Pairs {
  first: Int32Array;
  second: Int32Array;
}

export function samplePairs(sizes: readonly number[], n: number, rng: Rng, opts: PairOptions): Pairs {
  const K = sizes.length;
  if (!(opts.rate > 0)) throw new Error(`pair rate must be positive, got ${opts.rate}`);
  if (opts.k !== -1 && (!Number.isInteger(opts.k) || opts.k < 1 || opts.k > K)) {
    throw new Error(`pair k must be −1 or 1…${K}, got ${opts.k}`);
  }
  const first = sampleIndices(sizes, n, rng);
  const second = new Int32Array(n);
  const strides = gridStrides(sizes);
  const order = new Int32Array(K);
  for (let i = 0; i < n; i++) {
    const k = opts.k === -1 ? 1 + rng.int(K) : opts.k;
    for (let f = 0; f < K; f++) order[f] = f;
    rng.shuffle(order);
    let idx = first[i]!;
    for (let c = 0; c < k; c++) {
      const f = order[c]!;
      const size = sizes[f]!;
      const stride = strides[f]!;
      const v = Math.floor(idx / stride) % size;
      let w = v;
      let tries = 0;
      for (;;) {
        const delta = Math.round(rng.laplace(1 / opts.rate));
        w = v + delta;
        if (w >= 0 && w < size) break;
        if (++tries >= 100) {
          w = Math.min(size - 1, Math.max(0, w));
          break;
        }
      }
      idx += (w - v) * stride;
    }
    second[i] = idx;
  }
  return { first, second };
}
