"""``leaderboard.html``: one self-contained page (inline CSS, plots as base64 PNG, no external
assets) and the PNG plots themselves: relative L2 error against training time per problem, and a
bar chart of the mean error of every (problem, optimizer, constraints) group and peer library."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._leaderboard import COLUMNS, reference_text, row_cells, settings_text, sorted_rows, summary_rows, updates_text

__all__ = ["plot_bars", "plot_error_vs_time", "render_html"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;
padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#f4f4f4}td:nth-child(-n+3){text-align:left}td:last-child{text-align:left;max-width:28em}
tr.peer td{background:#fff8e6}code{background:#f4f4f4;padding:1px 3px;font-size:12px}
img{max-width:100%}.note{color:#555}
"""
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f"]


def _png(fig: Figure, path: Path | None) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    data = buf.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data


def plot_error_vs_time(name: str, problem: dict[str, Any], cells: list[dict[str, Any]]) -> Figure | None:
    """Every seed's error curve, one colour per (optimizer, constraints); peers as crosses."""
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.subplots()
    drawn = False
    groups = [(r["optimizer"], r["constraints"]) for r in sorted_rows(problem) if r["library"] == "physopt"]
    for i, (opt, cons) in enumerate(groups):
        color, label = _COLORS[i % len(_COLORS)], f"{opt}, {cons}"
        for rec in (c for c in cells if c["problem"] == name and (c["optimizer"], c["constraints"]) == (opt, cons)):
            pts = [(t, e) for t, e in rec["curve"] if e > 0]
            if pts:
                ax.semilogy(*zip(*pts, strict=True), "o-", ms=2, lw=1, color=color, label=label)
                label, drawn = "_nolegend_", True
    for j, row in enumerate(problem["peers"]):
        pts = [(float(r["wall_time_s"]), float(r["rel_l2"])) for r in problem["peer_records"]
               if r["library"] == row["library"] and r["rel_l2"] and r["wall_time_s"] is not None]
        if pts:
            ax.semilogy(*zip(*pts, strict=True), "x", ms=8, mew=2, color=_COLORS[-1 - j % 3], label=row["library"])
            drawn = True
    if not drawn:
        return None
    ax.set_xlabel("training wall time [s]")
    ax.set_ylabel("relative L2 error")
    ax.set_title(name)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_bars(doc: dict[str, Any]) -> Figure | None:
    """Horizontal bars (log scale): mean relative L2 ± std per group; peer libraries in orange."""
    rows = [r for p in doc["problems"].values() for r in sorted_rows(p) if r["rel_l2_mean"] is not None
            and r["rel_l2_mean"] > 0]
    if not rows:
        return None
    fig = Figure(figsize=(8, 0.8 + 0.26 * len(rows)))
    ax = fig.subplots()
    y = list(range(len(rows)))[::-1]
    means = [r["rel_l2_mean"] for r in rows]
    # Log axis: clip the lower whisker at a tenth of the mean so mean - std <= 0 stays drawable.
    lower = [min(r["rel_l2_std"] or 0.0, 0.9 * r["rel_l2_mean"]) for r in rows]
    upper = [r["rel_l2_std"] or 0.0 for r in rows]
    colors = ["#1f77b4" if r["library"] == "physopt" else "#ff7f0e" for r in rows]
    ax.barh(y, means, xerr=[lower, upper], color=colors, capsize=2, height=0.7)
    labels = [f"{r['problem']} · {r['optimizer']}, {r['constraints']}" if r["library"] == "physopt"
              else f"{r['problem']} · {r['library']}" for r in rows]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("relative L2 error (mean ± std over seeds)")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    return fig


def _img(data: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _table(header: tuple[str, ...] | list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        f'<tr class="{(classes or [""] * len(rows))[i]}">' + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
        for i, r in enumerate(rows)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(doc: dict[str, Any], plots: Path | None = None) -> str:
    """The page; PNGs are also written into ``plots`` when given (``rel_l2.png``, ``time_<problem>.png``)."""
    if plots is not None:
        plots.mkdir(parents=True, exist_ok=True)
    parts = [f"<h1>physopt leaderboard</h1><p>Made by <code>{html.escape(doc['command'])}</code> on "
             f"{html.escape(doc['created'])} ({html.escape(doc['machine'])}).</p>",
             f'<p class="note">{html.escape(settings_text(doc))}</p>']
    if updates_text(doc):
        parts.append(f'<p class="note">{html.escape(updates_text(doc))}</p>')
    if doc.get("note"):
        parts.append(f'<p class="note">{html.escape(doc["note"])}</p>')
    parts.append("<h2>Summary</h2>" + _table(["problem", "reference error", "best physopt rel. L2 (optimizer, "
                                                "constraints)", "its wall time [s]", "peer libraries"],
                                               summary_rows(doc)))
    bars = plot_bars(doc)
    if bars is not None:
        parts.append(_img(_png(bars, None if plots is None else plots / "rel_l2.png"), "relative L2 per group"))
    for name, problem in doc["problems"].items():
        rows = sorted_rows(problem)
        parts.append(f'<h2 id="{html.escape(name)}">{html.escape(name)}</h2><p>{html.escape(problem["description"])}'
                     f"<br>Reference: {html.escape(reference_text(problem))}</p>")
        parts.append(_table(COLUMNS, [row_cells(r) for r in rows],
                            ["" if r["library"] == "physopt" else "peer" for r in rows]))
        for r in problem["peers"]:
            if r.get("quoted"):
                parts.append(f"<p class=note>{html.escape(r['library'])} (quoted, not run here): "
                             f"{html.escape(r['quoted'])}</p>")
            elif r["command"]:
                parts.append(f"<p class=note>{html.escape(r['library'])} command: "
                             f"<code>{html.escape(r['command'])}</code></p>")
        fig = plot_error_vs_time(name, problem, doc["cells"])
        if fig is not None:
            slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
            parts.append(_img(_png(fig, None if plots is None else plots / f"time_{slug}.png"),
                              f"{name} error vs time"))
    versions = ", ".join(f"{k} {v}" for k, v in doc["versions"].items())
    parts.append(f'<p class="note">Versions: {html.escape(versions)}</p>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>physopt leaderboard</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
