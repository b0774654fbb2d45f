"""Darcy at 32×32 (the issue-15 goals): FNO within a CPU budget, zero-shot at 64×64, TFNO / MG-TFNO compression.

For each model the epochs are chosen to fit the CPU budget: one calibration epoch is timed (process CPU
seconds, one thread), then the run gets ``floor(budget / seconds per epoch)`` epochs so its cosine
schedule anneals to zero inside the budget (a time budget would stop it mid-schedule). The table gives
test relative L2 at 32×32 (mean and worst of 200 instances), zero-shot at 64×64 and the ratio, parameter
count and the CPU seconds actually used.

    python benchmarks/operators_darcy.py --budget 900 --models fno,tfno,mgtfno
    python benchmarks/operators_darcy.py --budget 120 --models fno --set data.n_train=200   # quick look
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

import physopt

BASE = ["data.n_train=1000", "data.n_val=100", "data.n_test=200", "data.resolution=32", "data.test_resolutions=[64]",
        "threads=1"]
# Model settings compared (overridable with --set model.*); tfno/mgtfno at a Tucker rank that
# compresses the spectral weights, the dominant share of FNO's parameters.
MODELS = {"fno": [], "tfno": ["model.rank=0.05"], "mgtfno": ["model.rank=0.05"]}


def run(model: str, epochs: int, sets: list[str], seed: int) -> tuple[object, float]:
    c0 = time.process_time()
    res = physopt.learn("darcy", model=model, epochs=epochs, seed=seed, overrides=[*BASE, *MODELS.get(model, []),
                                                                                    *sets])
    return res, time.process_time() - c0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=900.0, help="CPU seconds of training per model")
    p.add_argument("--models", default="fno,tfno,mgtfno")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--json", help="also write the rows to this JSON file")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    physopt.learn("darcy", model="local", epochs=1, overrides=[*BASE, *args.set])  # generate/cache the data once
    rows = []
    for model in [m for m in args.models.split(",") if m]:
        probe, _ = run(model, 1, args.set, args.seed)
        per_epoch = probe.report.cpu_time_s
        epochs = max(1, math.floor(args.budget / per_epoch))
        print(f"  {model}: {per_epoch:.1f} CPU s per epoch -> {epochs} epochs", file=sys.stderr, flush=True)
        res, cpu = run(model, epochs, args.set, args.seed)
        r = res.report
        t32, t64 = r.tests["32x32"], r.tests.get("64x64")
        rows.append({"model": model, "params": r.params, "epochs": epochs, "rel_l2_32": t32.mean, "worst_32": t32.worst,
                     "rel_l2_64": None if t64 is None else t64.mean, "train_cpu_s": r.cpu_time_s, "cpu_s": round(cpu),
                     "status": r.status})
    fno = next((row for row in rows if row["model"] == "fno"), None)
    print(f"\ndarcy 32x32, 1000 train / 200 test, budget {args.budget:g} CPU s per model, seed {args.seed}, "
          f"sets {args.set}\n")
    print("| model | parameters | epochs | test rel. L2 32x32 | worst | zero-shot 64x64 | 64/32 | vs FNO | "
          "training CPU s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        z = row["rel_l2_64"]
        ratio = f"{z / row['rel_l2_32']:.2f}" if z is not None else "n/a"
        vs = f"{row['rel_l2_32'] / fno['rel_l2_32']:.2f}" if fno else "n/a"
        zs = "n/a" if z is None else f"{z:.4f}"
        print(f"| {row['model']} | {row['params']:,} | {row['epochs']} | {row['rel_l2_32']:.4f} | "
              f"{row['worst_32']:.4f} | {zs} | {ratio} | {vs} | {row['train_cpu_s']:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
