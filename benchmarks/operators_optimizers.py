"""Optimizers on neural operators: the same model, data, epochs and schedule for each optimizer.

Operators are where the matrix-aware optimizers (Muon family, SOAP) meet real weight matrices.
Every run goes through :func:`physopt.learn` with the optimizer's recommended learning rate
(``physopt list optimizers``) unless ``--lr`` is given, the run's cosine schedule, one thread,
and the same seed; the table reports test relative L2 at the training grid and zero-shot, the
time per epoch and the CPU time, in one process so the numbers are side by side.

    python benchmarks/operators_optimizers.py --source darcy --model fno --epochs 30 \\
        --optimizers adamw,adam,muon,normuon,soap --set data.n_train=500
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

import physopt


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", default="darcy")
    p.add_argument("--model", default="fno")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--optimizers", default="adamw,adam,muon,normuon,soap")
    p.add_argument("--lr", type=float, action="append", help="learning rate per optimizer (same order), optional")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--json", help="also write the rows to this JSON file")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    names = [n for n in args.optimizers.split(",") if n]
    if args.lr and len(args.lr) != len(names):
        p.error(f"--lr given {len(args.lr)} times for {len(names)} optimizers")
    rows = []
    for i, name in enumerate(names):
        sets = [*args.set, "threads=1"] + ([f"optim.lr={args.lr[i]}"] if args.lr else [])
        c0 = time.process_time()
        res = physopt.learn(args.source, model=args.model, epochs=args.epochs, optimizer=name, seed=args.seed,
                            overrides=sets)
        r = res.report
        zero = {k: t.mean for k, t in r.tests.items() if t.zero_shot}
        rows.append({"optimizer": name, "lr": r.config["optim"]["lr"], "status": r.status, "rel_l2": r.rel_l2,
                     "worst": next(iter(r.tests.values())).worst, "zero_shot": zero, "epoch_s": r.epoch_s,
                     "cpu_s": round(time.process_time() - c0, 1), "params": r.params})
        print(f"  {name}: {r.status}, rel_l2 {r.rel_l2:.4g}", file=sys.stderr, flush=True)
    labels = sorted({k for row in rows for k in row["zero_shot"]})
    head = ["optimizer", "lr", "test rel. L2", "worst", *[f"zero-shot {k}" for k in labels], "s/epoch", "CPU s"]
    print(f"\n{args.source}, {args.model} ({rows[0]['params']:,} parameters), {args.epochs} epochs, seed {args.seed}, "
          f"sets {args.set}\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        zs = [f"{row['zero_shot'][k]:.4f}" if k in row["zero_shot"] else "n/a" for k in labels]
        print(f"| {row['optimizer']} | {row['lr']:g} | {row['rel_l2']:.4f} | {row['worst']:.4f} | "
              + " | ".join(zs) + (" | " if zs else "") + f"{row['epoch_s']:.2f} | {row['cpu_s']:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
