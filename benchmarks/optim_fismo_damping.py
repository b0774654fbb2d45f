"""FISMO's (damping, factor_decay) on the teacher–student task of ``optim_quality.py``.

Same task, seeds and metric as that script (final training loss = mean of the last 20 steps, and
held-out loss, mean over seeds), at one learning rate, for a grid of FISMO's two factor
hyperparameters; Muon at the same lr for reference. This is how FISMO's defaults were chosen
(docs/optim.md, "FISMO and ARO").

    python benchmarks/optim_fismo_damping.py          # ≈ 1.5 min CPU on 1 thread
"""

from __future__ import annotations

import argparse
import statistics

import torch
from optim_quality import OPTIONS, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    configs = [("muon", {})] + [
        ("fismo", {"damping": d, "factor_decay": g}) for d in (0.1, 1.0, 10.0) for g in (0.95, 0.99)
    ]
    print(f"{'optimizer':46s} {'final train loss':>16s} {'held-out loss':>14s}  (lr {args.lr:g})")
    for name, options in configs:
        OPTIONS[name] = options
        runs = [run(name, args.lr, seed, args.steps) for seed in range(args.seeds)]
        train = statistics.fmean(statistics.fmean(curve[-20:]) for curve, _ in runs)
        test = statistics.fmean(t for _, t in runs)
        print(f"{name + ' ' + str(options or ''):46s} {train:16.3e} {test:14.3e}", flush=True)


if __name__ == "__main__":
    main()
