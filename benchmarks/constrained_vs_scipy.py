"""physopt.constrained.minimize against SciPy SLSQP / trust-constr and cooper's augmented Lagrangian.

Runs every problem of tests/numerics/constrained/hs_problems.py (the §4.3 Hock–Schittkowski table plus
the Platt–Barr toy) through each solver and prints a markdown table:

- solved: |f − f*| ≤ 1e-6·max(1, |f*|) and ‖x − x*‖∞ ≤ 1e-4 (and, for physopt, status converged);
- nfev / ngev: objective evaluations / objective-gradient evaluations (constraint evaluations are not
  counted for any solver); evals = nfev + ngev;
- KKT: physopt's reported KKT residual (SciPy and cooper report none);
- time: wall time in milliseconds (single thread).

SciPy gets exact gradients (torch autograd on the same functions), trust-constr a BFGS Hessian.
cooper (``pip install --no-deps cooper-optim``) runs its AugmentedLagrangian formulation with the
alternating primal-dual optimizer (Adam lr 1e-2 on x, projected onto the bounds; dual SGD with lr equal
to the penalty 10, as cooper's docs prescribe for the method of multipliers) for at most 5000 steps,
stopping as soon as the "solved" test holds (an oracle stop that favours it); if cooper is missing its
rows say "not installed".

With ``--pde SIZES`` (e.g. ``--pde 100,1000``) it runs the linear-quadratic Poisson/heat control problems of
tests/numerics/constrained/pde_problems.py instead (sizes = approximate variable counts), with and
without a box on the control: solved = ‖x − x*‖∞ ≤ 1e-6 against the sparse-LU reference; physopt's
counts are nfev / ngev / nhvp (Hessian-vector products), by the default method (``"auto"``); SLSQP
(dense, skipped above 500 variables) and trust-constr get the exact gradient, the constraint's sparse
Jacobian and Hessian-vector products of the objective; every solver has a 600 s limit per problem
(trust-constr through its maxiter only). ``--only newton`` restricts the PDE run to physopt,
``--kinds poisson2d,heat1d-box`` to some problems; wall and process CPU time are printed, and the peak
resident memory at the end.

IPOPT (a benchmark extra, rows "not installed" otherwise): Debian's ``coinor-libipopt-dev`` (3.11.9, MUMPS;
``apt-get install coinor-libipopt-dev liblapack-dev libblas-dev``) with ``pip install --no-deps cyipopt`` (1.7.0,
built against it), exact Hessians: dense from autograd on the HS set, the sparse structure on the PDE problems.

Usage: python benchmarks/constrained_vs_scipy.py [--repeat N] [--pde SIZES [--only newton] [--kinds K]]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import torch
from scipy.optimize import BFGS, Bounds, NonlinearConstraint
from scipy.optimize import minimize as sp_minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "numerics" / "constrained"))
from hs_problems import PROBLEMS, HSProblem

from physopt.constrained import minimize

torch.set_num_threads(1)


def solved(p: HSProblem, x: np.ndarray, f: float) -> bool:
    ok_f = abs(f - p.f_star) <= 1e-6 * max(1.0, abs(p.f_star))
    return bool(ok_f and np.max(np.abs(x - np.asarray(p.x_star))) <= 1e-4)


class Counted:
    """Objective value and gradient for SciPy through autograd, with separate counters."""

    def __init__(self, fn):
        self.fn, self.nfev, self.ngev = fn, 0, 0

    def value(self, x: np.ndarray) -> float:
        self.nfev += 1
        return float(self.fn(torch.as_tensor(x, dtype=torch.float64)))

    def grad(self, x: np.ndarray) -> np.ndarray:
        self.ngev += 1
        t = torch.as_tensor(x, dtype=torch.float64).requires_grad_(True)
        (g,) = torch.autograd.grad(self.fn(t), t, allow_unused=True)
        return np.zeros_like(x) if g is None else g.numpy()


def _cons_value(fn):
    return lambda x: np.atleast_1d(fn(torch.as_tensor(x, dtype=torch.float64)).detach().numpy())


def _cons_jac(fn):
    def jac(x):
        t = torch.as_tensor(x, dtype=torch.float64)
        return torch.autograd.functional.jacobian(lambda y: fn(y).reshape(-1), t).numpy()

    return jac


def run_physopt(p: HSProblem, method: str) -> dict:
    if method == "exact-al" and not p.equality_only:
        return {}
    tol = 3e-7 if method == "penalty" else 1e-8  # penalty: its accuracy floor, see tests
    t0 = time.perf_counter()
    r = minimize(p.fun, torch.tensor(p.x0), eq=list(p.eq), ineq=list(p.ineq), bounds=p.bounds,
                 method=method, tol=tol)
    dt = time.perf_counter() - t0
    ok = r.success and solved(p, r.x.numpy(), r.fun) and r.kkt_residual <= 1e-6
    extra = f" (+{r.nhev} Hessians)" if r.nhev else (f" (+{r.nhvp} HVPs)" if r.nhvp else "")
    return {"solved": ok, "nfev": r.nfev, "ngev": r.ngev, "kkt": f"{r.kkt_residual:.1e}",
            "time": dt, "note": extra}


def run_scipy(p: HSProblem, method: str) -> dict:
    obj = Counted(p.fun)
    n = len(p.x0)
    lo = hi = None
    if p.bounds is not None:
        lo = np.broadcast_to(np.asarray(p.bounds[0], dtype=float), (n,))
        hi = np.broadcast_to(np.asarray(p.bounds[1], dtype=float), (n,))
    x0 = np.asarray(p.x0, dtype=float)
    t0 = time.perf_counter()
    if method == "SLSQP":
        cons = [{"type": "eq", "fun": _cons_value(h), "jac": _cons_jac(h)} for h in p.eq]
        # SciPy's convention is c(x) >= 0: pass -g
        cons += [{"type": "ineq", "fun": (lambda x, g=g: -_cons_value(g)(x)),
                  "jac": (lambda x, g=g: -_cons_jac(g)(x))} for g in p.ineq]
        bnds = None if lo is None else list(zip(lo, hi, strict=True))
        r = sp_minimize(obj.value, x0, jac=obj.grad, method="SLSQP", bounds=bnds,
                        constraints=cons, options={"ftol": 1e-12, "maxiter": 500})
    else:
        cons = [NonlinearConstraint(_cons_value(h), 0.0, 0.0, jac=_cons_jac(h), hess=BFGS())
                for h in p.eq]
        cons += [NonlinearConstraint(_cons_value(g), -np.inf, 0.0, jac=_cons_jac(g), hess=BFGS())
                 for g in p.ineq]
        bnds = None if lo is None else Bounds(lo, hi)
        r = sp_minimize(obj.value, x0, jac=obj.grad, hess=BFGS(), method="trust-constr",
                        bounds=bnds, constraints=cons,
                        options={"gtol": 1e-10, "xtol": 1e-12, "maxiter": 3000})
    dt = time.perf_counter() - t0
    return {"solved": solved(p, r.x, float(r.fun)), "nfev": obj.nfev, "ngev": obj.ngev,
            "kkt": "n/a", "time": dt, "note": ""}


def _cons_hess(fn):
    def hess(x, v):
        t = torch.as_tensor(x, dtype=torch.float64)
        w = torch.as_tensor(np.atleast_1d(v), dtype=torch.float64)
        return torch.autograd.functional.hessian(lambda y: w @ fn(y).reshape(-1), t).numpy()

    return hess


def run_ipopt(p: HSProblem) -> dict:
    """IPOPT (Debian's coinor-libipopt, MUMPS) through cyipopt's SciPy-style interface, exact dense
    Hessians of the objective and of every constraint from autograd, tol 1e-8."""
    try:
        from cyipopt import minimize_ipopt
    except ImportError:
        return {"missing": True}
    obj = Counted(p.fun)
    n = len(p.x0)
    cons = [{"type": "eq", "fun": _cons_value(h), "jac": _cons_jac(h), "hess": _cons_hess(h)} for h in p.eq]
    cons += [{"type": "ineq", "fun": (lambda x, g=g: -_cons_value(g)(x)), "jac": (lambda x, g=g: -_cons_jac(g)(x)),
              "hess": (lambda x, v, g=g: -_cons_hess(g)(x, v))} for g in p.ineq]
    bnds = None
    if p.bounds is not None:
        lo = np.broadcast_to(np.asarray(p.bounds[0], dtype=float), (n,))
        hi = np.broadcast_to(np.asarray(p.bounds[1], dtype=float), (n,))
        bnds = [(a if np.isfinite(a) else None, b if np.isfinite(b) else None) for a, b in zip(lo, hi, strict=True)]
    hess = _cons_hess(lambda y: p.fun(y).reshape(1))
    t0 = time.perf_counter()
    r = minimize_ipopt(obj.value, np.asarray(p.x0, dtype=float), jac=obj.grad, hess=lambda x: hess(x, [1.0]),
                       bounds=bnds, constraints=cons, options={"tol": 1e-8, "print_level": 0, "max_iter": 3000})
    dt = time.perf_counter() - t0
    return {"solved": solved(p, r.x, float(r.fun)), "nfev": obj.nfev, "ngev": obj.ngev, "kkt": "n/a", "time": dt,
            "note": ""}


def run_cooper(p: HSProblem) -> dict:
    try:
        import cooper
    except ImportError:
        return {"missing": True}
    eq_type, in_type = cooper.ConstraintType.EQUALITY, cooper.ConstraintType.INEQUALITY
    counter = {"nfev": 0, "ngev": 0}

    class CMP(cooper.ConstrainedMinimizationProblem):
        def __init__(self):
            super().__init__()
            self.cons = []
            for kind, fns in ((eq_type, p.eq), (in_type, p.ineq)):
                for i, fn in enumerate(fns):
                    m = int(np.atleast_1d(_cons_value(fn)(np.asarray(p.x0))).size)
                    c = cooper.Constraint(
                        constraint_type=kind, formulation_type=cooper.formulations.AugmentedLagrangian,
                        multiplier=cooper.multipliers.DenseMultiplier(num_constraints=m, dtype=torch.float64),
                        penalty_coefficient=cooper.penalty_coefficients.DensePenaltyCoefficient(
                            torch.tensor(10.0, dtype=torch.float64)),
                    )
                    setattr(self, f"c_{kind.name}_{i}", c)
                    self.cons.append((c, fn))

        def compute_cmp_state(self, x):
            counter["nfev"] += 1
            counter["ngev"] += 1
            states = {c: cooper.ConstraintState(violation=fn(x).reshape(-1)) for c, fn in self.cons}
            return cooper.CMPState(loss=p.fun(x), observed_constraints=states)

    x = torch.nn.Parameter(torch.tensor(p.x0, dtype=torch.float64))
    cmp = CMP()
    primal = torch.optim.Adam([x], lr=1e-2)
    dual = torch.optim.SGD(cmp.dual_parameters(), lr=10.0, maximize=True)
    opt = cooper.optim.AlternatingDualPrimalOptimizer(cmp=cmp, primal_optimizers=primal,
                                                       dual_optimizers=dual)
    lo = hi = None
    if p.bounds is not None:
        lo = torch.as_tensor(p.bounds[0], dtype=torch.float64).expand_as(x)
        hi = torch.as_tensor(p.bounds[1], dtype=torch.float64).expand_as(x)
    t0 = time.perf_counter()
    ok = False
    for _ in range(5000):
        opt.roll(compute_cmp_state_kwargs={"x": x})
        if lo is not None:
            with torch.no_grad():
                x.copy_(torch.minimum(torch.maximum(x, lo), hi))
        with torch.no_grad():
            if solved(p, x.detach().numpy(), float(p.fun(x))):
                ok = True
                break
    dt = time.perf_counter() - t0
    return {"solved": ok, "nfev": counter["nfev"], "ngev": counter["ngev"], "kkt": "n/a",
            "time": dt, "note": ""}


SOLVERS = ["physopt auto", "physopt newton", "physopt alm", "physopt exact-al", "physopt penalty", "SLSQP",
           "trust-constr", "IPOPT", "cooper ALM"]


def run(solver: str, p: HSProblem) -> dict:
    if solver.startswith("physopt"):
        return run_physopt(p, solver.split()[1])
    if solver == "cooper ALM":
        return run_cooper(p)
    if solver == "IPOPT":
        return run_ipopt(p)
    return run_scipy(p, solver)


def pde_problems(sizes: list[int]) -> list:
    from pde_problems import heat, poisson

    out = []
    for n in sizes:
        g1, g2 = n // 2, max(2, round(math.sqrt(n / 2)))
        gh = max(2, round(math.sqrt(n / 4)))
        for box in (None, "box"):
            out.append(poisson(1, g1, box=(0.0, 15.0) if box else None))
            out.append(poisson(2, g2, box=(-6.0, 6.0) if box else None))
            out.append(heat(2 * gh, gh, box=(0.0, 30.0) if box else None))
    return out


def run_pde(problem, solver: str) -> dict:
    x_ref, _ = problem.reference()
    n = problem.n
    t0, c0 = time.perf_counter(), time.process_time()
    if solver == "physopt auto":
        # the default method; tol 1e-8 unless that is below the rounding floor of A y (1-D at 10⁴ and up)
        r = minimize(problem.fun, torch.zeros(n), eq=[problem.eq], bounds=problem.bounds(), tol=problem.tolerance())
        x, note = r.x.numpy(), f"{r.nfev} / {r.ngev} / {r.nhvp}"
        kkt = f"{r.kkt_residual:.1e}"
    elif solver == "IPOPT":
        out = _ipopt_pde(problem)
        if out is None:
            return {"skip": "cyipopt not installed"}
        x, note, kkt = out
    else:
        import scipy.sparse as sps
        from scipy.optimize import LinearConstraint
        if solver == "SLSQP" and n > 500:
            return {"skip": "dense, n > 500"}
        obj = Counted(problem.fun)
        jac = sps.hstack([problem.matrix, -sps.identity(problem.n_state)]).tocsr()
        hd = np.concatenate([np.ones(problem.n_state), problem.alpha * np.ones(problem.n_state)])
        bl = problem.bounds()
        bnds = None if bl is None else Bounds(bl[0].numpy(), bl[1].numpy())
        if solver == "SLSQP":
            cons = [{"type": "eq", "fun": lambda x: jac @ x, "jac": lambda x: jac.toarray()}]
            res = sp_minimize(obj.value, np.zeros(n), jac=obj.grad, method="SLSQP", bounds=bnds, constraints=cons,
                              options={"ftol": 1e-14, "maxiter": 2000})
        else:
            res = sp_minimize(obj.value, np.zeros(n), jac=obj.grad, hessp=lambda x, v: hd * v, method="trust-constr",
                              bounds=bnds, constraints=[LinearConstraint(jac, 0.0, 0.0)],
                              options={"gtol": 1e-10, "xtol": 1e-14, "maxiter": 5000})
        x, note, kkt = res.x, f"{obj.nfev} / {obj.ngev} / -", "n/a"
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    err = float(np.abs(x - x_ref).max())
    return {"solved": err <= 1e-6, "err": err, "note": note, "kkt": kkt, "time": dt, "cpu": cpu}


def _ipopt_pde(problem) -> tuple[np.ndarray, str, str] | None:
    """IPOPT on the LQ control problem with its exact sparse structure: Jacobian ``[A, −I]`` (constant),
    Hessian ``diag(1, α)``; tol 1e-8 (the tolerance rule's value where that is larger)."""
    try:
        import cyipopt
    except ImportError:
        return None
    import scipy.sparse as sps

    obj = Counted(problem.fun)
    m = problem.n_state
    jac = sps.hstack([problem.matrix, -sps.identity(m)]).tocoo()
    hd = np.concatenate([np.ones(m), problem.alpha * np.ones(m)])
    idx = np.arange(problem.n)

    class LQ:
        def objective(self, x):
            return obj.value(x)

        def gradient(self, x):
            return obj.grad(x)

        def constraints(self, x):
            return jac @ x

        def jacobian(self, x):
            return jac.data

        def jacobianstructure(self):
            return jac.row, jac.col

        def hessianstructure(self):
            return idx, idx

        def hessian(self, x, lagrange, obj_factor):
            return obj_factor * hd

    bl = problem.bounds()
    lb = np.full(problem.n, -1e20) if bl is None else np.where(np.isfinite(bl[0].numpy()), bl[0].numpy(), -1e20)
    ub = np.full(problem.n, 1e20) if bl is None else np.where(np.isfinite(bl[1].numpy()), bl[1].numpy(), 1e20)
    nlp = cyipopt.Problem(n=problem.n, m=m, problem_obj=LQ(), lb=lb, ub=ub, cl=np.zeros(m), cu=np.zeros(m))
    nlp.add_option("tol", problem.tolerance())
    nlp.add_option("print_level", 0)
    nlp.add_option("max_iter", 3000)
    x, info = nlp.solve(np.zeros(problem.n))
    return x, f"{obj.nfev} / {obj.ngev} / -", f"n/a (status {info['status']})"


def main_pde(sizes: list[int], only: str | None, kinds: str | None) -> None:
    import resource

    solvers = ["physopt auto"] if only else ["physopt auto", "SLSQP", "trust-constr", "IPOPT"]
    print(f"torch {torch.__version__}, scipy {scipy.__version__}\n")
    print("| problem | n | solver | solved | ‖x − x*‖∞ | nfev / ngev / nhvp | KKT | wall / CPU [s] |")
    print("|---|---:|---|---|---:|---:|---:|---:|")
    for problem in pde_problems(sizes):
        if kinds and not any(problem.name.startswith(k.removesuffix("-box"))
                             and problem.name.endswith("-box") == k.endswith("-box") for k in kinds.split(",")):
            continue
        for s in solvers:
            r = run_pde(problem, s)
            if "skip" in r:
                print(f"| {problem.name} | {problem.n} | {s} | skipped ({r['skip']}) | | | | |", flush=True)
                continue
            print(f"| {problem.name} | {problem.n} | {s} | {'yes' if r['solved'] else 'no'} | {r['err']:.1e} | "
                  f"{r['note']} | {r['kkt']} | {r['time']:.1f} / {r['cpu']:.1f} |", flush=True)
    print(f"\npeak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the best time is kept")
    parser.add_argument("--pde", type=str, default=None, help="comma-separated sizes for the PDE problems")
    parser.add_argument("--only", type=str, default=None, help="with --pde: 'newton' to run physopt only")
    parser.add_argument("--kinds", type=str, default=None,
                        help="with --pde: problems to run, e.g. 'poisson2d,heat1d,poisson2d-box' (default all)")
    args = parser.parse_args()
    if args.pde:
        main_pde([int(float(v)) for v in args.pde.split(",")], args.only, args.kinds)
        return
    print(f"torch {torch.__version__}, scipy {scipy.__version__}, numpy {np.__version__}\n")
    print("| problem | solver | solved | nfev | ngev | evals | KKT | time [ms] |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    results: dict[str, dict[str, dict]] = {s: {} for s in SOLVERS}
    for p in PROBLEMS:
        for s in SOLVERS:
            runs = [run(s, p) for _ in range(args.repeat)]
            r = min(runs, key=lambda d: d.get("time", math.inf))
            results[s][p.name] = r
            if not r:
                continue
            if r.get("missing"):
                print(f"| {p.name} | {s} | not installed | | | | | |")
                continue
            evals = r["nfev"] + r["ngev"]
            print(f"| {p.name} | {s} | {'yes' if r['solved'] else 'no'} | {r['nfev']} | {r['ngev']} "
                  f"| {evals}{r['note']} | {r['kkt']} | {1e3 * r['time']:.1f} |")
    print("\n| solver | solved | median evals | median evals / SLSQP (on SLSQP-solved) | total time [ms] |")
    print("|---|---|---:|---:|---:|")
    slsqp = results["SLSQP"]
    for s in SOLVERS:
        rows = {k: v for k, v in results[s].items() if v}
        if any(v.get("missing") for v in rows.values()):
            print(f"| {s} | not installed | | | |")
            continue
        n_ok = sum(v["solved"] for v in rows.values())
        evals = [v["nfev"] + v["ngev"] for v in rows.values()]
        ratios = [(v["nfev"] + v["ngev"]) / (slsqp[k]["nfev"] + slsqp[k]["ngev"])
                  for k, v in rows.items() if slsqp[k]["solved"]]
        missed = [k for k, v in rows.items() if slsqp[k]["solved"] and not v["solved"]]
        note = f" (misses {', '.join(missed)})" if missed else ""
        print(f"| {s} | {n_ok}/{len(rows)}{note} | {statistics.median(evals):.0f} | "
              f"{statistics.median(ratios):.2f} | {1e3 * sum(v['time'] for v in rows.values()):.0f} |")


if __name__ == "__main__":
    main()
