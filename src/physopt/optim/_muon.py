"""Muon: momentum orthogonalised by Newton–Schulz (Keller Jordan et al., 2024)."""

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
    muon_update,
    orthogonalize_group,
)
from ._newton_schulz import KELLER_COEFFS, CoeffSpec, NSMethod
from ._peer_keywords import Alias, peer_keywords

__all__ = ["Muon", "muon_update"]  # muon_update lives in _base (shared by the family)


def _torch_adjust_lr_fn(value: str | None) -> AdjustLR:
    """``torch.optim.Muon``'s ``adjust_lr_fn``: ``None`` means ``"original"``; it knows no other."""
    if value is None or value == "original":
        return "original"
    if value == "match_rms_adamw":
        return "match_rms_adamw"
    raise ValueError(
        f"adjust_lr_fn must be None, 'original' or 'match_rms_adamw' (torch.optim.Muon's values), got {value!r}"
    )


@peer_keywords(
    "torch.optim.Muon",
    adjust_lr_fn=Alias("adjust_lr", _torch_adjust_lr_fn),
    ns_coefficients=Alias("ns_coeffs"),
    eps=Alias("ns_eps"),
)
class Muon(MatrixOptimizer):
    r"""Muon — MomentUm Orthogonalized by Newton–Schulz.

    For each matrix parameter ``W`` (``≥2-D``; conv kernels viewed as ``(out, in·kh·kw)``):

    .. math::
        M_t = \beta M_{t-1} + (1-\beta) G_t,\qquad
        U_t = \begin{cases}(1-\beta) G_t + \beta M_t & \text{nesterov}\\ M_t\end{cases}

        O_t = \mathrm{NS}_k^{(a,b,c)}(U_t),\qquad
        W_t = W_{t-1}(1-\eta\lambda) - \eta\,r(m,n)\,O_t

    with ``r = sqrt(max(1, m/n))`` (``adjust_lr="original"``) or ``0.2·sqrt(max(m, n))``
    (``"match_rms_adamw"``). Groups tagged ``algorithm="adamw"`` are updated by AdamW instead
    (keys ``lr``, ``weight_decay``, ``adamw_betas``, ``adamw_eps``).

    Defaults follow KellerJordan/Muon (lr 0.02, momentum 0.95, Nesterov, 5 steps, no weight decay).
    ``torch.optim.Muon`` differs only in its defaults (lr 1e-3, weight_decay 0.1) and in always
    iterating in bfloat16; ``Muon(..., ns_dtype=torch.bfloat16, batched=False)`` with the same
    hyperparameters reproduces its trajectory (tested).

    **Drop-in for torch.optim.Muon:** torch's keyword names are accepted beside ours, with
    torch's meaning: ``adjust_lr_fn`` (``None`` or ``"original"`` → ``adjust_lr="original"``,
    ``"match_rms_adamw"``), ``ns_coefficients`` (= ``ns_coeffs``) and ``eps`` (= ``ns_eps``);
    ``lr``, ``weight_decay``, ``momentum``, ``nesterov`` and ``ns_steps`` are shared names. Giving
    a torch name and ours for the same option raises ``ValueError``. Not the same: the *defaults*
    of ``lr`` and ``weight_decay`` (spell them out when porting), and options are keyword-only.

    Args:
        params: parameters or param groups.
        lr: learning rate (spectral-norm units with ``adjust_lr="original"``).
        momentum: EMA momentum coefficient β in [0, 1).
        nesterov: orthogonalise the Nesterov blend instead of the buffer.
        weight_decay: decoupled weight decay λ, applied as ``W·(1 − lr·λ)``.
        ns_steps: Newton–Schulz iterations.
        ns_coeffs: ``(a, b, c)`` or one triple per step (see :func:`newton_schulz`).
        ns_eps: Frobenius-norm clamp in Newton–Schulz.
        ns_dtype: iteration dtype: ``"auto"`` (bf16, but float64 for float64 parameters),
            ``None`` (parameter dtype) or a ``torch.dtype``.
        adjust_lr: ``"original"``, ``"match_rms_adamw"`` or ``"none"`` (see :func:`lr_ratio`).
        batched: orthogonalise same-shape small matrices (≤ 16 384 entries) of a group as one
            stack (tested equal to the per-matrix reference path in float64); see
            :func:`orthogonalize`.
        ns_method: ``"standard"`` (reference iteration), ``"gram"`` or ``"auto"`` (Gram iteration
            on the ``min×min`` Gram matrix for matrices with aspect ratio ≥ 2: same map in exact
            arithmetic, ~0.5× the time for 4:1 MLP weights; see :func:`gram_newton_schulz`).
        adamw_betas: betas of the AdamW groups.
        adamw_eps: eps of the AdamW groups.

    References:
        Keller Jordan et al., "Muon: An optimizer for hidden layers in neural networks" (2024),
        https://kellerjordan.github.io/posts/muon/; Liu et al., "Muon is Scalable for LLM
        Training", arXiv:2502.16982.

    Example:
        >>> model = torch.nn.Linear(4, 3, bias=False)
        >>> opt = Muon(model.parameters(), lr=0.02)
        >>> model(torch.randn(8, 4)).square().mean().backward()
        >>> opt.step()
    """

    algorithm = "muon"

    def __init__(
        self,
        params: Iterable[Any],
        *,
        lr: float = 0.02,
        momentum: float = 0.95,
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

    def _matrix_step(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]
    ) -> None:
        inputs = [self._momentum_input(group, p, g) for p, g in zip(params, grads, strict=True)]
        self._muon_updates(group, params, orthogonalize_group(inputs, group))
