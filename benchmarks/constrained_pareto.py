"""Pareto fronts of a 2-D Poisson control problem: tracking error vs L2 and vs L1 control cost.

    f₁ = ½‖y − y_d‖²,  f₂ = ½‖u‖² (L2) or ‖u‖₁ (L1),  s.t.  A y − u = 0   (A = −Δ_h, --grid² interior points)

The L1 cost is non-smooth; it is written with the exact split ``u = u⁺ − u⁻``, ``u± ≥ 0``,
``‖u‖₁ = Σ(u⁺ + u⁻)`` (smooth, same minimizers), so every front point has a true KKT residual. Each
front is computed by ``physopt.constrained.pareto`` with every scalarization; the table gives the number
of converged points, the worst KKT residual, the hypervolume (reference point 1.1 × the nadir of the
anchors, the same for all methods of a front) and the process CPU time. Three interior points per front are
re-solved with the single-objective solver (``minimize f₁ s.t. f₂ ≤ f₂(point)``) and the difference in
f₁ is reported. Writes docs/constrained_pareto.png.

``--soft-threshold`` adds rows for ½‖x − a‖² vs ‖x‖₁ (12 components, the same split), whose front is
known in closed form (soft thresholding): the last column is then the largest deviation of f₁ from it.

Usage: python benchmarks/constrained_pareto.py [--points N] [--grid G] [--costs L2,L1] [--soft-threshold]
       [--out FILE.png]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "numerics" / "constrained"))
from pde_problems import poisson

from physopt.constrained import hypervolume, minimize, pareto

torch.set_num_threads(1)


def problem(cost: str, grid: int = 8):
    p = poisson(2, grid)
    m = p.n_state
    yd = torch.as_tensor(p.target, dtype=torch.float64)
    if cost == "L2":
        fs = [lambda x: 0.5 * ((x[:m] - yd) ** 2).sum(), lambda x: 0.5 * (x[m:] ** 2).sum()]
        return fs, [lambda x: p.stencil(x[:m]) - x[m:]], None, 2 * m
    inf = float("inf")
    lo = torch.cat([torch.full((m,), -inf), torch.zeros(2 * m)]).double()
    fs = [lambda x: 0.5 * ((x[:m] - yd) ** 2).sum(), lambda x: x[m:].sum()]
    eq = [lambda x: p.stencil(x[:m]) - (x[m : 2 * m] - x[2 * m :])]
    return fs, eq, (lo, None), 3 * m


def soft_threshold_problem(k: int = 12):
    """½‖x − a‖² vs ‖x‖₁ with the split x = z⁺ − z⁻ (2k variables): the front is soft thresholding."""
    a = torch.linspace(-3.0, 3.0, k, dtype=torch.float64) + 0.1
    fs = [lambda z: 0.5 * ((z[:k] - z[k:] - a) ** 2).sum(), lambda z: z.sum()]
    return fs, a


def soft_threshold_error(values: torch.Tensor, a: torch.Tensor) -> float:
    """max |f₁ − ½ Σ min(|aᵢ|, w)²| over the points, w solving Σ max(|aᵢ| − w, 0) = f₂ (bisection)."""
    mag, worst = a.abs(), 0.0
    for f1, f2 in values.tolist():
        lo, hi = 0.0, float(mag.max())
        for _ in range(60):
            w = 0.5 * (lo + hi)
            lo, hi = (w, hi) if float((mag - w).clamp(min=0).sum()) > f2 else (lo, w)
        worst = max(worst, abs(f1 - 0.5 * float(torch.minimum(mag, torch.tensor(w, dtype=torch.float64)).pow(2).sum())))
    return worst


def run_soft_threshold(points: int) -> None:
    fs, a = soft_threshold_problem()
    for method in ("weighted", "epsilon", "pascoletti-serafini"):
        t0 = time.process_time()
        front = pareto(fs, torch.ones(2 * a.numel()), bounds=(0.0, None), method=method, n_points=points)
        dt = time.process_time() - t0
        ok = sum(p.success for p in front.points)
        kkt = max(p.kkt_residual for p in front.points)
        print(f"| L1 soft-threshold (24 variables) | {method} | {ok}/{len(front.points)} | {kkt:.1e} | - | {dt:.1f} | "
              f"{soft_threshold_error(front.values, a):.1e} (vs closed form) |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=9)
    parser.add_argument("--grid", type=int, default=8, help="interior grid points per direction")
    parser.add_argument("--out", type=str, default="docs/constrained_pareto.png")
    parser.add_argument("--costs", type=str, default="L2,L1", help="control costs to run, e.g. 'L2'")
    parser.add_argument("--soft-threshold", action="store_true",
                        help="also the rows of ½‖x − a‖² vs ‖x‖₁, checked against soft thresholding")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    costs = args.costs.split(",")
    fig, axes = plt.subplots(1, len(costs), figsize=(5 * len(costs), 4), squeeze=False)
    print("| control cost | method | converged | worst KKT | hypervolume | CPU [s] | max |Δf₁| vs minimize |")
    print("|---|---|---:|---:|---:|---:|---:|")
    if args.soft_threshold:
        run_soft_threshold(args.points)
    for ax, cost in zip(axes[0], costs, strict=True):
        fs, eq, bounds, n = problem(cost, args.grid)
        fronts = {}
        for method in ("weighted", "epsilon", "pascoletti-serafini"):
            t0 = time.process_time()  # CPU time of this process: the machine is shared
            fronts[method] = (pareto(fs, torch.zeros(n), eq=eq, bounds=bounds, method=method, n_points=args.points),
                              time.process_time() - t0)
        ref = 1.1 * torch.stack([f.values.max(dim=0).values for f, _ in fronts.values()]).max(dim=0).values
        for method, (front, dt) in fronts.items():
            gaps = []
            for k in (2, args.points // 2, args.points - 3):
                eps = float(front.values[k, 1])
                single = minimize(fs[0], front.points[k].x, eq=eq, bounds=bounds,
                                  ineq=[lambda x, e=eps, g=fs[1]: g(x) - e])
                gaps.append(abs(single.fun - float(front.values[k, 0])) if single.success else float("inf"))
            ok = sum(p.success for p in front.points)
            kkt = max(p.kkt_residual for p in front.points)
            print(f"| {cost} | {method} | {ok}/{len(front.points)} | {kkt:.1e} | "
                  f"{hypervolume(front.values, ref):.4g} | {dt:.1f} | {max(gaps):.1e} |", flush=True)
            ax.plot(front.values[:, 0], front.values[:, 1], "o-", label=method, ms=4)
        first = next(iter(fronts.values()))[0]  # the anchors are the same solves for every method
        ax.plot(first.values[[0, -1], 0], first.values[[0, -1], 1], "k*", ms=12, label="anchors (min f₁, min f₂)")
        ax.set_xlabel("tracking ½‖y − y_d‖²")
        ax.set_ylabel("½‖u‖²" if cost == "L2" else "‖u‖₁")
        ax.set_title(f"2-D Poisson control, {cost} control cost")
        ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
