"""The ``[physics]`` table of operator runs: PINO's physics loss and LordNet's data-free training.

``physics.weight > 0`` adds the family's discretised PDE residual (``FamilySpec.residual``) to the
loss; ``physics.data = false`` drops the data term, so no label is read and the output
normalisation does not use the labels either (LordNet's data-free training). Any family that
declares a residual supports it; nothing here knows a family by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..operators import FAMILIES, OperatorData, family_options
from ..training import OperatorLoss, PhysicsOperatorLoss
from ._schema import ConfigError

__all__ = ["PhysicsConfig", "operator_loss", "uses_labels"]


@dataclass(frozen=True)
class PhysicsConfig:
    """``weight``: the physics term's weight (0: no physics term); ``data``: keep the data term
    (false: physics only, data-free); ``norm``: ``relative`` (``‖R‖ / ‖b‖`` per sample),
    ``preconditioned`` (``‖P R‖ / ‖P b‖``) or ``msr`` (the mean squared residual row, LordNet's loss).
    See :mod:`physopt.training._physics_loss`."""

    weight: float = 0.0
    data: bool = True
    norm: str = "relative"


def uses_labels(physics: PhysicsConfig) -> bool:
    """Whether training reads the solver's outputs (the data term, and the output normalisation)."""
    return physics.data


def operator_loss(*, source: str, family: dict, loss: str, physics: PhysicsConfig, train: OperatorData) -> OperatorLoss:
    """The run's loss: the data loss alone, or with (or replaced by) the family's physics term.

    The residual is tried once on the first training input (with a zero prediction: no label is read),
    so a family whose options rule it out (``burgers-1d`` without ``trajectory``) fails at build."""
    if physics.weight == 0:
        if not physics.data:
            raise ConfigError("physics.data = false needs physics.weight > 0 (otherwise nothing is trained)")
        return OperatorLoss(kind=loss, periodic=train.periodic)
    spec = FAMILIES.get(source)
    if spec is None:
        raise ConfigError(f"physics.weight > 0 needs a PDE family whose residual is known; {source!r} is not one "
                          "(physopt list families)")
    if spec.residual is None:
        raise ConfigError(f"family {source!r} declares no discretised residual: physics.weight must be 0")
    options = family_options(source, family)
    residual = spec.residual

    def bound(inputs: torch.Tensor, outputs: torch.Tensor):  # the family's options fixed
        return residual(options, inputs, outputs)

    try:
        made = PhysicsOperatorLoss(kind=loss, periodic=train.periodic, residual=bound, weight=physics.weight,
                                   data=physics.data, norm=physics.norm)
        probe = torch.from_numpy(train.inputs[:1])
        bound(probe, torch.zeros((1, *train.outputs.shape[1:]), dtype=probe.dtype))
    except ValueError as err:
        raise ConfigError(f"physics: {err}") from None
    return made
