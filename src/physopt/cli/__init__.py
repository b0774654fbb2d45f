"""Command line: ``physopt solve | learn | resume | bench | list``. A thin translator to :mod:`physopt._run`.

Exit status: 0 success, 2 bad input (one line on stderr), 3 diverged run (NaN/Inf), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence

__all__ = ["main", "run"]

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line and status 2, as for every bad input
        self.exit(EXIT_BAD_INPUT, f"physopt: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="physopt", description="Physics-informed PDE solvers with modern optimizers.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("solve", help="train a problem and write a run directory")
    s.add_argument("problem", help="zoo name (physopt list problems) or path/to/file.py:factory")
    s.add_argument("--optimizer", help="optimizer name or chain FIRST+SECOND (physopt list optimizers)")
    s.add_argument("--constraints", help="role of boundary/initial conditions (physopt list constraints)")
    s.add_argument("--method", help="how the PDE enters the loss: pinn (default) or a seed method")
    s.add_argument("--steps", type=int, help="number of optimizer steps")
    s.add_argument("--time-budget", type=float, help="stop after this many seconds of training")
    s.add_argument("--seed", type=int, help="random seed (network init and collocation points)")
    s.add_argument("--dtype", choices=["float32", "float64"])
    s.add_argument("--device", help="where tensors live: cpu (default), cuda, cuda:N or mps")
    s.add_argument("--out", help="run directory (default runs/<problem>-<time>)")
    s.add_argument("--config", help="TOML file with run settings")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    s.add_argument("--json", action="store_true", help="print report.json to stdout (nothing else)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    n = sub.add_parser("learn", help="train a neural operator on a PDE family or data file; write a run directory")
    n.add_argument("source", help="family (physopt list families), data.npz (inputs, outputs) or path/to/file.py:make")
    n.add_argument("--model", help="operator model kind (physopt list models)")
    n.add_argument("--epochs", type=int, help="passes over the training set")
    n.add_argument("--batch-size", type=int, help="samples per step")
    n.add_argument("--optimizer", help="optimizer name (physopt list optimizers)")
    n.add_argument("--loss", choices=["l2", "h1"], help="per-sample relative error trained on (default l2)")
    n.add_argument("--test", help="a separate test file (.npz or file.py:make), any resolution")
    n.add_argument("--time-budget", type=float, help="stop after this many seconds of training")
    n.add_argument("--seed", type=int, help="random seed (data draw, weights, batches)")
    n.add_argument("--dtype", choices=["float32", "float64"])
    n.add_argument("--device", help="where tensors live: cpu (default), cuda, cuda:N or mps")
    n.add_argument("--out", help="run directory (default runs/<source>-<model>-<time>)")
    n.add_argument("--config", help="TOML file with run settings")
    n.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    n.add_argument("--json", action="store_true", help="print report.json to stdout (nothing else)")
    n.add_argument("--quiet", action="store_true", help="no progress bar")

    r = sub.add_parser("resume", help="continue an interrupted run from its checkpoint")
    r.add_argument("dir")
    r.add_argument("--device", help="continue on another device than the run started on")
    r.add_argument("--json", action="store_true")
    r.add_argument("--quiet", action="store_true")

    b = sub.add_parser("bench", help="run a grid of problems x optimizers x constraints x seeds; write a leaderboard")
    b.add_argument("--problems", nargs="+", help="zoo names (default: the default grid, see docs/bench.md)")
    b.add_argument("--optimizers", nargs="+", help="optimizer names or chains; 'default' = the problem's own")
    b.add_argument("--constraints", nargs="+", help="penalty|lagrangian|alm|hard; 'default' = the problem's own")
    b.add_argument("--seeds", type=int, help="seeds 0..N-1 per combination (default 3)")
    b.add_argument("--time-budget", type=float,
                   help="seconds of training per run (0: none; default: see docs/bench.md)")
    b.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="what --time-budget counts: wall-clock (default) or process CPU seconds (fair under load)")
    b.add_argument("--steps", type=int, help="steps per run (default: the problem's own)")
    b.add_argument("--jobs", type=int, default=1, help="cells run at once (default 1)")
    b.add_argument("--threads", type=int, help="torch threads per run (default: cores // jobs)")
    b.add_argument("--out", default="bench", help="output directory (default bench/)")
    b.add_argument("--peers", nargs="+", help="JSON file(s) of peer-library results (or quoted published numbers) "
                   "to show beside ours")
    b.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key in every run")
    b.add_argument("--note", default="", help="a sentence printed under the leaderboard's header")
    b.add_argument("--quiet", action="store_true", help="no progress display")

    ls = sub.add_parser("list", help="list problems, families, optimizers, constraint modes, methods or model kinds")
    ls.add_argument("what", nargs="?", default="problems",
                    choices=["problems", "families", "optimizers", "constraints", "methods", "models"])
    return p


def _list(what: str) -> None:
    if what == "problems":
        from ..problems import ZOO

        width = max(map(len, ZOO))
        for name in sorted(ZOO):
            print(f"{name:{width}s}  {ZOO[name]().description}")
    elif what == "optimizers":
        from .. import optim

        width = max(map(len, optim.available()))
        for name in optim.available():
            entry = optim.spec(name)
            lr = ", ".join(f"{k} {v:g}" for k, v in entry.recommended.items())
            print(f"{name:{width}s}  {entry.summary} [{lr}]")
    elif what == "families":
        from ..operators import FAMILIES

        width = max(map(len, FAMILIES), default=0)
        for name, fam in FAMILIES.items():
            physics = ", physics loss" if fam.residual is not None else ""
            print(f"{name:{width}s}  {fam.dim}-D, default {fam.resolution} points per axis{physics}: {fam.summary}")
    elif what == "models":
        from ..models import MODELS, OPERATORS

        width = max(map(len, [*MODELS, *OPERATORS]))
        print("# physopt solve: [model] kind = ...")
        for name, entry in MODELS.items():
            print(f"{name:{width}s}  {entry.summary}")
        print("# physopt learn --model ...")
        for name, op in OPERATORS.items():
            grids = "any grid" if op.any_grid else "training grid"
            where = ", query points" if op.queries else ""
            print(f"{name:{width}s}  {'/'.join(f'{d}-D' for d in op.dims)}, {grids}{where}: {op.summary}")
    else:  # the registries: constraint modes, methods
        from ..config import CONSTRAINTS, METHODS

        table = {"constraints": CONSTRAINTS, "methods": METHODS}[what]
        width = max(map(len, table))
        for name, entry in table.items():
            print(f"{name:{width}s}  {entry.summary}")


def _finish(result, as_json: bool) -> int:
    report = result.report
    if as_json:
        print(report.to_json())
    else:
        err = "n/a" if report.rel_l2 is None else f"{report.rel_l2:.3e}"
        zero = "".join(f", {k} {t.mean:.3e}" for k, t in getattr(report, "tests", {}).items() if t.zero_shot)
        print(f"{report.status}: rel_l2 {err}{zero} after {report.steps} steps in {report.wall_time_s:.1f} s "
              f"-> {result.out}")
    from ..training import RunStatus

    if report.status == RunStatus.DIVERGED:
        print(f"physopt: run diverged: {report.message}; last good checkpoint kept in {result.out}", file=sys.stderr)
        return EXIT_DIVERGED
    if report.status == RunStatus.INTERRUPTED:
        print(f"physopt: {report.message} {result.out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; under ``torchrun`` (its environment variables set) inside a process group
    (gloo on CPU, NCCL with ``--device cuda``), which is torn down before returning."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    from ..runtime import destroy_process_group, init_process_group, launch_from_env

    try:
        launch = launch_from_env()
    except ValueError as err:
        print(f"physopt: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if launch is None or args.command == "list":
        return _command(args, argv)
    try:
        init_process_group(launch, getattr(args, "device", None) or "cpu")
    except ValueError as err:
        print(f"physopt: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    clean = False
    try:
        if launch.rank:  # one progress display and one summary line: rank 0's
            args.quiet, sys.stdout = True, open(os.devnull, "w")  # noqa: SIM115 (closed at exit)
        status = _command(args, argv)
        clean = True
    finally:
        destroy_process_group(barrier=clean)
    # Leave without the interpreter's teardown: about one 2-rank gloo run in ten aborted there
    # ("terminate called without an active exception", a C++ thread destroyed at exit) after the
    # run had finished and written everything. Every file is closed by now.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _command(args: argparse.Namespace, argv: list[str]) -> int:
    from ..config import ConfigError

    try:
        if args.command == "list":
            _list(args.what)
            return 0
        progress = None if args.quiet else sys.stderr
        if args.command == "bench":
            return _bench(args, progress, "physopt " + shlex.join(argv))
        from .._run import resume, solve

        if args.command == "resume":
            return _finish(resume(args.dir, device=args.device, progress=progress), args.json)
        if args.command == "learn":
            return _learn(args, progress)
        out = _shared(args.out or f"runs/{_slug(args.problem)}-{time.strftime('%Y%m%d-%H%M%S')}")
        result = solve(
            args.problem, optimizer=args.optimizer, constraints=args.constraints, method=args.method,
            steps=args.steps, time_budget=args.time_budget, seed=args.seed, dtype=args.dtype, device=args.device,
            out=out, config=args.config,
            overrides=args.set, progress=progress,
        )
        return _finish(result, args.json)
    except ConfigError as err:
        print(f"physopt: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("physopt: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _bench(args: argparse.Namespace, progress, command: str) -> int:
    from ..bench import DEFAULT_TIME_BUDGET, run_grid

    budget = DEFAULT_TIME_BUDGET if args.time_budget is None else args.time_budget or None  # 0: no budget
    split = lambda v: None if v is None else [n for item in v for n in item.split(",") if n]  # noqa: E731
    res = run_grid(
        problems=split(args.problems), optimizers=split(args.optimizers), constraints=split(args.constraints),
        seeds=args.seeds, steps=args.steps, time_budget=budget, clock=args.clock, overrides=args.set,
        jobs=args.jobs, threads=args.threads, out=args.out, peers=args.peers, note=args.note, progress=progress,
        command=command,
    )
    counts = ", ".join(f"{n} {k}" for k, n in sorted(res.counts().items()))
    print(f"bench: {len(res.outcome)} cells ({counts}) -> {res.out / 'leaderboard.md'}")
    if res.interrupted:
        print(f"physopt: bench interrupted; rerun the same command to resume ({res.out})", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_DIVERGED if res.failed else 0


def _learn(args: argparse.Namespace, progress) -> int:
    from .._learn import learn

    kind = args.model or "default"
    out = _shared(args.out or f"runs/{_slug(args.source)}-{kind}-{time.strftime('%Y%m%d-%H%M%S')}")
    result = learn(
        args.source, model=args.model, epochs=args.epochs, optimizer=args.optimizer, batch_size=args.batch_size,
        loss=args.loss, test=args.test, time_budget=args.time_budget, seed=args.seed, dtype=args.dtype,
        device=args.device, out=out, config=args.config, overrides=args.set, progress=progress,
    )
    return _finish(result, args.json)


def _shared(out: str) -> str:
    """Rank 0's run directory on every rank (a default name holds the time, which ranks may read apart)."""
    from ..runtime import broadcast_from_main, process_group_ranks

    return broadcast_from_main(out, process_group_ranks()[1])


def _slug(spec: str) -> str:
    base = spec.rsplit(":", 1)[-1] if ".py:" in spec else spec
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in base)


def passive_openmp() -> None:
    """Make OpenMP's idle worker threads sleep instead of spin, unless the user chose a policy.

    Called by the ``physopt`` program before torch is imported (the OpenMP runtime reads
    ``OMP_WAIT_POLICY`` once, when it loads). With the default policy the worker threads spin at
    every barrier, and on cores other processes keep busy a 2-thread step of the default Burgers run
    took 10x longer than a 1-thread step (``python benchmarks/threads_under_load.py``; docs/solve.md,
    "Threads"); passive threads cost little when the cores are idle. ``OMP_WAIT_POLICY=ACTIVE``
    in the environment restores spinning.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def run() -> None:
    """Console-script entry point."""
    passive_openmp()
    sys.exit(main())
