"""The 2-D Dirichlet Poisson matrix, its incomplete Cholesky factor, CG and preconditioned CG.

The discrete system is the 5-point Laplacian on the ``n × n`` interior nodes of the unit square
(spacing h = 1/(n + 1)), written unscaled, ``(A u)_{ij} = 4u_{ij} - u_{i±1,j} - u_{i,j±1}`` (h² moves
to the right-hand side), applied matrix-free to ``(…, n, n)`` tensors on their own device.

IC(0) (Meijerink & van der Vorst, Math. Comp. 31, 1977): with the natural ordering the 5-point
stencil's incomplete factor keeps A's sparsity, ``M = (D + L) D⁻¹ (D + Lᵀ)`` with L the strictly
lower part of A and the pivots

    d_{ij} = 4 - 1/d_{i-1,j} - 1/d_{i,j-1}     (a missing neighbour contributes 0).

Both the pivots and the triangular solves are recursions along the anti-diagonals i + j = s
(each anti-diagonal depends only on the previous one), so they run as 2n - 1 vectorised steps.

CG (Hestenes & Stiefel 1952) and PCG stop when ``‖r_k‖ ≤ rtol · ‖b‖``; the returned residual is
the true ``‖b - A x‖ / ‖b‖``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["IncompleteCholesky", "LinearSolve", "conjugate_gradient", "poisson_apply"]


@dataclass(frozen=True)
class LinearSolve:
    """Solution, true relative residual ``‖b - A x‖/‖b‖``, iterations (products with A) taken."""

    x: Tensor
    residual: float
    iterations: int


def poisson_apply(u: Tensor) -> Tensor:
    """``A u`` for the unscaled 5-point Dirichlet Laplacian on the last two axes of ``u``."""
    out = 4.0 * u
    out[..., 1:, :] -= u[..., :-1, :]
    out[..., :-1, :] -= u[..., 1:, :]
    out[..., :, 1:] -= u[..., :, :-1]
    out[..., :, :-1] -= u[..., :, 1:]
    return out


def _antidiagonals(n: int, device: torch.device) -> list[tuple[Tensor, Tensor]]:
    idx = []
    for s in range(2 * n - 1):
        i = torch.arange(max(0, s - n + 1), min(s, n - 1) + 1, device=device)
        idx.append((i, s - i))
    return idx


class IncompleteCholesky:
    """IC(0) of the ``n × n`` Poisson matrix; ``apply(r)`` is ``M⁻¹ r`` (symmetric positive definite)."""

    def __init__(self, n: int, *, dtype: torch.dtype = torch.float64, device: torch.device | None = None) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"IncompleteCholesky needs a grid size n >= 1, got {n!r}")
        self.n = n
        self._diag = _antidiagonals(n, torch.device("cpu") if device is None else device)
        d = torch.zeros(n, n, dtype=dtype, device=device)
        for i, j in self._diag:
            up = torch.where(i > 0, 1.0 / d[(i - 1).clamp(min=0), j], 0.0)
            left = torch.where(j > 0, 1.0 / d[i, (j - 1).clamp(min=0)], 0.0)
            d[i, j] = 4.0 - up - left
        self.pivots = d

    def apply(self, r: Tensor) -> Tensor:
        d = self.pivots
        y = torch.zeros_like(r)
        for i, j in self._diag:  # (D + L) y = r, forward along anti-diagonals
            up = torch.where(i > 0, y[(i - 1).clamp(min=0), j], 0.0)
            left = torch.where(j > 0, y[i, (j - 1).clamp(min=0)], 0.0)
            y[i, j] = (r[i, j] + up + left) / d[i, j]
        w = d * y
        z = torch.zeros_like(r)
        n = self.n
        for i, j in reversed(self._diag):  # (D + Lᵀ) z = D y, backward
            down = torch.where(i < n - 1, z[(i + 1).clamp(max=n - 1), j], 0.0)
            right = torch.where(j < n - 1, z[i, (j + 1).clamp(max=n - 1)], 0.0)
            z[i, j] = (w[i, j] + down + right) / d[i, j]
        return z


def conjugate_gradient(b: Tensor, *, rtol: float, max_iter: int,
                       preconditioner: Callable[[Tensor], Tensor] | None = None) -> LinearSolve:
    """(P)CG on ``A x = b`` for the Poisson matrix, from x = 0."""
    if not 0 < rtol < 1 or max_iter < 1:
        raise ValueError(f"conjugate_gradient needs 0 < rtol < 1 and max_iter >= 1, got {rtol}, {max_iter}")
    x = torch.zeros_like(b)
    r = b.clone()
    z = r if preconditioner is None else preconditioner(r)
    p = z.clone()
    rz = (r * z).sum()
    bnorm = torch.linalg.vector_norm(b)
    k = 0
    while k < max_iter and torch.linalg.vector_norm(r) > rtol * bnorm:
        ap = poisson_apply(p)
        alpha = rz / (p * ap).sum()
        x += alpha * p
        r -= alpha * ap
        z = r if preconditioner is None else preconditioner(r)
        rz_new = (r * z).sum()
        p = z + (rz_new / rz) * p
        rz = rz_new
        k += 1
    res = float(torch.linalg.vector_norm(b - poisson_apply(x)) / bnorm)
    return LinearSolve(x, res, k)
