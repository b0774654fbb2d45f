"""Preconditioned MINRES for the symmetric (indefinite) Newton–KKT systems of ``"newton-alm"``.

Paige & Saunders, "Solution of sparse indefinite systems of linear equations", SIAM J. Numer. Anal.
12 (1975), in the preconditioned form of Choi, Paige & Saunders (SIAM J. Sci. Comput. 33, 2011, Alg.
"MINRES" with ``M``): the Lanczos process on ``M^{-1/2} K M^{-1/2}``, one Givens rotation per step,
three vectors of storage. Only products ``K v`` are needed, so the KKT matrix is never formed. The
preconditioner ``M⁻¹`` is symmetric positive definite: a diagonal (a tensor, the row scaling of
:mod:`._exact_al_mf`) or a callable ``v ↦ M⁻¹ v`` (the Schur-complement preconditioner, :mod:`._schur`).

Stopping: the recurrence estimate ``φ̄ₖ = ‖rₖ‖_{M⁻¹}`` falls to ``rtol · ‖b‖_{M⁻¹}`` or ``max_iter``
steps were taken. The returned ``residual`` is the true relative residual ``‖b − K x‖₂ / ‖b‖₂``,
computed once at the end, because the estimate drifts from it on ill-conditioned systems.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["KrylovSolve", "minres"]


@dataclass(frozen=True)
class KrylovSolve:
    """Solution ``x``, true relative residual, iterations (products with ``K``) taken."""

    x: Tensor
    residual: float
    iterations: int


def minres(
    op: Callable[[Tensor], Tensor],
    b: Tensor,
    *,
    rtol: float,
    max_iter: int,
    precond: Tensor | Callable[[Tensor], Tensor] | None = None,
) -> KrylovSolve:
    """Solve ``K x = b`` for symmetric ``K`` given as ``op(v) = K v`` (``precond``: ``M⁻¹``, a diagonal
    or a callable)."""
    if precond is None or isinstance(precond, Tensor):
        diag = torch.ones_like(b) if precond is None else precond

        def apply(v: Tensor) -> Tensor:
            return diag * v
    else:
        apply = precond
    x = torch.zeros_like(b)
    r1 = b.clone()
    y = apply(r1)
    beta1 = math.sqrt(max(float(r1 @ y), 0.0))
    if beta1 == 0.0:
        return KrylovSolve(x, 0.0, 0)
    old_beta, beta = 0.0, beta1
    dbar = epsln = 0.0
    phibar = beta1
    cs, sn = -1.0, 0.0
    w = torch.zeros_like(b)
    w2 = torch.zeros_like(b)
    r2 = r1
    tiny = torch.finfo(b.dtype).eps
    it = 0
    for it in range(1, max_iter + 1):
        v = y / beta
        y = op(v)
        if it >= 2:
            y = y - (beta / old_beta) * r1
        alfa = float(v @ y)
        y = y - (alfa / beta) * r2
        r1, r2 = r2, y
        y = apply(r2)
        old_beta, beta = beta, math.sqrt(max(float(r2 @ y), 0.0))
        old_eps = epsln
        delta = cs * dbar + sn * alfa
        gbar = sn * dbar - cs * alfa
        epsln = sn * beta
        dbar = -cs * beta
        gamma = max(math.hypot(gbar, beta), tiny)
        cs, sn = gbar / gamma, beta / gamma
        phi = cs * phibar
        phibar = sn * phibar
        w1, w2 = w2, w
        w = (v - old_eps * w1 - delta * w2) / gamma
        x = x + phi * w
        if phibar <= rtol * beta1 or beta == 0.0:
            break
    residual = float((b - op(x)).norm()) / max(float(b.norm()), 1e-300)
    return KrylovSolve(x, residual, it + 1)
