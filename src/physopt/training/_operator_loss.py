"""The data loss of operator runs: the per-sample relative errors the field reports.

For a prediction ``p`` and truth ``y`` of one sample, ``relative_l2 = ‖p − y‖ / ‖y‖`` (over all
channels and grid points) and ``relative_h1 = ‖p − y‖_H1 / ‖y‖_H1`` with
``‖e‖²_H1 = Σ e² + Σ_d (∂_d e)²`` (grid sums; derivatives by central differences — periodic wrap on
periodic grids, one-sided at the ends otherwise — with spacing ``1/n`` resp. ``1/(n−1)``). Losses
are the mean over the samples of a batch, as in the FNO paper and neuraloperator's ``LpLoss``/``H1Loss``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from ._dataset import Pairs

__all__ = ["OPERATOR_LOSSES", "OperatorLoss", "grid_gradient", "relative_h1", "relative_l2"]


def _per_sample_norm(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).norm(dim=1)


def relative_l2(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Per-sample ``‖pred − truth‖₂ / ‖truth‖₂`` over channels and grid, shape ``(B,)``."""
    if pred.shape != truth.shape:
        raise ValueError(f"prediction shape {tuple(pred.shape)} differs from truth shape {tuple(truth.shape)}")
    return _per_sample_norm(pred - truth) / _per_sample_norm(truth).clamp_min(torch.finfo(truth.dtype).tiny)


def grid_gradient(u: torch.Tensor, *, periodic: bool) -> list[torch.Tensor]:
    """Central-difference derivatives of ``u`` ``(B, C, *grid)`` along every grid axis of ``[0, 1]^d``."""
    out = []
    for axis in range(2, u.ndim):
        n = u.shape[axis]
        if periodic:
            h = 1.0 / n
            out.append((u.roll(-1, axis) - u.roll(1, axis)) / (2 * h))
            continue
        h = 1.0 / (n - 1)
        inner = (u.narrow(axis, 2, n - 2) - u.narrow(axis, 0, n - 2)) / (2 * h)
        first = (u.narrow(axis, 1, 1) - u.narrow(axis, 0, 1)) / h
        last = (u.narrow(axis, n - 1, 1) - u.narrow(axis, n - 2, 1)) / h
        out.append(torch.cat([first, inner, last], dim=axis))
    return out


def relative_h1(pred: torch.Tensor, truth: torch.Tensor, *, periodic: bool) -> torch.Tensor:
    """Per-sample relative H¹ error (see the module docstring), shape ``(B,)``."""
    if pred.shape != truth.shape:
        raise ValueError(f"prediction shape {tuple(pred.shape)} differs from truth shape {tuple(truth.shape)}")
    e, y = pred - truth, truth
    num = e.flatten(1).pow(2).sum(1) + sum(g.flatten(1).pow(2).sum(1) for g in grid_gradient(e, periodic=periodic))
    den = y.flatten(1).pow(2).sum(1) + sum(g.flatten(1).pow(2).sum(1) for g in grid_gradient(y, periodic=periodic))
    return (num / den.clamp_min(torch.finfo(truth.dtype).tiny)).sqrt()


# ``loss = "..."`` of a learn run → per-sample relative error (pred, truth, periodic) -> (B,).
OPERATOR_LOSSES: dict[str, Callable[..., torch.Tensor]] = {
    "l2": lambda p, y, periodic: relative_l2(p, y),
    "h1": lambda p, y, periodic: relative_h1(p, y, periodic=periodic),
}


class OperatorLoss:
    """The :class:`~physopt.training.Loss` of a data-trained operator: one term ``data``, the mean
    per-sample relative error (``l2`` or ``h1``) of ``model(inputs)`` against ``outputs``.

    It has no constraint residuals and no multipliers; least-squares optimizers (which need a
    residual per point) are refused when the run is built, so ``residual_*`` are never called.
    """

    varies_per_step = False
    has_duals = False

    def __init__(self, *, kind: str, periodic: bool) -> None:
        if kind not in OPERATOR_LOSSES:
            raise ValueError(f"unknown operator loss {kind!r}; choose from {', '.join(OPERATOR_LOSSES)}")
        self.kind, self.periodic = kind, periodic
        self._error = OPERATOR_LOSSES[kind]

    def per_sample(self, pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
        return self._error(pred, truth, self.periodic)

    def terms(self, model: Callable[[torch.Tensor], torch.Tensor], batch: Mapping[str, Pairs],
              params: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        pairs = batch["data"]
        return {"data": self.per_sample(model(pairs.inputs), pairs.outputs).mean()}, {}

    def loss(self, squares: Mapping[str, torch.Tensor], residuals: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return squares["data"]

    def lagrangian(self, squares: Mapping[str, torch.Tensor], residuals: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return squares["data"]

    def update_duals(self, residuals: Mapping[str, torch.Tensor]) -> None:
        return None

    def _no_residuals(self, *_: Any) -> Any:
        raise TypeError("operator losses have no pointwise residuals (least-squares optimizers are refused at build)")

    residual = residual_vector = residual_blocks = _no_residuals

    def end_step(self) -> None:
        return None

    def stats(self) -> dict[str, torch.Tensor]:
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("kind") != self.kind:
            raise ValueError(f"the checkpoint trained with loss {state.get('kind')!r}, this run uses {self.kind!r}")
