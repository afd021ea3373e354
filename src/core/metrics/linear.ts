/**
 * Linear classifiers the metrics need, written for small dense problems:
 *
 * - `fitLogistic`: L2-regularised logistic regression with scikit-learn's
 *   default model (LogisticRegression(C=1): multinomial softmax for ≥ 3
 *   classes, one sigmoid for 2; intercept not penalised), minimising
 *   Σ loss + ‖W‖²/(2C) by L-BFGS to a tight gradient tolerance.
 * - `fitLinearSvm`: LinearSVC semantics (liblinear L2-regularised squared
 *   hinge loss, the intercept a constant feature of value 1 that *is*
 *   penalised, one-vs-rest for ≥ 3 classes, class_weight 'balanced' giving the
 *   positive group C·w_c and the rest C, as liblinear's OvR does), solved in
 *   the primal by a generalised Newton method (exact optimum, no tolerance
 *   artefacts of the dual coordinate descent).
 *
 * X is row-major n×d (Float64Array); labels are arbitrary integers.
 */
import { denseLabels } from './stats.js';

// ---------------------------------------------------------------- L-BFGS

export interface LbfgsOptions {
  maxIter?: number;
  /** Stop when max |gradient| falls below this. */
  gtol?: number;
  memory?: number;
}

/** Minimise f with L-BFGS; `fg(x, grad)` returns f(x) and writes ∇f into grad. */
export function lbfgs(fg: (x: Float64Array, g: Float64Array) => number, x0: Float64Array, opts: LbfgsOptions = {}): { x: Float64Array; f: number; iterations: number; converged: boolean } {
  const maxIter = opts.maxIter ?? 1000;
  const gtol = opts.gtol ?? 1e-7;
  const m = opts.memory ?? 10;
  const n = x0.length;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let f = fg(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const alpha = new Float64Array(m);
  const maxAbs = (v: Float64Array) => { let a = 0; for (let i = 0; i < v.length; i++) a = Math.max(a, Math.abs(v[i]!)); return a; };
  let it = 0;
  let converged = maxAbs(g) <= gtol;
  while (!converged && it < maxIter) {
    it++;
    // two-loop recursion: d = −H g
    for (let i = 0; i < n; i++) d[i] = -g[i]!;
    for (let j = S.length - 1; j >= 0; j--) {
      let a = 0;
      const s = S[j]!;
      for (let i = 0; i < n; i++) a += s[i]! * d[i]!;
      a *= rho[j]!;
      alpha[j] = a;
      const y = Y[j]!;
      for (let i = 0; i < n; i++) d[i]! -= a * y[i]!;
    }
    if (S.length > 0) {
      const s = S[S.length - 1]!;
      const y = Y[Y.length - 1]!;
      let sy = 0, yy = 0;
      for (let i = 0; i < n; i++) { sy += s[i]! * y[i]!; yy += y[i]! * y[i]!; }
      const gamma = sy / yy;
      for (let i = 0; i < n; i++) d[i]! *= gamma;
    }
    for (let j = 0; j < S.length; j++) {
      const y = Y[j]!;
      let b = 0;
      for (let i = 0; i < n; i++) b += y[i]! * d[i]!;
      b *= rho[j]!;
      const s = S[j]!;
      const c = alpha[j]! - b;
      for (let i = 0; i < n; i++) d[i]! += c * s[i]!;
    }
    let gd = 0;
    for (let i = 0; i < n; i++) gd += g[i]! * d[i]!;
    if (!(gd < 0)) {
      // not a descent direction: restart from steepest descent
      S.length = 0; Y.length = 0; rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      gd = 0;
      for (let i = 0; i < n; i++) gd += g[i]! * d[i]!;
    }
    let t = S.length === 0 ? Math.min(1, 1 / Math.max(1e-12, Math.sqrt(-gd))) : 1;
    let fNew = 0;
    let accepted = false;
    for (let ls = 0; ls < 60; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i]! + t * d[i]!;
      fNew = fg(xNew, gNew);
      if (Number.isFinite(fNew) && fNew <= f + 1e-4 * t * gd) { accepted = true; break; }
      t *= 0.5;
    }
    if (!accepted) break; // no progress possible at machine precision
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    let sy = 0;
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
      sy += s[i]! * y[i]!;
    }
    const fOld = f;
    x.set(xNew);
    g.set(gNew);
    f = fNew;
    if (sy > 1e-12 * Math.sqrt(s.reduce((a, v) => a + v * v, 0) * y.reduce((a, v) => a + v * v, 0))) {
      S.push(s); Y.push(y); rho.push(1 / sy);
      if (S.length > m) { S.shift(); Y.shift(); rho.shift(); }
    }
    if (maxAbs(g) <= gtol) converged = true;
    else if (Math.abs(fOld - f) <= 1e-15 * Math.max(1, Math.abs(f))) converged = true;
  }
  return { x, f, iterations: it, converged };
}

// ---------------------------------------------------- logistic regression

export interface LogisticModel {
  /** Original labels, sorted; column order of probabilities. */
  classes: number[];
  d: number;
  /** true: one weight row for classes[1] (sigmoid); false: one row per class (softmax). */
  binary: boolean;
  /** rows × d weights (rows = 1 if binary else classes.length). */
  W: Float64Array;
  b: Float64Array;
  iterations: number;
  converged: boolean;
}

export function fitLogistic(X: Float64Array, labels: ArrayLike<number>, n: number, d: number, opts: { C?: number; maxIter?: number; gtol?: number } = {}): LogisticModel {
  const C = opts.C ?? 1;
  const { classes: y, values } = denseLabels(Array.from({ length: n }, (_, i) => labels[i]!));
  const K = values.length;
  if (K < 2) {
    return { classes: values, d, binary: true, W: new Float64Array(d), b: new Float64Array(1).fill(K === 1 ? -Infinity : 0), iterations: 0, converged: true };
  }
  const binary = K === 2;
  const rows = binary ? 1 : K;
  const P = rows * (d + 1); // weights then intercepts
  const lam = 1 / (C * n); // objective scaled by 1/n
  const z = new Float64Array(rows);
  const fg = (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const xi = i * d;
      for (let r = 0; r < rows; r++) {
        let s = theta[rows * d + r]!;
        const wr = r * d;
        for (let j = 0; j < d; j++) s += theta[wr + j]! * X[xi + j]!;
        z[r] = s;
      }
      if (binary) {
        const s = z[0]!;
        const yi = y[i]!;
        // log(1 + e^s) − y s, stably
        loss += (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s))) - yi * s;
        const p = s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
        const e = p - yi;
        for (let j = 0; j < d; j++) grad[j]! += e * X[xi + j]!;
        grad[d]! += e;
      } else {
        let mx = -Infinity;
        for (let r = 0; r < K; r++) if (z[r]! > mx) mx = z[r]!;
        let se = 0;
        for (let r = 0; r < K; r++) { const e = Math.exp(z[r]! - mx); z[r] = e; se += e; }
        const yi = y[i]!;
        loss += Math.log(se) - Math.log(z[yi]!);
        for (let r = 0; r < K; r++) {
          const e = z[r]! / se - (r === yi ? 1 : 0);
          if (e === 0) continue;
          const wr = r * d;
          for (let j = 0; j < d; j++) grad[wr + j]! += e * X[xi + j]!;
          grad[K * d + r]! += e;
        }
      }
    }
    let reg = 0;
    for (let q = 0; q < rows * d; q++) reg += theta[q]! * theta[q]!;
    for (let q = 0; q < P; q++) grad[q] = grad[q]! / n;
    for (let q = 0; q < rows * d; q++) grad[q]! += lam * theta[q]!;
    return loss / n + 0.5 * lam * reg;
  };
  const res = lbfgs(fg, new Float64Array(P), { maxIter: opts.maxIter ?? 1000, gtol: opts.gtol ?? 1e-5 });
  return {
    classes: values,
    d,
    binary,
    W: res.x.slice(0, rows * d),
    b: res.x.slice(rows * d),
    iterations: res.iterations,
    converged: res.converged,
  };
}

/** Class probabilities, n × classes.length, columns in `model.classes` order. */
export function logisticProba(model: LogisticModel, X: Float64Array, n: number): Float64Array {
  const { d } = model;
  const K = model.classes.length;
  const out = new Float64Array(n * K);
  if (K === 1) { out.fill(1); return out; }
  const rows = model.binary ? 1 : K;
  const z = new Float64Array(rows);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < rows; r++) {
      let s = model.b[r]!;
      for (let j = 0; j < d; j++) s += model.W[r * d + j]! * X[i * d + j]!;
      z[r] = s;
    }
    if (model.binary) {
      const s = z[0]!;
      const p = s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
      out[i * 2] = 1 - p;
      out[i * 2 + 1] = p;
    } else {
      let mx = -Infinity;
      for (let r = 0; r < K; r++) if (z[r]! > mx) mx = z[r]!;
      let se = 0;
      for (let r = 0; r < K; r++) { const e = Math.exp(z[r]! - mx); out[i * K + r] = e; se += e; }
      for (let r = 0; r < K; r++) out[i * K + r]! /= se;
    }
  }
  return out;
}

/** Most probable class (original labels); ties go to the first class. */
export function logisticPredict(model: LogisticModel, X: Float64Array, n: number): Float64Array {
  const K = model.classes.length;
  const p = logisticProba(model, X, n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (p[i * K + k]! > p[i * K + best]!) best = k;
    out[i] = model.classes[best]!;
  }
  return out;
}

// ------------------------------------------------------------- linear SVM

/**
 * Binary L2-regularised squared-hinge SVM with a penalised bias feature:
 * minimise ½‖w̃‖² + Σ c_i max(0, 1 − y_i w̃·[x_i, 1])², y_i = ±1.
 * Returns w̃ = [w, b].
 */
export function fitBinarySquaredHinge(X: Float64Array, ySign: Int8Array | Float64Array, cost: Float64Array, n: number, d: number, maxIter = 200): { w: Float64Array; iterations: number } {
  const p = d + 1;
  const w = new Float64Array(p);
  const g = new Float64Array(p);
  const H = new Float64Array(p * p);
  const step = new Float64Array(p);
  const wNew = new Float64Array(p);
  const margin = (wv: Float64Array, i: number) => {
    let s = wv[d]!;
    for (let j = 0; j < d; j++) s += wv[j]! * X[i * d + j]!;
    return s;
  };
  const objective = (wv: Float64Array) => {
    let f = 0;
    for (let j = 0; j < p; j++) f += 0.5 * wv[j]! * wv[j]!;
    for (let i = 0; i < n; i++) {
      const xi = 1 - ySign[i]! * margin(wv, i);
      if (xi > 0) f += cost[i]! * xi * xi;
    }
    return f;
  };
  let f = objective(w);
  let g0 = 0;
  let it = 0;
  for (; it < maxIter; it++) {
    g.set(w);
    H.fill(0);
    for (let j = 0; j < p; j++) H[j * p + j] = 1;
    for (let i = 0; i < n; i++) {
      const yi = ySign[i]!;
      const xi = 1 - yi * margin(w, i);
      if (xi <= 0) continue;
      const c2 = 2 * cost[i]!;
      for (let a = 0; a < p; a++) {
        const xa = a < d ? X[i * d + a]! : 1;
        g[a]! -= c2 * yi * xi * xa;
        for (let b = 0; b <= a; b++) {
          const xb = b < d ? X[i * d + b]! : 1;
          H[a * p + b]! += c2 * xa * xb;
        }
      }
    }
    for (let a = 0; a < p; a++) for (let b = a + 1; b < p; b++) H[a * p + b] = H[b * p + a]!;
    let gn = 0;
    for (let j = 0; j < p; j++) gn += g[j]! * g[j]!;
    gn = Math.sqrt(gn);
    if (it === 0) g0 = gn;
    if (gn <= 1e-12 * Math.max(1, g0)) break;
    choleskySolve(H, g, step, p); // step = H⁻¹ g
    let gd = 0;
    for (let j = 0; j < p; j++) gd -= g[j]! * step[j]!;
    let t = 1;
    let fNew = f;
    let moved = false;
    for (let ls = 0; ls < 50; ls++) {
      for (let j = 0; j < p; j++) wNew[j] = w[j]! - t * step[j]!;
      fNew = objective(wNew);
      if (fNew <= f + 1e-4 * t * gd) { moved = true; break; }
      t *= 0.5;
    }
    if (!moved) break;
    const df = f - fNew;
    w.set(wNew);
    f = fNew;
    if (df <= 1e-16 * Math.max(1, f)) break;
  }
  return { w, iterations: it };
}

/** Solve A x = b for symmetric positive definite A (p×p, row-major). */
function choleskySolve(A: Float64Array, b: Float64Array, x: Float64Array, p: number): void {
  const L = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * p + j]!;
      for (let k = 0; k < j; k++) s -= L[i * p + k]! * L[j * p + k]!;
      if (i === j) L[i * p + i] = Math.sqrt(Math.max(s, 1e-300));
      else L[i * p + j] = s / L[j * p + j]!;
    }
  }
  const yv = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * p + k]! * yv[k]!;
    yv[i] = s / L[i * p + i]!;
  }
  for (let i = p - 1; i >= 0; i--) {
    let s = yv[i]!;
    for (let k = i + 1; k < p; k++) s -= L[k * p + i]! * x[k]!;
    x[i] = s / L[i * p + i]!;
  }
}

export interface LinearSvmModel {
  classes: number[];
  d: number;
  /** rows × (d + 1): weights then bias; one row for 2 classes (positive = classes[1]). */
  W: Float64Array;
}

/** LinearSVC(C, class_weight) on n×d features; see the module comment. */
export function fitLinearSvm(X: Float64Array, labels: ArrayLike<number>, n: number, d: number, opts: { C?: number; balanced?: boolean } = {}): LinearSvmModel {
  const C = opts.C ?? 1;
  const { classes: y, values } = denseLabels(Array.from({ length: n }, (_, i) => labels[i]!));
  const K = values.length;
  const counts = new Float64Array(K);
  for (let i = 0; i < n; i++) counts[y[i]!]!++;
  const weight = Array.from(counts, (c) => (opts.balanced ? n / (K * c) : 1));
  if (K < 2) return { classes: values, d, W: new Float64Array(d + 1) };
  const ySign = new Float64Array(n);
  const cost = new Float64Array(n);
  if (K === 2) {
    for (let i = 0; i < n; i++) {
      ySign[i] = y[i] === 1 ? 1 : -1;
      cost[i] = C * weight[y[i]!]!;
    }
    return { classes: values, d, W: fitBinarySquaredHinge(X, ySign, cost, n, d).w };
  }
  const W = new Float64Array(K * (d + 1));
  for (let c = 0; c < K; c++) {
    for (let i = 0; i < n; i++) {
      const pos = y[i] === c;
      ySign[i] = pos ? 1 : -1;
      cost[i] = pos ? C * weight[c]! : C;
    }
    W.set(fitBinarySquaredHinge(X, ySign, cost, n, d).w, c * (d + 1));
  }
  return { classes: values, d, W };
}

export function linearSvmPredict(model: LinearSvmModel, X: Float64Array, n: number): Float64Array {
  const { d } = model;
  const K = model.classes.length;
  const out = new Float64Array(n);
  const score = (r: number, i: number) => {
    let s = model.W[r * (d + 1) + d]!;
    for (let j = 0; j < d; j++) s += model.W[r * (d + 1) + j]! * X[i * d + j]!;
    return s;
  };
  for (let i = 0; i < n; i++) {
    if (K === 1) out[i] = model.classes[0]!;
    else if (K === 2) out[i] = model.classes[score(0, i) > 0 ? 1 : 0]!;
    else {
      let best = 0;
      let bs = score(0, i);
      for (let c = 1; c < K; c++) {
        const s = score(c, i);
        if (s > bs) { bs = s; best = c; }
      }
      out[i] = model.classes[best]!;
    }
  }
  return out;
}
