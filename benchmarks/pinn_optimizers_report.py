"""Tables and plots for benchmarks/pinn_optimizers.py (results.jsonl → table.md, one PNG per problem)."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np


def _fmt(values: list[float]) -> str:
    good = [v for v in values if math.isfinite(v)]
    if not good:
        return "diverged"
    gm = math.exp(statistics.fmean(math.log(v) for v in good))
    spread = f" [{min(good):.1e}, {max(good):.1e}]" if len(good) > 1 else ""
    bad = f", {len(values) - len(good)} failed" if len(good) < len(values) else ""
    return f"{gm:.2e}{spread}{bad}"


def _pilot(records: list[dict[str, Any]]) -> str:
    by: dict[str, dict[float, float]] = defaultdict(dict)
    for r in records:
        by[r["optimizer"]][r.get("lr_scale", 1.0)] = r["rel_l2"]
    lines = ["| optimizer | lr×0.1 | lr×1 | lr×10 | best |", "|---|---|---|---|---|"]
    for name, row in sorted(by.items()):
        finite = {k: v for k, v in row.items() if math.isfinite(v)}
        best = min(finite, key=finite.get) if finite else None
        cells = [f"{row[s]:.2e}" if s in row and math.isfinite(row[s]) else "nan" for s in (0.1, 1.0, 10.0)]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | ×{best:g} |" if best else f"| {name} | " +
                     " | ".join(cells) + " | – |")
    return "\n".join(lines)


def _curve_on_grid(curves: list[list[list[float]]], grid: np.ndarray) -> np.ndarray:
    """Geometric mean over seeds of the best-so-far error, step-interpolated onto ``grid``."""
    rows = []
    for curve in curves:
        if not curve:
            continue
        t = np.array([c[0] for c in curve])
        e = np.array([c[2] if math.isfinite(c[2]) else np.inf for c in curve])
        e = np.minimum.accumulate(e)
        idx = np.searchsorted(t, grid, side="right") - 1
        rows.append(np.where(idx >= 0, e[np.clip(idx, 0, None)], np.nan))
    if not rows:
        return np.full_like(grid, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(np.nanmean(np.log(np.array(rows)), axis=0))


def report(records: list[dict[str, Any]], out: Path, *, pilot: bool = False) -> None:
    if pilot:
        text = _pilot([r for r in records if r["problem"] == "burgers"])
        print(text)
        (out / "pilot.md").write_text(text + "\n")
        return
    groups: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r.get("lr_scale", 1.0) == 1.0:
            groups[r["problem"]][r["optimizer"]].append(r)
    parts = []
    for problem, rows in groups.items():
        budget = max(r.get("budget_cpu_s", 0) for rs in rows.values() for r in rs)
        ranked = sorted(rows.items(), key=lambda kv: _key(kv[1]))
        lines = [f"### {problem} (budget {budget:g} CPU s per run, one thread)", "",
                 "| rank | optimizer | rel. L2 at budget (geo. mean [min, max]) | seeds | steps (median) |",
                 "|---|---|---|---|---|"]
        for i, (name, rs) in enumerate(ranked, 1):
            steps = statistics.median(r.get("steps", 0) for r in rs)
            lines.append(f"| {i} | {name} | {_fmt([r['rel_l2'] for r in rs])} | {len(rs)} | {steps:.0f} |")
        parts.append("\n".join(lines))
        _plot(problem, rows, budget, out / f"pinn_optimizers_{problem}.png")
    text = "\n\n".join(parts)
    print(text)
    (out / "table.md").write_text(text + "\n")


def _key(rs: list[dict[str, Any]]) -> float:
    good = [r["rel_l2"] for r in rs if math.isfinite(r["rel_l2"])]
    if not good:
        return math.inf
    return statistics.fmean(math.log(v) for v in good) + 100 * (len(rs) - len(good))


def _plot(problem: str, rows: dict[str, list[dict[str, Any]]], budget: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(0, budget, 200)
    fig, ax = plt.subplots(figsize=(9, 5.5))
    styles = ["-", "--", ":", "-."]
    for i, (name, rs) in enumerate(sorted(rows.items(), key=lambda kv: _key(kv[1]))):
        y = _curve_on_grid([r.get("curve", []) for r in rs], grid)
        ax.semilogy(grid, y, styles[(i // 10) % 4], label=name, lw=1.6 if i < 5 else 1.0)
    ax.set_xlabel("CPU time (s, one thread, evaluations excluded)")
    ax.set_ylabel("relative L2 error (best so far, geometric mean over seeds)")
    ax.set_title(f"{problem}: every optimizer at the same CPU budget")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
