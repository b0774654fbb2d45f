"""``run_grid``: expand the grid, run (or resume, or skip) its cells, write the leaderboard."""

from __future__ import annotations

import json
import os
import platform
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..runtime import broadcast_from_main, gather_to_main, process_group_ranks
from ._grid import DEFAULT, DEFAULT_GRID, DEFAULT_TIME_BUDGET, Block, Cell, GridSettings, expand
from ._html import render_html
from ._leaderboard import render_markdown
from ._results import aggregate, cell_record, load_peers, peer_groups
from ._runner import check_stale, run_cells

__all__ = ["BenchResult", "rebuild", "run_grid"]


@dataclass(frozen=True)
class BenchResult:
    """What :func:`run_grid` returns.

    ``document`` is the content of ``results.json`` (``cells``: one record per cell; ``problems``:
    per problem its reference and aggregate ``rows``); ``outcome`` says per cell key what this call
    did (``ran``, ``resumed``, ``skipped``, ``failed``, ``interrupted``, ``n/a``, ``pending``).
    """

    out: Path
    document: dict[str, Any]
    outcome: dict[str, str]
    interrupted: bool

    @property
    def cells(self) -> list[dict[str, Any]]:
        return self.document["cells"]

    @property
    def failed(self) -> int:
        return sum(1 for v in self.outcome.values() if v == "failed")

    def counts(self) -> Counter[str]:
        return Counter(self.outcome.values())


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)  # readers never see a half-written leaderboard


def _blocks(problems: Sequence[str] | None, optimizers: Sequence[str] | None, constraints: Sequence[str] | None,
            seeds: int | None) -> tuple[Block, ...]:
    if problems is None and optimizers is None and constraints is None:
        grid = DEFAULT_GRID
        return grid if seeds is None else tuple(Block(b.problems, b.optimizers, b.constraints, seeds) for b in grid)
    from ..problems import available

    return (Block(problems=tuple(problems or available()), optimizers=tuple(optimizers or (DEFAULT,)),
                  constraints=tuple(constraints or (DEFAULT,)), seeds=3 if seeds is None else seeds),)


def run_grid(
    *,
    problems: Sequence[str] | None = None,
    optimizers: Sequence[str] | None = None,
    constraints: Sequence[str] | None = None,
    seeds: int | None = None,
    blocks: Sequence[Block] | None = None,
    steps: int | None = None,
    time_budget: float | None = DEFAULT_TIME_BUDGET,
    clock: str = "wall",
    overrides: Sequence[str] = (),
    jobs: int = 1,
    threads: int | None = None,
    out: str | Path = "bench",
    peers: str | Path | Sequence[str | Path] | None = None,
    command: str | None = None,
    note: str = "",
    progress: TextIO | None = None,
    on_cell: Callable[[Cell, str], None] | None = None,
) -> BenchResult:
    """Run a benchmark grid and write ``results.json``, ``leaderboard.md``, ``leaderboard.html``
    and ``plots/`` into ``out``; each cell runs in ``out/runs/<problem>/<optimizer>/<constraints>/seed<k>``.

    The grid is ``problems × optimizers × constraints × range(seeds)`` (``"default"`` = the
    problem's own optimizer / formulation; all zoo problems if only the other axes are given), or
    ``blocks``, or, with none of these, :data:`DEFAULT_GRID`. ``time_budget`` (seconds of training
    per run, ``None`` for none; counted on ``clock``: ``"wall"`` or ``"cpu"``, process CPU time,
    fair when other work shares the machine) and ``steps`` (``None``: the problem's own) apply to every cell, as
    do ``overrides`` (``--set key=value``). ``jobs`` cells run at once, each with ``threads``
    torch threads (default: cores // jobs). Calling again with the same arguments skips finished
    cells and resumes interrupted ones. ``peers``: a JSON file of peer-library results shown beside
    ours (or several such files). Bad input raises :class:`physopt.config.ConfigError`; Ctrl-C stops
    the grid, keeps every checkpoint, writes the outputs for what finished and returns with ``interrupted=True``.

    Example::

        res = physopt.bench.run_grid(problems=["poisson2d"], optimizers=["adam", "soap"], seeds=2,
                                     time_budget=10, out="bench-poisson")
        res.document["problems"]["poisson2d"]["rows"][0]["rel_l2_mean"]
    """
    from ..config import ConfigError
    from ..evaluation import versions

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs must be an integer >= 1, got {jobs!r}")
    if blocks is not None and any(v is not None for v in (problems, optimizers, constraints, seeds)):
        raise ConfigError("give either blocks or problems/optimizers/constraints/seeds, not both")
    cores = _cores()
    threads = max(1, cores // jobs) if threads is None else threads
    try:
        grid = tuple(blocks) if blocks is not None else _blocks(problems, optimizers, constraints, seeds)
        settings = GridSettings(steps=steps, time_budget=time_budget, overrides=tuple(overrides), threads=threads,
                                clock=clock)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    peer_records = _load_all_peers(peers)
    cells, info = expand(grid, settings)
    out_dir = Path(out)
    runs = out_dir / "runs"
    rank, world = process_group_ranks()
    stale = None
    if rank == 0:
        try:
            check_stale(cells, runs)
            runs.mkdir(parents=True, exist_ok=True)
        except ConfigError as err:
            stale = str(err)
    stale = broadcast_from_main(stale, world)  # every rank stops on rank 0's verdict (and waits for the mkdir)
    if stale is not None:
        raise ConfigError(stale)
    # Under torchrun rank r runs cells r, r + w, ...; the outcomes are merged on every rank.
    mine = [c for i, c in enumerate(cells) if i % world == rank]
    outcome, reason, interrupted = run_cells(mine, runs, jobs=jobs, threads=threads,
                                             progress=progress if rank == 0 else None, on_cell=on_cell)
    if world > 1:
        outcome, reason, interrupted = _merge(cells, gather_to_main((outcome, reason, interrupted), world), world)
    if rank:  # rank 0 alone writes the merged results.json and leaderboard
        return BenchResult(out=out_dir, document={}, outcome=outcome, interrupted=interrupted)
    records = [cell_record(c, runs, outcome[c.key], reason.get(c.key, "")) for c in cells]
    rows = aggregate(records)
    doc = {
        "command": command or "physopt.bench.run_grid(...)",
        "created": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {cores} CPU core(s) available",
        "note": note,
        "settings": {"steps": steps, "time_budget": time_budget, "clock": clock, "overrides": list(overrides),
                     "threads": threads, "jobs": jobs},
        "versions": versions(),
        "problems": {
            name: {**info[name], "rows": [r for r in rows if r["problem"] == name]}
            for name in dict.fromkeys(c.problem for c in cells)
        },
        "cells": records,
    }
    _attach_peers(doc, peer_records)
    _write_outputs(doc, out_dir)
    return BenchResult(out=out_dir, document=doc, outcome=outcome, interrupted=interrupted)


def _merge(cells: Sequence[Cell], parts: list[Any] | None, world: int) -> tuple[dict[str, str], dict[str, str], bool]:
    """Every rank's ``(outcome, reason, interrupted)`` combined (cell ``i`` belongs to rank ``i % world``),
    gathered on rank 0 and broadcast back."""
    merged = None
    if parts is not None:
        outcome = {c.key: parts[i % world][0][c.key] for i, c in enumerate(cells)}
        reason = {k: v for part in parts for k, v in part[1].items()}
        merged = (outcome, reason, any(part[2] for part in parts))
    return broadcast_from_main(merged, world)


def _load_all_peers(peers: str | Path | Sequence[str | Path] | None) -> list[dict[str, Any]]:
    if peers is None:
        return []
    files = [peers] if isinstance(peers, str | Path) else list(peers)
    return [rec for f in files for rec in load_peers(f)]


def _attach_peers(doc: dict[str, Any], peer_records: Sequence[dict[str, Any]]) -> None:
    prows = peer_groups(peer_records)
    for name, problem in doc["problems"].items():
        problem["peers"] = [r for r in prows if r["problem"] == name]
        problem["peer_records"] = [r for r in peer_records if r["problem"] == name]


def _write_outputs(doc: dict[str, Any], out_dir: Path) -> None:
    _write(out_dir / "results.json", json.dumps(doc, indent=1) + "\n")
    _write(out_dir / "leaderboard.md", render_markdown(doc))
    _write(out_dir / "leaderboard.html", render_html(doc, out_dir / "plots"))


def rebuild(out: str | Path, *, peers: str | Path | Sequence[str | Path] | None = None, command: str | None = None,
            note: str | None = None) -> dict[str, Any]:
    """Rewrite ``out``'s leaderboard from its ``results.json`` without running or checking any
    cell: with ``peers``, the peer rows are replaced by that file's (or those files'); ``command`` and ``note``
    replace the recorded command line (say how the page was made) and note. Returns the document."""
    from ..config import ConfigError

    path = Path(out) / "results.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from None
    if peers is not None:
        _attach_peers(doc, _load_all_peers(peers))
    if command is not None:
        doc["command"] = command
    if note is not None:
        doc["note"] = note
    _write_outputs(doc, Path(out))
    return doc
