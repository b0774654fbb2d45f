"""PI-HC-MoE (``--constraints hard-moe``) vs the plain PINN with the same exact boundary ansatz.

Problem ``diffusion-reaction`` (u_t = u_xx + source on [-π, π] × [0, 1], exact solution known; the
boundary and initial data are exact through the ansatz in both runs). Both use the same 3 × 20 tanh
MLP (the MoE reads its 20 outputs as basis functions), Adam at lr 1e-3, 500 fixed interior points,
float64, one thread, and the same number of steps. ``cpu_s`` is this process's CPU time for a run
(one thread, so it approximates the wall time on an idle machine).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hard_moe.py --steps 300 --seeds 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import physopt

COMMON = ["threads=1", "model.depth=3", "model.width=20", "sampler.sizes.pde=500", "eval_every=100000"]
VARIANTS = {
    "pinn (hard ansatz)": ["constraints=hard"],
    # 4 experts along x, 20 basis functions, 16 enforcement points each (exact up to the ridge).
    "hard-moe": ["constraints=hard-moe"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    print(f"diffusion-reaction, Adam lr 1e-3, {args.steps} steps, seeds 0..{args.seeds - 1}")
    print("| variant | rel L2 per seed | median | bc/ic violation | CPU s per run |")
    print("|---|---|---|---|---|")
    for name, extra in VARIANTS.items():
        errors, times, worst = [], [], 0.0
        for seed in range(args.seeds):
            start = time.process_time()
            result = physopt.solve("diffusion-reaction", optimizer="adam", steps=args.steps, seed=seed,
                                   overrides=[*COMMON, *extra])
            times.append(time.process_time() - start)
            errors.append(result.metrics["rel_l2"])
            worst = max(worst, *result.metrics["constraint_violation"].values())
        per_seed = ", ".join(f"{e:.3g}" for e in errors)
        print(f"| {name} | {per_seed} | {statistics.median(errors):.3g} | {worst:.1e} | "
              f"{statistics.median(times):.1f} |")


if __name__ == "__main__":
    main()
