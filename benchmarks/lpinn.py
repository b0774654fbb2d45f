"""Lagrangian PINN vs vanilla PINN on linear convection (issue 7, seed method LPINN).

Problem ``convection-50``: u_t + 50 u_x = 0 on [0, 2π] periodic × [0, 1], u(x, 0) = sin x; the
relative L2 error is measured on the same 256 × 100 Eulerian reference grid for both methods.
Both runs use the same optimizer plan (Adam, then SSBroyden), float64, one thread, and the same
step budget; the PINN gets the exact initial condition (hard ansatz) and a periodicity penalty,
the LPINN (``--method lpinn``) two networks X(ξ, t), U(ξ, t) on the periodic embedding of ξ with
exact initial conditions. ``cpu_s`` is this process's CPU time for the run (one thread, so it
approximates the wall time of an idle machine).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/lpinn.py --seeds 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import physopt

COMMON = ["optim.lr=3e-3", "threads=1", "sampler.method=sobol"]
METHODS = {
    # The vanilla PINN: the default 8 x 20 MLP on (x, t), hard initial condition.
    "pinn": ["method=pinn"],
    # LPINN: two 3 x 20 MLPs (displacement and solution), same total order of parameters.
    "lpinn": ["method=lpinn", "model.depth=3", "model.width=20"],
}


def run(method: str, seed: int, steps: int, switch: int, problem: str) -> dict[str, float]:
    t0 = time.process_time()
    res = physopt.solve(problem, optimizer="adam+ssbroyden", constraints="hard", steps=steps, seed=seed,
                        overrides=[*COMMON, f"optim.switch_at={switch}", *METHODS[method]])
    return {"rel_l2": res.report.rel_l2, "pde_rms": res.report.residual_rms["pde"],
            "cpu_s": time.process_time() - t0, "steps": res.report.steps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", default="convection-50")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--switch-at", type=int, default=300)
    args = ap.parse_args()
    print(f"{args.problem}, adam({args.switch_at} steps, lr 3e-3) + ssbroyden, {args.steps} steps, one thread")
    print("| method | seed | rel L2 | PDE residual RMS (Eulerian) | CPU s |")
    print("|---|---|---|---|---|")
    for method in METHODS:
        errs = []
        for seed in range(args.seeds):
            r = run(method, seed, args.steps, args.switch_at, args.problem)
            errs.append(r["rel_l2"])
            print(f"| {method} | {seed} | {r['rel_l2']:.2e} | {r['pde_rms']:.2e} | {r['cpu_s']:.0f} |", flush=True)
        spread = statistics.stdev(errs) if len(errs) > 1 else 0.0
        print(f"| {method} | mean ± std | {statistics.mean(errs):.2e} ± {spread:.1e} | | |", flush=True)


if __name__ == "__main__":
    main()
