"""Results of a grid: one record per cell, aggregates per (problem, optimizer, constraints), peers.

Scoring (decided here, documented in docs/bench.md): a cell's score is the relative L2 error of
the *final* model against the problem's reference, as in its ``report.json`` (not the best error
seen during training). Cells whose status is ``completed``, ``time budget`` or ``converged`` are
scored; ``diverged``, ``failed`` and ``n/a`` cells are counted in the status column and left out
of the means. Spread is the sample standard deviation over seeds (ddof = 1; none for one seed).
The constraint violation of a cell is the largest RMS residual over its boundary/initial/data
conditions (``report.json`` ``constraint_violation``).
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..training import RunStatus
from ._grid import Cell

__all__ = ["SCORED", "aggregate", "cell_record", "load_peers", "peer_groups"]

SCORED = (RunStatus.COMPLETED, RunStatus.TIME_BUDGET, RunStatus.CONVERGED)
FINISHED_OK = (*SCORED, RunStatus.DIVERGED)
PEER_KEYS = ("problem", "library", "seed", "rel_l2", "wall_time_s", "steps", "command")


def _curve(directory: Path) -> list[list[float]]:
    """(wall time, rel L2) of every evaluated record of a run, for error-vs-time plots."""
    out = []
    try:
        lines = (directory / "metrics.jsonl").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("rel_l2") is not None and math.isfinite(rec["rel_l2"]):
            out.append([rec["wall_time_s"], rec["rel_l2"]])
    return out


def cell_record(cell: Cell, runs: Path, outcome: str, reason: str) -> dict[str, Any]:
    """The results.json record of a cell: its spec, what its report says, and its error curve."""
    d = runs / cell.key
    rec: dict[str, Any] = {
        "problem": cell.problem, "optimizer": cell.optimizer, "constraints": cell.constraints, "seed": cell.seed,
        "status": "n/a" if cell.reason else "pending", "reason": reason, "rel_l2": None, "max_abs_error": None,
        "constraint_violation": None, "wall_time_s": None, "cpu_time_s": None, "steps": None, "dir": f"runs/{cell.key}",
        "command": cell.command(), "curve": [],
    }
    if cell.reason:
        return rec
    try:
        report = json.loads((d / "report.json").read_text())
    except (OSError, ValueError):
        report = None
    if report is not None:
        violations = [v for v in (report.get("constraint_violation") or {}).values() if v is not None]
        rec.update(status=report["status"], rel_l2=report.get("rel_l2"), max_abs_error=report.get("max_abs_error"),
                   constraint_violation=max(violations) if violations else None,
                   wall_time_s=report.get("wall_time_s"), cpu_time_s=report.get("cpu_time_s"),
                   steps=report.get("steps"))
        if report["status"] not in FINISHED_OK and not reason:
            rec["reason"] = report.get("message", "")
    if outcome == "failed":
        rec["status"] = "failed"
    rec["curve"] = _curve(d)
    return rec



def _stats(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(vals) if vals else None


def aggregate(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (problem, optimizer, constraints), in first-seen order."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["problem"], r["optimizer"], r["constraints"]), []).append(r)
    rows = []
    for (problem, opt, cons), recs in groups.items():
        scored = [r for r in recs if r["status"] in SCORED and r["rel_l2"] is not None and math.isfinite(r["rel_l2"])]
        errs = [r["rel_l2"] for r in scored]
        mean, std = _stats(errs)
        rows.append({
            "problem": problem, "library": "physopt", "optimizer": opt, "constraints": cons,
            "seeds": len(recs), "scored": len(scored), "status": dict(Counter(r["status"] for r in recs)),
            "reason": next((r["reason"] for r in recs if r["reason"]), ""),
            "rel_l2_mean": mean, "rel_l2_std": std, "rel_l2_best": min(errs) if errs else None,
            "max_abs_error": _mean(r["max_abs_error"] for r in scored),
            "constraint_violation": _mean(r["constraint_violation"] for r in scored),
            "wall_time_s": _mean(r["wall_time_s"] for r in scored),
            "cpu_time_s": _mean(r.get("cpu_time_s") for r in scored), "steps": _mean(r["steps"] for r in scored),
            "command": recs[0]["command"],
        })
    return rows


def load_peers(path: str | Path) -> list[dict[str, Any]]:
    """Read a peer results file: a JSON list of ``{problem, library, seed, rel_l2, wall_time_s,
    steps, command}`` (e.g. docs/data/deepxde.json). A record with ``quoted`` (a string naming the
    publication and table) is a published number, not a run of ours: it is shown marked as quoted
    with its source (e.g. docs/data/pinnacle_quoted.json). Bad content raises ``ConfigError``."""
    from ..config import ConfigError

    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except OSError as err:
        raise ConfigError(f"cannot read peers file {p}: {err.strerror}") from None
    except ValueError as err:
        raise ConfigError(f"peers file {p} is not valid JSON: {err}") from None
    if not isinstance(data, list):
        raise ConfigError(f"peers file {p} must hold a JSON list of records, got {type(data).__name__}")
    for i, rec in enumerate(data):
        missing = [k for k in PEER_KEYS if not isinstance(rec, dict) or k not in rec]
        if missing:
            raise ConfigError(f"peers file {p}: record {i} lacks {', '.join(missing)}")
        if rec["rel_l2"] is not None and not isinstance(rec["rel_l2"], int | float):
            raise ConfigError(f"peers file {p}: record {i} has rel_l2 {rec['rel_l2']!r}, expected a number")
        if "quoted" in rec and not (isinstance(rec["quoted"], str) and rec["quoted"].strip()):
            raise ConfigError(f"peers file {p}: record {i} has quoted {rec['quoted']!r}, "
                              "expected the source (a string)")
    return data


def peer_groups(peers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (problem, library), shaped like :func:`aggregate` rows."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in peers:
        groups.setdefault((r["problem"], r["library"]), []).append(r)
    rows = []
    for (problem, library), recs in groups.items():
        errs = [float(r["rel_l2"]) for r in recs if r["rel_l2"] is not None and math.isfinite(r["rel_l2"])]
        mean, std = _stats(errs)
        rows.append({
            "problem": problem, "library": library, "optimizer": "", "constraints": "", "seeds": len(recs),
            "scored": len(errs), "status": {"peer": len(recs)}, "reason": "",
            "rel_l2_mean": mean, "rel_l2_std": std, "rel_l2_best": min(errs) if errs else None,
            "max_abs_error": _mean(r.get("max_abs_error") for r in recs), "constraint_violation": None,
            "wall_time_s": _mean(float(r["wall_time_s"]) for r in recs if r["wall_time_s"] is not None),
            "cpu_time_s": _mean(float(r["cpu_time_s"]) for r in recs if r.get("cpu_time_s") is not None),
            "steps": _mean(float(r["steps"]) for r in recs if r["steps"] is not None), "command": recs[0]["command"],
            "quoted": recs[0].get("quoted", ""),
        })
    return rows
