"""The report of an operator run (``physopt learn``): test errors per resolution, cost, plots."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["OperatorReport", "TestError"]


@dataclass(frozen=True)
class TestError:
    """Per-sample relative errors on one test set, summarised: ``mean`` and ``worst`` relative L2
    (the field's headline numbers), their ``median``, the mean relative H¹ error, and ``n`` samples."""

    grid: list[int]
    n: int
    mean: float
    median: float
    worst: float
    h1_mean: float
    zero_shot: bool


@dataclass(frozen=True)
class OperatorReport:
    """Everything a reader needs about an operator run.

    ``tests`` maps a test-set label (its grid, ``"32x32"``, or ``"file:<name>"``) to its
    :class:`TestError`; ``rel_l2`` is the mean test relative L2 at the training grid.
    ``inference_s`` is the model's seconds per instance on the training-grid test set (batched,
    no gradients, median of repeats) and ``solver_s`` our solver's seconds per instance for the same
    data (``None`` for users' files); ``epoch_s`` wall seconds per training epoch.
    """

    source: str
    model: str
    optimizer: str
    loss: str
    epochs: int
    steps: int
    status: str
    message: str
    params: int
    n_train: int
    n_val: int
    train_grid: list[int]
    rel_l2: float | None
    tests: dict[str, TestError]
    val_rel_l2: float | None
    final_loss: float | None
    wall_time_s: float
    cpu_time_s: float
    epoch_s: float
    inference_s: float | None
    solver_s: float | None
    seed: int
    dtype: str
    device: str
    versions: dict[str, str]
    config: dict[str, Any] = field(default_factory=dict)
    plots: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OperatorReport:
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        values["tests"] = {k: TestError(**v) for k, v in values.get("tests", {}).items()}
        return cls(**values)

    def to_markdown(self) -> str:
        def num(v: float | None, fmt: str = ".4e") -> str:
            return "n/a" if v is None else format(v, fmt)

        grid = "x".join(map(str, self.train_grid))
        speed = (f"{self.solver_s / self.inference_s:.0f}× faster than our solver"
                 if self.solver_s and self.inference_s else "")
        lines = [
            f"# physopt learn: {self.source} with {self.model}",
            "",
            f"**Status:** {self.status} — {self.message}",
            "",
            "## Test error (per-sample relative error)",
            "",
            "| test set | grid | samples | mean rel. L2 | median | worst | mean rel. H1 |",
            "|---|---|---|---|---|---|---|",
        ]
        for label, t in self.tests.items():
            tag = " (zero-shot)" if t.zero_shot else ""
            lines.append(f"| {label}{tag} | {'x'.join(map(str, t.grid))} | {t.n} | {t.mean:.4e} | {t.median:.4e} | "
                         f"{t.worst:.4e} | {t.h1_mean:.4e} |")
        lines += [
            "",
            "| metric | value |",
            "|---|---|",
            f"| parameters | {self.params:,} |",
            f"| training samples / validation | {self.n_train} / {self.n_val} at {grid} |",
            f"| validation rel. L2 | {num(self.val_rel_l2)} |",
            f"| final training loss ({self.loss}) | {num(self.final_loss)} |",
            f"| epochs / steps | {self.epochs} / {self.steps} |",
            f"| time per epoch | {self.epoch_s:.3f} s |",
            f"| wall / CPU time | {self.wall_time_s:.1f} s / {self.cpu_time_s:.1f} s |",
            f"| inference per instance | {num(self.inference_s, '.3e')} s |",
            f"| our solver per instance | {num(self.solver_s, '.3e')} s {speed} |",
            f"| optimizer | {self.optimizer} |",
            f"| seed / dtype / device | {self.seed} / {self.dtype} / {self.device} |",
        ]
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
