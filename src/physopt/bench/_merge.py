"""A leaderboard whose rows for some problems were rerun: cells of newer grids replace the old ones.

The default grid takes about an hour of CPU; when only some recipes changed, rerunning those
problems' cells under the same settings and putting them into the committed ``results.json`` gives
the same page as a full rerun would for them, and the document records which rows were rerun when.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._results import aggregate

__all__ = ["merge_into", "merge_results"]

# Settings that change what a cell measures: a rerun must match the base on every one of them.
# ``jobs`` is left out on purpose: with the CPU clock and one thread per cell, how many cells ran
# at once does not change a cell's budget.
_SAME = ("steps", "time_budget", "clock", "overrides", "threads")


def _key(cell: dict[str, Any]) -> tuple[str, str, str, int]:
    return cell["problem"], cell["optimizer"], cell["constraints"], cell["seed"]


def merge_results(base: dict[str, Any], updates: Sequence[dict[str, Any]], *,
                  drop: Sequence[tuple[str, str, str]] = ()) -> dict[str, Any]:
    """``base`` (a ``results.json`` document) with every cell of ``updates`` (documents of later
    grids over some of its problems, same settings) in place of the base cell of the same problem,
    optimizer, constraints and seed; those problems' rows re-aggregated. Cells of a problem or
    group the base lacks are added after the base's. ``updates`` lists, per merged document, its
    command, date and problems (a new ``updates`` key: the page says which rows were rerun).
    ``drop`` names base groups ``(problem, optimizer, constraints)`` to remove (a problem's old
    default after its recipe changed: its rows would otherwise stay beside the new default's).
    Peers are left as they were (attach new ones with :func:`physopt.bench.rebuild`).
    Raises ``ValueError`` naming the setting when an update was made with other settings.
    """
    doc = json.loads(json.dumps(base))  # a deep copy: the caller's document stays as it was
    gone = {tuple(g) for g in drop}
    cells = {_key(c): c for c in doc["cells"] if _key(c)[:3] not in gone}
    history = list(doc.get("updates", []))
    for upd in updates:
        for k in _SAME:
            if upd["settings"].get(k) != doc["settings"].get(k):
                raise ValueError(f"cannot merge a grid made with {k} = {upd['settings'].get(k)!r} into one made "
                                 f"with {k} = {doc['settings'].get(k)!r}")
        for c in upd["cells"]:
            cells[_key(c)] = c  # replaces in place (dict order kept) or appends
        for name, problem in upd["problems"].items():
            if name not in doc["problems"]:
                doc["problems"][name] = {k: v for k, v in problem.items() if k not in ("peers", "peer_records")}
        history.append({"command": upd["command"], "created": upd["created"], "problems": list(upd["problems"])})
    doc["cells"] = list(cells.values())
    rows = aggregate(doc["cells"])
    for name, problem in doc["problems"].items():
        problem["rows"] = [r for r in rows if r["problem"] == name]
        problem.setdefault("peers", [])
        problem.setdefault("peer_records", [])
    doc["updates"] = history
    return doc


def merge_into(out: str | Path, base: str | Path, updates: Sequence[str | Path], *,
               drop: Sequence[tuple[str, str, str]] = ()) -> dict[str, Any]:
    """:func:`merge_results` of the ``results.json`` files ``base`` and ``updates``, written to
    ``out/results.json`` (pages: :func:`physopt.bench.rebuild` on ``out``). Returns the document."""
    docs = [json.loads(Path(p).read_text()) for p in [base, *updates]]
    merged = merge_results(docs[0], docs[1:], drop=drop)
    path = Path(out) / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=1) + "\n")
    return merged
