"""Inverse zoo problems on their defaults: each unknown's truth, value found, relative error, CPU s.

Runs ``physopt solve NAME --set problem.noise=LEVEL`` for every problem and noise level (one torch
thread) and prints one row per unknown. Goals (issue 18): scalars within 0.1 % on noise-free data
and 1 % with 1 % noise, each default within 3 CPU-minutes.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/inverse.py
    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/inverse.py --problems lotka-volterra-inverse --noise 0
"""

from __future__ import annotations

import argparse
import time

import physopt

PROBLEMS = ("burgers-inverse", "lotka-volterra-inverse", "kovasznay-inverse")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    ap.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.01], help="relative noise levels")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=None, help="default: the problem's tuned steps")
    args = ap.parse_args()
    rows = []
    for name in args.problems:
        for level in args.noise:
            t0 = time.process_time()
            kwargs = {} if args.steps is None else {"steps": args.steps}
            res = physopt.solve(name, seed=args.seed, overrides=[f"problem.noise={level}", "threads=1"], **kwargs)
            cpu = time.process_time() - t0  # building the problem (reference, sensors) included
            misfit = next(iter(res.report.data_misfit.values()))
            for k, u in res.report.unknowns.items():
                rows.append((name, f"{level:.0%}", k, u.truth, u.value, u.rel_error, misfit.ratio, cpu))
            print(f"# {name} noise {level:.0%}: rel L2 {res.report.rel_l2:.2e}, {res.report.status}", flush=True)
    print("| problem | noise | unknown | truth | found | rel. error | misfit / σ | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, level, k, truth, value, rel, ratio, cpu in rows:
        r = "n/a" if ratio is None else f"{ratio:.2f}"
        print(f"| {name} | {level} | {k} | {truth:.6g} | {value:.6g} | {rel:.2e} | {r} | {cpu:.0f} |")


if __name__ == "__main__":
    main()
