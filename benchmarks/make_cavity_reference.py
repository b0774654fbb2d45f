"""Regenerate src/physopt/problems/zoo/data/cavity_re100.npz, the `cavity` zoo reference.

Solves the steady lid-driven cavity at Re = 100 with physopt's MAC finite-difference Newton solver
(physopt.problems.zoo._cavity.cavity_solve) on 128² and 256² cells, interpolates both to the 91 x 100
evaluation grid (cavity_evaluation_grid), prints their difference per component and the agreement of the 256²
centrelines with Ghia, Ghia & Shin (1982), and saves the 256² values (u, v, p with zero-mean p).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/make_cavity_reference.py [--check]

With --check nothing is written; the script compares a fresh solve with the shipped file instead.
Takes about 1-2 minutes on one core (the 256² Newton solve dominates).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from physopt.problems.zoo._cavity import (
    DATA,
    GHIA_RE100_U,
    GHIA_RE100_V,
    cavity_evaluation_grid,
    cavity_solve,
)
from physopt.problems.zoo._common import grid_points

FINE, COARSE, RE = 256, 128, 100.0


def ghia_errors(sol) -> tuple[float, float]:
    """Max |u - Ghia| on x = 0.5 and max |v - Ghia| on y = 0.5."""
    pu = np.stack([np.full(len(GHIA_RE100_U), 0.5), GHIA_RE100_U[:, 0]], axis=1)
    pv = np.stack([GHIA_RE100_V[:, 0], np.full(len(GHIA_RE100_V), 0.5)], axis=1)
    return (float(np.abs(sol.evaluate(pu)[:, 0] - GHIA_RE100_U[:, 1]).max()),
            float(np.abs(sol.evaluate(pv)[:, 1] - GHIA_RE100_V[:, 1]).max()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing it")
    args = ap.parse_args()
    xs, ys = cavity_evaluation_grid()
    pts = grid_points(xs, ys)
    sols = {}
    for n in (COARSE, FINE):
        t0 = time.perf_counter()
        sols[n] = cavity_solve(n, re=RE)
        eu, ev = ghia_errors(sols[n])
        print(f"n = {n}: {time.perf_counter() - t0:.1f} s, Newton steps "
              f"{', '.join(f'{s:.1e}' for s in sols[n].newton_steps)}; Ghia max |du| {eu:.2e}, |dv| {ev:.2e}")
    fine, coarse = sols[FINE].evaluate(pts), sols[COARSE].evaluate(pts)
    for k, name in enumerate("uvp"):
        d = fine[:, k] - coarse[:, k]
        print(f"{name}: max |{COARSE} - {FINE}| {np.abs(d).max():.2e}, "
              f"rel L2 {np.linalg.norm(d) / np.linalg.norm(fine[:, k]):.2e}")
    print(f"all (u, v, p): rel L2 {np.linalg.norm(fine - coarse) / np.linalg.norm(fine):.2e}")
    if args.check:
        shipped = np.load(DATA)
        diff = np.abs(shipped["values"] - fine).max()
        print(f"max |shipped - fresh| = {diff:.2e}")
        return
    np.savez_compressed(DATA, x=xs, y=ys, values=fine, n=FINE, re=RE)
    print(f"wrote {DATA} ({DATA.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
