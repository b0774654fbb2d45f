r"""Every optimizer on three PINN problems at the same CPU-time budget: error vs time, 3 seeds.

Problems (settings fixed here, independent of the zoo defaults so the comparison does not move
when those are retuned):

- ``burgers``: hard ansatz, 6x20 tanh, 8000 scrambled-Sobol points;
- ``allen-cahn``: u_t = 1e-4 u_xx - 5u^3 + 5u, initial condition hard, periodicity exact by the
  periodic input embedding (``model.periodic``), 6x20 tanh, 2000 Sobol interior points. Budget
  60 CPU s: with the zoo's 4096 points and periodicity as a penalty every optimizer was still at
  rel. L2 ~1 after 30-60 s (adam 1.12, adamp 1.05 at 60 s), which ranks nothing; with these
  settings adam+ssbroyden reaches 3.7e-3 and adam 0.59 in 60 s (seed 0);
- ``helmholtz2d``: sin(pi x) sin(4 pi y) manufactured solution, boundary by the hard ansatz,
  6x20 tanh, the zoo's point counts (Sobol).

Optimizers: every name in :func:`physopt.optim.available` run alone on all points, plus the
chains ``adam+lbfgs``, ``adam+ssbfgs`` and ``adam+ssbroyden`` (1000 Adam steps on the first 2000
points, then the quasi-Newton method: physopt's Burgers default recipe). Learning rates are the
best of a three-point grid on Burgers with seed 0 at a shorter budget (``--pilot``); the chosen
values are each method's recommended lr (``physopt.optim.spec(name).recommended``; pilot command
at :func:`base_lr`).

Budget: process CPU time with one thread (``time.process_time``), which stays fair when other
jobs share the machine; error evaluations are timed separately and excluded. Each cell runs in
its own subprocess (``--jobs`` at a time); results are appended to ``OUT/results.jsonl`` and
finished cells are skipped, so an interrupted benchmark resumes by rerunning the command.

    python benchmarks/pinn_optimizers.py --budget 30 --seeds 3 --jobs 2 --problems burgers,helmholtz2d \
        --out bench-out/pinn-opt
    python benchmarks/pinn_optimizers.py --budget 60 --seeds 3 --jobs 2 --problems allen-cahn --out bench-out/pinn-opt
    python benchmarks/pinn_optimizers.py --out bench-out/pinn-opt --report   # table + plots only
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROBLEMS: dict[str, list[str]] = {
    "burgers": ["constraints=hard", "sampler.method=sobol", "sampler.sizes.pde=8000"],
    "allen-cahn": ["constraints=hard", "sampler.method=sobol", "sampler.sizes.pde=2000", "model.periodic=true"],
    "helmholtz2d": ["constraints=hard", "sampler.method=sobol"],
}
COMMON = ["model.width=20", "model.depth=6", "dtype=float64", "threads=1", "eval_every=100000000"]
CHAINS = ("adam+lbfgs", "adam+ssbfgs", "adam+ssbroyden")

# Learning rate per optimizer (first phase of a chain: Adam 1e-3): the method's recommended value,
# `physopt.optim.spec(name).recommended["lr"]`, checked by `python benchmarks/pinn_optimizers.py
# --pilot --budget 10 --out bench-out/pinn-opt-pilot` (Burgers, seed 0, lr x {0.1, 1, 10}): x1 was
# best for adam, adamw, adamp, amadamw, aro, auon, fismo, hybridauon (and kept for the rest of the
# Muon family, whose pilot cells were not run); amsgd was best at x10 (edge of the grid), hence 1e-1.
def base_lr(optimizer: str) -> float:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from physopt import optim

    return float(optim.spec(optimizer).recommended["lr"])


QUASI_NEWTON_LIKE = ("lbfgs", "ssbfgs", "ssbroyden", "engd", "gnsnewton")


def optimizer_names() -> list[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from physopt import optim

    return sorted(optim.available()) + list(CHAINS)


def cell_settings(problem: str, optimizer: str, lr: float | None) -> list[str]:
    sets = COMMON + PROBLEMS[problem]
    if "+" in optimizer:
        sets += ["optim.lr=1e-3", "optim.switch_at=1000", "optim.then_lr=1.0", "optim.first_sizes.pde=2000"]
    else:
        sets += [f"optim.lr={lr if lr is not None else base_lr(optimizer)}"]
        if optimizer in ("muon", "normuon", "namo", "namod", "root", "auon", "hybridauon", "fismo", "aro"):
            sets += ["optim.options.adamw_lr=1e-3"]  # biases and edge layers: the usual AdamW rate
    return sets


# ----------------------------------------------------------------------------- one cell (subprocess)
def run_cell(problem: str, optimizer: str, seed: int, budget: float, every: float, sets: list[str]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import physopt

    class Clock:
        """Stops the run at ``budget`` CPU seconds; evaluates every ``every`` CPU seconds."""

        def __init__(self) -> None:
            self.t0: float | None = None  # set at the first step: building the run is not counted
            self.excluded = 0.0
            self.next_eval = 0.0
            self.curve: list[tuple[float, int, float]] = []
            self.stopped = False

        def used(self) -> float:
            if self.t0 is None:
                self.t0 = time.process_time()
            return time.process_time() - self.t0 - self.excluded

        def evaluate(self, trainer: Any) -> None:
            t, e0 = self.used(), time.process_time()
            err = float(trainer.evaluator(trainer.model)["rel_l2"])
            self.excluded += time.process_time() - e0
            self.curve.append((round(t, 3), trainer.step, err))

        def on_record(self, trainer: Any, record: dict[str, Any]) -> None:
            pass

        def on_step(self, trainer: Any) -> None:
            t = self.used()
            if t >= self.next_eval:
                self.evaluate(trainer)
                self.next_eval = t + every
            if t >= budget and not self.stopped:
                self.stopped = True
                trainer.request_stop()

        def on_end(self, trainer: Any, result: Any) -> None:
            if not self.curve or self.curve[-1][1] != trainer.step:
                self.evaluate(trainer)

    clock = Clock()
    result = physopt.solve(problem, optimizer=optimizer, steps=10**8, seed=seed, overrides=sets, callbacks=[clock])
    status = result.status if not clock.stopped else "budget"
    final = clock.curve[-1][2] if clock.curve else math.nan
    if not math.isfinite(final) or status == "diverged":
        final = math.nan
    return {
        "problem": problem, "optimizer": optimizer, "seed": seed, "budget_cpu_s": budget,
        "rel_l2": final, "steps": result.report.steps, "status": status, "message": result.report.message,
        "curve": clock.curve, "settings": sets,
    }


# ----------------------------------------------------------------------------- grid driver
def key(rec: dict[str, Any]) -> tuple[str, str, int, float]:
    return rec["problem"], rec["optimizer"], rec["seed"], rec.get("lr_scale", 1.0)


def load(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def drive(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    done = {key(r) for r in load(results)}
    names = args.optimizers.split(",") if args.optimizers else optimizer_names()
    problems = args.problems.split(",") if args.problems else list(PROBLEMS)
    cells = []
    if args.pilot:  # lr grid on Burgers, seed 0
        for name in names:
            if "+" in name or name in QUASI_NEWTON_LIKE:
                continue
            for scale in (0.1, 1.0, 10.0):
                cells.append(("burgers", name, 0, scale))
    else:
        cells = [(p, n, s, 1.0) for s in range(args.seeds) for p in problems for n in names]
    todo = [c for c in cells if c not in done]
    print(f"{len(cells) - len(todo)} of {len(cells)} cells done; running {len(todo)} with {args.jobs} job(s)",
          file=sys.stderr, flush=True)
    running: list[tuple[subprocess.Popen[str], tuple[str, str, int, float]]] = []
    started = time.time()
    finished = 0
    while todo or running:
        while todo and len(running) < args.jobs:
            cell = todo.pop(0)
            p, n, s, scale = cell
            lr = base_lr(n) * scale if "+" not in n else None
            spec = json.dumps({"problem": p, "optimizer": n, "seed": s, "budget": args.budget,
                               "every": args.budget / 30, "sets": cell_settings(p, n, lr), "lr_scale": scale})
            env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
            proc = subprocess.Popen([sys.executable, __file__, "--cell", spec], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=env)
            running.append((proc, cell))
        time.sleep(0.5)
        for proc, cell in list(running):
            if proc.poll() is None:
                continue
            running.remove((proc, cell))
            finished += 1
            stdout, stderr = proc.communicate()
            if proc.returncode != 0 or not stdout.strip():
                p, n, s, scale = cell
                rec = {"problem": p, "optimizer": n, "seed": s, "lr_scale": scale, "rel_l2": math.nan,
                       "status": "error", "message": stderr.strip().splitlines()[-1] if stderr.strip() else "",
                       "curve": [], "steps": 0}
            else:
                rec = json.loads(stdout.strip().splitlines()[-1])
            with results.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            eta = (time.time() - started) / finished * (len(todo) + len(running))
            print(f"[{finished}/{finished + len(todo) + len(running)}] {rec['problem']:12s} {rec['optimizer']:15s} "
                  f"seed {rec['seed']} x{rec.get('lr_scale', 1.0):g}: rel_l2 {rec['rel_l2']:.3e} "
                  f"({rec['status']}, {rec['steps']} steps)  eta {eta / 60:.0f} min", file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench-out/pinn-opt")
    ap.add_argument("--budget", type=float, default=30.0, help="CPU seconds per run (one thread)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--problems", default="", help="comma-separated subset of " + ",".join(PROBLEMS))
    ap.add_argument("--optimizers", default="", help="comma-separated subset (default: all + chains)")
    ap.add_argument("--pilot", action="store_true", help="learning-rate pilot on Burgers (seed 0)")
    ap.add_argument("--report", action="store_true", help="only print the table and draw the plots")
    ap.add_argument("--cell", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cell:
        c = json.loads(args.cell)
        rec = run_cell(c["problem"], c["optimizer"], c["seed"], c["budget"], c["every"], c["sets"])
        rec["lr_scale"] = c["lr_scale"]
        print(json.dumps(rec))
        return
    if not args.report:
        drive(args)
    from pinn_optimizers_report import report  # noqa: PLC0415 - plotting only when asked

    report(load(Path(args.out) / "results.jsonl"), Path(args.out), pilot=args.pilot)


if __name__ == "__main__":
    main()
