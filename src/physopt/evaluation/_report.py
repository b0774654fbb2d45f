"""The report of a run: one value, rendered as JSON, Markdown and PNG plots."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..training import PhaseSwitch, SwitchReason
from ._inverse import DataMisfit, FieldResult, UnknownResult, inverse_markdown

__all__ = ["Report", "versions"]

# Keys that must be present in report.json (DESIGN.md public contract).
REQUIRED_KEYS = (
    "problem", "optimizer", "constraints", "steps", "wall_time_s", "rel_l2", "max_abs_error",
    "constraint_violation", "status", "versions",
)


def versions() -> dict[str, str]:
    import torch

    from .. import __version__

    return {
        "physopt": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


@dataclass(frozen=True)
class Report:
    """Everything a reader needs about a run.

    ``rel_l2`` / ``max_abs_error`` (and ``l1_rel``, ``mse``, ``nrmse``: the metrics of PINNacle's
    and PDEBench's tables) are measured against the problem's reference on its evaluation set
    (``None`` without a reference). ``constraint_violation`` is the RMS residual of every
    boundary/initial/data condition on a fixed evaluation sample; ``residual_rms`` covers all
    conditions including the PDE residual. ``multipliers`` holds the final mean multiplier and
    penalty of each constrained condition (``lagrangian``/``alm`` runs); ``trainable`` the final
    values of the problem's trainable scalars (e.g. an eigenvalue). ``roles`` is the role of
    every condition (``penalty``, ``hard``, ``lagrangian``, ``alm``); ``violations`` gives, per
    non-PDE condition, ``train_max`` / ``train_rms`` (max and RMS residual on the training points
    at the final model) and ``eval_max`` / ``eval_rms`` (the same on the fixed evaluation sample).
    Inverse problems add ``unknowns`` (each unknown's final value, truth, relative error and
    parametrisation: :class:`UnknownResult`) and ``data_misfit`` (RMS misfit of each ``Data``
    condition against its noise level: :class:`DataMisfit`) and ``fields`` (each unknown field's
    relative L2 error against its truth on the reference points: :class:`FieldResult`).
    ``switches`` lists every change of optimizer phase with its step, time and reason
    (:class:`~physopt.training.PhaseSwitch`; e.g. a switch at a fraction of the time budget).
    """

    problem: str
    optimizer: str
    constraints: str
    steps: int
    wall_time_s: float
    rel_l2: float | None
    max_abs_error: float | None
    constraint_violation: dict[str, float]
    residual_rms: dict[str, float]
    status: str
    message: str
    seed: int
    dtype: str
    final_loss: float | None
    versions: dict[str, str]
    multipliers: dict[str, float] = field(default_factory=dict)
    trainable: dict[str, float] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    violations: dict[str, dict[str, float]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    plots: list[str] = field(default_factory=list)
    cpu_time_s: float | None = None  # process CPU seconds of training (all threads); None in old reports
    # The metrics of PINNacle's and PDEBench's tables (see evaluation.comparable_metrics); None
    # without a reference, where undefined, and in old reports.
    l1_rel: float | None = None
    mse: float | None = None
    nrmse: float | None = None
    unknowns: dict[str, UnknownResult] = field(default_factory=dict)
    data_misfit: dict[str, DataMisfit] = field(default_factory=dict)
    fields: dict[str, FieldResult] = field(default_factory=dict)
    switches: list[PhaseSwitch] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        known = {f for f in cls.__dataclass_fields__}
        data = {k: v for k, v in data.items() if k in known}
        # Typed nested values come back from their JSON objects (absent in old reports).
        data["unknowns"] = {k: UnknownResult(**v) for k, v in data.get("unknowns", {}).items()}
        data["data_misfit"] = {k: DataMisfit(**v) for k, v in data.get("data_misfit", {}).items()}
        data["fields"] = {k: FieldResult(**v) for k, v in data.get("fields", {}).items()}
        data["switches"] = [PhaseSwitch(**{**w, "reason": SwitchReason(w["reason"])}) for w in data.get("switches", [])]
        return cls(**data)

    def to_markdown(self) -> str:
        def num(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.4e}"

        lines = [
            f"# physopt run: {self.problem}",
            "",
            f"**Status:** {self.status} — {self.message}",
            "",
            "| metric | value |",
            "|---|---|",
            f"| relative L2 error | {num(self.rel_l2)} |",
            f"| max abs error | {num(self.max_abs_error)} |",
            f"| relative L1 error (PINNacle L1RE) | {num(self.l1_rel)} |",
            f"| MSE | {num(self.mse)} |",
            f"| nRMSE (PDEBench) | {num(self.nrmse)} |",
            f"| final loss | {num(self.final_loss)} |",
            f"| steps | {self.steps} |",
            f"| wall time | {self.wall_time_s:.1f} s |",
            *([f"| CPU time | {self.cpu_time_s:.1f} s |"] if self.cpu_time_s is not None else []),
            f"| optimizer | {self.optimizer} |",
            f"| constraints | {self.constraints} |",
            f"| seed / dtype | {self.seed} / {self.dtype} |",
            "",
            "## Residuals per condition (RMS on a fixed evaluation sample)",
            "",
            "| condition | RMS residual | constraint |",
            "|---|---|---|",
        ]
        for k, v in self.residual_rms.items():
            lines.append(f"| {k} | {v:.3e} | {'yes' if k in self.constraint_violation else 'no'} |")
        if self.switches:
            budget = self.config.get("time_budget") or None
            clock = self.config.get("budget_clock", "wall")
            fraction = self.config.get("optim", {}).get("switch_fraction", 0.0)
            lines += ["", "## Optimizer phases", ""]
            lines += [f"* {w.describe(budget, clock, fraction)}" for w in self.switches]
        if self.trainable:
            lines += ["", "## Trained scalars", "", "| name | value |", "|---|---|"]
            lines += [f"| {k} | {v:.10g} |" for k, v in self.trainable.items()]
        lines += inverse_markdown(self.unknowns, self.data_misfit, self.fields)
        if self.violations:
            lines += ["", "## Constraint violation per condition (max / RMS residual)", "",
                      "| condition | role | train max | train RMS | eval max | eval RMS |", "|---|---|---|---|---|---|"]
            lines += [
                f"| {k} | {self.roles.get(k, '')} | "
                + " | ".join(num(v.get(c)) for c in ("train_max", "train_rms", "eval_max", "eval_rms")) + " |"
                for k, v in self.violations.items()
            ]
        if self.multipliers:
            lines += ["", "## Constraints (final mean multiplier and penalty)", "", "| key | value |", "|---|---|"]
            lines += [f"| {k} | {v:.4e} |" for k, v in self.multipliers.items()]
        if self.plots:
            lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in self.plots]
        lines += ["", "## Versions", "", ", ".join(f"{k} {v}" for k, v in self.versions.items()), ""]
        return "\n".join(lines)

    def save(self, directory: str | Path) -> Path:
        """Write ``report.json`` and ``report.md`` into ``directory`` (created if needed)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        (d / "report.json").write_text(self.to_json() + "\n")
        (d / "report.md").write_text(self.to_markdown())
        return d
