"""physopt.constrained.bilevel against an exact-lower-level SciPy loop with implicit differentiation.

For every problem of ``tests/numerics/constrained/bilevel_problems.py`` (closed-form solutions):

- ``lv-hba``, ``penalty`` (physopt), with the options the tests use;
- ``scipy-implicit``: ``scipy.optimize.minimize(L-BFGS-B)`` on ``φ(x) = F(x, y*(x))``, where each ``φ``
  evaluation solves the lower level exactly (Newton on ``f(x, ·)`` to ``‖∇_y f‖ <= 1e-12``; with
  ``g <= 0``, SciPy SLSQP at ``ftol = 1e-14``) and the hypergradient comes from the implicit function
  theorem on the (active-set) KKT system, ``dy/dx = −K⁻¹ [∇²_yx f; J_x g_A]`` with dense Hessians.

Evaluations are reverse passes (gradients of F and f) plus dense Hessian/Jacobian evaluations for the
SciPy loop (each ``n`` reverse passes; counted as such). CPU seconds are process time, median of
``--repeat`` runs.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bilevel.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import minimize as sp_minimize
from torch.autograd.functional import hessian, jacobian

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "numerics" / "constrained"))
from bilevel_problems import BilevelCase, cases

from physopt.constrained.bilevel import LVHBAOptions, PenaltyOptions, minimize_bilevel

D = torch.float64
# the options of tests/numerics/constrained/test_bilevel.py (alpha, eta below 1/L of each problem)
LVHBA = {
    "scalar-toy": LVHBAOptions(alpha=0.3, beta=0.3, eta=0.3, c0=10.0),
    "quadratic-5": LVHBAOptions(alpha=0.3, beta=0.3, eta=0.3, c0=1.0),
    "nonconvex-lower": LVHBAOptions(alpha=0.3, beta=0.3, eta=0.1, c0=10.0),
    "coupled-constraint": LVHBAOptions(alpha=0.3, beta=0.3, eta=0.3, c0=1.0, gamma2=0.1),
}
PENALTY = {"quadratic-5": PenaltyOptions(lr_x=0.5, lr_y=0.3)}


def run_physopt(case: BilevelCase, method: str, max_iter: int) -> tuple[float, int]:
    opts = LVHBA[case.name] if method == "lv-hba" else PENALTY.get(case.name, PenaltyOptions())
    res = minimize_bilevel(case.upper, case.lower, x0=case.x0, y0=case.y0, lower_ineq=case.lower_ineq,
                           project=case.project, method=method, options=opts,
                           max_iter=max_iter if method == "lv-hba" else None)
    return float((res.x - case.x_star).abs().max()), res.nupper + res.nlower


def run_scipy(case: BilevelCase) -> tuple[float, int]:
    count = [0]
    y_warm = [case.y0.clone()]
    n_y = case.y0.numel()

    def grad(fn, x, y):  # one reverse pass
        count[0] += 1
        xv, yv = x.clone().requires_grad_(True), y.clone().requires_grad_(True)
        gx, gy = torch.autograd.grad(fn(xv, yv), (xv, yv), allow_unused=True)
        return (torch.zeros_like(x) if gx is None else gx), (torch.zeros_like(y) if gy is None else gy)

    def hess(fn, x, y):  # dense, n_x + n_y reverse passes
        count[0] += x.numel() + y.numel()
        h = hessian(lambda a, b: fn(a, b), (x, y))
        return h[1][1].reshape(n_y, n_y), h[1][0].reshape(n_y, -1)

    def solve_lower(x):
        if case.lower_ineq is None:
            y = y_warm[0].clone()
            for _ in range(100):  # Newton, exact up to round-off
                _, gy = grad(case.lower, x, y)
                if float(gy.abs().max()) <= 1e-12:
                    break
                h_yy, _ = hess(case.lower, x, y)
                y = y - torch.linalg.solve(h_yy, gy)
            return y
        def fun(yn):
            _, gy = grad(case.lower, x, torch.as_tensor(yn, dtype=D))
            return float(case.lower(x, torch.as_tensor(yn, dtype=D))), gy.numpy()
        def cons(yn):
            return -case.lower_ineq(x, torch.as_tensor(yn, dtype=D)).numpy()
        def cons_jac(yn):
            count[0] += 1
            return -jacobian(lambda b: case.lower_ineq(x, b), torch.as_tensor(yn, dtype=D)).numpy()
        r = sp_minimize(fun, y_warm[0].numpy(), jac=True, method="SLSQP",
                        constraints=[{"type": "ineq", "fun": cons, "jac": cons_jac}], options={"ftol": 1e-14})
        return torch.as_tensor(r.x, dtype=D)

    def phi(xn):
        x = torch.as_tensor(xn, dtype=D).reshape(case.x0.shape)
        y = solve_lower(x)
        y_warm[0] = y
        gx_f, gy_f = grad(case.upper, x, y)
        h_yy, h_yx = hess(case.lower, x, y)
        rows, rhs = h_yy, h_yx
        if case.lower_ineq is not None:
            g = case.lower_ineq(x, y)
            active = g > -1e-8
            if bool(active.any()):
                count[0] += 1
                jx, jy = jacobian(lambda a, b: case.lower_ineq(a, b), (x, y))
                jx, jy = jx.reshape(g.numel(), -1)[active], jy.reshape(g.numel(), -1)[active]
                m = jy.shape[0]
                rows = torch.cat([torch.cat([h_yy, jy.T], 1), torch.cat([jy, torch.zeros(m, m, dtype=D)], 1)])
                rhs = torch.cat([h_yx, jx])
        dy_dx = -torch.linalg.solve(rows, rhs)[:n_y]
        total = gx_f.reshape(-1) + dy_dx.T @ gy_f.reshape(-1)
        return float(case.upper(x, y)), total.numpy()

    r = sp_minimize(phi, case.x0.numpy(), jac=True, method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 1e-15})
    return float(np.abs(r.x - case.x_star.numpy()).max()), count[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lvhba-iter", type=int, default=3000)
    args = parser.parse_args()
    print(f"| problem | method | abs(x - x*) max | evaluations | CPU s (median of {args.repeat}) |")
    print("|---|---|---|---|---|")
    for case in cases():
        methods = ["lv-hba"] + (["penalty"] if case.lower_ineq is None else []) + ["scipy-implicit"]
        for method in methods:
            times, out = [], (0.0, 0)
            for _ in range(args.repeat):
                t0 = time.process_time()
                out = run_scipy(case) if method == "scipy-implicit" else run_physopt(case, method, args.lvhba_iter)
                times.append(time.process_time() - t0)
            print(f"| {case.name} | {method} | {out[0]:.1e} | {out[1]} | {statistics.median(times):.2f} |")


if __name__ == "__main__":
    main()
