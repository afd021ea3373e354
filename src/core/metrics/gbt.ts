/**
 * Gradient-boosted decision trees for classification, with scikit-learn's
 * GradientBoostingClassifier semantics (what disentanglement_lib's DCI uses):
 *
 * - features are cast to float32 (sklearn trees work in float32);
 * - initial raw scores from the class priors (log p_k; binary: log-odds);
 * - each stage fits, for every class k (one tree in total when there are two
 *   classes), a regression tree to the residuals y_k − p_k computed from the
 *   scores at the start of the stage;
 * - trees: depth-first growth to max_depth (3), min_samples_split 2,
 *   min_samples_leaf 1, a node with impurity ≤ machine epsilon is a leaf;
 *   splits chosen by exhaustive search over the sorted distinct values of
 *   every feature (thresholds halfway between neighbours that differ by more
 *   than 1e-7), maximising the Friedman-MSE proxy (n_R·S_L − n_L·S_R)²/(n_L·n_R)
 *   — equivalent to the largest reduction of squared error; ties between
 *   features go to the one drawn first in a random per-node feature order;
 * - leaf values by one Newton step: (K−1)/K·Σr / Σ p(1−p) (binary: Σr/Σp(1−p)),
 *   0 when the denominator vanishes; scores += learning_rate·leaf value;
 * - feature importances: per tree Σ over splits of the weighted impurity
 *   decrease (n·imp − n_L·imp_L − n_R·imp_R)/n_root, summed over all trees
 *   and normalised to sum 1.
 *
 * Speed: every feature is argsorted once (float32 values kept in sorted
 * order). A tree is grown level by level: for each feature, one pass over its
 * presorted order copies (value, target) of every sample into its node's
 * segment, then each node's segment is scanned with running sums held in
 * registers — O(depth·features·samples) per tree, no re-sorting, and the split
 * found is exactly the exhaustive one. Scores are kept class-major so each
 * tree reads one contiguous column.
 */
import type { Rng } from '../util/rng.js';
import { denseLabels } from './stats.js';

const EPSILON = 2.220446049250313e-16;
const FEATURE_THRESHOLD = Math.fround(1e-7);

export interface PresortedFeatures {
  n: number;
  d: number;
  /** n×d float32 values, row-major. */
  X: Float32Array;
  /** Per feature: sample indices by increasing value (stable). */
  order: Int32Array[];
  /** Per feature: the (float32) values in that order. */
  sorted: Float32Array[];
  /** Scratch buffers reused by every tree grown on these features. */
  work?: { localOf: Int32Array; segX: Float32Array; segR: Float64Array };
}

export function presort(X: ArrayLike<number>, n: number, d: number): PresortedFeatures {
  const X32 = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) X32[i] = X[i]!;
  const order: Int32Array[] = [];
  const sorted: Float32Array[] = [];
  const col = new Float64Array(n);
  for (let f = 0; f < d; f++) {
    for (let i = 0; i < n; i++) col[i] = X32[i * d + f]!;
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    // stable: ties by index
    idx.sort((a, b) => col[a]! - col[b]! || a - b);
    const sv = new Float32Array(n);
    for (let p = 0; p < n; p++) sv[p] = col[idx[p]!]!;
    order.push(idx);
    sorted.push(sv);
  }
  return { n, d, X: X32, order, sorted };
}

export interface RegressionTree {
  /** −1 at leaves. */
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  nodeCount: number;
}

export interface TreeFitWork {
  nodeOf: Int32Array;
}

/**
 * Fit one regression tree to targets r (unit sample weights). Writes each
 * training sample's leaf node into `leafOf` and adds the tree's unnormalised
 * importances into `importance` (length d). Leaf values are the target means
 * (the caller may overwrite them).
 */
export function fitRegressionTree(data: PresortedFeatures, r: Float64Array, maxDepth: number, rng: Rng, importance: Float64Array, leafOf: Int32Array): RegressionTree {
  const { n, d, X, order, sorted } = data;
  const maxNodes = 2 ** (maxDepth + 1) - 1;
  const feature = new Int32Array(maxNodes).fill(-1);
  const threshold = new Float64Array(maxNodes);
  const left = new Int32Array(maxNodes).fill(-1);
  const right = new Int32Array(maxNodes).fill(-1);
  const value = new Float64Array(maxNodes);
  const cnt = new Float64Array(maxNodes);
  const sum = new Float64Array(maxNodes);
  const sumSq = new Float64Array(maxNodes);
  const impurity = new Float64Array(maxNodes);
  let nodeCount = 1;

  const nodeOf = leafOf;
  nodeOf.fill(0);
  {
    let s = 0, ss = 0;
    for (let i = 0; i < n; i++) { const v = r[i]!; s += v; ss += v * v; }
    cnt[0] = n; sum[0] = s; sumSq[0] = ss;
    impurity[0] = ss / n - (s / n) * (s / n);
    value[0] = s / n;
  }
  let level = [0];
  // per-level work arrays, indexed by node id
  const slot = new Int32Array(maxNodes).fill(-1);
  const best = new Float64Array(maxNodes);
  const bestF = new Int32Array(maxNodes);
  const bestT = new Float64Array(maxNodes);
  const bestRank = new Int32Array(maxNodes);
  const rank = new Int32Array(maxNodes * d);
  const perm = new Int32Array(d);
  const nodeState = new Float64Array(maxNodes * 4);
  const segStart = new Int32Array(maxNodes);
  const cursor = new Int32Array(maxNodes);
  const work = data.work ?? (data.work = { localOf: new Int32Array(n), segX: new Float32Array(n), segR: new Float64Array(n) });
  const { localOf, segX, segR } = work;

  for (let depth = 0; depth < maxDepth && level.length > 0; depth++) {
    const active: number[] = [];
    for (const node of level) {
      const nn = cnt[node]!;
      if (nn < 2 || impurity[node]! <= EPSILON) continue;
      active.push(node);
    }
    if (active.length === 0) break;
    slot.fill(-1);
    for (const node of active) {
      slot[node] = node;
      best[node] = -Infinity;
      bestF[node] = -1;
      // the order sklearn would visit features in at this node
      for (let f = 0; f < d; f++) perm[f] = f;
      for (let f = d - 1; f > 0; f--) { const j = rng.int(f + 1); const t = perm[f]!; perm[f] = perm[j]!; perm[j] = t; }
      for (let q = 0; q < d; q++) rank[node * d + perm[q]!] = q;
    }
    // gather each active node's samples in this feature's sorted order, then scan each node's segment
    const A = active.length;
    let off = 0;
    for (let a = 0; a < A; a++) {
      const node = active[a]!;
      segStart[a] = off;
      off += cnt[node]!;
      nodeState[a * 4] = -Infinity;
      nodeState[a * 4 + 1] = -1;
      nodeState[a * 4 + 2] = 0;
      nodeState[a * 4 + 3] = d;
      slot[node] = a;
    }
    if (depth > 0) for (let i = 0; i < n; i++) localOf[i] = slot[nodeOf[i]!]!;
    for (let f = 0; f < d; f++) {
      const ord = order[f]!;
      const sv = sorted[f]!;
      // the root holds every sample: its values are the presorted ones
      const xs = depth === 0 ? sv : segX;
      if (depth === 0) {
        for (let p = 0; p < n; p++) segR[p] = r[ord[p]!]!;
      } else {
        cursor.set(segStart.subarray(0, A));
        gather(ord, sv, r, n, localOf, cursor, segX, segR);
      }
      for (let a = 0; a < A; a++) {
        const node = active[a]!;
        scanSegment(xs, segR, segStart[a]!, cnt[node]!, sum[node]!, f, rank[node * d + f]!, nodeState, a * 4);
      }
    }
    for (let a = 0; a < A; a++) {
      const node = active[a]!;
      best[node] = nodeState[a * 4]!;
      bestF[node] = nodeState[a * 4 + 1]!;
      bestT[node] = nodeState[a * 4 + 2]!;
      bestRank[node] = nodeState[a * 4 + 3]!;
      slot[node] = node;
    }
    // split the nodes that found a split
    const next: number[] = [];
    let any = false;
    for (const node of active) {
      if (bestF[node]! < 0) { slot[node] = -1; continue; }
      const l = nodeCount++;
      const rr = nodeCount++;
      feature[node] = bestF[node]!;
      threshold[node] = bestT[node]!;
      left[node] = l;
      right[node] = rr;
      cnt[l] = 0; sum[l] = 0; sumSq[l] = 0;
      cnt[rr] = 0; sum[rr] = 0; sumSq[rr] = 0;
      next.push(l, rr);
      any = true;
    }
    if (!any) break;
    for (let i = 0; i < n; i++) {
      const node = slot[nodeOf[i]!]!;
      if (node < 0) continue;
      const child = X[i * d + feature[node]!]! <= threshold[node]! ? left[node]! : right[node]!;
      nodeOf[i] = child;
      const v = r[i]!;
      cnt[child]!++;
      sum[child]! += v;
      sumSq[child]! += v * v;
    }
    for (const node of active) {
      if (feature[node]! < 0) continue;
      const l = left[node]!;
      const rr = right[node]!;
      for (const c of [l, rr]) {
        const nc = cnt[c]!;
        impurity[c] = sumSq[c]! / nc - (sum[c]! / nc) * (sum[c]! / nc);
        value[c] = sum[c]! / nc;
      }
      importance[feature[node]!]! +=
        (cnt[node]! * impurity[node]! - cnt[l]! * impurity[l]! - cnt[rr]! * impurity[rr]!) / n;
    }
    level = next;
  }
  return {
    feature: feature.slice(0, nodeCount),
    threshold: threshold.slice(0, nodeCount),
    left: left.slice(0, nodeCount),
    right: right.slice(0, nodeCount),
    value: value.slice(0, nodeCount),
    nodeCount,
  };
}

/** Copy (value, target) of every sample of an active node into its segment, in sorted order. */
function gather(ord: Int32Array, sv: Float32Array, r: Float64Array, n: number, localOf: Int32Array, cursor: Int32Array, segX: Float32Array, segR: Float64Array): void {
  for (let p = 0; p < n; p++) {
    const i = ord[p]!;
    const a = localOf[i]!;
    if (a < 0) continue;
    const q = cursor[a]!;
    cursor[a] = q + 1;
    segX[q] = sv[p]!;
    segR[q] = r[i]!;
  }
}

/**
 * Best split of one node along one feature, from its samples in sorted order
 * (segX/segR[start … start+count)); improves state[o…o+3] = [proxy, feature,
 * threshold, rank] in place.
 */
function scanSegment(segX: Float32Array, segR: Float64Array, start: number, count: number, total: number, f: number, rk: number, state: Float64Array, o: number): void {
  let b = state[o]!;
  let c = 0;
  let sL = 0;
  let prev = segX[start]!;
  const end = start + count;
  for (let p = start; p < end; p++) {
    const x = segX[p]!;
    if (c > 0 && (x - prev > 2.5e-7 || (x > prev && x > Math.fround(prev + FEATURE_THRESHOLD)))) {
      const nR = count - c;
      const diff = nR * sL - c * (total - sL);
      const q = diff * diff;
      const den = c * nR;
      if (q >= b * den * (1 - 1e-12)) {
        const proxy = q / den;
        if (proxy > b || (proxy === b && rk < state[o + 3]!)) {
          b = proxy;
          let t = prev / 2 + x / 2;
          if (t === x || t === Infinity || t === -Infinity) t = prev;
          state[o] = b;
          state[o + 1] = f;
          state[o + 2] = t;
          state[o + 3] = rk;
        }
      }
    }
    c++;
    sL += segR[p]!;
    prev = x;
  }
}

/** Leaf node of row i of a row-major float32 matrix. */
export function applyTree(tree: RegressionTree, X: Float32Array, d: number, i: number): number {
  let node = 0;
  while (tree.feature[node]! >= 0) {
    node = X[i * d + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  }
  return node;
}

export interface GbtOptions {
  nEstimators?: number;
  learningRate?: number;
  maxDepth?: number;
}

export interface GbtModel {
  /** Original labels, sorted. */
  classes: number[];
  /** Trees per stage: 1 for two classes, else one per class. */
  rows: number;
  init: Float64Array;
  trees: RegressionTree[][];
  learningRate: number;
  d: number;
  /** Normalised to sum 1 (all zeros when no tree ever split). */
  featureImportances: Float64Array;
  /** Predictions on the training rows. */
  trainPredictions: Float64Array;
}

export function fitGbt(data: PresortedFeatures, labels: ArrayLike<number>, rng: Rng, opts: GbtOptions = {}): GbtModel {
  const nEst = opts.nEstimators ?? 100;
  const lr = opts.learningRate ?? 0.1;
  const maxDepth = opts.maxDepth ?? 3;
  const { n, d } = data;
  const { classes: y, values } = denseLabels(Array.from({ length: n }, (_, i) => labels[i]!));
  const K = values.length;
  const importance = new Float64Array(d);
  if (K < 2) {
    return { classes: values, rows: 0, init: new Float64Array(0), trees: [], learningRate: lr, d, featureImportances: importance, trainPredictions: Float64Array.from({ length: n }, () => values[0] ?? NaN) };
  }
  const counts = new Float64Array(K);
  for (let i = 0; i < n; i++) counts[y[i]!]!++;
  const binary = K === 2;
  const rows = binary ? 1 : K;
  const init = new Float64Array(rows);
  if (binary) init[0] = Math.log(counts[1]! / n / (1 - counts[1]! / n));
  else for (let k = 0; k < K; k++) init[k] = Math.log(counts[k]! / n);
  // scores and probabilities are stored class-major (rows × n): each tree reads one contiguous column
  const raw = new Float64Array(n * rows);
  for (let k = 0; k < rows; k++) raw.fill(init[k]!, k * n, (k + 1) * n);
  const prob = new Float64Array(n * rows);
  const resid = new Float64Array(n);
  const leafOf = new Int32Array(n);
  const trees: RegressionTree[][] = [];
  const factor = binary ? 1 : (K - 1) / K;
  const mx = new Float64Array(n);
  const se = new Float64Array(n);
  for (let stage = 0; stage < nEst; stage++) {
    // probabilities from the scores at the start of the stage
    if (binary) {
      for (let i = 0; i < n; i++) { const s = raw[i]!; prob[i] = s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s)); }
    } else {
      mx.fill(-Infinity);
      se.fill(0);
      for (let k = 0; k < K; k++) { const o = k * n; for (let i = 0; i < n; i++) if (raw[o + i]! > mx[i]!) mx[i] = raw[o + i]!; }
      for (let k = 0; k < K; k++) { const o = k * n; for (let i = 0; i < n; i++) { const e = Math.exp(raw[o + i]! - mx[i]!); prob[o + i] = e; se[i]! += e; } }
      for (let k = 0; k < K; k++) { const o = k * n; for (let i = 0; i < n; i++) prob[o + i]! /= se[i]!; }
    }
    const stageTrees: RegressionTree[] = [];
    for (let k = 0; k < rows; k++) {
      const cls = binary ? 1 : k;
      const o = k * n;
      for (let i = 0; i < n; i++) resid[i] = (y[i] === cls ? 1 : 0) - prob[o + i]!;
      const tree = fitRegressionTree(data, resid, maxDepth, rng, importance, leafOf);
      // Newton step per leaf
      const num = new Float64Array(tree.nodeCount);
      const den = new Float64Array(tree.nodeCount);
      for (let i = 0; i < n; i++) {
        const leaf = leafOf[i]!;
        const p = prob[o + i]!;
        num[leaf]! += resid[i]!;
        den[leaf]! += p * (1 - p);
      }
      for (let node = 0; node < tree.nodeCount; node++) {
        if (tree.feature[node]! >= 0) continue;
        const dv = den[node]!;
        tree.value[node] = Math.abs(dv) < 1e-150 ? 0 : (factor * num[node]!) / dv;
      }
      const val = tree.value;
      for (let i = 0; i < n; i++) raw[o + i]! += lr * val[leafOf[i]!]!;
      stageTrees.push(tree);
    }
    trees.push(stageTrees);
  }
  let total = 0;
  for (let f = 0; f < d; f++) total += importance[f]!;
  if (total > 0) for (let f = 0; f < d; f++) importance[f]! /= total;
  const trainPredictions = decide(raw, n, rows, values, true);
  return { classes: values, rows, init, trees, learningRate: lr, d, featureImportances: importance, trainPredictions };
}

/** Labels from raw scores (row-major n × rows, or class-major rows × n). */
function decide(raw: Float64Array, n: number, rows: number, classes: number[], classMajor = false): Float64Array {
  const out = new Float64Array(n);
  const at = classMajor ? (i: number, k: number) => raw[k * n + i]! : (i: number, k: number) => raw[i * rows + k]!;
  for (let i = 0; i < n; i++) {
    if (rows === 1) out[i] = classes[raw[i]! > 0 ? 1 : 0]!;
    else {
      let best = 0;
      let bv = at(i, 0);
      for (let k = 1; k < rows; k++) { const v = at(i, k); if (v > bv) { bv = v; best = k; } }
      out[i] = classes[best]!;
    }
  }
  return out;
}

/** Raw scores (n × rows, row-major) of new rows. */
export function gbtRaw(model: GbtModel, X: ArrayLike<number>, n: number): Float64Array {
  const { d, rows } = model;
  const X32 = X instanceof Float32Array ? X : Float32Array.from({ length: n * d }, (_, i) => X[i]!);
  // accumulate class-major (one contiguous column per tree), return row-major
  const cm = new Float64Array(n * rows);
  for (let k = 0; k < rows; k++) cm.fill(model.init[k]!, k * n, (k + 1) * n);
  const lr = model.learningRate;
  for (const stage of model.trees) {
    for (let k = 0; k < rows; k++) {
      const tree = stage[k]!;
      const o = k * n;
      for (let i = 0; i < n; i++) cm[o + i]! += lr * tree.value[applyTree(tree, X32, d, i)]!;
    }
  }
  const raw = new Float64Array(n * rows);
  for (let k = 0; k < rows; k++) for (let i = 0; i < n; i++) raw[i * rows + k] = cm[k * n + i]!;
  return raw;
}

export function gbtPredict(model: GbtModel, X: ArrayLike<number>, n: number): Float64Array {
  if (model.rows === 0) return new Float64Array(n).fill(model.classes[0] ?? NaN);
  return decide(gbtRaw(model, X, n), n, model.rows, model.classes);
}
