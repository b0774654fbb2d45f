"""The p-Laplace equation on the unit square with a manufactured solution (a nonlinear variational PDE).

    -div(|∇u|^{p-2} ∇u) = f,   (x, y) ∈ [0, 1]²,   u = 0 on the boundary,
    u(x, y) = sin(πx) sin(πy),   p >= 2 (default 4),

the Euler–Lagrange equation of E(u) = ∫ (1/p)|∇u|^p - f u (``Problem.energy``, used by
``--method ritz``). The p-Laplacian is the nonlinear variational example of Marwah, Lipton, Lu &
Risteski (2023), "Neural network approximations of PDEs beyond linearity: a representational
perspective" (ICML); the manufactured solution is ours. With s = |∇u|², Q = ∇uᵀ(∇²u)∇u,

    div(|∇u|^{p-2}∇u) = s^{(p-2)/2} Δu + (p - 2) s^{(p-4)/2} Q,

and for u = sin(πx) sin(πy): u_x = π cos(πx) sin(πy), u_y = π sin(πx) cos(πy),
u_xx = u_yy = -π² u, u_xy = π² cos(πx) cos(πy). Where ∇u = 0 (the centre) the second term is 0
(Q = O(s)). Reference: the closed form on a 101 x 101 grid. Tests: tests/numerics/test_p_laplacian.py
checks that the strong-form residual vanishes at the exact solution by autograd.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._conditions import Dirichlet, Residual
from .._domain import Rectangle
from .._energy import Energy
from .._ops import div, grad
from .._problem import Ansatz, Problem, Reference
from ._common import backend, grid_points
from ._poisson import poisson2d_exact

__all__ = ["p_laplacian", "p_laplacian_source"]


def p_laplacian_source(pts, p: float):
    """f = -div(|∇u|^{p-2}∇u) of u = sin(πx) sin(πy) at ``pts`` ``(n, 2)`` (numpy or torch), ``(n,)``."""
    m = backend(pts)
    sx, sy = m.sin(math.pi * pts[:, 0]), m.sin(math.pi * pts[:, 1])
    cx, cy = m.cos(math.pi * pts[:, 0]), m.cos(math.pi * pts[:, 1])
    ux, uy = math.pi * cx * sy, math.pi * sx * cy
    uxx = uyy = -(math.pi**2) * sx * sy
    uxy = math.pi**2 * cx * cy
    s = ux**2 + uy**2
    q = ux**2 * uxx + 2 * ux * uy * uxy + uy**2 * uyy
    safe = m.where(s > 0, s, m.ones_like(s))  # s = 0 only where ∇u = 0, where the term is 0 anyway
    second = m.where(s > 0, (p - 2) * safe ** ((p - 4) / 2) * q, m.zeros_like(s))
    return -(s ** ((p - 2) / 2) * (uxx + uyy) + second)


def _residual_fn(p: float):
    def pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
        g = grad(u, x)
        flux = (g * g).sum(dim=1, keepdim=True) ** ((p - 2) / 2) * g
        return -div(flux, x) - p_laplacian_source(x.detach(), p)[:, None]

    return pde


def _distance(x: torch.Tensor) -> torch.Tensor:
    return (x[:, 0:1] * (1 - x[:, 0:1]) * x[:, 1:2] * (1 - x[:, 1:2])) * 16.0  # scaled to max 1


def p_laplacian(*, p: float = 4.0) -> Problem:
    """-div(|∇u|^{p-2}∇u) = f on [0,1]², u = 0 on the boundary, u = sin(πx) sin(πy)."""
    if isinstance(p, bool) or not isinstance(p, int | float) or not 2 <= p < math.inf:
        raise ValueError(f"p-laplacian needs a finite p >= 2, got p={p!r}")
    p = float(p)
    axis = np.linspace(0.0, 1.0, 101)
    reference = Reference.from_function(
        poisson2d_exact, grid_points(axis, axis), grid_shape=(101, 101),
        source="closed form u = sin(πx) sin(πy) (manufactured), 101 x 101 grid",
        error=1.6e-16, note="float64 rounding: the same closed form as poisson2d's reference",
    )
    return Problem(
        name="p-laplacian",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        input_names=("x", "y"),
        output_names=("u",),
        conditions={"pde": Residual(_residual_fn(p)), "bc": Dirichlet(0.0)},
        reference=reference,
        ansatz=Ansatz(lift=lambda x: torch.zeros_like(x[:, :1]), distance=_distance, enforces=("bc",)),
        sizes={"pde": 2000, "bc": 400},
        description=f"-div(|∇u|^(p-2) ∇u) = f with p = {p:g} on [0,1]², u = 0 on the boundary; u = sin(πx) sin(πy)",
        energy=Energy(source=lambda x: p_laplacian_source(x, p), p=p),
    )
