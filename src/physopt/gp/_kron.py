"""Kronecker-structured covariance on a grid: products, solves and log-determinants per dimension.

With collocation points on a grid ``X_1 × … × X_D`` and a product kernel
``k(x, x') = Π_d k_d(x_d, x'_d)``, the covariance of the grid values is ``K = K_1 ⊗ … ⊗ K_D``
(``K_d = k_d(X_d, X_d)``, ``n_d × n_d``; the grid values stored as a tensor of shape
``(n_1, …, n_D)`` in C order). Multilinear algebra then never forms the ``N × N`` matrix
(``N = Π n_d``):

- ``K v`` is the chain of mode products ``K_1 ×_1 (K_2 ×_2 … v)``, cost ``N Σ_d n_d``;
- ``K⁻¹ v`` is the same chain with the factors' solves;
- ``log|K| = Σ_d (N / n_d) log|K_d|``.

Decided here: each factor is Cholesky-factorised, not eigendecomposed. Both give the solves and
the log-determinant per dimension, but the GP-HM objective is differentiated through the factor,
and the backward pass of a symmetric eigendecomposition divides by eigenvalue gaps ``λ_i - λ_j``,
which vanish for the clustered small eigenvalues of a smooth kernel on a dense grid (the jitter
floor); Cholesky's backward pass has no such division. Saatçi (2012), "Scalable inference for
structured Gaussian process models" (PhD thesis, Cambridge), ch. 5, for the Kronecker identities.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["KroneckerCholesky", "kron_dense", "kron_matvec", "mode_product"]


def mode_product(matrix: torch.Tensor, t: torch.Tensor, dim: int) -> torch.Tensor:
    """``matrix ×_dim t``: ``matrix`` (m, n_dim) applied along axis ``dim`` of ``t``; axis dim becomes m."""
    return torch.movedim(torch.tensordot(matrix, t, dims=([1], [dim])), 0, dim)


def _check_grid(factors: Sequence[torch.Tensor], t: torch.Tensor) -> None:
    shape = tuple(f.shape[-1] for f in factors)
    if tuple(t.shape) != shape:
        raise ValueError(f"a grid tensor of shape {shape} (one axis per factor) was expected, got {tuple(t.shape)}")


def kron_matvec(factors: Sequence[torch.Tensor], t: torch.Tensor) -> torch.Tensor:
    """``(A_1 ⊗ … ⊗ A_D) vec(t)`` as a grid tensor: one mode product per factor."""
    _check_grid(factors, t)
    for d, a in enumerate(factors):
        t = mode_product(a, t, d)
    return t


def kron_dense(factors: Sequence[torch.Tensor]) -> torch.Tensor:
    """The dense ``A_1 ⊗ … ⊗ A_D`` (for tests and small grids only: it is ``N × N``)."""
    out = factors[0]
    for a in factors[1:]:
        out = torch.kron(out, a)
    return out


class KroneckerCholesky:
    """``K = K_1 ⊗ … ⊗ K_D`` with each symmetric positive-definite factor Cholesky-factorised.

    ``jitter`` is added to every factor's diagonal before factorising (a smooth kernel on a dense
    grid is numerically singular); the matrix represented is then ``⊗_d (K_d + jitter I)``.
    """

    def __init__(self, factors: Sequence[torch.Tensor], *, jitter: float = 0.0) -> None:
        if not factors:
            raise ValueError("KroneckerCholesky needs at least one factor, got none")
        for d, k in enumerate(factors):
            if k.ndim != 2 or k.shape[0] != k.shape[1]:
                raise ValueError(f"factor {d} must be a square matrix, got shape {tuple(k.shape)}")
        if jitter < 0:
            raise ValueError(f"jitter must be >= 0, got {jitter!r}")
        self.factors = tuple(k + jitter * torch.eye(k.shape[0], dtype=k.dtype, device=k.device) for k in factors)
        chol = []
        for d, k in enumerate(self.factors):
            low, info = torch.linalg.cholesky_ex(k)
            if int(info) != 0:
                raise ValueError(f"factor {d} is not positive definite (Cholesky failed at column {int(info)}); "
                                 "raise the jitter")
            chol.append(low)
        self.cholesky = tuple(chol)
        self.shape = tuple(k.shape[0] for k in self.factors)

    @property
    def size(self) -> int:
        """``N``, the number of grid points."""
        return int(torch.tensor(self.shape).prod())

    def matvec(self, t: torch.Tensor) -> torch.Tensor:
        """``K vec(t)`` as a grid tensor."""
        return kron_matvec(self.factors, t)

    def solve_factor(self, d: int, rhs: torch.Tensor) -> torch.Tensor:
        """``K_d⁻¹ rhs`` for a matrix ``rhs`` (n_d, m)."""
        return torch.cholesky_solve(rhs, self.cholesky[d])

    def solve_along(self, d: int, t: torch.Tensor) -> torch.Tensor:
        """``K_d⁻¹ ×_d t``: the solve with factor ``d`` along axis ``d`` of the grid tensor ``t``."""
        moved = torch.movedim(t, d, 0)
        flat = self.solve_factor(d, moved.reshape(moved.shape[0], -1))
        return torch.movedim(flat.reshape(moved.shape), 0, d)

    def solve(self, t: torch.Tensor) -> torch.Tensor:
        """``K⁻¹ vec(t)`` as a grid tensor (the Kronecker inverse is the Kronecker of the inverses)."""
        _check_grid(self.factors, t)
        for d in range(len(self.factors)):
            t = self.solve_along(d, t)
        return t

    def logdet(self) -> torch.Tensor:
        """``log|K| = Σ_d (N / n_d) log|K_d|``, ``log|K_d| = 2 Σ log diag(L_d)``."""
        n = self.size
        return sum((n // low.shape[0]) * 2 * torch.log(torch.diagonal(low)).sum() for low in self.cholesky)
