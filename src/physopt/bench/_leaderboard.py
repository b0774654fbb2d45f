"""The leaderboard as Markdown, rendered from the results document (``results.json``) alone, so a
leaderboard can be rebuilt or restyled without running anything."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["fmt", "fmt_mean", "render_markdown", "settings_text", "sorted_rows", "status_text", "summary_rows"]

COLUMNS = ("library", "optimizer", "constraints", "rel. L2 (mean ± std)", "best rel. L2", "max abs error",
           "constraint violation", "wall time [s]", "steps", "seeds: status")


def fmt(v: float | None, digits: int = 2) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:.{digits}e}"


def fmt_mean(row: dict[str, Any]) -> str:
    if row["rel_l2_mean"] is None:
        return "n/a"
    std = row["rel_l2_std"]
    return fmt(row["rel_l2_mean"]) + ("" if std is None else f" ± {fmt(std, 1)}")


def status_text(row: dict[str, Any]) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in row["status"].items())
    return f"{counts}: {row['reason']}" if row["reason"] else counts


def sorted_rows(problem: dict[str, Any]) -> list[dict[str, Any]]:
    """physopt rows by mean error (unscored last), then peer libraries."""
    key = lambda r: (r["rel_l2_mean"] is None, r["rel_l2_mean"] or 0.0)  # noqa: E731
    return sorted(problem["rows"], key=key) + sorted(problem["peers"], key=key)


def row_cells(row: dict[str, Any]) -> list[str]:
    wall = "–" if row["wall_time_s"] is None else f"{row['wall_time_s']:.1f}"
    if row["wall_time_s"] is not None and row.get("cpu_time_s") is not None:  # peers and old runs have none
        wall += f" ({row['cpu_time_s']:.1f} CPU)"
    steps = "–" if row["steps"] is None else f"{row['steps']:.0f}"
    library = row["library"] + (" (quoted)" if row.get("quoted") else "")
    return [library, row["optimizer"] or "–", row["constraints"] or "–", fmt_mean(row), fmt(row["rel_l2_best"]),
            fmt(row["max_abs_error"]), fmt(row["constraint_violation"]), wall, steps, status_text(row)]


def reference_text(problem: dict[str, Any]) -> str:
    ref = problem["reference"]
    if ref is None:
        return "no reference: errors are not measured"
    err = "unknown" if ref["error"] is None else fmt(ref["error"], 1)
    return f"{ref['source']}; reference error {err}" + (f" ({ref['note']})" if ref["note"] else "")


def summary_rows(doc: dict[str, Any]) -> list[list[str]]:
    """Per problem: reference error, best physopt group, each peer library's mean."""
    out = []
    for name, problem in doc["problems"].items():
        scored = [r for r in sorted_rows(problem) if r["library"] == "physopt" and r["rel_l2_mean"] is not None]
        best = scored[0] if scored else None
        ref = problem["reference"]
        peers = "; ".join(f"{r['library']}{' (quoted)' if r.get('quoted') else ''} {fmt_mean(r)}"
                          for r in problem["peers"]) or "–"
        out.append([name, "–" if ref is None else fmt(ref["error"], 1),
                    "–" if best is None else f"{fmt_mean(best)} ({best['optimizer']}, {best['constraints']})",
                    "–" if best is None or best["wall_time_s"] is None else f"{best['wall_time_s']:.1f}", peers])
    return out


def _table(header: list[str] | tuple[str, ...], rows: list[list[str]]) -> list[str]:
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(esc(c) for c in r) + " |" for r in rows
    ]


def updates_text(doc: dict[str, Any]) -> str:
    """Which problems' cells were rerun later, by what and when (``physopt.bench`` merge); "" if none."""
    return " ".join(f"Rerun later for {', '.join(u['problems'])}: `{u['command']}` on {u['created']}."
                    for u in doc.get("updates", []))


def settings_text(doc: dict[str, Any]) -> str:
    """One paragraph: what a cell is and how it is scored."""
    s = doc["settings"]
    unit = "CPU s (process time)" if s.get("clock") == "cpu" else "s"
    budget = "no time budget" if s["time_budget"] is None else f"a time budget of {s['time_budget']:g} {unit}"
    return (
        f"Each cell is one `physopt solve` run with {budget}"
        + (", the problem's own step count" if s["steps"] is None else f", at most {s['steps']} steps")
        + f", {s['threads']} torch thread(s), {s['jobs']} cell(s) at a time"
        + (f", `--set {' '.join(s['overrides'])}`" if s["overrides"] else "") + ". "
        "Score: relative L2 error of the final model on the problem's reference grid, mean ± sample "
        "std over seeds; diverged, failed and n/a cells are counted in the last column, not averaged. "
        "Constraint violation: largest RMS boundary/initial residual. Wall time: the run's own "
        "training clock (periodic error evaluations included; process start-up and the final report not)."
    )


def render_markdown(doc: dict[str, Any]) -> str:
    """``leaderboard.md``: header (command, settings, scoring), a summary, one table per problem."""
    lines = [
        "# physopt leaderboard", "",
        f"Made by `{doc['command']}` on {doc['created']} ({doc['machine']}).", "", settings_text(doc),
    ]
    lines += ["", u] if (u := updates_text(doc)) else []
    if doc.get("note"):
        lines += ["", doc["note"]]
    lines += ["", "## Summary", ""]
    lines += _table(["problem", "reference error", "best physopt rel. L2 (optimizer, constraints)",
                     "its wall time [s]", "peer libraries"], summary_rows(doc))
    for name, problem in doc["problems"].items():
        lines += ["", f"## {name}", "", problem["description"], "", "Reference: " + reference_text(problem), ""]
        lines += _table(COLUMNS, [row_cells(r) for r in sorted_rows(problem)])
        peer_cmds = [r for r in problem["peers"] if r["command"]]
        if peer_cmds:
            lines += [""] + [f"{r['library']} command: `{r['command']}`" for r in peer_cmds]
        lines += [f"{r['library']} (quoted, not run here): {r['quoted']}" for r in problem["peers"] if r.get("quoted")]
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in doc["versions"].items()), ""]
    return "\n".join(lines)
