"""Optimizers on neural operators: the same model, data, epochs and schedule for each optimizer.

Operators are where the matrix-aware optimizers (Muon family, SOAP) meet real weight matrices.
Every run goes through :func:`physopt.learn` with the optimizer's recommended learning rate
(``physopt list optimizers``) unless ``--lr`` is given, the run's cosine schedule, one thread,
and the same seeds (a seed draws the family's instances and the initial weights); the table
reports, as medians over the seeds, test relative L2 at the training grid (mean over the test set,
and its worst sample) and zero-shot, and the training CPU seconds per epoch (process time,
validation included), in one process so the numbers are side by side. A run that does not finish
(diverged) counts as an infinite error in the median.

    python benchmarks/operators_optimizers.py --source antiderivative --model deeponet --epochs 50 \\
        --optimizers adamw,adam,muon,normuon,soap --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch

import physopt
from physopt.training import RunStatus


def _median(values: list[float | None], ok: list[bool]) -> float:
    """Median over seeds; a run that did not finish counts as an infinite error."""
    return statistics.median(v if good and v is not None else math.inf for v, good in zip(values, ok, strict=True))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", default="darcy")
    p.add_argument("--model", default="fno")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--optimizers", default="adamw,adam,muon,normuon,soap")
    p.add_argument("--lr", type=float, action="append", help="learning rate per optimizer (same order), optional")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--json", help="also write the rows to this JSON file")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    names = [n for n in args.optimizers.split(",") if n]
    if args.lr and len(args.lr) != len(names):
        p.error(f"--lr given {len(args.lr)} times for {len(names)} optimizers")
    seeds = [int(s) for s in args.seeds.split(",") if s]
    rows = []
    for i, name in enumerate(names):
        sets = [*args.set, "threads=1"] + ([f"optim.lr={args.lr[i]}"] if args.lr else [])
        c0 = time.process_time()
        runs = []
        for seed in seeds:
            r = physopt.learn(args.source, model=args.model, epochs=args.epochs, optimizer=name, seed=seed,
                              overrides=sets).report
            runs.append(r)
            print(f"  {name} seed {seed}: {r.status}, rel_l2 {r.rel_l2}", file=sys.stderr, flush=True)
        r = runs[0]
        ok = [x.status == RunStatus.COMPLETED for x in runs]
        zero_labels = [k for k, t in r.tests.items() if t.zero_shot]
        rows.append({
            "optimizer": name, "lr": r.config["optim"]["lr"], "status": [x.status for x in runs],
            "rel_l2": _median([x.rel_l2 for x in runs], ok), "rel_l2_seeds": [x.rel_l2 for x in runs],
            "worst": _median([next(iter(x.tests.values())).worst for x in runs], ok),
            "zero_shot": {k: _median([x.tests[k].mean for x in runs], ok) for k in zero_labels},
            "epoch_cpu_s": statistics.median([x.cpu_time_s / x.epochs for x, good in zip(runs, ok, strict=True)
                                              if good] or [math.nan]),
            "cpu_s": round(time.process_time() - c0, 1), "params": r.params})
    labels = sorted({k for row in rows for k in row["zero_shot"]})
    head = ["optimizer", "lr", "test rel. L2", "worst", *[f"zero-shot {k}" for k in labels], "CPU s/epoch",
            "failed", "CPU s"]
    print(f"\n{args.source}, {args.model} ({rows[0]['params']:,} parameters), {args.epochs} epochs, medians over "
          f"seeds {seeds}, sets {args.set}\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        zs = [f"{row['zero_shot'][k]:.3g}" if k in row['zero_shot'] else "n/a" for k in labels]
        print(f"| {row['optimizer']} | {row['lr']:g} | {row['rel_l2']:.3g} | {row['worst']:.3g} | "
              + " | ".join(zs) + (" | " if zs else "") + f"{row['epoch_cpu_s']:.3f} | "
              f"{sum(st != RunStatus.COMPLETED for st in row['status'])} | {row['cpu_s']:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
