"""The benchmark grid: blocks of problems × optimizers × constraint formulations × seeds, expanded
into cells, each cell one ``physopt solve`` command with its own run directory.

A cell is *valid* when :func:`physopt.config.build` accepts its configuration; otherwise it is kept
in the grid as ``n/a`` with the one-line reason ``build`` gave (e.g. hard constraints for a problem
without an ansatz, or a multiplier formulation with a closure-based optimizer). Names that cannot be
right for any cell (an unknown problem, optimizer or formulation) are bad input instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_GRID", "Block", "Cell", "GridSettings", "expand"]

DEFAULT = "default"  # the problem's own optimizer / constraint formulation (PROBLEM_DEFAULTS)
CONFIG_FILE = "bench_config.toml"  # a cell's resolved configuration, written next to its run


@dataclass(frozen=True)
class Block:
    """One cartesian product of the grid. ``"default"`` stands for the problem's own setting."""

    problems: tuple[str, ...]
    optimizers: tuple[str, ...] = (DEFAULT,)
    constraints: tuple[str, ...] = (DEFAULT,)
    seeds: int = 3

    def __post_init__(self) -> None:
        for axis in ("problems", "optimizers", "constraints"):
            values = getattr(self, axis)
            if isinstance(values, str) or not values or not all(isinstance(v, str) and v for v in values):
                raise ValueError(f"Block.{axis} must be a non-empty tuple of names, got {values!r}")
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or self.seeds < 1:
            raise ValueError(f"Block.seeds must be an integer >= 1, got {self.seeds!r}")


# What `physopt bench` runs without arguments (docs/bench.md): every zoo problem at its own
# defaults, then an optimizer study and a constraint-formulation study on poisson2d (closed-form
# reference). 3 seeds, 20 s of training per run: 63 cells, 21 min of training plus about 3 s of
# start-up per cell.
DEFAULT_TIME_BUDGET = 20.0
DEFAULT_GRID: tuple[Block, ...] = (
    Block(problems=(
        "burgers", "poisson2d", "helmholtz2d", "convection", "convection-50", "diffusion-reaction", "wave",
        "quantum-well", "allen-cahn", "allen-cahn-deepxde", "kovasznay", "kdv", "cavity", "poisson-nd",
        "allen-cahn-nd", "p-laplacian",
    )),
    Block(problems=("poisson2d",), optimizers=("adam", "soap", "normuon"), constraints=("hard",)),
    Block(problems=("poisson2d",), optimizers=("adam",), constraints=("penalty", "alm")),
)


@dataclass(frozen=True)
class GridSettings:
    """What every cell shares: step count and time budget per run (``None``: the problem's own),
    ``--set`` overrides, and torch threads per run."""

    steps: int | None = None
    time_budget: float | None = None
    overrides: tuple[str, ...] = ()
    threads: int = 1
    clock: str = "wall"  # what the budget counts: wall-clock or process CPU seconds (budget_clock)

    def __post_init__(self) -> None:
        if self.steps is not None and (isinstance(self.steps, bool) or self.steps < 1):
            raise ValueError(f"steps must be >= 1 or None, got {self.steps!r}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(f"time_budget must be > 0 seconds or None, got {self.time_budget!r}")
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads!r}")
        if self.clock not in ("wall", "cpu"):
            raise ValueError(f"clock must be 'wall' or 'cpu', got {self.clock!r}")

    @property
    def run_overrides(self) -> list[str]:
        """``--set`` items of every run: threads first (a user's own ``--set threads=...`` comes
        later and wins), the budget clock when it is not the default, then the user's."""
        clock = [f"budget_clock={self.clock}"] if self.clock != "wall" else []
        return [f"threads={self.threads}", *clock, *self.overrides]


@dataclass(frozen=True)
class Cell:
    """One run of the grid. ``reason`` is set (and nothing is run) for an invalid combination."""

    problem: str
    optimizer: str
    constraints: str
    seed: int
    settings: GridSettings = field(default_factory=GridSettings, compare=False)
    reason: str = ""
    # The configuration resolved when the grid was expanded; the cell runs exactly this (through
    # --config), so problem defaults changed while a long grid runs cannot leak into later cells.
    config: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """Relative run directory ``<problem>/<optimizer>/<constraints>/seed<k>``."""
        return f"{_slug(self.problem)}/{_slug(self.optimizer)}/{self.constraints}/seed{self.seed}"

    @property
    def group(self) -> tuple[str, str, str]:
        return (self.problem, self.optimizer, self.constraints)

    def spec(self) -> dict[str, Any]:
        """Everything that defines the run; stored as ``bench_cell.json`` to detect stale dirs."""
        s = self.settings
        return {"problem": self.problem, "optimizer": self.optimizer, "constraints": self.constraints,
                "seed": self.seed, "steps": s.steps, "time_budget": s.time_budget, "overrides": list(s.overrides),
                **({"clock": s.clock} if s.clock != "wall" else {})}  # old run dirs stay valid

    def solve_args(self, out: Path) -> list[str]:
        """``physopt solve`` arguments of this cell (without the interpreter)."""
        s = self.settings
        args = ["solve", self.problem, "--optimizer", self.optimizer, "--constraints", self.constraints,
                "--seed", str(self.seed), "--out", str(out), "--quiet"]
        if self.config is not None:
            args += ["--config", str(out / CONFIG_FILE)]
        if s.steps is not None:
            args += ["--steps", str(s.steps)]
        if s.time_budget is not None:
            args += ["--time-budget", f"{s.time_budget:g}"]
        for item in s.run_overrides:
            args += ["--set", item]
        return args

    def command(self) -> str:
        """The equivalent shell command, for reports (run directory left as ``DIR``)."""
        return " ".join(["physopt", *(_quote(a) for a in self.solve_args(Path("DIR")))])


def _slug(text: str) -> str:
    base = text.rsplit(":", 1)[-1] if ".py:" in text else text
    return "".join(c if c.isalnum() or c in "-_+." else "-" for c in base)


def _quote(arg: str) -> str:
    return arg if arg and all(c.isalnum() or c in "-_+.=/:," for c in arg) else json.dumps(arg)


def _check_names(blocks: Sequence[Block]) -> None:
    from ..config import CONSTRAINT_MODES, ConfigError
    from ..optim import available

    known = set(available())
    for block in blocks:
        for name in block.optimizers:
            parts = [p.strip() for p in name.split("+")]
            bad = [p for p in parts if p not in known]
            if name != DEFAULT and (bad or len(parts) > 2):
                raise ConfigError(f"unknown optimizer {name!r}; choose from {', '.join(sorted(known))}, "
                                  f"a chain FIRST+SECOND, or 'default'")
        for name in block.constraints:
            if name != DEFAULT and name not in CONSTRAINT_MODES:
                raise ConfigError(f"unknown constraint formulation {name!r}; choose from "
                                  f"{', '.join(CONSTRAINT_MODES)} or 'default'")


def expand(blocks: Sequence[Block], settings: GridSettings) -> tuple[list[Cell], dict[str, dict[str, Any]]]:
    """All cells of ``blocks`` in order, ``default`` resolved per problem, duplicates dropped, and
    per problem its description and reference (source, error, note) for the leaderboard.

    Raises :class:`physopt.config.ConfigError` for names no cell can use or bad ``--set`` keys.
    Invalid combinations come back as cells with a ``reason``.
    """
    from ..config import ConfigError, build, load_problem, resolve, to_dict

    _check_names(blocks)
    flags = {"steps": settings.steps, "time_budget": settings.time_budget}
    overrides = settings.run_overrides
    problems: dict[str, Any] = {}
    verdicts: dict[tuple[str, str, str], tuple[str, dict[str, Any] | None]] = {}
    cells: dict[str, Cell] = {}
    for block in blocks:
        for name in block.problems:
            base = resolve(name, flags=flags, overrides=overrides)  # bad --set keys raise here
            if name not in problems:
                problems[name] = load_problem(name, base.problem_options)  # unknown problem raises
            for opt in block.optimizers:
                for cons in block.constraints:
                    o = base.optim.name if opt == DEFAULT else opt
                    c = base.constraints if cons == DEFAULT else cons
                    if (name, o, c) not in verdicts:
                        try:
                            cfg = resolve(name, flags={**flags, "optim.name": o, "constraints": c},
                                          overrides=overrides)
                            build(cfg, problems[name])
                            verdicts[(name, o, c)] = ("", to_dict(cfg))
                        except ConfigError as err:
                            verdicts[(name, o, c)] = (str(err), None)
                    reason, config = verdicts[(name, o, c)]
                    for seed in range(block.seeds):
                        cell = Cell(name, o, c, seed, settings, reason, config)
                        cells.setdefault(cell.key, cell)
    return list(cells.values()), {name: _describe(p) for name, p in problems.items()}


def _describe(problem: Any) -> dict[str, Any]:
    ref = problem.reference
    return {"description": problem.description,
            "reference": None if ref is None else {"source": ref.source, "error": ref.error, "note": ref.note}}
