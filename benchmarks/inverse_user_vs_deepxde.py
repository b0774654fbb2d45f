"""A user's own inverse problem file on physopt's defaults beside DeepXDE's inverse recipe, at equal CPU s.

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/inverse_user_vs_deepxde.py [--budget 30] [--seed 0]
        [--noise 0] [--skip-physopt] [--skip-deepxde]

The problem is the user panel's ``benchmarks/user_panel/inverse_reaction.py`` (−D u'' + k u = f on
[0, 1], D and k unknown, truth 0.5 and 3, 40 sensors of u), read through its ``make()``; ``--noise``
adds seeded relative Gaussian noise to the sensors' values (``Data.noisy``, σ = level · RMS), the
same values on both sides. physopt runs ``physopt.solve(make())`` on its generic recipe with
``--budget`` CPU s (the panel's setting: ``time_budget``, ``budget_clock=cpu``, one thread).

DeepXDE (1.15.0, PyTorch backend, float64; a benchmark-only peer, see inverse_vs_deepxde.py) runs
the recipe of its 1-D inverse examples (``examples/pinn_inverse/diffusion_1d_inverse.py``,
``reaction_inverse.py``): each unknown a raw ``dde.Variable`` started where the user file starts
it (1.0), the sensors a ``PointSetBC`` and anchors, soft Dirichlet walls, a 1-20-20-20-1 tanh net
(Glorot normal), the file's 500 domain and 2 boundary points, Adam at lr 1e-3 with the unknowns
among ``external_trainable_variables``. Two variants, each stopped at the same ``--budget`` CPU s
by a callback: ``adam`` (the examples' plan: Adam only) and ``adam+lbfgs`` (Adam for half the
budget, then L-BFGS for the rest, as in DeepXDE's forward examples; L-BFGS reports every 100
iterations, so the stop is checked, and D and k traced, that often). Both variants print D and k with the CPU time
every 100 steps, so the time to reach an error can be read. DeepXDE runs in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

PANEL_FILE = Path(__file__).resolve().parent / "user_panel" / "inverse_reaction.py"
TRUTH = {"D": 0.5, "k": 3.0}

SHARED = r'''
import importlib.util, json, sys, time
import numpy as np
import torch
from physopt.problems import Data


def load_problem(path, noise, seed):
    spec = importlib.util.spec_from_file_location("inverse_reaction", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    problem = mod.make()
    data = problem.conditions["data"]
    if noise > 0:  # noise 0: the file's own Data, untouched
        data = Data.noisy(data.points, data.values, level=noise, generator=torch.Generator().manual_seed(seed + 1))
    return mod, problem, data
'''

DEEPXDE_SCRIPT = SHARED + r'''
args = json.loads(sys.argv[1])
torch.set_num_threads(1)
import deepxde as dde

dde.config.set_default_float("float64")
dde.config.set_random_seed(args["seed"])
mod, problem, data = load_problem(args["file"], args["noise"], args["seed"])
pts, vals = data.points.numpy(), data.values.numpy()
D, k = dde.Variable(1.0), dde.Variable(1.0)


def pde(x, y):
    return -D * dde.grad.hessian(y, x) + k * y - mod.source(x)


geom = dde.geometry.Interval(0.0, 1.0)
bc = dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_boundary: on_boundary)
observe = dde.icbc.PointSetBC(pts, vals)
d = dde.data.PDE(geom, pde, [bc, observe], num_domain=500, num_boundary=2, anchors=pts)
net = dde.nn.FNN([1] + [20] * 3 + [1], "tanh", "Glorot normal")
model = dde.Model(d, net)
c0 = time.process_time()
trace = []


class Budget(dde.callbacks.Callback):
    def __init__(self, limit):
        super().__init__()
        self.limit = limit

    def on_epoch_end(self):
        step, cpu = int(self.model.train_state.step), time.process_time() - c0
        if step // 100 > (trace[-1]["step"] // 100 if trace else 0):  # Adam: every 100 steps; L-BFGS: every call
            trace.append({"step": step, "D": float(D.detach()), "k": float(k.detach()), "cpu_s": cpu})
        if cpu >= self.limit:
            self.model.stop_training = True


adam_share = 0.5 if args["variant"] == "adam+lbfgs" else 1.0
model.compile("adam", lr=1e-3, external_trainable_variables=[D, k])
model.train(iterations=10**7, display_every=10**6, callbacks=[Budget(adam_share * args["budget"])], verbose=0)
if args["variant"] == "adam+lbfgs":
    dde.optimizers.config.set_LBFGS_options(maxiter=10**6)
    dde.optimizers.config.LBFGS_options["iter_per_step"] = 100  # the callback's granularity, not the method
    dde.optimizers.config.LBFGS_options["fun_per_step"] = 125
    model.compile("L-BFGS", external_trainable_variables=[D, k])
    model.train(display_every=10**6, callbacks=[Budget(args["budget"])], verbose=0)
found = {"D": float(D.detach()), "k": float(k.detach())}
trace.append({"step": int(model.train_state.step), **found, "cpu_s": time.process_time() - c0})
print("RESULT " + json.dumps({"found": found, "cpu_time_s": time.process_time() - c0,
                              "steps": int(model.train_state.step), "trace": trace}))
'''

PHYSOPT_SCRIPT = SHARED + r'''
import dataclasses
import physopt

args = json.loads(sys.argv[1])
mod, problem, data = load_problem(args["file"], args["noise"], args["seed"])
problem = dataclasses.replace(problem, conditions={**problem.conditions, "data": data})
c0 = time.process_time()
res = physopt.solve(problem, seed=args["seed"], time_budget=args["budget"],
                    overrides=["threads=1", "budget_clock=cpu"])
trace = [{"step": h["step"], "D": h["unknown/D"], "k": h["unknown/k"], "cpu_s": h.get("cpu_time_s")}
         for h in res.history if "unknown/D" in h]
found = {name: u.value for name, u in res.report.unknowns.items()}
print("RESULT " + json.dumps({"found": found, "cpu_time_s": time.process_time() - c0,
                              "train_cpu_s": res.report.cpu_time_s, "rel_l2": res.report.rel_l2,
                              "steps": res.report.steps, "trace": trace}))
'''


def run(script: str, payload: dict) -> dict | None:
    env = {**os.environ, "DDE_BACKEND": "pytorch", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(payload)], capture_output=True, text=True,
                          env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"run failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}", file=sys.stderr)
    return None


def max_error(found: dict) -> float:
    return max(abs(found[n] - t) / t for n, t in TRUTH.items())


def first_within(trace: list[dict], tol: float) -> float | None:
    """CPU s of the first traced point with both unknowns within ``tol`` that stay within it to the end."""
    t = None
    for row in trace:
        ok = row["cpu_s"] is not None and max_error(row) <= tol
        t = (row["cpu_s"] if t is None else t) if ok else None
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=30.0, help="CPU s for every run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--noise", type=float, default=0.0, help="relative noise level on the sensors")
    ap.add_argument("--skip-physopt", action="store_true")
    ap.add_argument("--skip-deepxde", action="store_true")
    args = ap.parse_args()
    payload = {"file": str(PANEL_FILE), "budget": args.budget, "seed": args.seed, "noise": args.noise}
    rows = {}
    if not args.skip_physopt:
        rows["physopt (generic recipe)"] = run(PHYSOPT_SCRIPT, payload)
        print(json.dumps(rows), flush=True)  # each side as soon as it is done
    if not args.skip_deepxde:
        for variant in ("adam", "adam+lbfgs"):
            rows[f"DeepXDE recipe ({variant})"] = run(DEEPXDE_SCRIPT, {**payload, "variant": variant})
            print(json.dumps(rows), flush=True)
    print(f"inverse_reaction, noise {args.noise:.0%}, seed {args.seed}, budget {args.budget:g} CPU s, "
          f"truth D = {TRUTH['D']}, k = {TRUTH['k']}")
    print("| library | D found | k found | max rel. error | training CPU s | steps | CPU s to 1 % | CPU s to 0.1 % |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        if r is None:
            print(f"| {name} | failed | | | | | | |")
            continue
        f = lambda v: "n/a" if v is None else f"{v:.0f}"  # noqa: E731
        t1, t01 = (first_within(r["trace"], tol) for tol in (1e-2, 1e-3))
        print(f"| {name} | {r['found']['D']:.7g} | {r['found']['k']:.7g} | {max_error(r['found']):.2e} | "
              f"{r.get('train_cpu_s', r['cpu_time_s']):.0f} | {r['steps']} | {f(t1)} | {f(t01)} |")


if __name__ == "__main__":
    main()
