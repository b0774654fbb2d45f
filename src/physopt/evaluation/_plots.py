"""PNG figures for a report. Uses matplotlib's object API (no pyplot global state)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["plot_operator_samples", "plot_solution", "plot_training"]


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def plot_solution(
    *,
    points: np.ndarray,
    reference: np.ndarray,
    prediction: np.ndarray,
    grid_shape: Sequence[int] | None,
    input_names: Sequence[str],
    output_name: str,
    path: Path,
) -> Path | None:
    """Reference, prediction and absolute error side by side; ``None`` if not drawable in 2-D."""
    if points.shape[1] != 2:
        return None
    err = np.abs(prediction - reference)
    fig = Figure(figsize=(16, 4))
    axes = fig.subplots(1, 3, gridspec_kw={"wspace": 0.35})
    vmin, vmax = float(reference.min()), float(reference.max())
    panels = [("reference", reference, vmin, vmax, "RdBu_r"), ("prediction", prediction, vmin, vmax, "RdBu_r"),
              ("absolute error", err, 0.0, float(err.max()) or 1.0, "viridis")]
    for ax, (title, values, lo, hi, cmap) in zip(axes, panels, strict=True):
        if grid_shape is not None and len(grid_shape) == 2:
            a = points[:, 0].reshape(grid_shape)
            b = points[:, 1].reshape(grid_shape)
            im = ax.pcolormesh(b, a, values.reshape(grid_shape), vmin=lo, vmax=hi, cmap=cmap, shading="auto")
            ax.set_xlabel(input_names[1])
            ax.set_ylabel(input_names[0])
        else:
            im = ax.tripcolor(points[:, 0], points[:, 1], values, vmin=lo, vmax=hi, cmap=cmap, shading="gouraud")
            ax.set_xlabel(input_names[0])
            ax.set_ylabel(input_names[1])
            ax.set_aspect("equal")
        ax.set_title(f"{output_name}: {title}")
        fig.colorbar(im, ax=ax)
    return _save(fig, path)


def plot_training(history: Sequence[dict[str, Any]], path: Path) -> Path | None:
    """Loss terms and error against step and against wall time; with constraint roles, the
    multipliers and penalties per condition, and the max violation of every non-PDE condition."""
    if not history:
        return None
    duals = sorted({k for h in history for k in h if k.startswith("multiplier/")})
    viol = sorted({k for h in history for k in h if k.startswith("violation/")})
    n = 3 + bool(duals) + bool(viol)
    fig = Figure(figsize=(4.3 * n, 4.2))
    axes = fig.subplots(1, n)
    ax_loss, ax_err, ax_time = axes[:3]
    if viol:
        ax_viol = axes[-1]
        for k in viol:
            pts = [(h["step"], h[k]) for h in history if h.get(k) is not None and h[k] > 0]
            if pts:
                ax_viol.semilogy(*zip(*pts, strict=True), label=k.split("/", 1)[1])
        ax_viol.set_xlabel("step")
        ax_viol.set_title("constraint violation (max |r|, training points)")
        ax_viol.legend(fontsize=8)
        ax_viol.grid(True, which="both", alpha=0.3)
    if duals:
        ax_dual = axes[3]
        # Pointwise multipliers average out (mean ~ 0), so the scale max |λ| is drawn on a log axis
        # with the penalty ρ beside it.
        for i, k in enumerate(duals):
            name = k.split("/", 1)[1]
            color = f"C{i}"
            for key, ls, label in ((f"multiplier_max/{name}", "-", f"max |λ| {name}"),
                                   (k, ":", f"|mean λ| {name}"), (f"penalty/{name}", "--", f"ρ {name}")):
                pts = [(h["step"], abs(h[key])) for h in history if h.get(key) is not None and h[key] != 0]
                if pts:
                    ax_dual.semilogy(*zip(*pts, strict=True), ls=ls, color=color, label=label)
        ax_dual.set_xlabel("step")
        ax_dual.set_title("multipliers and penalties")
        ax_dual.legend(fontsize=8)
        ax_dual.grid(True, alpha=0.3)
    keys = ["loss"] + sorted({k for h in history for k in h if k.startswith("loss/")})
    for k in keys:
        pts = [(h["step"], h[k]) for h in history if k in h and h[k] is not None and h[k] > 0]
        if pts:
            s, v = zip(*pts, strict=True)
            ax_loss.semilogy(s, v, label=k, lw=1.4 if k == "loss" else 0.9)
    ax_loss.set_xlabel("step")
    ax_loss.set_title("training loss")
    ax_loss.legend(fontsize=8)
    evals = [h for h in history if "rel_l2" in h]
    if evals:
        ax_err.semilogy([h["step"] for h in evals], [h["rel_l2"] for h in evals], "o-", ms=2.5)
        ax_time.semilogy([h["wall_time_s"] for h in evals], [h["rel_l2"] for h in evals], "o-", ms=2.5)
    # Mark optimizer switches so phase effects are visible: the switch happened after the last
    # record of the previous optimizer.
    for a, b in zip(history[:-1], history[1:], strict=False):
        if a.get("optimizer") != b.get("optimizer"):
            for ax in (ax_loss, ax_err):
                ax.axvline(a["step"], color="gray", ls=":", lw=1)
            ax_err.text(a["step"], ax_err.get_ylim()[1] if evals else 1, f" {b['optimizer']}", fontsize=7, va="top")
    ax_err.set_xlabel("step")
    ax_err.set_title("relative L2 error vs step")
    ax_time.set_xlabel("wall time [s]")
    ax_time.set_title("relative L2 error vs time")
    for ax in (ax_loss, ax_err, ax_time):
        ax.grid(True, which="both", alpha=0.3)
    return _save(fig, path)


def plot_operator_samples(*, inputs: np.ndarray, truth: np.ndarray, prediction: np.ndarray, labels: Sequence[str],
                          path: Path) -> Path | None:
    """One row per test sample: input, truth, prediction and error (first channel of each; a 3-D
    grid is cut through its middle along the first axis). ``labels`` title the rows."""
    if len(inputs) == 0:
        return None

    def cut(a: np.ndarray) -> np.ndarray:
        return a[a.shape[0] // 2] if a.ndim == 3 else a

    rows = len(inputs)
    fig = Figure(figsize=(16, 3.4 * rows))
    axes = np.asarray(fig.subplots(rows, 4, squeeze=False, gridspec_kw={"wspace": 0.3, "hspace": 0.4}))
    for r in range(rows):
        a, y, p = cut(inputs[r, 0]), cut(truth[r, 0]), cut(prediction[r, 0])
        panels = [("input", a), ("truth", y), ("prediction", p), ("error", p - y)]
        for c, (title, values) in enumerate(panels):
            ax = axes[r, c]
            if values.ndim == 1:
                x = np.linspace(0.0, 1.0, values.shape[0])
                if title == "prediction":
                    ax.plot(x, y, color="0.6", lw=3, label="truth")
                ax.plot(x, values, color="C3" if title == "error" else "C0", label=title)
                ax.grid(True, alpha=0.3)
                if title == "prediction":
                    ax.legend(fontsize=8)
            else:
                lim = (float(y.min()), float(y.max())) if title in ("truth", "prediction") else (None, None)
                cmap = "RdBu_r" if title == "error" else "viridis"
                im = ax.imshow(values.T, origin="lower", extent=(0, 1, 0, 1), vmin=lim[0], vmax=lim[1], cmap=cmap)
                fig.colorbar(im, ax=ax)
            ax.set_title(f"{labels[r]}: {title}", fontsize=9)
    return _save(fig, path)
