"""MT-DeepONet on two tasks at once against two single-task DeepONets of the same total size (issue 15).

The two tasks share a grid (128 points on [0, 1]) and the kind of input, a Gaussian random source f:

- ``antiderivative``: u' = f, u(0) = 0;
- ``poisson-1d``: -u'' = f, u(0) = u(1) = 0;

task ``i`` draws its instances with seed ``seed + i`` (so the tasks do not share inputs). The
single-task models are DeepONets with the family's default settings; the MT-DeepONet (Kumar et al.
2025: one branch and trunk for every task, the task a one-hot input of the branch) is the widest one
whose parameter count is at most the two single-task models' together. Every model trains through
``physopt.learn`` on this file's :func:`make` (the same instances, splits, epochs, optimizer and
schedule; the MT model sees both training sets per epoch, as the two single models do together), and
is tested on each task's 200 test instances. The table: per-task test relative L2 (mean, worst), their
mean, parameters and CPU seconds (one thread, ``time.process_time``).

    python benchmarks/mtdeeponet_tasks.py --epochs 200
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import physopt
from physopt.models import MTDeepONet, OperatorShape, multitask_data
from physopt.operators import OperatorData, load_family
from physopt.training import relative_l2

TASKS = ("antiderivative", "poisson-1d")
SPLIT = {"n_train": 1000, "n_val": 100, "n_test": 200}  # per task
# The antiderivative family's defaults (physopt.config.LEARN_DEFAULTS; a data factory gets the field
# defaults), for every model: the MT-DeepONet differs in its width only.
BASE = ["model.depth=3", "model.basis=64", "model.activation=gelu", "batch_size=20", "optim.lr=3e-3", "threads=1"]
SINGLE_WIDTH = 64


def _task(name: str, seed: int, n_train: int, n_val: int, n_test: int, resolution: int) -> list[OperatorData]:
    """Train, validation and test sets of one task (test instances first, as a family run draws them)."""
    data = load_family(name, n=n_test + n_val + n_train, resolution=resolution, seed=seed)
    return [data.take(slice(n_test + n_val, None)), data.take(slice(n_test, n_test + n_val)),
            data.take(slice(0, n_test))]


def make(*, task: str = "both", seed: int = 0, n_train: int = SPLIT["n_train"], n_val: int = SPLIT["n_val"],
         n_test: int = SPLIT["n_test"], resolution: int = 128) -> OperatorData:
    """The data of one task (``task`` a name of :data:`TASKS`) or of both in the MT-DeepONet layout
    (``"both"``), stored as training | validation | test, the order a data file is split in. With
    both, the training samples of the two tasks alternate and each of validation and test holds task
    0's samples, then task 1's."""
    if task != "both" and task not in TASKS:
        raise ValueError(f"task must be 'both' or one of {', '.join(TASKS)}, got {task!r}")
    names = TASKS if task == "both" else (task,)
    parts = [_task(name, seed + TASKS.index(name), n_train, n_val, n_test, resolution) for name in names]
    if task != "both":
        return _stack(parts[0], task)
    train, val, test = (multitask_data([p[k] for p in parts]) for k in range(3))
    order = np.arange(train.n).reshape(len(names), -1).T.reshape(-1)  # task 0, task 1, task 0, ...
    return _stack([train.take(order), val, test], "+".join(names))


def _stack(parts: list[OperatorData], name: str) -> OperatorData:
    return OperatorData(np.concatenate([p.inputs for p in parts]), np.concatenate([p.outputs for p in parts]),
                        parts[0].periodic, name, parts[0].solve_time_s)


def _per_task_errors(model: torch.nn.Module, test: OperatorData, tasks: int) -> list[np.ndarray]:
    """Per-sample test relative L2 of each task (``test`` holds ``tasks`` equal blocks, in task order)."""
    p = next(model.parameters())
    x = torch.as_tensor(test.inputs, device=p.device, dtype=p.dtype)
    y = torch.as_tensor(test.outputs, device=p.device, dtype=p.dtype)
    model.eval()
    with torch.no_grad():
        err = relative_l2(torch.cat([model(x[i:i + 100]) for i in range(0, x.shape[0], 100)]), y)
    return [e.double().cpu().numpy() for e in err.reshape(tasks, -1)]


def _test_set(task: str, seed: int) -> OperatorData:
    """The test samples :func:`make` stores last (the ones ``physopt.learn`` tests on)."""
    n = SPLIT["n_test"] * (len(TASKS) if task == "both" else 1)
    return make(task=task, seed=seed).take(slice(-n, None))


def mt_width(budget: int, *, basis: int, depth: int, resolution: int) -> int:
    """The widest MT-DeepONet (two tasks, one field) with at most ``budget`` parameters."""
    shape = OperatorShape(in_channels=1 + 1 + len(TASKS), out_channels=1, grid=(resolution,), periodic=False)
    width = 1
    while True:
        net = MTDeepONet(shape=shape, tasks=len(TASKS), width=width + 1, depth=depth, basis=basis,
                         generator=torch.Generator().manual_seed(0))
        if sum(q.numel() for q in net.parameters()) > budget:
            return width
        width += 1


def _learn(task: str, model: str, epochs: int, seed: int, sets: list[str]) -> tuple[Any, float]:
    n = len(TASKS) if task == "both" else 1
    split = [f"data.{k}={v * n}" for k, v in SPLIT.items()]
    c0 = time.process_time()
    res = physopt.learn(f"{Path(__file__).resolve()}:make", model=model, epochs=epochs, seed=seed,
                        overrides=[f"family.task={task}", f"family.seed={seed}", *split, *BASE, *sets])
    return res, time.process_time() - c0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--seeds", default="0", help="comma-separated; one row per model and seed")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="applied to every run (e.g. optim.lr=1e-3)")
    p.add_argument("--json", help="also write the rows to this JSON file")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for seed in [int(s) for s in args.seeds.split(",") if s]:
        singles = [_learn(t, "deeponet", args.epochs, seed, [f"model.width={SINGLE_WIDTH}", *args.set]) for t in TASKS]
        cfg = singles[0][0].config.model
        total = sum(r.report.params for r, _ in singles)
        width = mt_width(total, basis=cfg.basis, depth=cfg.depth, resolution=128)
        mt, mt_cpu = _learn("both", "mtdeeponet", args.epochs, seed, [f"model.width={width}", *args.set])
        errs = [_per_task_errors(r.model, _test_set(t, seed), 1)[0] for t, (r, _) in zip(TASKS, singles, strict=True)]
        mt_errs = _per_task_errors(mt.model, _test_set("both", seed), len(TASKS))
        for (r, _), e in [*zip(singles, ([x] for x in errs), strict=True), ((mt, 0.0), mt_errs)]:
            # the per-task split of the test set is the report's own test set: same mean (float32 sums)
            assert abs(np.concatenate(e).mean() - r.report.rel_l2) <= 1e-5 * r.report.rel_l2, (e, r.report.rel_l2)
        for label, e, params, cpu, w in (
                ("2 x DeepONet", errs, total, sum(c for _, c in singles), cfg.width),
                ("MT-DeepONet", mt_errs, mt.report.params, mt_cpu, width)):
            rows.append({"model": label, "seed": seed, "width": w, "params": params, "cpu_s": round(cpu, 1),
                         **{f"{t}_mean": float(x.mean()) for t, x in zip(TASKS, e, strict=True)},
                         **{f"{t}_worst": float(x.max()) for t, x in zip(TASKS, e, strict=True)},
                         "mean": statistics.fmean(float(x.mean()) for x in e)})
            print(f"  seed {seed} {label}: mean {rows[-1]['mean']:.3e}", file=sys.stderr, flush=True)
    print(f"\n{' + '.join(TASKS)}, {args.epochs} epochs, {SPLIT['n_train']} training / {SPLIT['n_test']} test "
          f"instances per task, sets {args.set}\n")
    head = ["model", "seed", "width", "params", *[f"{t} mean / worst" for t in TASKS], "mean of tasks", "CPU s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [f"{r[t + '_mean']:.3e} / {r[t + '_worst']:.3e}" for t in TASKS]
        print(f"| {r['model']} | {r['seed']} | {r['width']} | {r['params']:,} | " + " | ".join(cells)
              + f" | {r['mean']:.3e} | {r['cpu_s']:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
