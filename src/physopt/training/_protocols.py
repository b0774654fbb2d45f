"""What the :class:`~physopt.training.Trainer` consumes: a source of batches and a loss.

Today's implementations are the collocation :class:`~physopt.training.Sampler` and the PINN
:class:`~physopt.training.Objective`; an operator run brings a dataset loader and a data/physics
loss with the same methods, and the trainer (steps, phases, optimizers, checkpoints, budgets,
divergence checks) stays as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import torch

from ..problems import Points
from ._dataset import Pairs

__all__ = ["Batch", "BatchSource", "Loss"]

# One training batch: the points of every trained condition by condition name (collocation runs),
# or ``{"data": Pairs}`` (operator runs, ``_dataset.py``).
Batch = Mapping[str, "Points | Pairs"]
Model = Callable[[torch.Tensor], torch.Tensor]


@runtime_checkable
class BatchSource(Protocol):
    """Where batches come from. ``batch(step)`` is called once per step; ``drawn_at`` is the step
    of the latest fresh draw (a closure optimizer's cached evaluation is stale after one);
    ``adapt`` lets residual-based samplers move their points (a no-op elsewhere); ``prefix`` is a
    phase's warm-up subset of a batch (``Phase.sizes``); the state dict holds whatever a resumed run
    needs to draw exactly the same batches."""

    @property
    def drawn_at(self) -> int: ...

    def batch(self, step: int) -> Batch: ...

    def adapt(self, step: int, residual: Callable[[str, Points], torch.Tensor]) -> None: ...

    def prefix(self, batch: Batch, sizes: Mapping[str, int]) -> Batch: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class Loss(Protocol):
    """Loss terms of a model on a batch, combined by role.

    ``terms`` returns ``({term: scalar}, {constraint: residual})``; ``loss`` combines them (and
    makes the one dual update of a step when there are multipliers); ``lagrangian`` combines with
    the multipliers held fixed and ``update_duals`` makes that update (for optimizers that
    evaluate several times per step). ``varies_per_step`` says the function itself changes every
    step (causal weights), so cached evaluations must be dropped; ``has_duals`` that there are
    multipliers. ``residual_vector`` / ``residual_blocks`` serve least-squares optimizers.
    """

    @property
    def varies_per_step(self) -> bool: ...

    @property
    def has_duals(self) -> bool: ...

    def terms(self, model: Model, batch: Batch, params: Mapping[str, torch.Tensor]
              ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]: ...

    def loss(self, squares: Mapping[str, torch.Tensor], residuals: Mapping[str, torch.Tensor]) -> torch.Tensor: ...

    def lagrangian(self, squares: Mapping[str, torch.Tensor], residuals: Mapping[str, torch.Tensor]
                   ) -> torch.Tensor: ...

    def update_duals(self, residuals: Mapping[str, torch.Tensor]) -> None: ...

    def residual(self, name: str, model: Model, points: Points, params: Mapping[str, torch.Tensor]
                 ) -> torch.Tensor: ...

    def residual_vector(self, model: Model, batch: Batch, params: Mapping[str, torch.Tensor]
                        ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...

    def residual_blocks(self, model: Model, batch: Batch, params: Mapping[str, torch.Tensor], max_points: int
                        ) -> list[Callable[[], torch.Tensor]]: ...

    def end_step(self) -> None: ...

    def stats(self) -> dict[str, torch.Tensor]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...
