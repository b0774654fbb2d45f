"""Optimizer phases of a run and the record of each change between them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["SCHEDULES", "Phase", "PhaseSwitch", "SwitchReason", "on_plateau"]

# Learning-rate schedules of a Phase (pure functions of the step, see Phase).
SCHEDULES = ("constant", "exp", "cosine", "step")


class SwitchReason(StrEnum):
    """Why a phase ended and the next one began."""

    STEPS = "steps"  # the phase ran its ``steps``
    BUDGET_FRACTION = "budget fraction"  # ``budget_fraction`` of the time budget was spent
    OPTIMIZER_STOPPED = "optimizer stopped"  # a closure optimizer finished on its own
    PLATEAU = "plateau"  # the phase's loss stopped improving (``plateau``, :func:`on_plateau`)


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
               SwitchReason.OPTIMIZER_STOPPED: f"{self.left} stopped",
               SwitchReason.PLATEAU: f"{self.left}'s loss stopped improving"}[self.reason]
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
    next phase its share. ``plateau`` > 0 also ends the phase once its loss stops improving
    (:func:`on_plateau` with window ``plateau`` steps and relative drop ``plateau_drop``, tested at
    the logged steps), whichever comes first.
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
    plateau: int = 0
    plateau_drop: float = 0.1

    def __post_init__(self) -> None:
        if not isinstance(self.plateau, int) or self.plateau < 0:
            raise ValueError(f"plateau must be a number of steps >= 0 (0 = off), got {self.plateau!r}")
        if not 0.0 < self.plateau_drop < 1.0:
            raise ValueError(f"plateau_drop must be in (0, 1), got {self.plateau_drop!r}")
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


def on_plateau(history: Sequence[Mapping[str, Any]], *, start: int, step: int, window: int, drop: float) -> bool:
    """Whether a phase that began at step ``start`` has stopped improving by step ``step``.

    With ``L`` the logged losses of the phase (records with ``start < record step <= step``):
    plateau when ``min L over the last window steps > (1 - drop) · min L before them``, i.e. the
    best loss of the last ``window`` steps is not ``drop`` (relative) below the best before. Needs
    ``step - start >= 2 window`` (a first window to compare against); ``min`` makes the test
    indifferent to the ups and downs of a first-order optimizer's loss. A pure function of the
    history, so a resumed run switches at the same step as the uninterrupted one.
    """
    if step - start < 2 * window:
        return False
    recent, before = math.inf, math.inf
    for r in reversed(history):
        k = r["step"]
        if k <= start:
            break
        loss = r.get("loss")
        if k > step or loss is None:
            continue
        if k > step - window:
            recent = min(recent, loss)
        else:
            before = min(before, loss)
    return recent < math.inf and before < math.inf and recent > (1.0 - drop) * before
