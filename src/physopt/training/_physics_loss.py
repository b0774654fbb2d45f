"""Physics-informed operator losses (PINO, LordNet): the family's discretised PDE residual of the prediction.

For a batch of inputs ``a`` and predictions ``u = model(a)`` the loss is

    L = [data] · mean_b e(u_b, y_b) + weight · mean_b ρ(R(a_b, u_b)),

``e`` the data loss of :class:`OperatorLoss` (relative L2 or H¹ against the labels ``y``), ``R`` the
family's residual rows (:class:`physopt.operators.Residual`) and ``ρ`` either the relative residual
``‖R‖ / ‖b‖`` (``relative``, on the data loss's scale), the mean squared row (``msr``, LordNet's
"mean squared residual" loss, Huang et al. 2022), or ``‖P R‖ / ‖P b‖`` with the family's cheap
approximate inverse ``P`` (``preconditioned``: the constant-coefficient inverse Laplacian, so every
frequency of the error counts alike; see :meth:`physopt.operators.Residual.preconditioned`). Without
the data term no label is read: the model is trained by the equation alone (LordNet's data-free
training; PINO's physics-only phase, Li et al. 2021).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from ..operators import Residual
from ._dataset import Pairs
from ._operator_loss import OperatorLoss

__all__ = ["PHYSICS_NORMS", "PhysicsOperatorLoss"]

# ``physics.norm = "..."`` → per-sample scalar of a residual, shape (B,).
PHYSICS_NORMS: dict[str, Callable[[Residual], torch.Tensor]] = {
    "relative": Residual.relative,
    "preconditioned": Residual.preconditioned,
    "msr": Residual.mean_square,
}


class PhysicsOperatorLoss(OperatorLoss):
    """Terms ``physics`` (always) and ``data`` (when ``data``); see the module docstring for the sum.

    ``residual`` maps ``(inputs, predictions)`` to the family's :class:`~physopt.operators.Residual`
    (its options bound). ``weight`` multiplies the physics term, the data term has weight 1.
    """

    def __init__(self, *, kind: str, periodic: bool, residual: Callable[[torch.Tensor, torch.Tensor], Residual],
                 weight: float, data: bool, norm: str) -> None:
        super().__init__(kind=kind, periodic=periodic)
        if norm not in PHYSICS_NORMS:
            raise ValueError(f"unknown physics norm {norm!r}; choose from {', '.join(PHYSICS_NORMS)}")
        if not (weight > 0 and weight < float("inf")):
            raise ValueError(f"the physics weight must be a finite number > 0, got {weight!r}")
        self.residual_of, self.weight, self.data, self.norm = residual, float(weight), bool(data), norm
        self._norm = PHYSICS_NORMS[norm]

    def terms(self, model: Callable[[torch.Tensor], torch.Tensor], batch: Mapping[str, Pairs],
              params: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        pairs = batch["data"]
        pred = model(pairs.inputs)
        out = {"physics": self._norm(self.residual_of(pairs.inputs, pred)).mean()}
        if self.data:  # rows whose label is NaN (physics.labelled) train on the physics term alone
            labelled = torch.isfinite(pairs.outputs.flatten(1)).all(1)
            out["data"] = (self.per_sample(pred[labelled], pairs.outputs[labelled]).mean() if bool(labelled.any())
                           else pred.sum() * 0)
        return out, {}

    def loss(self, squares: Mapping[str, torch.Tensor], residuals: Mapping[str, torch.Tensor]) -> torch.Tensor:
        total = self.weight * squares["physics"]
        return total + squares["data"] if self.data else total

    lagrangian = loss

    def state_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "physics": {"weight": self.weight, "data": self.data, "norm": self.norm}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        mine = self.state_dict()["physics"]
        if state.get("physics") != mine:
            raise ValueError(f"the checkpoint trained with physics {state.get('physics')!r}, this run uses {mine!r}")
