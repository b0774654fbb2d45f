"""Optimizer phases of a run and the record of each change between them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["SCHEDULES", "Phase", "PhaseSwitch", "SwitchReason"]

# Learning-rate schedules of a Phase (pure functions of the step, see Phase).
SCHEDULES = ("constant", "exp", "cosine", "step")


class SwitchReason(StrEnum):
    """Why a phase ended and the next one began."""

    STEPS = "steps"  # the phase ran its ``steps``
    BUDGET_FRACTION = "budget fraction"  # ``budget_fraction`` of the time budget was spent
    OPTIMIZER_STOPPED = "optimizer stopped"  # a closure optimizer finished on its own


@dataclass(frozen=True)
class PhaseSwitch:
    """One phase change of a run: at ``step`` (the first step of the new phase), after
    ``wall_time_s`` / ``cpu_time_s`` seconds of training, from optimizer ``left`` to ``entered``."""

    step: int
    wall_time_s: float
    cpu_time_s: float
    left: str
    entered: str
    reason: SwitchReason

    def describe(self, time_budget: float | None, budget_clock: str, fraction: float) -> str:
        """One line for the report, e.g. ``adam → ssbroyden at step 412 (11.3 CPU s): 0.25 of the 45 CPU s budget``."""
        unit = "CPU s" if budget_clock == "cpu" else "s"
        spent = self.cpu_time_s if budget_clock == "cpu" else self.wall_time_s
        why = {SwitchReason.STEPS: "the phase's steps were done",
               SwitchReason.BUDGET_FRACTION: f"{fraction:g} of the {time_budget or 0:g} {unit} budget",
               SwitchReason.OPTIMIZER_STOPPED: f"{self.left} stopped"}[self.reason]
        return f"{self.left} → {self.entered} at step {self.step} ({spent:.1f} {unit}): {why}"


@dataclass(frozen=True)
class Phase:
    """One optimizer applied for ``steps`` steps (``None``: until the run ends).

    ``schedule`` is a pure function of the step ``k`` within the phase, so resuming needs no
    scheduler state: ``"constant"``; ``"exp"``: lr · ``decay`` ** (k / 1000); ``"cosine"``:
    lr · (1 + cos(π k / steps)) / 2 (torch's ``CosineAnnealingLR`` with ``T_max = steps``,
    ``eta_min = 0``, stepped every step); ``"step"``: lr · ``decay`` ** ⌊k / ``period``⌋ (torch's
    ``StepLR`` with ``step_size = period``, ``gamma = decay``). ``sizes`` limits
    conditions to the first ``n`` points of their batch during this phase (a cheap warm-up on a
    prefix of the training set: a Sobol prefix is itself evenly spread). Under a time budget,
    ``budget_fraction`` also ends the phase once that fraction of the run's budget is spent
    (whichever of ``steps`` and the fraction comes first), so a short budget still leaves the
    next phase its share.
    """

    optimizer: str
    steps: int | None
    lr: float
    options: Mapping[str, Any] = field(default_factory=dict)
    schedule: str = "constant"
    decay: float = 1.0
    sizes: Mapping[str, int] = field(default_factory=dict)
    period: int = 0
    budget_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.budget_fraction < 1.0:
            raise ValueError(f"budget_fraction must be in [0, 1), got {self.budget_fraction!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown lr schedule {self.schedule!r}; choose from {', '.join(SCHEDULES)}")
        if self.schedule == "cosine" and not self.steps:
            raise ValueError("the cosine schedule needs a phase with a number of steps")
        if self.schedule == "step" and (not isinstance(self.period, int) or self.period < 1):
            raise ValueError(f"the step schedule needs a period >= 1 step, got {self.period!r}")

    def lr_at(self, k: int) -> float:
        if self.schedule == "exp":
            return self.lr * self.decay ** (k / 1000)
        if self.schedule == "cosine":
            assert self.steps is not None
            return self.lr * (1 + math.cos(math.pi * min(k, self.steps) / self.steps)) / 2
        if self.schedule == "step":
            return self.lr * self.decay ** (k // self.period)
        return self.lr
