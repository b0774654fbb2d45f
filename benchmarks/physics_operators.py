"""Physics-informed and data-free operators (issue 16): family × method at equal training CPU time.

One table, family × method: ``data`` (FNO on solver labels), ``physics`` / ``data+physics`` (the
family's discretised residual, PINO), ``lordnet`` (data-free), on ``poisson-annulus`` WoS-NO against
exact labels and the Shortley–Weller PINN loss (``physics_operators_wos.py``), on ``poisson-2d``
NeuralStagger against one fine FNO, both on the Dirichlet energy (``physics_operators_stagger.py``).
The companion scripts' rows are trained by their own functions, imported here. Every method gets the
same CPU budget: one calibration epoch is timed (process CPU seconds, one thread, first seed) and the
method gets ``floor(budget / seconds per epoch)`` epochs, so its cosine schedule anneals inside the
budget; then it is trained once per seed. The table gives medians over the seeds: the test relative
L2 (mean over the test instances; poisson-annulus: over the nodes inside the annulus) with its
min–max, its ratio to the family's labelled reference (``data``, ``wos-data``), the labelled
(solver-solved) training samples the loss reads, the training CPU seconds, and inference seconds per
instance (``physopt.learn`` rows: the report's wall clock; script rows: process CPU, median of 5
batched passes; one thread either way) next to the family's own solver per instance (CPU).

    python benchmarks/physics_operators.py --budget 30                          # the default families, 3 seeds
    python benchmarks/physics_operators.py --families darcy --methods data,lordnet --budget 300 --seeds 0
    python benchmarks/physics_operators.py --families none --inference 64,128   # LordNet / FNO vs solver timing
    python benchmarks/physics_operators.py --families none --residuals          # the families' own residuals
    python benchmarks/physics_operators.py --families darcy --methods data,physics,lordnet --budget 120 --jobs 9

``--inference`` times batched prediction of (untrained: the weights do not change the cost) LordNet
and FNO models on Darcy grids against ``solve_darcy`` at the same grid (the two-node faces: the
discretisation LordNet's residual uses) and against the family generator's solve (twice finer grid,
sub-sampled faces: how our data are made), all per instance, one thread.

``--jobs N`` runs the calibrations side by side, then every (family, method, seed) run, on N spawned
one-thread processes: the same table as serial runs (each run is seeded); each run's CPU seconds are its
own process's, though a loaded machine makes every epoch dearer (shared caches), so calibrate and train
under the same load. A method added at run time to ``METHODS`` is not seen by the workers.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import physics_operators_stagger as stagger_bench  # companion scripts in this directory: their rows join the table
import physics_operators_wos as wos_bench
import torch

import physopt
from physopt.models import OperatorShape, operator_spec
from physopt.operators import FAMILIES as FAMILY_SPECS
from physopt.operators import family_options, load_family
from physopt.operators._darcy import node_faces, solve_darcy


@dataclass(frozen=True)
class Method:
    """A row trained through ``physopt.learn``: the operator ``model`` kind and its ``--set`` overrides (the
    labelled samples it reads follow from its resolved ``[physics]`` table)."""

    model: str
    sets: list[str] = field(default_factory=list)
    families: tuple[str, ...] | None = None  # None: every family with a discretised residual

    def applies(self, family: str) -> bool:  # the [physics] table needs the family's discretised residual
        if self.families is not None:
            return family in self.families
        return FAMILY_SPECS[family].residual is not None


@dataclass(frozen=True)
class Scripted:
    """A row trained by a companion script's function: ``run(family, epochs, seed, args) -> Outcome``."""

    model: str
    run: Callable[[str, int, int, argparse.Namespace], Outcome]
    families: tuple[str, ...]

    def applies(self, family: str) -> bool:
        return family in self.families


@dataclass(frozen=True)
class Outcome:
    """One trained run: test rel. L2, labelled samples read, training CPU s, inference and solver s per instance."""

    rel_l2: float
    labelled: int
    cpu_s: float
    inference_s: float | None
    solver_s: float | None


def _wos(name: str) -> Scripted:
    def run(family: str, epochs: int, seed: int, args: argparse.Namespace) -> Outcome:
        ns = argparse.Namespace(epochs=epochs, n_train=args.n_train, n_test=args.n_test, walks=args.walks,
                                lr=5e-3, seed=seed)
        r = wos_bench.run(name, ns, list(args.set))
        return Outcome(r["rel_l2"], r["labelled"], r["train_cpu_s"],
                       stagger_bench.inference(r["model"].eval(), r["test_inputs"]), None)
    return Scripted("fno", run, ("poisson-annulus",))


def _stagger(name: str) -> Scripted:
    def run(family: str, epochs: int, seed: int, args: argparse.Namespace) -> Outcome:
        resolution = int(next(s for s in FAMILIES[family].sets if s.startswith("data.resolution=")).split("=")[1])
        ns = argparse.Namespace(resolution=resolution, epochs=epochs, n_train=args.n_train, n_test=args.n_test,
                                lr=3e-3, seed=seed)
        r = stagger_bench.run(name, ns)
        return Outcome(r["rel_l2"], 0, r["train_cpu_s"], r["seq_s"], r["solver_s"])
    return Scripted("stagger" if name.startswith("stagger") else "fno", run, ("poisson-2d",))


FNO = ["model.kind=fno", "model.modes=8", "model.width=24", "model.lifting=48", "model.mlp=0.5", "model.projection=48"]
DATA_FREE = ["physics.data=false", "physics.weight=1"]
WEAK = ["physics.form=weak", "physics.weight=1"]
METHODS: dict[str, Method | Scripted] = {
    "data": Method("fno"),
    "physics": Method("fno", [*DATA_FREE, "physics.norm=preconditioned"]),
    "physics-plain": Method("fno", [*DATA_FREE, "physics.norm=relative"]),
    "data+physics": Method("fno", ["physics.weight=0.1", "physics.norm=preconditioned"]),
    "lordnet": Method("lordnet", [*DATA_FREE, "physics.norm=preconditioned", "optim.lr=5e-3"]),
    "lordnet-msr": Method("lordnet", [*DATA_FREE, "physics.norm=msr", "optim.lr=5e-3"]),
    # 20 labelled instances: DGNO on its weak form (physics.form = weak), and its FNO peers
    "dgno": Method("dgno", [*WEAK, "physics.labelled=20", "optim.lr=3e-3"], ("darcy",)),
    "pino-20": Method("fno", ["physics.weight=1", "physics.norm=preconditioned", "physics.labelled=20"]),
    "data-20": Method("fno", ["data.n_train=20"]),
    # poisson-annulus (physics_operators_wos.py): exact labels, Walk-on-Spheres labels, the Shortley-Weller residual
    "wos-data": _wos("data (solver)"),
    "wos-no": _wos("WoS-NO"),
    "wos-pinn": _wos("PINN loss"),
    # poisson-2d (physics_operators_stagger.py): the Dirichlet energy, one fine FNO and 2x2 staggered FNOs
    "energy": _stagger("fine"),
    "stagger": _stagger("stagger 2"),
}


@dataclass(frozen=True)
class Family:
    """A family's data settings (the same for every method) and the methods that apply to it, in table order."""

    sets: list[str]
    methods: list[str]


FAMILIES: dict[str, Family] = {
    "darcy": Family(["data.resolution=32"], ["data", "physics", "data+physics", "lordnet", "dgno", "pino-20",
                                             "data-20"]),
    "poisson-2d": Family(["data.resolution=32", *FNO], ["data", "physics", "lordnet", "energy", "stagger"]),
    "poisson-annulus": Family(["data.resolution=32"], ["wos-data", "wos-no", "wos-pinn"]),
    "poisson-1d": Family(["data.resolution=65"], ["data", "physics", "data+physics", "lordnet"]),
    "burgers-1d": Family(["data.resolution=128", "family.trajectory=true", "family.snapshots=20"],
                         ["data", "physics", "data+physics", "lordnet"]),
}
DATA_ROWS = ("data", "wos-data")  # the labelled reference of a family's "vs data" column


def overrides(family: str, method: Method, args: argparse.Namespace) -> list[str]:
    """The run's ``--set`` list: the benchmark's sizes, the family's data, the method's own settings, then
    the command line's ``--set`` (last, so it wins: ``--methods lordnet --set optim.lr=1e-2`` tries an lr)."""
    return [f"data.n_train={args.n_train}", "data.n_val=50", f"data.n_test={args.n_test}", "threads=1", "plots=0",
            *FAMILIES[family].sets, *method.sets, *args.set]


def run_once(family: str, method: Method | Scripted, epochs: int, seed: int, args: argparse.Namespace) -> Outcome:
    if isinstance(method, Scripted):
        return method.run(family, epochs, seed, args)
    r = physopt.learn(family, model=method.model, epochs=epochs, seed=seed,
                      overrides=overrides(family, method, args)).report
    test = next(iter(r.tests.values()))
    physics = r.config["physics"]
    labelled = 0 if not physics["data"] else r.n_train if physics["labelled"] == -1 else physics["labelled"]
    return Outcome(test.mean, labelled, r.cpu_time_s, r.inference_s, r.solver_s)


def run_named(family: str, name: str, epochs: int, seed: int, args: argparse.Namespace) -> Outcome:
    """One run of the registered method ``name`` (a module-level function: ``--jobs`` pickles it by name)."""
    return run_once(family, METHODS[name], epochs, seed, args)


@contextlib.contextmanager
def runner(jobs: int):
    """``starmap(fn, arg tuples) -> list``: in this process, or on ``jobs`` spawned one-thread processes (each
    run's CPU seconds are its own process's; the machine's load still makes them dearer, module docstring)."""
    if jobs == 1:
        yield lambda fn, calls: [fn(*c) for c in calls]
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=torch.set_num_threads, initargs=(1,)) as pool:
        yield lambda fn, calls: [f.result() for f in [pool.submit(fn, *c) for c in calls]]


def run_families(cells: list[tuple[str, str]], args: argparse.Namespace) -> list[dict]:
    """Each (family, method): epochs from one timed epoch (first seed), then every seed; medians over the
    seeds. With ``--jobs`` the calibrations run side by side, then every (family, method, seed) run."""
    with runner(args.jobs) as starmap:
        probes = starmap(run_named, [(f, m, 1, args.seeds[0], args) for f, m in cells])
        epochs = [max(1, math.floor(args.budget / p.cpu_s)) for p in probes]
        for (f, m), p, e in zip(cells, probes, epochs, strict=True):
            print(f"  {f} {m}: {p.cpu_s:.2f} CPU s per epoch -> {e} epochs", file=sys.stderr, flush=True)
        flat = starmap(run_named, [(f, m, e, s, args) for (f, m), e in zip(cells, epochs, strict=True)
                                   for s in args.seeds])
    rows = []
    for i, ((family, name), n_epochs) in enumerate(zip(cells, epochs, strict=True)):
        runs = flat[i * len(args.seeds):(i + 1) * len(args.seeds)]
        errors = [o.rel_l2 for o in runs]
        print(f"  {family} {name}: rel. L2 per seed {[round(e, 4) for e in errors]}", file=sys.stderr, flush=True)

        def med(key: str, runs: list[Outcome] = runs) -> float | None:
            values = [getattr(o, key) for o in runs if getattr(o, key) is not None]
            return statistics.median(values) if values else None

        rows.append(row(family=family, method=name, model=METHODS[name].model, rel_l2=statistics.median(errors),
                        spread=(min(errors), max(errors)), labelled=runs[0].labelled, cpu_s=med("cpu_s"),
                        epochs=n_epochs, inference_s=med("inference_s"), solver_s=med("solver_s")))
    return rows


def row(*, family: str, method: str, model: str, rel_l2: float, spread: tuple[float, float], labelled: int,
        cpu_s: float, epochs: int, inference_s: float | None, solver_s: float | None) -> dict:
    return {"family": family, "method": method, "model": model, "rel_l2": rel_l2, "spread": spread,
            "labelled": labelled, "cpu_s": cpu_s, "epochs": epochs, "inference_s": inference_s, "solver_s": solver_s}


def print_table(rows: list[dict], args: argparse.Namespace) -> None:
    print(f"\nphysics-informed operators: {args.n_train} training / {args.n_test} test instances, budget "
          f"{args.budget:g} CPU s per method, seeds {','.join(map(str, args.seeds))} (median, min-max), "
          f"sets {args.set}\n")
    print("| family | method | model | labelled samples | test rel. L2 | min - max | vs data | epochs | "
          "training CPU s | inference s/instance | solver s/instance | solver / inference |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    data = {r["family"]: r["rel_l2"] for r in rows if r["method"] in DATA_ROWS}
    for r in rows:
        vs = f"{r['rel_l2'] / data[r['family']]:.2f}" if r["family"] in data else "n/a"
        inf = "n/a" if r["inference_s"] is None else f"{r['inference_s']:.2e}"
        sol = "n/a" if r["solver_s"] is None else f"{r['solver_s']:.2e}"
        timed = r["inference_s"] is not None and r["solver_s"] is not None
        ratio = f"{r['solver_s'] / r['inference_s']:.1f}" if timed else "n/a"
        lo, hi = r["spread"]
        print(f"| {r['family']} | {r['method']} | {r['model']} | {r['labelled']} | {r['rel_l2']:.4f} | "
              f"{lo:.4f} - {hi:.4f} | {vs} | {r['epochs']} | {r['cpu_s']:.0f} | {inf} | {sol} | {ratio} |")


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
        data = load_family("darcy", n=args.batch, resolution=n, seed=args.seeds[0], options=options)
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
        data = load_family(name, n=args.batch, resolution=n, seed=args.seeds[0], options=opts)
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
    p.add_argument("--families", default="darcy,poisson-2d,poisson-annulus", help="comma-separated, or 'none'")
    p.add_argument("--methods", default="", help="comma-separated (default: each family's own list)")
    p.add_argument("--budget", type=float, default=60.0, help="training CPU seconds per method")
    p.add_argument("--n-train", type=int, default=200)
    p.add_argument("--n-test", type=int, default=100)
    p.add_argument("--seeds", default="0,1,2", help="comma-separated; the table gives medians")
    p.add_argument("--walks", type=int, default=16, help="Walk-on-Spheres walks per node (wos-no)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="added to every run, last (it wins)")
    p.add_argument("--inference", default="", help="Darcy grids for the timing table, e.g. 64,128")
    p.add_argument("--batch", type=int, default=20, help="instances per timing batch / residual table")
    p.add_argument("--residuals", action="store_true", help="print the families' residual table")
    p.add_argument("--jobs", type=int, default=1, help="runs side by side, one process and thread each")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    try:
        args.seeds = [int(s) for s in args.seeds.split(",") if s]
    except ValueError:
        p.error(f"--seeds takes comma-separated integers, got {args.seeds!r}")
    if not args.seeds:
        p.error("--seeds needs at least one seed")
    if args.jobs < 1:
        p.error(f"--jobs must be at least 1, got {args.jobs}")
    families = [] if args.families == "none" else [f for f in args.families.split(",") if f]
    for name in families:
        if name not in FAMILIES:
            p.error(f"unknown family {name!r}; choose from {', '.join(FAMILIES)} or none")
    chosen = [m for m in args.methods.split(",") if m]
    for name in chosen:
        if name not in METHODS:
            p.error(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
        if families and not any(METHODS[name].applies(f) for f in families):
            p.error(f"method {name!r} applies to none of the families {', '.join(families)}")
    cells = [(f, m) for f in families for m in chosen or FAMILIES[f].methods if METHODS[m].applies(f)]
    rows = run_families(cells, args)
    if rows:
        print_table(rows, args)
    if args.residuals:
        residual_table(args)
    if args.inference:
        inference_table([int(n) for n in args.inference.split(",")], args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
