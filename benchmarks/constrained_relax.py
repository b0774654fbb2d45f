"""Slack-free Lagrangian relaxation (physopt.constrained.relax) vs the slack-variable QUBO, against HiGHS.

Problems, random instances from seeds (3 per size):

- MDKP: max vᵀx s.t. W x ≤ cap (3 knapsacks), v ∈ [10, 100), W ∈ [5, 60), cap = ½ row sums;
- MIS: max Σ x s.t. x_i + x_j ≤ 1 on the edges of a G(n, 0.3) random graph;
- TSP: n cities in the unit square, x_{i,t} = city i at position t (n² binaries), Σ_t x_{it} = 1,
  Σ_i x_{it} = 1, tour length as the quadratic objective.

Optimum: scipy.optimize.milp (HiGHS); TSP through the Miller-Tucker-Zemlin edge formulation.
Slack QUBO: each inequality aᵢᵀx ≤ bᵢ becomes (aᵢᵀx + Σ_k 2ᵏ s_k − bᵢ)² with ⌊log₂ bᵢ⌋ + 1 slack bits
(last coefficient cut so the slacks sum to at most bᵢ), equalities (Aₑx − bₑ)², penalty weight
P = 1 + Σ|c| + Σ|Q|; solved by the same inner solver (enumeration up to 20 variables, else simulated
annealing) through relax with no constraints. Columns: binaries of the inner problem, feasible
instances, mean optimality gap (f − f*)/|f*| over the feasible ones, mean process CPU time (the machine
is shared). ``--repair`` adds a row per Lagrangian method with ``relax(..., repair=True)`` (the greedy
repair-and-improve heuristic applied to every x(λ)).

Usage: python benchmarks/constrained_relax.py [--sizes-mdkp 12,30] [--sizes-mis 12,30] [--sizes-tsp 4,5]
       [--seeds 3] [--repair] [--methods subgradient,bundle,cutting-plane,alm,slack QUBO]
"""

from __future__ import annotations

import argparse
import itertools
import math
import time

import numpy as np
import torch
from scipy.optimize import Bounds, LinearConstraint, milp

from physopt.constrained import relax

torch.set_num_threads(1)
METHODS = ("subgradient", "bundle", "cutting-plane", "alm")


def mdkp(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    v, w = rng.integers(10, 100, n), rng.integers(5, 60, (3, n))
    return {
        "c": -v.astype(float),
        "Q": np.zeros((n, n)),
        "A_ub": w.astype(float),
        "b_ub": (w.sum(1) // 2).astype(float),
    }


def mis(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    edges = [(i, j) for i, j in itertools.combinations(range(n), 2) if rng.random() < 0.3]
    a = np.zeros((len(edges), n))
    for k, (i, j) in enumerate(edges):
        a[k, i] = a[k, j] = 1.0
    return {"c": -np.ones(n), "Q": np.zeros((n, n)), "A_ub": a, "b_ub": np.ones(len(edges))}


def tsp(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    pts = rng.random((n, 2))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    q = np.zeros((n * n, n * n))  # variable i*n + t
    for t in range(n):
        for i in range(n):
            for j in range(n):
                if i != j:
                    q[i * n + t, j * n + (t + 1) % n] += d[i, j]
    a = np.zeros((2 * n, n * n))
    for i in range(n):
        a[i, i * n : (i + 1) * n] = 1.0
        a[n + i, i::n] = 1.0
    return {"c": np.zeros(n * n), "Q": q, "A_eq": a, "b_eq": np.ones(2 * n), "d": d}


def highs(p: dict) -> float:
    if "d" in p:  # TSP, MTZ: x_ij (i ≠ j), order u_i
        d = p["d"]
        n = len(d)
        arcs = [(i, j) for i in range(n) for j in range(n) if i != j]
        nv = len(arcs) + n
        cost = np.concatenate([[d[i, j] for i, j in arcs], np.zeros(n)])
        rows, lo, hi = [], [], []
        for k in range(n):
            rows.append([1.0 if i == k else 0.0 for i, _ in arcs] + [0.0] * n)
            rows.append([1.0 if j == k else 0.0 for _, j in arcs] + [0.0] * n)
            lo += [1, 1]
            hi += [1, 1]
        for a_idx, (i, j) in enumerate(arcs):
            if i and j:  # u_i − u_j + n x_ij ≤ n − 1
                r = [0.0] * nv
                r[a_idx], r[len(arcs) + i], r[len(arcs) + j] = n, 1.0, -1.0
                rows.append(r)
                lo.append(-np.inf)
                hi.append(n - 1)
        integ = np.concatenate([np.ones(len(arcs)), np.zeros(n)])
        res = milp(cost, constraints=LinearConstraint(np.array(rows), lo, hi), integrality=integ,
                   bounds=Bounds(np.zeros(nv), np.concatenate([np.ones(len(arcs)), np.full(n, n)])))
        return float(res.fun)
    res = milp(p["c"], constraints=LinearConstraint(p["A_ub"], -np.inf, p["b_ub"]), integrality=np.ones(len(p["c"])),
               bounds=Bounds(0, 1))
    return float(res.fun)


def slack_qubo(p: dict) -> tuple[np.ndarray, np.ndarray, int]:
    n = len(p["c"])
    a_ub, b_ub = p.get("A_ub", np.zeros((0, n))), p.get("b_ub", np.zeros(0))
    bits = [math.floor(math.log2(b)) + 1 if b >= 1 else 0 for b in b_ub]
    total = n + sum(bits)
    big = 1.0 + np.abs(p["c"]).sum() + np.abs(p["Q"]).sum()
    q = np.zeros((total, total))
    q[:n, :n] = p["Q"]
    c = np.zeros(total)
    c[:n] = p["c"]
    offset = n
    rows = []
    for i, (b, k) in enumerate(zip(b_ub, bits, strict=True)):
        coef = [2.0**j for j in range(k)]
        if k:
            coef[-1] = b - sum(coef[:-1])  # slacks sum to at most b
        row = np.zeros(total)
        row[:n], row[offset : offset + k] = a_ub[i], coef
        rows.append((row, b))
        offset += k
    if "A_eq" in p:
        for row_eq, b in zip(p["A_eq"], p["b_eq"], strict=True):
            row = np.zeros(total)
            row[:n] = row_eq
            rows.append((row, b))
    for row, b in rows:  # P (rᵀz − b)² = P (zᵀ r rᵀ z − 2b rᵀz + b²), z binary
        q += big * np.outer(row, row)
        c -= 2 * big * b * row
    return c, q, total


def feasible(p: dict, x: np.ndarray, tol: float = 1e-9) -> bool:
    ok = True
    if "A_ub" in p:
        ok &= bool((p["A_ub"] @ x <= p["b_ub"] + tol).all())
    if "A_eq" in p:
        ok &= bool((np.abs(p["A_eq"] @ x - p["b_eq"]) <= tol).all())
    return ok


def run(p: dict, method: str, seed: int) -> tuple[int, float | None, float]:
    t0 = time.process_time()
    kw = {k: torch.tensor(p[k]) for k in ("A_ub", "b_ub", "A_eq", "b_eq") if k in p}
    n = len(p["c"])
    if method == "slack QUBO":
        c, q, total = slack_qubo(p)
        r = relax(torch.tensor(c), Q=torch.tensor(q), max_iter=1, seed=seed)
        x = r.x.numpy()[:n]
        f = float(x @ p["Q"] @ x + p["c"] @ x)
        return total, (f if feasible(p, x) else None), time.process_time() - t0
    name, repair = method.removesuffix(" + repair"), method.endswith(" + repair")
    r = relax(torch.tensor(p["c"]), Q=torch.tensor(p["Q"]), method=name, max_iter=60, seed=seed, repair=repair,
              **kw)
    return n, (r.fun if r.feasible else None), time.process_time() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mdkp", default="12,30")
    parser.add_argument("--sizes-mis", default="12,30")
    parser.add_argument("--sizes-tsp", default="4,5")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repair", action="store_true", help="add rows with relax(..., repair=True)")
    parser.add_argument("--methods", default=",".join((*METHODS, "slack QUBO")))
    args = parser.parse_args()
    methods = args.methods.split(",")
    if args.repair:
        methods += [f"{m} + repair" for m in methods if m in METHODS]
    print("| problem | n | method | binaries | feasible | mean gap vs HiGHS | mean CPU [s] |")
    print("|---|---:|---|---:|---:|---:|---:|")
    problems = (("MDKP", mdkp, args.sizes_mdkp), ("MIS", mis, args.sizes_mis), ("TSP", tsp, args.sizes_tsp))
    for name, make, sizes in problems:
        for size in (int(s) for s in sizes.split(",") if s):  # "" skips a problem
            instances = [make(size, seed) for seed in range(args.seeds)]
            optima = [highs(p) for p in instances]
            for method in methods:
                runs = [run(p, method, seed) for seed, p in enumerate(instances)]
                gaps = [(f - o) / abs(o) for (_, f, _), o in zip(runs, optima, strict=True) if f is not None]
                gap = f"{100 * np.mean(gaps):.1f} %" if gaps else "—"
                print(f"| {name} | {size} | {method} | {runs[0][0]} | {len(gaps)}/{len(runs)} | {gap} | "
                      f"{np.mean([t for _, _, t in runs]):.2f} |", flush=True)


if __name__ == "__main__":
    main()
