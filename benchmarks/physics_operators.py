"""Physics-informed and data-free operators (issue 16): family × method at equal training CPU time.

Every method trains through ``physopt.learn`` on the same instances of a family within the same CPU
budget: one calibration epoch is timed (process CPU seconds, one thread) and the run gets
``floor(budget / seconds per epoch)`` epochs, so its cosine schedule anneals inside the budget. The
table gives the test relative L2 (mean over the test instances), its ratio to the data-trained model
of the same family, the labelled (solver-solved) training samples the loss reads, the training CPU
seconds, and inference seconds per instance next to the family's own solver per instance.

    python benchmarks/physics_operators.py --budget 60                         # every family, every method
    python benchmarks/physics_operators.py --families darcy --methods data,lordnet --budget 300
    python benchmarks/physics_operators.py --families none --inference 64,128   # LordNet / FNO vs solver timing
    python benchmarks/physics_operators.py --families none --residuals          # the families' own residuals

``--inference`` times batched prediction of (untrained: the weights do not change the cost) LordNet
and FNO models on Darcy grids against ``solve_darcy`` at the same grid (the two-node faces: the
discretisation LordNet's residual uses) and against the family generator's solve (twice finer grid,
sub-sampled faces: how our data are made), all per instance, one thread.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch

import physopt
from physopt.models import OperatorShape, operator_spec
from physopt.operators import FAMILIES as FAMILY_SPECS
from physopt.operators import family_options, load_family
from physopt.operators._darcy import node_faces, solve_darcy


@dataclass(frozen=True)
class Method:
    """One row kind: the operator ``model`` kind, its ``--set`` overrides, and whether the loss reads labels."""

    model: str
    sets: list[str] = field(default_factory=list)
    labelled: bool = True


DATA_FREE = ["physics.data=false", "physics.weight=1"]
METHODS: dict[str, Method] = {
    "data": Method("fno"),
    "physics": Method("fno", [*DATA_FREE, "physics.norm=preconditioned"], labelled=False),
    "physics-plain": Method("fno", [*DATA_FREE, "physics.norm=relative"], labelled=False),
    "data+physics": Method("fno", ["physics.weight=0.1", "physics.norm=preconditioned"]),
    "lordnet": Method("lordnet", [*DATA_FREE, "physics.norm=preconditioned", "optim.lr=5e-3"], labelled=False),
    "lordnet-msr": Method("lordnet", [*DATA_FREE, "physics.norm=msr", "optim.lr=5e-3"], labelled=False),
    # ---- WoS-NO, DGNO, NeuralStagger (branch `wosno`): add their Method entries here, or rows through
    # ---- EXTRA_ROWS below when a method does not train through physopt.learn.
}
# Callables ``(args) -> list[dict]`` returning finished rows with the keys of ``row()`` (other helpers' methods).
EXTRA_ROWS: list = []

# Per-family data settings: the same for every method of the family.
FAMILIES: dict[str, list[str]] = {
    "darcy": ["data.resolution=32"],
    "poisson-2d": ["data.resolution=32"],
    "poisson-1d": ["data.resolution=65"],
    "burgers-1d": ["data.resolution=128", "family.trajectory=true", "family.snapshots=20"],
}


def row(*, family: str, method: str, model: str, rel_l2: float, labelled: int, cpu_s: float, epochs: int,
        inference_s: float | None, solver_s: float | None) -> dict:
    return {"family": family, "method": method, "model": model, "rel_l2": rel_l2, "labelled": labelled,
            "cpu_s": cpu_s, "epochs": epochs, "inference_s": inference_s, "solver_s": solver_s}


def train(family: str, method: Method, epochs: int, base: list[str], seed: int):
    return physopt.learn(family, model=method.model, epochs=epochs, seed=seed,
                         overrides=[*base, *FAMILIES[family], *method.sets])


def run_family(family: str, methods: list[str], args: argparse.Namespace) -> list[dict]:
    base = [f"data.n_train={args.n_train}", "data.n_val=50", f"data.n_test={args.n_test}", "threads=1", "plots=0",
            *args.set]
    rows = []
    for name in methods:
        method = METHODS[name]
        probe = train(family, method, 1, base, args.seed)
        epochs = max(1, math.floor(args.budget / probe.report.cpu_time_s))
        print(f"  {family} {name}: {probe.report.cpu_time_s:.2f} CPU s per epoch -> {epochs} epochs",
              file=sys.stderr, flush=True)
        r = train(family, method, epochs, base, args.seed).report
        test = next(iter(r.tests.values()))
        rows.append(row(family=family, method=name, model=method.model, rel_l2=test.mean,
                        labelled=r.n_train if method.labelled else 0, cpu_s=r.cpu_time_s, epochs=epochs,
                        inference_s=r.inference_s, solver_s=r.solver_s))
    return rows


def print_table(rows: list[dict], args: argparse.Namespace) -> None:
    print(f"\nphysics-informed operators: {args.n_train} training / {args.n_test} test instances, budget "
          f"{args.budget:g} CPU s per method, seed {args.seed}, sets {args.set}\n")
    print("| family | method | model | labelled samples | test rel. L2 | vs data | epochs | training CPU s | "
          "inference s/instance (wall) | solver s/instance (CPU) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    data = {r["family"]: r["rel_l2"] for r in rows if r["method"] == "data"}
    for r in rows:
        vs = f"{r['rel_l2'] / data[r['family']]:.2f}" if r["family"] in data else "n/a"
        inf = "n/a" if r["inference_s"] is None else f"{r['inference_s']:.2e}"
        sol = "n/a" if r["solver_s"] is None else f"{r['solver_s']:.2e}"
        print(f"| {r['family']} | {r['method']} | {r['model']} | {r['labelled']} | {r['rel_l2']:.4f} | {vs} | "
              f"{r['epochs']} | {r['cpu_s']:.0f} | {inf} | {sol} |")


def _median_seconds(fn, repeats: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def inference_table(resolutions: list[int], args: argparse.Namespace) -> None:
    """LordNet / FNO prediction vs the Darcy solvers, CPU seconds per instance (module docstring)."""
    options = family_options("darcy")
    print("\ndarcy inference vs our solver, CPU s per instance (median of 3, batch "
          f"{args.batch}, one thread)\n")
    print("| grid | solver, same grid | solver, family data | lordnet | fno | solver / lordnet | "
          "family solver / lordnet | solver / fno |")
    print("|---|---|---|---|---|---|---|---|")
    for n in resolutions:
        data = load_family("darcy", n=args.batch, resolution=n, seed=args.seed, options=options)
        plain = _median_seconds(lambda data=data: [solve_darcy(*node_faces(a[0])) for a in data.inputs]) / data.n
        family_solver = data.solve_time_s
        x = torch.from_numpy(data.inputs).float()
        shape = OperatorShape(1, 1, (n, n), False)
        seconds = {}
        for kind, sets in (("lordnet", {}), ("fno", {"modes": 8, "width": 24, "lifting": 48, "mlp": 0.5,
                                                      "projection": 48})):
            spec = operator_spec(kind)
            net = spec.factory(spec.config(**sets), shape=shape, generator=torch.Generator().manual_seed(0),
                               dtype=torch.float32).eval()
            with torch.no_grad():
                seconds[kind] = _median_seconds(lambda net=net, x=x: net(x)) / data.n
        lord, fno = seconds["lordnet"], seconds["fno"]
        print(f"| {n}x{n} | {plain:.2e} | {family_solver:.2e} | {lord:.2e} | {fno:.2e} | {plain / lord:.1f} | "
              f"{family_solver / lord:.1f} | {plain / fno:.1f} |")


# (family, resolution, family options) of the residual table: the family's own data on its residual's rows.
RESIDUAL_CASES = [("darcy", 32, {}), ("poisson-2d", 32, {}), ("poisson-2d", 32, {"refine": 1}), ("poisson-1d", 64, {}),
                  ("poisson-1d", 128, {}), ("antiderivative", 64, {}), ("antiderivative", 128, {}),
                  ("burgers-1d", 128, {"trajectory": True, "snapshots": 20}),
                  ("burgers-1d", 128, {"trajectory": True, "snapshots": 40})]


def residual_table(args: argparse.Namespace) -> None:
    """The relative residual of each family's own data (min-max over ``args.batch`` instances), and for
    darcy the distance of its data from the exact solution of the rows (the data-free floor)."""
    print(f"\nrelative residual ‖R(a, u_data)‖ / ‖b‖ of the families' own data ({args.batch} instances)\n")
    print("| family | grid | options | min | max | data vs the rows' solution (rel. L2) |")
    print("|---|---|---|---|---|---|")
    for name, n, options in RESIDUAL_CASES:
        spec, opts = FAMILY_SPECS[name], family_options(name, options)
        data = load_family(name, n=args.batch, resolution=n, seed=args.seed, options=opts)
        a, u = torch.from_numpy(data.inputs), torch.from_numpy(data.outputs)
        rel = spec.residual(opts, a, u).relative()
        floor = ""
        if name == "darcy":
            exact = np.stack([solve_darcy(*node_faces(x[0]))[None] for x in data.inputs])
            gap = np.linalg.norm((exact - data.outputs).reshape(data.n, -1), axis=1)
            gap /= np.linalg.norm(data.outputs.reshape(data.n, -1), axis=1)
            floor = f"{gap.min():.4f} - {gap.max():.4f}"
        print(f"| {name} | {n} | {options or ''} | {rel.min():.2e} | {rel.max():.2e} | {floor} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--families", default=",".join(FAMILIES), help="comma-separated, or 'none'")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--budget", type=float, default=60.0, help="training CPU seconds per method")
    p.add_argument("--n-train", type=int, default=200)
    p.add_argument("--n-test", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="added to every run")
    p.add_argument("--inference", default="", help="Darcy grids for the timing table, e.g. 64,128")
    p.add_argument("--batch", type=int, default=20, help="instances per timing batch / residual table")
    p.add_argument("--residuals", action="store_true", help="print the families' residual table")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    families = [] if args.families == "none" else [f for f in args.families.split(",") if f]
    methods = [m for m in args.methods.split(",") if m]
    for name in families:
        if name not in FAMILIES:
            p.error(f"unknown family {name!r}; choose from {', '.join(FAMILIES)} or none")
    for name in methods:
        if name not in METHODS:
            p.error(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
    rows = [r for f in families for r in run_family(f, methods, args)]
    for extra in EXTRA_ROWS:
        rows += extra(args)
    if rows:
        print_table(rows, args)
    if args.residuals:
        residual_table(args)
    if args.inference:
        inference_table([int(n) for n in args.inference.split(",")], args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
