"""DeepXDE's published example setups beside physopt's defaults, scored on physopt's references.

    python benchmarks/deepxde_examples.py
        [--problems poisson2d,helmholtz2d,kovasznay,allen-cahn-deepxde,diffusion-reaction,wave,burgers]
        [--seeds 1] [--threads 1] [--budget 300] [--out bench-out/deepxde] [--json docs/data/deepxde.json]
        [--skip-physopt] [--skip-deepxde] [--burgers bench-out/burgers/results.json]

For every zoo problem DeepXDE ships as an example, a subprocess runs DeepXDE 1.15.0 (PyTorch
backend, float64 like physopt) with that example's network, initializer, point counts, optimizer
and iteration counts (Adam, then L-BFGS where the example has it) and scores the result on *our*
reference points with the same relative L2 as physopt. physopt runs ``physopt.solve(problem)`` on its
defaults. Times are process CPU seconds with one torch thread (the machine is shared, so wall time
is not comparable between runs); wall seconds are recorded too.

Which example on which problem (the examples themselves are in lululxvi/deepxde,
``examples/pinn_forward/``):

* ``allen-cahn-deepxde``: ``Allen_Cahn.py`` -- the same PDE, domain, output transform
  x² cos(πx) + t(1 - x²)N, 8000/400/800 points, 2-20-20-20-1 tanh (Glorot normal), Adam lr 1e-3
  for 40000 steps, then L-BFGS.
* ``poisson2d``: DeepXDE has no example of this manufactured problem; its 2-D Dirichlet Poisson
  example is ``Poisson_Lshape.py`` (-Δu = 1 on an L-shape). Its setup runs on our problem:
  1200 interior / 120 boundary points, soft Dirichlet loss, 2-50-50-50-50-1 tanh (Glorot uniform),
  Adam lr 1e-3 for 50000 steps, then L-BFGS.
* ``helmholtz2d``: ``Helmholtz_Dirichlet_2d.py`` solves sin(4πx) sin(4πy) on [0,1]² (k0 = 4π); our
  problem is sin(πx) sin(4πy) with k = 1 on [-1,1]². Its setup runs on our problem: hard
  constraint (distance (1 - x²)(1 - y²), the analogue of its x(1-x)y(1-y)), 3 x 150 sine network
  (Glorot uniform), 10 points per shortest wavelength (wavelength 1/2 → 40² interior, 4·40
  boundary points), Adam lr 1e-3 for 5000 steps, no L-BFGS.
* ``kovasznay``: ``Kovasznay_flow.py`` -- the same flow and domain, 2601/400 points, soft
  Dirichlet u, v on the boundary and p on the outflow x = 1, 2-50-50-50-50-3 tanh (Glorot normal),
  Adam lr 1e-3 for 30000 steps, then L-BFGS.
* ``diffusion-reaction``: ``diffusion_reaction.py`` -- the same PDE, source and domain, output
  transform t(π² - x²)N + u0(x) (exact IC and walls), 320 interior points, 2-30x6-1 tanh (Glorot
  uniform), Adam lr 1e-3 for 20000 steps, no L-BFGS.
* ``wave``: ``wave_1d.py`` solves u_tt = 100 u_xx with modes (1, 2) (A = 2, C = 10); our wave is the
  NTK-paper variant C = 2 with modes (1, 4). Its setup runs on our problem: soft Dirichlet,
  initial value and initial velocity losses, 360 points of each kind (PDE points redrawn every step),
  the spatio-temporal multi-scale Fourier feature net STMsFFN ([2] + [100]·3 + [1], tanh, Glorot
  uniform, σ_x = 1, σ_t = 1 and 10, inputs scaled by (z - 0.5)·2√3), loss weights 5 / (initial
  loss of each term), Adam lr 1e-3 with inverse-time decay (2000 steps, 0.9) for 10000 steps.
  STMsFFN exists only in DeepXDE's TensorFlow-1 and Paddle backends; ``StMsFFN`` below is our
  PyTorch port of it (same layers: fixed Gaussian Fourier features per input scale, one shared
  tanh trunk, elementwise products of every spatial with every temporal branch, linear output).
* ``burgers``: ``Burgers.py`` -- the same PDE and domain ([-1, 1] x [0, 0.99]), soft Dirichlet and
  initial-value losses, 2540/80/160 points, 2-20-20-20-1 tanh (Glorot normal), Adam lr 1e-3 for 15000
  steps, then L-BFGS (the setup benchmarks/burgers_vs_deepxde.py runs to its end, with no budget).
  ``--burgers FILE`` copies that script's results.json records into the JSON output *instead of*
  running ``burgers`` here (burgers is then left out of ``--problems``).

The examples' full iteration counts take tens of minutes of CPU each here, so every DeepXDE run has
a CPU budget (``--budget`` seconds, 0 = none): Adam stops at its iteration count or at half the
budget (the whole budget for Adam-only examples), L-BFGS gets the rest. Decided here: L-BFGS is
checked against the budget every 100 iterations (DeepXDE's PyTorch loop checks after each chunk of
``iter_per_step`` iterations; the chunk size does not change torch's L-BFGS, whose state carries
over between calls). The records say which runs were cut by the budget.

DeepXDE is an optional benchmark extra: ``pip install --no-deps deepxde scikit-optimize &&
pip install scikit-learn pyaml``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

EXAMPLES = {
    "allen-cahn-deepxde": {"example": "Allen_Cahn.py", "adam": 40000, "lbfgs": True},
    "poisson2d": {"example": "Poisson_Lshape.py (setup on our poisson2d)", "adam": 50000, "lbfgs": True},
    "helmholtz2d": {"example": "Helmholtz_Dirichlet_2d.py (setup on our helmholtz2d)", "adam": 5000, "lbfgs": False},
    "kovasznay": {"example": "Kovasznay_flow.py", "adam": 30000, "lbfgs": True},
    "diffusion-reaction": {"example": "diffusion_reaction.py", "adam": 20000, "lbfgs": False},
    "wave": {"example": "wave_1d.py (setup on our wave; STMsFFN ported to PyTorch)", "adam": 10000,
             "lbfgs": False},
    "burgers": {"example": "Burgers.py", "adam": 15000, "lbfgs": True},
}

# The DeepXDE side, run in a subprocess so that DeepXDE's global settings stay out of this process.
DEEPXDE_SCRIPT = r'''
import json, math, sys, time
import numpy as np
args = json.loads(sys.argv[1])
import torch
torch.set_num_threads(args["threads"])
import deepxde as dde
from physopt.problems import get

dde.config.set_default_float("float64")
dde.config.set_random_seed(args["seed"])
name = args["problem"]
pi = math.pi


class StMsFFN(dde.nn.pytorch.NN):
    """PyTorch port of DeepXDE's STMsFFN (Wang, Wang & Perdikaris 2021): see the module docstring."""

    def __init__(self, sizes, sigmas_x, sigmas_t):
        super().__init__()
        init = dde.nn.initializers.get("Glorot uniform")
        half = sizes[1] // 2
        # Fixed (untrained) Fourier feature matrices: space inputs first, time last.
        self.bx = [torch.randn(sizes[0] - 1, half, dtype=torch.float64) * s for s in sigmas_x]
        self.bt = [torch.randn(1, half, dtype=torch.float64) * s for s in sigmas_t]
        self.trunk = torch.nn.ModuleList(
            torch.nn.Linear(sizes[i - 1], sizes[i], dtype=torch.float64) for i in range(2, len(sizes) - 1))
        pairs = len(sigmas_x) * len(sigmas_t)
        self.head = torch.nn.Linear(sizes[-2] * pairs, sizes[-1], dtype=torch.float64)
        for layer in [*self.trunk, self.head]:
            init(layer.weight)
            torch.nn.init.zeros_(layer.bias)

    def _branch(self, z, b):
        h = torch.cat([torch.cos(z @ b), torch.sin(z @ b)], dim=1)
        for layer in self.trunk:
            h = torch.tanh(layer(h))
        return h

    def forward(self, inputs):
        z = self._input_transform(inputs) if self._input_transform is not None else inputs
        hx = [self._branch(z[:, :-1], b) for b in self.bx]
        ht = [self._branch(z[:, -1:], b) for b in self.bt]
        y = self.head(torch.cat([a * c for a in hx for c in ht], dim=1))
        return self._output_transform(inputs, y) if self._output_transform is not None else y


def build():
    """(data, net) of the example's setup on our problem."""
    if name == "allen-cahn-deepxde":
        def pde(x, y):
            return (dde.grad.jacobian(y, x, i=0, j=1) - 0.001 * dde.grad.hessian(y, x, i=0, j=0)
                    - 5 * (y - y ** 3))
        geom = dde.geometry.GeometryXTime(dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 1))
        data = dde.data.TimePDE(geom, pde, [], num_domain=8000, num_boundary=400, num_initial=800)
        net = dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
        net.apply_output_transform(
            lambda x, y: x[:, 0:1] ** 2 * torch.cos(pi * x[:, 0:1]) + x[:, 1:2] * (1 - x[:, 0:1] ** 2) * y)
        return data, net
    if name == "poisson2d":
        def pde(x, y):
            f = 2 * pi ** 2 * torch.sin(pi * x[:, 0:1]) * torch.sin(pi * x[:, 1:2])
            return -dde.grad.hessian(y, x, i=0, j=0) - dde.grad.hessian(y, x, i=1, j=1) - f
        geom = dde.geometry.Rectangle([0, 0], [1, 1])
        bc = dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_boundary: on_boundary)
        data = dde.data.PDE(geom, pde, bc, num_domain=1200, num_boundary=120)
        return data, dde.nn.FNN([2] + [50] * 4 + [1], "tanh", "Glorot uniform")
    if name == "helmholtz2d":
        k, a1, a2 = 1.0, 1.0, 4.0
        factor = k ** 2 - (a1 * pi) ** 2 - (a2 * pi) ** 2
        def pde(x, y):
            q = factor * torch.sin(a1 * pi * x[:, 0:1]) * torch.sin(a2 * pi * x[:, 1:2])
            return dde.grad.hessian(y, x, i=0, j=0) + dde.grad.hessian(y, x, i=1, j=1) + k ** 2 * y - q
        geom = dde.geometry.Rectangle([-1, -1], [1, 1])
        n = int(round(2.0 / (0.5 / 10)))  # 10 points per wavelength 1/2 along the side of length 2
        data = dde.data.PDE(geom, pde, [], num_domain=n ** 2, num_boundary=4 * n)
        net = dde.nn.FNN([2] + [150] * 3 + [1], "sin", "Glorot uniform")
        net.apply_output_transform(lambda x, y: (1 - x[:, 0:1] ** 2) * (1 - x[:, 1:2] ** 2) * y)
        return data, net
    if name == "kovasznay":
        re = 20.0
        lam = re / 2 - math.sqrt(re ** 2 / 4 + 4 * pi ** 2)
        def pde(x, out):
            u, v = out[:, 0:1], out[:, 1:2]
            j = lambda i, d: dde.grad.jacobian(out, x, i=i, j=d)
            lap = lambda c: (dde.grad.hessian(out, x, component=c, i=0, j=0)
                             + dde.grad.hessian(out, x, component=c, i=1, j=1))
            return [u * j(0, 0) + v * j(0, 1) + j(2, 0) - lap(0) / re,
                    u * j(1, 0) + v * j(1, 1) + j(2, 1) - lap(1) / re,
                    j(0, 0) + j(1, 1)]
        geom = dde.geometry.Rectangle([-0.5, -0.5], [1, 1.5])
        wall = lambda _, on_boundary: on_boundary
        bcs = [
            dde.icbc.DirichletBC(geom, lambda x: 1 - np.exp(lam * x[:, 0:1]) * np.cos(2 * pi * x[:, 1:2]),
                                 wall, component=0),
            dde.icbc.DirichletBC(geom, lambda x: lam / (2 * pi) * np.exp(lam * x[:, 0:1])
                                 * np.sin(2 * pi * x[:, 1:2]), wall, component=1),
            dde.icbc.DirichletBC(geom, lambda x: 0.5 * (1 - np.exp(2 * lam * x[:, 0:1])),
                                 lambda x, on_boundary: on_boundary and np.isclose(x[0], 1), component=2),
        ]
        data = dde.data.PDE(geom, pde, bcs, num_domain=2601, num_boundary=400)
        return data, dde.nn.FNN([2] + [50] * 4 + [3], "tanh", "Glorot normal")
    if name == "diffusion-reaction":
        def pde(x, y):
            s = x[:, 0:1]
            source = torch.exp(-x[:, 1:2]) * (3 * torch.sin(2 * s) / 2 + 8 * torch.sin(3 * s) / 3
                                              + 15 * torch.sin(4 * s) / 4 + 63 * torch.sin(8 * s) / 8)
            return dde.grad.jacobian(y, x, i=0, j=1) - dde.grad.hessian(y, x, i=0, j=0) - source
        geom = dde.geometry.GeometryXTime(dde.geometry.Interval(-pi, pi), dde.geometry.TimeDomain(0, 1))
        data = dde.data.TimePDE(geom, pde, [], num_domain=320)
        net = dde.nn.FNN([2] + [30] * 6 + [1], "tanh", "Glorot uniform")

        def transform(x, y):
            s = x[:, 0:1]
            u0 = (torch.sin(s) + torch.sin(2 * s) / 2 + torch.sin(3 * s) / 3 + torch.sin(4 * s) / 4
                  + torch.sin(8 * s) / 8)
            return x[:, 1:2] * (pi ** 2 - s ** 2) * y + u0
        net.apply_output_transform(transform)
        return data, net
    if name == "wave":
        def pde(x, y):
            return dde.grad.hessian(y, x, i=1, j=1) - 4.0 * dde.grad.hessian(y, x, i=0, j=0)
        geom = dde.geometry.GeometryXTime(dde.geometry.Interval(0, 1), dde.geometry.TimeDomain(0, 1))
        u0 = lambda x: np.sin(pi * x[:, 0:1]) + 0.5 * np.sin(4 * pi * x[:, 0:1])
        bcs = [
            dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_boundary: on_boundary),
            dde.icbc.IC(geom, u0, lambda _, on_initial: on_initial),
            dde.icbc.OperatorBC(geom, lambda x, y, _: dde.grad.jacobian(y, x, i=0, j=1),
                                lambda x, _: dde.utils.isclose(x[1], 0)),
        ]
        data = dde.data.TimePDE(geom, pde, bcs, num_domain=360, num_boundary=360, num_initial=360)
        net = StMsFFN([2] + [100] * 3 + [1], sigmas_x=[1], sigmas_t=[1, 10])
        net.apply_feature_transform(lambda x: (x - 0.5) * 2 * math.sqrt(3))
        return data, net
    if name == "burgers":
        def pde(x, y):
            return (dde.grad.jacobian(y, x, i=0, j=1) + y * dde.grad.jacobian(y, x, i=0, j=0)
                    - 0.01 / pi * dde.grad.hessian(y, x, i=0, j=0))
        geom = dde.geometry.GeometryXTime(dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 0.99))
        bcs = [dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_boundary: on_boundary),
               dde.icbc.IC(geom, lambda x: -np.sin(pi * x[:, 0:1]), lambda _, on_initial: on_initial)]
        data = dde.data.TimePDE(geom, pde, bcs, num_domain=2540, num_boundary=80, num_initial=160)
        return data, dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
    raise SystemExit(f"no DeepXDE setup for {name!r}")


def compile_adam(model):
    """(compile keyword arguments, extra callbacks) of the example's Adam phase."""
    if name != "wave":
        return {"lr": 1e-3}, []
    # wave_1d.py: every loss term weighted by 5 / its value at initialisation, inverse-time decay,
    # PDE points redrawn every step.
    model.compile("adam", lr=1e-3)
    first = np.asarray(model.train(iterations=0, display_every=1000)[0].loss_train[0])
    return ({"lr": 1e-3, "loss_weights": list(5.0 / first), "decay": ("inverse time", 2000, 0.9)},
            [dde.callbacks.PDEPointResampler(period=1)])


class Budget(dde.callbacks.Callback):
    """Stop training once this process has used ``limit`` CPU seconds."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit
        self.hit = False

    def on_batch_end(self):
        if self.limit and time.process_time() > self.limit:
            self.hit = True
            self.model.stop_training = True


data, net = build()
ref = get(name).reference
score = lambda m: float(np.linalg.norm(m.predict(ref.points) - ref.values) / np.linalg.norm(ref.values))
model = dde.Model(data, net)
c0, w0 = time.process_time(), time.perf_counter()
budget = args["budget"]
adam_cap = c0 + (budget / 2 if args["lbfgs"] else budget) if budget else 0
stop = Budget(adam_cap)
kwargs, callbacks = compile_adam(model)
model.compile("adam", **kwargs)
model.train(iterations=args["adam"], display_every=1000, callbacks=[stop, *callbacks])
adam_steps = model.train_state.step
rec = {"adam_steps": adam_steps, "adam_rel_l2": score(model), "adam_cpu_s": time.process_time() - c0,
       "budget_hit": stop.hit}
if args["lbfgs"]:
    dde.optimizers.config.LBFGS_options["iter_per_step"] = 100
    dde.optimizers.config.LBFGS_options["fun_per_step"] = 125  # maxfun / maxiter = 1.25, as DeepXDE's default
    stop = Budget(c0 + budget if budget else 0)
    model.compile("L-BFGS")
    model.train(display_every=1000, callbacks=[stop])
    rec["budget_hit"] = rec["budget_hit"] or stop.hit
cpu, wall = time.process_time() - c0, time.perf_counter() - w0
pred = model.predict(ref.points)
rec.update(rel_l2=score(model), max_abs_error=float(np.max(np.abs(pred - ref.values))), cpu_time_s=cpu,
           wall_time_s=wall, steps=int(model.train_state.step))
print("RESULT " + json.dumps(rec))
'''


def run_deepxde(problem: str, seed: int, threads: int, budget: float) -> dict | None:
    spec = EXAMPLES[problem]
    args = {"problem": problem, "seed": seed, "threads": threads, "budget": budget, "adam": spec["adam"],
            "lbfgs": spec["lbfgs"]}
    env = {**os.environ, "DDE_BACKEND": "pytorch", "OMP_NUM_THREADS": str(threads)}
    proc = subprocess.run([sys.executable, "-c", DEEPXDE_SCRIPT, json.dumps(args)], capture_output=True,
                          text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"DeepXDE {problem} seed {seed} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}", file=sys.stderr)
    return None


def run_physopt(problem: str, seed: int, threads: int, out: Path) -> dict:
    import physopt

    c0 = time.process_time()
    res = physopt.solve(problem, seed=seed, out=out / f"physopt-{problem}-seed{seed}",
                        overrides=[f"threads={threads}"])
    r = res.report
    return {"rel_l2": r.rel_l2, "max_abs_error": r.max_abs_error, "wall_time_s": r.wall_time_s,
            "cpu_time_s": time.process_time() - c0, "steps": r.steps, "status": r.status}


def burgers_records(path: Path) -> list[dict]:
    """DeepXDE rows of benchmarks/burgers_vs_deepxde.py's results.json (full example, no budget)."""
    rows = json.loads(path.read_text())
    return [{"problem": "burgers", "library": "deepxde", "seed": r["seed"], "rel_l2": r["deepxde"]["rel_l2"],
             "wall_time_s": r["deepxde"]["wall_time_s"], "steps": None, "example": "Burgers.py",
             "budget_hit": False,
             "command": f"python benchmarks/burgers_vs_deepxde.py --seeds 3 --threads 1 --out {path.parent}"}
            for r in rows if r.get("deepxde")]


def write_records(path: Path, records: list[dict], burgers: str | None) -> None:
    extra = burgers_records(Path(burgers)) if burgers else []
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records + extra, indent=2) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", default=",".join(EXAMPLES))
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--budget", type=float, default=300.0, help="CPU seconds per DeepXDE run (0 = none)")
    ap.add_argument("--out", default="bench-out/deepxde")
    ap.add_argument("--json", default=None, help="write the DeepXDE records here (e.g. docs/data/deepxde.json)")
    ap.add_argument("--burgers", default=None,
                    help="burgers_vs_deepxde.py results.json to include instead of running burgers here")
    ap.add_argument("--skip-physopt", action="store_true")
    ap.add_argument("--skip-deepxde", action="store_true")
    args = ap.parse_args()
    problems = [p.strip() for p in args.problems.split(",") if p.strip()]
    unknown = [p for p in problems if p not in EXAMPLES]
    if unknown:
        raise ValueError(f"no DeepXDE example for {unknown}; known: {', '.join(EXAMPLES)}")
    if args.burgers:  # its records are copied, so that burgers is not also run (and counted twice)
        problems = [p for p in problems if p != "burgers"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = (f"python benchmarks/deepxde_examples.py --problems {{p}} --seeds {args.seeds} "
               f"--threads {args.threads} --budget {args.budget:g}")
    records, rows = [], []
    for problem in problems:
        for seed in range(args.seeds):
            p = None if args.skip_physopt else run_physopt(problem, seed, args.threads, out)
            d = None if args.skip_deepxde else run_deepxde(problem, seed, args.threads, args.budget)
            rows.append({"problem": problem, "seed": seed, "physopt": p, "deepxde": d})
            print(json.dumps(rows[-1]), flush=True)
            if d is not None:
                records.append({"problem": problem, "library": "deepxde", "seed": seed, "rel_l2": d["rel_l2"],
                                "max_abs_error": d["max_abs_error"], "wall_time_s": d["wall_time_s"],
                                "cpu_time_s": d["cpu_time_s"], "steps": d["steps"],
                                "example": EXAMPLES[problem]["example"], "budget_hit": d["budget_hit"],
                                "command": command.format(p=problem)})
            (out / "results.json").write_text(json.dumps(rows, indent=2))
            if args.json:  # after every run, so that an interrupted benchmark keeps what it measured
                write_records(Path(args.json), records, args.burgers)
    if args.json:
        write_records(Path(args.json), records, args.burgers)

    def f(v, spec):
        return "n/a" if v is None else format(v, spec)

    print("\n| problem | seed | physopt rel. L2 | physopt CPU [s] | DeepXDE rel. L2 | DeepXDE CPU [s] | "
          "DeepXDE steps | DeepXDE cut by budget |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        p, d = r["physopt"] or {}, r["deepxde"] or {}
        print(f"| {r['problem']} | {r['seed']} | {f(p.get('rel_l2'), '.2e')} | {f(p.get('cpu_time_s'), '.0f')} | "
              f"{f(d.get('rel_l2'), '.2e')} | {f(d.get('cpu_time_s'), '.0f')} | {f(d.get('steps'), 'd')} | "
              f"{'yes' if d.get('budget_hit') else 'no' if d else 'n/a'} |")


if __name__ == "__main__":
    main()
