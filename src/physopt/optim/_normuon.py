"""NorMuon: Muon with a per-neuron (row-wise) second moment on the orthogonalised update."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from ._base import (
    AdjustLR,
    MatrixOptimizer,
    check_ns_group,
    constructor_defaults,
    orthogonalize_group,
    wide_dtype,
)
from ._newton_schulz import KELLER_COEFFS, CoeffSpec, NSMethod
from ._validation import check_range

__all__ = ["NorMuon", "normuon_normalize"]


def normuon_normalize(ortho: Tensor, second_moment: Tensor, *, beta2: float, eps: float) -> Tensor:
    r"""Row-normalise an orthogonalised update, keeping its Frobenius norm (NorMuon reference code).

    .. math::
        v \leftarrow \beta_2 v + (1-\beta_2)\,\mathrm{mean}_j O_{ij}^2,\qquad
        \hat O = \frac{O}{\sqrt{v} + \epsilon},\qquad
        \hat O \leftarrow \hat O\,\frac{\lVert O\rVert_F}{\lVert \hat O\rVert_F + \epsilon}

    ``ortho`` is ``(rows, cols)``; ``second_moment`` ``(rows, 1)`` is updated in place. The result
    is in ``second_moment``'s dtype (≥ float32). The Frobenius rescale makes a bias correction of
    ``v`` irrelevant (it would multiply every row by the same factor), so none is applied.
    """
    o = ortho.to(second_moment.dtype)
    norm_before = o.norm()
    second_moment.lerp_(o.square().mean(dim=-1, keepdim=True), 1 - beta2)
    o = o / (second_moment.sqrt() + eps)
    return o * (norm_before / (o.norm() + eps))


class NorMuon(MatrixOptimizer):
    r"""NorMuon — Muon followed by neuron-wise normalisation of the orthogonalised momentum.

    For each matrix ``W`` (``(rows, cols)`` after flattening; rows are output neurons):

    .. math::
        M_t = \beta_1 M_{t-1} + (1-\beta_1) G_t,\quad
        U_t = (1-\beta_1) G_t + \beta_1 M_t \ \text{(nesterov) or } M_t,\quad
        O_t = \mathrm{NS}_k(U_t)

        v_t = \beta_2 v_{t-1} + (1-\beta_2)\,\mathrm{mean}_{\text{cols}}(O_t\odot O_t),\quad
        \hat O_t = \frac{O_t}{\sqrt{v_t}+\epsilon}\cdot
                   \frac{\lVert O_t\rVert_F}{\lVert O_t/(\sqrt{v_t}+\epsilon)\rVert_F+\epsilon}

        W_t = W_{t-1}(1-\eta\lambda) - \eta\, r(m, n)\, \hat O_t

    Every row (neuron) of the update gets the same RMS when the ``v`` statistics are stationary,
    while the total Frobenius norm stays Muon's.

    Choices (where paper and code differ): we follow the authors' reference code
    (zichongli5/NorMuon): the final scaling restores Muon's Frobenius norm and applies Keller's
    ``sqrt(max(1, rows/cols))`` (``adjust_lr="original"``) instead of the paper's
    ``0.2·sqrt(mn)/‖Ô‖_F``; ``v`` has no bias correction (irrelevant after the rescale); the
    statistic is per *row* for every shape (modded-nanogpt uses the shorter side instead);
    weight decay is applied only to parameters that have a gradient. Defaults (lr 0.02, momentum
    0.95, beta2 0.95, eps 1e-10) are the reference code's. ``v`` is kept in ≥ float32.

    Args:
        params: parameters or param groups (``algorithm="adamw"`` groups use AdamW).
        beta2: EMA coefficient of the row second moment.
        eps: added to ``sqrt(v)`` and to the norm in the rescale.
        Others: as :class:`Muon`.

    References:
        Li, Liu, Liang, Chen, Zhao, "NorMuon: Making Muon more efficient and scalable",
        arXiv:2510.05491; code https://github.com/zichongli5/NorMuon.
    """

    algorithm = "normuon"
    _wide_state_keys = ("second_moment",)

    def __init__(
        self,
        params: Iterable[Any],
        *,
        lr: float = 0.02,
        momentum: float = 0.95,
        beta2: float = 0.95,
        eps: float = 1e-10,
        nesterov: bool = True,
        weight_decay: float = 0.0,
        ns_steps: int = 5,
        ns_coeffs: CoeffSpec = KELLER_COEFFS,
        ns_eps: float = 1e-7,
        ns_dtype: torch.dtype | str | None = "auto",
        adjust_lr: AdjustLR = "original",
        batched: bool = True,
        ns_method: NSMethod = "standard",
        adamw_betas: tuple[float, float] = (0.9, 0.95),
        adamw_eps: float = 1e-8,
    ) -> None:
        super().__init__(params, constructor_defaults(locals()))

    def _check_matrix_group(self, group: dict[str, Any], where: str) -> None:
        check_ns_group(group, where)
        check_range(f"{where}: beta2", group["beta2"], low=0.0, high=1.0, high_open=True)
        check_range(f"{where}: eps", group["eps"], low=0.0, low_open=True)

    def _matrix_step(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]
    ) -> None:
        inputs = []
        for p, g in zip(params, grads, strict=True):
            state = self.state[p]
            if "second_moment" not in state:
                state["second_moment"] = torch.zeros(
                    p.shape[0], 1, dtype=wide_dtype(p.dtype), device=p.device
                )
            inputs.append(self._momentum_input(group, p, g))
        updates = [
            normuon_normalize(o, self.state[p]["second_moment"], beta2=group["beta2"], eps=group["eps"]).to(p.dtype)
            for p, o in zip(params, orthogonalize_group(inputs, group), strict=True)
        ]
        self._muon_updates(group, params, updates)
