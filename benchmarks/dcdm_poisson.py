"""Deep Conjugate Direction Method vs CG and IC(0)-CG on the 2-D Poisson system (issue 21).

One direction network (a weight-shared V-cycle, ~2.4 k weights) is trained once on residuals only
(sizes 32, 64, 128 cycled; its CPU time is printed separately), then each solver runs on the same
right-hand sides b (uniform random on the n × n interior grid, unscaled 5-point matrix) to the
relative residual ``--rtol``. Per grid size: median iterations and CPU seconds over ``--rhs``
right-hand sides (process CPU time, one thread). Grid 256 is outside the training sizes.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/dcdm_poisson.py --sizes 32 64 128 256
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from physopt.linsolve import DcdmTraining, make_solver, train_direction_net


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 256])
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--rhs", type=int, default=3)
    ap.add_argument("--train-steps", type=int, default=300)
    ap.add_argument("--max-iter", type=int, default=3000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    t0 = time.process_time()
    net, losses = train_direction_net(DcdmTraining(steps=args.train_steps), generator=gen)
    print(f"DCDM training: {args.train_steps} steps, loss {losses[0]:.3f} -> {losses[-1]:.4f}, "
          f"{time.process_time() - t0:.1f} CPU s\n")
    print("| n | unknowns | CG iters | IC-CG iters | DCDM iters | CG CPU s | IC-CG CPU s | DCDM CPU s |"
          " DCDM residual |")
    print("|---" * 9 + "|")
    for n in args.sizes:
        rows = {name: [] for name in ("cg", "ic-cg", "dcdm")}
        for k in range(args.rhs):
            b = torch.rand(n, n, dtype=torch.float64, generator=torch.Generator().manual_seed(100 + k))
            for name in rows:
                solve = make_solver(name, n=n, net=net if name == "dcdm" else None)
                t = time.process_time()
                out = solve(b, args.rtol, args.max_iter)
                rows[name].append((out.iterations, time.process_time() - t, out.residual))
        med = {k: [statistics.median(r[i] for r in v) for i in range(3)] for k, v in rows.items()}
        print(f"| {n} | {n * n} | {med['cg'][0]:.0f} | {med['ic-cg'][0]:.0f} | {med['dcdm'][0]:.0f} | "
              f"{med['cg'][1]:.3f} | {med['ic-cg'][1]:.3f} | {med['dcdm'][1]:.3f} | {med['dcdm'][2]:.1e} |",
              flush=True)


if __name__ == "__main__":
    main()
