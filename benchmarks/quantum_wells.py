"""Quantum wells (issue 21): E's convergence over training and the final ψ error, per potential.

Four problems, each trained by physopt's defaults plan (Adam, float64, one thread) for ``--steps``
steps: the infinite well (``quantum-well``, E trainable from 10), the same well with E = π² fixed
(``quantum-well-fixed-e``), the finite square well with exact tails (``quantum-finite-well``, E
from 9.87) and the central barrier (``quantum-barrier``, E from 48). E's reference is the root of
the transcendental eigenvalue equation (to 1e-12). The table prints |E - E*| at fractions of the
run (from the history's ``unknown/E``), the final relative L2 error of ψ and the CPU time; the
ALM row is the docs' example that used to end at -ψ (issue 20).

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/quantum_wells.py --steps 3000 --seeds 1
"""

from __future__ import annotations

import argparse
import statistics
import time

import physopt
from physopt.problems.zoo import QUANTUM_WELL_ENERGY, Barrier, FiniteWell

CASES = {
    "quantum-well (hard)": ("quantum-well", "hard", [], QUANTUM_WELL_ENERGY),
    "quantum-well (hard, norm alm)": ("quantum-well", "hard", ["roles.norm=alm"], QUANTUM_WELL_ENERGY),
    "quantum-well-fixed-e (hard)": ("quantum-well-fixed-e", "hard", [], None),
    "quantum-finite-well (penalty)": ("quantum-finite-well", "penalty", [], FiniteWell().energy),
    "quantum-barrier (hard)": ("quantum-barrier", "hard", [], Barrier().energy),
}
FRACTIONS = (0.1, 0.25, 0.5, 1.0)


def run(case: str, seed: int, steps: int) -> dict[str, float]:
    name, constraints, extra, energy = CASES[case]
    t0 = time.process_time()
    res = physopt.solve(name, constraints=constraints, steps=steps, seed=seed, overrides=["threads=1", *extra])
    row = {"rel_l2": res.report.rel_l2, "cpu_s": time.process_time() - t0}
    if energy is not None:
        trail = [(h["step"], h["unknown/E"]) for h in res.history if "unknown/E" in h]
        for f in FRACTIONS:
            e = min(trail, key=lambda se: abs(se[0] - f * steps))[1]
            row[f"dE@{f:g}"] = abs(e - energy)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    args = ap.parse_args()
    cols = [f"dE@{f:g}" for f in FRACTIONS]
    print(f"| case | E* | {' | '.join('|E-E*| at ' + c[3:] for c in cols)} | rel L2 ψ | CPU s |")
    print("|---" * (len(cols) + 4) + "|")
    for case in args.cases:
        rows = [run(case, s, args.steps) for s in range(args.seeds)]
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        energy = CASES[case][3]
        es = " | ".join(f"{med[c]:.1e}" if c in med else "fixed" for c in cols)
        e_ref = "π² (fixed)" if energy is None else f"{energy:.12g}"
        print(f"| {case} | {e_ref} | {es} | {med['rel_l2']:.2e} | {med['cpu_s']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
