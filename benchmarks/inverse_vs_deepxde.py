"""burgers-inverse beside DeepXDE's inverse-example recipe on the same data: error of ν and CPU time.

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/inverse_vs_deepxde.py [--noise 0] [--seed 0]
        [--adam 5000] [--lbfgs 2000] [--skip-physopt] [--skip-deepxde]

DeepXDE (1.15.0, PyTorch backend, float64, a benchmark-only peer: ``pip install --no-deps deepxde
scikit-optimize && pip install scikit-learn pyaml``) ships no Burgers inverse example; its inverse
examples (``examples/pinn_inverse/``: ``diffusion_1d_inverse.py``, ``Lorenz_inverse.py``,
``reaction_inverse.py``) all follow one recipe, applied here to its forward ``Burgers.py`` setup:
the unknown is a raw ``dde.Variable`` (ν started at 0.01 like ours, no positivity transform), the
observations a ``PointSetBC``, the net 2-20-20-20-1 tanh (Glorot normal), 2540 / 80 / 160 domain /
boundary / initial points, soft IC and walls, Adam lr 1e-3 with the variable among
``external_trainable_variables``, then L-BFGS. The Burgers example trains Adam for 15000 steps and
L-BFGS to its 15000-iteration default; ``--adam`` / ``--lbfgs`` shorten that (defaults 5000 / 2000) to
keep one run within a few CPU-minutes on this shared 2-core machine. Both sides see exactly the
sensors and values of ``physopt.problems.get("burgers-inverse", noise=..., seed=...)``; DeepXDE runs
in a subprocess, with one torch thread, and prints ν with the CPU time every 500 steps, so the time
to reach an error can be read. physopt runs ``physopt.solve("burgers-inverse")`` on its default.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

NU = 0.01 / 3.141592653589793

DEEPXDE_SCRIPT = r'''
import json, math, sys, time
import numpy as np
args = json.loads(sys.argv[1])
import torch
torch.set_num_threads(1)
import deepxde as dde
from physopt.problems import get

dde.config.set_default_float("float64")
dde.config.set_random_seed(args["seed"])
problem = get("burgers-inverse", noise=args["noise"], seed=args["seed"])
data = problem.conditions["data"]
pts, vals = data.points.numpy(), data.values.numpy()
nu = dde.Variable(0.01)

geom = dde.geometry.Interval(-1, 1)
timedomain = dde.geometry.TimeDomain(0, 0.99)
geomtime = dde.geometry.GeometryXTime(geom, timedomain)


def pde(x, y):
    dy_x = dde.grad.jacobian(y, x, i=0, j=0)
    dy_t = dde.grad.jacobian(y, x, i=0, j=1)
    dy_xx = dde.grad.hessian(y, x, i=0, j=0)
    return dy_t + y * dy_x - nu * dy_xx


bc = dde.icbc.DirichletBC(geomtime, lambda x: 0, lambda _, on_boundary: on_boundary)
ic = dde.icbc.IC(geomtime, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on_initial: on_initial)
observe = dde.icbc.PointSetBC(pts, vals)
d = dde.data.TimePDE(geomtime, pde, [bc, ic, observe], num_domain=2540, num_boundary=80, num_initial=160,
                     anchors=pts)
net = dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
model = dde.Model(d, net)
c0, w0 = time.process_time(), time.perf_counter()
trace = []


class Trace(dde.callbacks.Callback):
    def on_epoch_end(self):
        step = self.model.train_state.step
        if step % 500 == 0:
            trace.append({"step": int(step), "nu": float(nu.detach()), "cpu_s": time.process_time() - c0})


model.compile("adam", lr=1e-3, external_trainable_variables=[nu])
model.train(iterations=args["adam"], display_every=1000, callbacks=[Trace()])
dde.optimizers.config.set_LBFGS_options(maxiter=args["lbfgs"])
model.compile("L-BFGS", external_trainable_variables=[nu])
model.train(display_every=1000, callbacks=[Trace()])
value = float(nu.detach())
print("RESULT " + json.dumps({"nu": value, "rel_error": abs(value - args["truth"]) / args["truth"],
                              "cpu_time_s": time.process_time() - c0, "wall_time_s": time.perf_counter() - w0,
                              "steps": int(model.train_state.step), "trace": trace}))
'''


def run_deepxde(args: argparse.Namespace) -> dict | None:
    payload = {"noise": args.noise, "seed": args.seed, "adam": args.adam, "lbfgs": args.lbfgs, "truth": NU}
    env = {**os.environ, "DDE_BACKEND": "pytorch", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", DEEPXDE_SCRIPT, json.dumps(payload)], capture_output=True,
                          text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"DeepXDE failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}", file=sys.stderr)
    return None


def run_physopt(args: argparse.Namespace) -> dict:
    import physopt

    c0 = time.process_time()
    res = physopt.solve("burgers-inverse", seed=args.seed, overrides=[f"problem.noise={args.noise}", "threads=1"])
    u = res.report.unknowns["nu"]
    trace = [{"step": h["step"], "nu": h["unknown/nu"], "cpu_s": h.get("cpu_time_s")}
             for h in res.history if "unknown/nu" in h]
    return {"nu": u.value, "rel_error": u.rel_error, "cpu_time_s": time.process_time() - c0,
            "train_cpu_s": res.report.cpu_time_s, "steps": res.report.steps, "trace": trace}


def first_within(trace: list[dict], tol: float) -> float | None:
    """CPU s of the first traced point with |ν − truth|/truth ≤ tol that stays within it to the end."""
    t = None
    for row in trace:
        ok = abs(row["nu"] - NU) / NU <= tol
        t = (row["cpu_s"] if t is None else t) if ok else None
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--noise", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--adam", type=int, default=5000)
    ap.add_argument("--lbfgs", type=int, default=2000)
    ap.add_argument("--skip-physopt", action="store_true")
    ap.add_argument("--skip-deepxde", action="store_true")
    args = ap.parse_args()
    rows = {}
    if not args.skip_physopt:
        rows["physopt (default)"] = run_physopt(args)
        print(json.dumps(rows), flush=True)  # each side as soon as it is done (runs are long)
    if not args.skip_deepxde:
        rows[f"DeepXDE recipe (Adam {args.adam} + L-BFGS ≤ {args.lbfgs})"] = run_deepxde(args)
        print(json.dumps(rows), flush=True)
    print(f"burgers-inverse, noise {args.noise:.0%}, seed {args.seed}, truth ν = {NU:.10g}")
    print("| library | ν found | rel. error | CPU s | CPU s to 1 % | CPU s to 0.1 % |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        if r is None:
            print(f"| {name} | failed | | | | |")
            continue
        t1, t01 = (first_within(r["trace"], tol) for tol in (1e-2, 1e-3))
        f = lambda v: "n/a" if v is None else f"{v:.0f}"  # noqa: E731
        print(f"| {name} | {r['nu']:.8g} | {r['rel_error']:.2e} | {r['cpu_time_s']:.0f} | {f(t1)} | {f(t01)} |")


if __name__ == "__main__":
    main()
