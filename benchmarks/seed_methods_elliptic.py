"""Deep Ritz and Walk-on-Spheres against the strong-form PINN at the same CPU time.

    OMP_NUM_THREADS=1 python benchmarks/seed_methods_elliptic.py [--budget 60] [--seeds 0 1]

Rows: ``poisson2d`` with ``--method pinn | ritz | wos`` and ``p-laplacian`` (p = 4) with
``pinn | ritz``. Every run uses the same network (4 x 32 tanh, hard ansatz u = 16 x(1-x) y(1-y) N),
Adam at lr 3e-3 decaying x0.5 per 1000 steps, float64, one thread, and stops when its process CPU
time reaches the budget (CPU time, not wall time: other processes share the machine). Per method
(decided here, each method's usual practice):

- pinn: 2000 fixed Sobol points, mean squared strong-form residual;
- ritz: 1000 fresh Sobol points every step (Deep Ritz resamples; a fixed set's discrete energy has
  its own, biased minimiser), energy |Ω|·mean((1/p)|∇u|^p - f u);
- wos: 1000 fixed uniform points with Walk-on-Spheres targets from ``--walks`` walks each, computed
  in the first step (their CPU time counts against the budget).

Prints one line per run and a markdown table of relative L2 error (mean over seeds) and steps.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from physopt.config import build, make_optimizer, resolve
from physopt.evaluation import rel_l2
from physopt.training import Trainer

COMMON = ["model.width=32", "model.depth=4", "optim.lr=3e-3", "optim.schedule=exp", "optim.decay=0.5", "threads=1",
          "log_every=1000000", "eval_every=1000000"]
METHOD = {
    "pinn": ["sampler.method=sobol", "sampler.sizes.pde=2000"],
    "ritz": ["sampler.method=sobol", "sampler.sizes.pde=1000", "sampler.resample_every=1"],
    "wos": ["sampler.sizes.pde=1000"],
}
ROWS = [("poisson2d", [], "pinn"), ("poisson2d", [], "ritz"), ("poisson2d", [], "wos"),
        ("p-laplacian", ["problem.p=4"], "pinn"), ("p-laplacian", ["problem.p=4"], "ritz")]


class _CpuBudget:
    """Stops the trainer once the process has used ``seconds`` of CPU time since ``start``."""

    def __init__(self, seconds: float, start: float) -> None:
        self.seconds, self.start = seconds, start

    def on_record(self, trainer, record) -> None: ...

    def on_end(self, trainer, result) -> None: ...

    def on_step(self, trainer) -> None:
        if time.process_time() - self.start >= self.seconds:
            trainer.request_stop()


def run(problem: str, options: list[str], method: str, *, seed: int, budget: float, walks: int) -> dict:
    torch.set_num_threads(1)
    cfg = resolve(problem, flags={"method": method, "constraints": "hard", "optim.name": "adam", "steps": 10**9,
                                  "seed": seed},
                  overrides=[*COMMON, *METHOD[method], *options, f"wos.walks={walks}"])
    start = time.process_time()
    b = build(cfg)
    trainer = Trainer(model=b.model, objective=b.objective, sampler=b.sampler, phases=b.phases,
                      make_optimizer=make_optimizer, params=b.params, steps=cfg.steps,
                      log_every=cfg.log_every, eval_every=cfg.eval_every, callbacks=[_CpuBudget(budget, start)])
    trainer.run()
    cpu = time.process_time() - start
    ref = b.problem.reference
    with torch.no_grad():
        pred = b.model(torch.as_tensor(ref.points, dtype=b.dtype)).numpy()
    return {"problem": problem, "options": options, "method": method, "seed": seed, "steps": trainer.step,
            "cpu_s": round(cpu, 1), "rel_l2": rel_l2(pred, ref.values)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=60.0, help="CPU seconds per run")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--walks", type=int, default=200, help="WoS walks per point")
    a = ap.parse_args()
    results = []
    for problem, options, method in ROWS:
        for seed in a.seeds:
            r = run(problem, options, method, seed=seed, budget=a.budget, walks=a.walks)
            results.append(r)
            print(json.dumps(r), flush=True)
    print(f"\n| problem | method | rel. L2 (mean over seeds {a.seeds}) | steps in {a.budget:g} CPU s |")
    print("|---|---|---|---|")
    for problem, options, method in ROWS:
        rs = [r for r in results if r["problem"] == problem and r["method"] == method]
        mean = sum(r["rel_l2"] for r in rs) / len(rs)
        label = problem + (f" ({', '.join(options)})" if options else "")
        print(f"| {label} | {method} | {mean:.2e} | {', '.join(str(r['steps']) for r in rs)} |")


if __name__ == "__main__":
    main()
