"""AuON and Hybrid-AuON: linear-time normalised momentum with a hyperbolic-cosine "brake"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from ._base import (
    AdjustLR,
    MatrixOptimizer,
    check_momentum_group,
    check_ns_group,
    constructor_defaults,
    orthogonalize_group,
)
from ._newton_schulz import KELLER_COEFFS, CoeffSpec, NSMethod
from ._validation import check_range

__all__ = ["AuON", "HybridAuON", "cosh_brake"]


def cosh_brake(x: Tensor, *, gamma: float = 1.0, delta: float = 1e-8) -> Tensor:
    r"""Divide ``x`` by its hyperbolic-cosine RMS: ``x / (sqrt(mean(cosh(γx)²)) + δ)``.

    Since ``cosh ≥ 1`` the divisor is ≥ 1, so ``‖result‖_F ≤ ‖x‖_F`` always (the trust-region
    bound), with equality approached when every entry is small; spiky (heavy-tailed) inputs are
    braked harder. The statistic is computed in ≥ float32.
    """
    xf = x.to(torch.promote_types(x.dtype, torch.float32))
    rms = torch.cosh(gamma * xf).square().mean().sqrt()
    return (xf / (rms + delta)).to(x.dtype)


class AuON(MatrixOptimizer):
    r"""AuON — momentum normalised to unit Frobenius norm, then braked by its cosh-RMS (no NS).

    .. math::
        M_t = \beta M_{t-1} + (1-\beta) G_t,\quad U_t = (1-\beta)G_t + \beta M_t
        \ \text{(nesterov) or } M_t,\quad X_t = U_t / (\lVert U_t\rVert_F + 10^{-7})

        D_t = \frac{X_t}{\sqrt{\mathrm{mean}(\cosh^2(\gamma X_t))} + 10^{-8}},\qquad
        W_t = W_{t-1}(1-\eta\lambda) - \eta\, r(m,n)\, D_t

    ``‖D_t‖_F ≤ 1``: every step lies in a Frobenius ball of radius ``η·r`` (trust region). Cost is
    O(mn) — no matrix products. Because ``‖D‖_F ≈ 1`` whatever the shape, the per-entry step is
    ``≈ η/sqrt(mn)``: learning rates are much larger than Muon's (paper: 0.055–0.24).

    Choices (paper vs code, docs/optim.md): we follow the paper (arXiv:2509.24320 §3.1) and the
    authors' original training script: the brake divides the *normalised* momentum ``X`` (their
    repo HEAD divides the raw ``U``, which makes the step scale with the gradient) and ``γ = 1``
    (HEAD uses 1.5; ``gamma`` is an option); ``r = sqrt(max(1, m/n))`` as in that script; a
    zero momentum gives no step (and no decay), as in their code. Defaults: lr 0.24 (repo),
    momentum 0.95, Nesterov, weight_decay 0.

    References:
        Dipan Maity, "AuON: A Survey For Linear-time Orthogonal Optimizer", arXiv:2509.24320;
        code https://github.com/ryyzn9/AuON.
    """

    algorithm = "auon"

    def __init__(
        self,
        params: Iterable[Any],
        *,
        lr: float = 0.24,
        momentum: float = 0.95,
        nesterov: bool = True,
        weight_decay: float = 0.0,
        gamma: float = 1.0,
        adjust_lr: AdjustLR = "original",
        adamw_betas: tuple[float, float] = (0.9, 0.95),
        adamw_eps: float = 1e-8,
    ) -> None:
        super().__init__(params, constructor_defaults(locals()))

    def _check_matrix_group(self, group: dict[str, Any], where: str) -> None:
        check_momentum_group(group, where)
        check_range(f"{where}: gamma", group["gamma"], low=0.0, low_open=True)

    def _directions(self, group: dict[str, Any], inputs: list[Tensor]) -> list[Tensor | None]:
        out: list[Tensor | None] = []
        for u in inputs:
            norm = u.norm()
            if norm == 0:
                out.append(None)
                continue
            out.append(cosh_brake(u / (norm + 1e-7), gamma=group["gamma"]))
        return out

    def _matrix_step(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]
    ) -> None:
        inputs = [self._momentum_input(group, p, g) for p, g in zip(params, grads, strict=True)]
        self._muon_updates(group, params, self._directions(group, inputs))


class HybridAuON(AuON):
    r"""Hybrid-AuON — a few Newton–Schulz steps, then AuON's cosh brake.

    .. math::
        X_t = \mathrm{NS}_k(U_t),\qquad
        D_t = \frac{X_t}{\sqrt{\mathrm{mean}(\cosh^2(\gamma X_t))} + 10^{-8}},\qquad
        W_t = W_{t-1}(1-\eta\lambda) - \eta\, \sqrt{\max(1, m/n)}\, D_t

    (``U_t`` the Nesterov momentum as in :class:`AuON`). ``‖D_t‖_F ≤ ‖X_t‖_F``: the brake only
    ever shortens the partially orthogonalised step.

    Choices: ``ns_steps=1`` by default, as the paper (§3.2: "only one iteration of Newton–Schulz")
    — the authors' repo runs 5 (then the method is Muon plus a brake); the paper prints the brake
    statistic as ``(1/N)‖cosh X‖_F²`` without the square root, which we read as a typo and use the
    same ``sqrt(mean cosh²)`` as §3.1. Defaults otherwise as :class:`Muon` (lr 0.02, Keller
    coefficients, bf16 iteration for float32 parameters).

    References:
        Dipan Maity, arXiv:2509.24320 §3.2; code https://github.com/ryyzn9/AuON.
    """

    algorithm = "hybridauon"

    def __init__(
        self,
        params: Iterable[Any],
        *,
        lr: float = 0.02,
        momentum: float = 0.95,
        nesterov: bool = True,
        weight_decay: float = 0.0,
        gamma: float = 1.0,
        ns_steps: int = 1,
        ns_coeffs: CoeffSpec = KELLER_COEFFS,
        ns_eps: float = 1e-7,
        ns_dtype: torch.dtype | str | None = "auto",
        adjust_lr: AdjustLR = "original",
        batched: bool = True,
        ns_method: NSMethod = "standard",
        adamw_betas: tuple[float, float] = (0.9, 0.95),
        adamw_eps: float = 1e-8,
    ) -> None:
        MatrixOptimizer.__init__(self, params, constructor_defaults(locals()))

    def _check_matrix_group(self, group: dict[str, Any], where: str) -> None:
        check_ns_group(group, where)
        check_range(f"{where}: gamma", group["gamma"], low=0.0, low_open=True)

    def _directions(self, group: dict[str, Any], inputs: list[Tensor]) -> list[Tensor | None]:
        ortho = orthogonalize_group(inputs, group)
        return [cosh_brake(x, gamma=group["gamma"]) for x in ortho]
