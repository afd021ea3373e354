#!/usr/bin/env python3
"""Modularity of codes against factors, from its definition, with numpy and
scikit-learn only: the reference the lab's `modularity` metric is checked
against (tests/unit/metrics/modularity-reference.test.ts holds the values
this script printed).

Definition (Ridgeway & Mozer 2018, as disentanglement_lib computes it):
each code is discretised into `bins` equal-width histogram bins between its
minimum and maximum (np.histogram edges, np.digitize on all edges but the
last); m[i, j] = sklearn.metrics.mutual_info_score(factor j, binned code i)
in nats; per code 1 - (sum_j m^2 - max_j m^2) / (max_j m^2 * (K - 1)), 0
where max_j m is 0; the score is the mean over codes.

usage: modularity_reference.py FACTORS.npy CODES.npy [--rows N] [--bins B]
  FACTORS: N x K integers, CODES: N x D (float32 or float64), row-major.
Prints one JSON object: modularity, per_code, mi (D x K).
"""
import argparse
import json

import numpy as np
from sklearn.metrics import mutual_info_score


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("factors")
    ap.add_argument("codes")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--bins", type=int, default=20)
    a = ap.parse_args()
    ys = np.load(a.factors)
    mus = np.load(a.codes)
    if a.rows is not None:
        ys, mus = ys[: a.rows], mus[: a.rows]
    n, k = ys.shape
    d = mus.shape[1]
    mi = np.zeros((d, k))
    for i in range(d):
        code = mus[:, i]
        edges = np.histogram(code, a.bins)[1][:-1]
        binned = np.digitize(code, edges)
        for j in range(k):
            mi[i, j] = mutual_info_score(ys[:, j], binned)
    sq = np.square(mi)
    mx = np.max(sq, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_code = 1.0 - (np.sum(sq, axis=1) - mx) / (mx * (k - 1.0))
    per_code[mx == 0.0] = 0.0
    print(json.dumps({"rows": int(n), "modularity": float(np.mean(per_code)), "per_code": per_code.tolist(), "mi": mi.tolist()}))


if __name__ == "__main__":
    main()
