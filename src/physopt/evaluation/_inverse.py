"""What an inverse problem's report adds: the unknowns found, their trajectory, the data misfit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from ._plots import _save

__all__ = ["DataMisfit", "FieldResult", "UnknownResult", "inverse_markdown", "plot_unknowns"]


@dataclass(frozen=True)
class UnknownResult:
    """One unknown scalar at the end of a run.

    ``rel_error`` = |value − truth| / |truth| (``None`` without a truth, or for truth 0);
    ``parametrisation`` says how the optimizer's raw variable ρ maps to θ (e.g. ``θ = 0 + exp(ρ)``).
    """

    value: float
    initial: float
    truth: float | None
    rel_error: float | None
    parametrisation: str

    @classmethod
    def of(cls, *, value: float, initial: float, truth: float | None, parametrisation: str) -> UnknownResult:
        rel = None if truth is None or truth == 0 else abs(value - truth) / abs(truth)
        return cls(value, initial, truth, rel, parametrisation)


@dataclass(frozen=True)
class DataMisfit:
    """RMS of ``u(x_i) − y_i`` over all observations of one ``Data`` condition, against its noise σ.

    ``ratio`` = rms / σ: about 1 when the fit reaches the noise level (the discrepancy principle),
    well below 1 when it fits the noise (over-fitting); ``None`` without a noise level.
    """

    rms: float
    noise: float | None
    ratio: float | None
    observations: int


@dataclass(frozen=True)
class FieldResult:
    """One unknown field a(x) at the end of a run, on the problem's reference points.

    ``rel_l2`` = ‖a − a_true‖₂ / ‖a_true‖₂ over those points (``None`` without a truth);
    ``min`` / ``max`` the range of the learned field there; ``points`` how many.
    """

    rel_l2: float | None
    min: float
    max: float
    points: int
    parametrisation: str


def inverse_markdown(unknowns: dict[str, UnknownResult], misfit: dict[str, DataMisfit],
                     fields: dict[str, FieldResult] | None = None) -> list[str]:
    """The report.md sections of an inverse problem (empty without unknowns and observations)."""
    def num(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.6g}"

    lines: list[str] = []
    if unknowns:
        lines += ["", "## Unknowns", "", "| name | found | truth | rel. error | initial | parametrisation |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {k} | {u.value:.8g} | {num(u.truth)} | {num(u.rel_error)} | {u.initial:.6g} | "
                  f"{u.parametrisation} |" for k, u in unknowns.items()]
    if fields:
        lines += ["", "## Unknown fields (on the reference points)", "",
                  "| name | rel. L2 error | min | max | points | parametrisation |", "|---|---|---|---|---|---|"]
        lines += [f"| {k} | {num(f.rel_l2)} | {f.min:.6g} | {f.max:.6g} | {f.points} | {f.parametrisation} |"
                  for k, f in fields.items()]
    if misfit:
        lines += ["", "## Data misfit (all observations)", "", "| condition | RMS misfit | noise σ | RMS / σ | n |",
                  "|---|---|---|---|---|"]
        lines += [f"| {k} | {m.rms:.4e} | {num(m.noise)} | {num(m.ratio)} | {m.observations} |"
                  for k, m in misfit.items()]
    return lines


def plot_unknowns(history: Sequence[dict[str, Any]], truths: dict[str, float | None], path: Path) -> Path | None:
    """Each unknown against step (its truth dashed), and the relative errors on a log axis."""
    names = sorted({k.split("/", 1)[1] for h in history for k in h if k.startswith("unknown/")})
    if not names:
        return None
    known = [k for k in names if truths.get(k) not in (None, 0)]
    n = len(names) + bool(known)
    fig = Figure(figsize=(4.0 * n, 3.8))
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, name in zip(axes, names, strict=False):
        pts = [(h["step"], h[f"unknown/{name}"]) for h in history if f"unknown/{name}" in h]
        ax.plot(*zip(*pts, strict=True), label="found")
        if truths.get(name) is not None:
            ax.axhline(truths[name], ls="--", color="k", lw=1, label="truth")
        ax.set_xlabel("step")
        ax.set_title(name)
        ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
    if known:
        ax = axes[-1]
        for name in known:
            t = float(truths[name])  # type: ignore[arg-type]
            pts = [(h["step"], abs(h[f"unknown/{name}"] - t) / abs(t)) for h in history if f"unknown/{name}" in h]
            pts = [p for p in pts if p[1] > 0]
            if pts:
                ax.semilogy(*zip(*pts, strict=True), label=name)
        ax.set_xlabel("step")
        ax.set_title("relative error of the unknowns")
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    return _save(fig, path)
