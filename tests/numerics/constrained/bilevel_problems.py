"""Bilevel test problems with known solutions (shared by the tests and benchmarks/bilevel.py).

Each :class:`BilevelCase` has ``F(x, y)``, ``f(x, y)`` (optionally ``g(x, y) <= 0`` with the projection
onto ``{g <= 0}``), a start point and the exact solution ``x*`` (with ``y*(x*)``) derived in its docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

D = torch.float64


@dataclass(frozen=True)
class BilevelCase:
    name: str
    upper: Callable[[Tensor, Tensor], Tensor]
    lower: Callable[[Tensor, Tensor], Tensor]
    x0: Tensor
    y0: Tensor
    x_star: Tensor
    y_star: Tensor
    lower_ineq: Callable[[Tensor, Tensor], Tensor] | None = None
    project: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]] | None = None


def scalar_toy() -> BilevelCase:
    """``F = (x−2)² + (y−1)²``, ``f = (y−x)²``: ``y*(x) = x``, ``φ(x) = (x−2)² + (x−1)²``, ``x* = 1.5``."""
    return BilevelCase(
        "scalar-toy",
        lambda x, y: ((x - 2) ** 2).sum() + ((y - 1) ** 2).sum(),
        lambda x, y: ((y - x) ** 2).sum(),
        torch.zeros(1, dtype=D), torch.zeros(1, dtype=D),
        torch.tensor([1.5], dtype=D), torch.tensor([1.5], dtype=D),
    )


def quadratic(n: int = 5, rho: float = 0.1, seed: int = 0) -> BilevelCase:
    """``F = ½‖y − b‖² + ½ρ‖x‖²``, ``f = ½yᵀAy − xᵀy`` with ``A`` SPD (eigenvalues in [1, 3]):
    ``y*(x) = A⁻¹x``, ``φ(x) = ½‖A⁻¹x − b‖² + ½ρ‖x‖²``, so ``(A⁻² + ρI) x* = A⁻¹b``."""
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=D))
    a = q @ torch.diag(torch.linspace(1.0, 3.0, n, dtype=D)) @ q.T
    b = torch.randn(n, generator=gen, dtype=D)
    a_inv = torch.linalg.inv(a)
    x_star = torch.linalg.solve(a_inv @ a_inv + rho * torch.eye(n, dtype=D), a_inv @ b)
    return BilevelCase(
        f"quadratic-{n}",
        lambda x, y: 0.5 * ((y - b) ** 2).sum() + 0.5 * rho * (x ** 2).sum(),
        lambda x, y: 0.5 * y @ (a @ y) - x @ y,
        torch.zeros(n, dtype=D), torch.zeros(n, dtype=D), x_star, a_inv @ x_star,
    )


def coupled_constraint() -> BilevelCase:
    """``F = (x−2)² + (y−1)²``, ``f = (y−x)²`` s.t. ``g = x + y − 1 <= 0``: ``y*(x) = min(x, 1 − x)``.
    For ``x >= ½``, ``φ = (x−2)² + x²`` is least at ``x = 1`` (``φ = 2``); for ``x <= ½``, ``φ = (x−2)² +
    (x−1)² >= 2.5``. So ``x* = 1``, ``y* = 0``, with the lower constraint active, multiplier ``λ* = 2``."""

    def project(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        excess = (x + y - 1).clamp(min=0.0) / 2  # Euclidean projection onto the half-plane x + y <= 1
        return x - excess, y - excess

    return BilevelCase(
        "coupled-constraint",
        lambda x, y: ((x - 2) ** 2).sum() + ((y - 1) ** 2).sum(),
        lambda x, y: ((y - x) ** 2).sum(),
        torch.zeros(1, dtype=D), torch.zeros(1, dtype=D),
        torch.tensor([1.0], dtype=D), torch.tensor([0.0], dtype=D),
        lower_ineq=lambda x, y: (x + y - 1).reshape(1),
        project=project,
    )


def nonconvex_lower() -> BilevelCase:
    """A lower level nonconvex in ``(x, y)`` jointly but with a unique minimiser in ``y``: ``f = ½(y − sin x)²
    + ¼(y − sin x)⁴``, ``y*(x) = sin x``; ``F = ½(x − 1)² + ½(y − 1)²``, so ``φ'(x) = (x − 1) + (sin x − 1)
    cos x = 0``; the root near 1.06 is computed to 1e-14 by Newton in :func:`_root`."""
    return BilevelCase(
        "nonconvex-lower",
        lambda x, y: 0.5 * ((x - 1) ** 2).sum() + 0.5 * ((y - 1) ** 2).sum(),
        lambda x, y: (0.5 * (y - torch.sin(x)) ** 2 + 0.25 * (y - torch.sin(x)) ** 4).sum(),
        torch.zeros(1, dtype=D), torch.zeros(1, dtype=D),
        _root(), torch.sin(_root()),
    )


def _root() -> Tensor:
    x = torch.tensor([1.0], dtype=D)
    for _ in range(50):
        g = (x - 1) + (torch.sin(x) - 1) * torch.cos(x)
        dg = 1 + torch.cos(x) ** 2 - (torch.sin(x) - 1) * torch.sin(x)
        x = x - g / dg
    return x


def cases() -> list[BilevelCase]:
    return [scalar_toy(), quadratic(), nonconvex_lower(), coupled_constraint()]
