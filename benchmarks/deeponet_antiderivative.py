"""The DeepONet family on a 1-D family (issue 15's goal: DeepONet on the antiderivative, test rel. L2 <= 1e-2).

Every run is ``physopt.learn(SOURCE, model=KIND, epochs=EPOCHS, seed=SEED)`` with nothing else set
but one thread (and ``--set`` overrides): the family's defaults (``physopt.config.LEARN_DEFAULTS``)
and the model kind's defaults are what is measured. The data are the family's automatic split
(1,000 training / 100 validation / 200 test instances at 128 points). The table: test relative L2
at the training grid (mean and worst of the 200 test instances), parameters, seconds per epoch and
process CPU seconds (``time.process_time``; per epoch: training, validation included; in total:
data generation and testing too).

    python benchmarks/deeponet_antiderivative.py --models deeponet --seeds 0,1,2
    python benchmarks/deeponet_antiderivative.py --source poisson-1d --models deeponet,multionet
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
    p.add_argument("--source", default="antiderivative")
    p.add_argument("--models", default="deeponet,multionet")
    p.add_argument("--epochs", type=int, default=0, help="0: the family's default")
    p.add_argument("--seeds", default="0", help="comma-separated; one row per model and seed")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--json", help="also write the rows to this JSON file")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for model in [m for m in args.models.split(",") if m]:
        for seed in [int(s) for s in args.seeds.split(",") if s]:
            c0 = time.process_time()
            res = physopt.learn(args.source, model=model, epochs=args.epochs or None, seed=seed,
                                overrides=["threads=1", *args.set])
            r = res.report
            test = next(iter(r.tests.values()))
            m = res.config.model
            rows.append({"model": model, "seed": seed, "epochs": r.epochs, "width": m.width, "depth": m.depth,
                         "activation": m.activation, "lr": res.config.optim.lr, "params": r.params,
                         "rel_l2": test.mean, "worst": test.worst, "epoch_cpu_s": r.cpu_time_s / r.epochs,
                         "cpu_s": round(time.process_time() - c0, 1)})
            print(f"  {model} seed {seed}: rel_l2 {test.mean:.3e}", file=sys.stderr, flush=True)
    print(f"\n{args.source}, sets {args.set}\n")
    head = ["model", "seed", "epochs", "width x depth", "activation", "lr", "params", "test rel. L2", "worst",
            "CPU s/epoch", "CPU s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print(f"| {r['model']} | {r['seed']} | {r['epochs']} | {r['width']} x {r['depth']} | {r['activation']} | "
              f"{r['lr']:g} | {r['params']:,} | {r['rel_l2']:.3e} | {r['worst']:.3e} | {r['epoch_cpu_s']:.3f} | "
              f"{r['cpu_s']:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
