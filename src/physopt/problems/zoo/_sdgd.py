"""High-dimensional Poisson and Allen–Cahn problems on the unit ball, as in the SDGD paper.

    poisson-nd:     Δu = g             in B^d = {‖x‖ < 1},   u = 0 on ‖x‖ = 1,
    allen-cahn-nd:  Δu + u - u³ = g    in B^d,               u = 0 on ‖x‖ = 1,

with the "two-body" exact solution

    u(x) = (1 - ‖x‖²) Σ_{i=1}^{d-1} c_i sin(θ_i),   θ_i = x_i + cos x_{i+1} + x_{i+1} cos x_i,

c_i ~ N(0, 1) drawn once from ``numpy.random.default_rng(seed)``, and g computed from it in closed
form. Hu, Shukla, Karniadakis & Kawaguchi (2024), "Tackling the curse of dimensionality with
physics-informed neural networks", Neural Networks 176, 106369 (arXiv 2307.12306; code
zheyuanhu01/SDGD_PINN), Section 5.1: the same domain, solution, hard constraint u = (1 - ‖x‖²)·N(x)
and metric (relative L2 on random points in the ball); their c_i come from their own seed.

The source term never differentiates through autograd (d second derivatives would cost d backward
passes). With b = 1 - ‖x‖² and s = Σ c_i sin θ_i, Δ(b s) = b Δs + 2 ∇b·∇s + s Δb = b Δs - 4 x·∇s - 2d s,
and each term depends only on (a, y) = (x_i, x_{i+1}):

    θ_a = 1 - y sin a,   θ_y = cos a - sin y,   θ_aa = -y cos a,   θ_yy = -cos y,
    Δ sin θ = cos θ (θ_aa + θ_yy) - sin θ (θ_a² + θ_y²),   x·∇ sin θ = cos θ (a θ_a + y θ_y),

so g costs O(n·d) (:func:`sdgd_laplacian`). Reference: the closed form on 2000 points drawn uniformly
in the ball (seed 1234). Tests: tests/numerics/test_zoo_sdgd.py checks the closed-form Laplacian
against autograd at d = 3 and 5 and the exact solution against every condition of both problems.
"""

from __future__ import annotations

import numpy as np
import torch

from .._ball import Ball
from .._conditions import Dirichlet, Residual
from .._ops import SAMPLED_DIMS, laplacian
from .._problem import Ansatz, Problem, Reference
from ._common import backend

__all__ = ["allen_cahn_nd", "poisson_nd", "sdgd_coefficients", "sdgd_exact", "sdgd_laplacian"]

EVAL_POINTS, EVAL_SEED = 2000, 1234


def sdgd_coefficients(dim: int, seed: int = 0) -> np.ndarray:
    """The d - 1 coefficients c_i ~ N(0, 1) of the two-body solution."""
    if not isinstance(dim, int) or dim < 2:
        raise ValueError(f"the two-body solution needs an integer dimension >= 2, got {dim!r}")
    return np.random.default_rng(seed).standard_normal(dim - 1)


def _theta(p, c):
    m = backend(p)
    if m is torch:
        c = torch.as_tensor(c, dtype=p.dtype, device=p.device)
    a, y = p[:, :-1], p[:, 1:]
    return m, c, a, y, a + m.cos(y) + y * m.cos(a)


def sdgd_exact(p, c):
    """u at points ``p`` ``(n, d)`` (numpy or torch), ``(n,)``; ``c`` from :func:`sdgd_coefficients`."""
    m, c, _, _, theta = _theta(p, c)
    return (1 - (p**2).sum(1)) * (m.sin(theta) * c).sum(1)


def sdgd_laplacian(p, c):
    """Δu of :func:`sdgd_exact` in closed form, ``(n,)``: O(n·d), no autograd (see the module docstring)."""
    m, c, a, y, theta = _theta(p, c)
    sin_t, cos_t = m.sin(theta), m.cos(theta)
    sin_a, cos_a = m.sin(a), m.cos(a)
    t_a = 1 - y * sin_a
    t_y = cos_a - m.sin(y)
    lap_s = (c * (cos_t * (-y * cos_a - m.cos(y)) - sin_t * (t_a**2 + t_y**2))).sum(1)
    x_grad_s = (c * cos_t * (a * t_a + y * t_y)).sum(1)
    s = (c * sin_t).sum(1)
    b = 1 - (p**2).sum(1)
    return b * lap_s - 4 * x_grad_s - 2 * p.shape[1] * s


def _source(kind: str, x: torch.Tensor, c: np.ndarray) -> torch.Tensor:
    x = x.detach()
    g = sdgd_laplacian(x, c)
    if kind == "allen-cahn":
        u = sdgd_exact(x, c)
        g = g + u - u**3
    return g[:, None]


def _residual_fn(kind: str, c: np.ndarray):
    def pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
        # SDGD runs (``--set sdgd.dims=k``) pass k sampled dimensions; otherwise the full Laplacian.
        r = laplacian(u, x, dims=params.get(SAMPLED_DIMS)) - _source(kind, x, c)
        return r + u - u**3 if kind == "allen-cahn" else r

    return pde


def _lift(x: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(x[:, :1])


def _distance(x: torch.Tensor) -> torch.Tensor:
    return 1 - (x**2).sum(dim=1, keepdim=True)


def _problem(kind: str, name: str, dim: int, seed: int) -> Problem:
    c = sdgd_coefficients(dim, seed)
    domain = Ball.unit(dim)
    gen = torch.Generator().manual_seed(EVAL_SEED)
    points = domain.sample_interior(EVAL_POINTS, generator=gen, dtype=torch.float64).cpu().numpy()
    reference = Reference.from_function(
        # Random points, not a tensor grid: grid_shape (n,) only records that they are a flat list.
        lambda p: sdgd_exact(p, c), points, grid_shape=(EVAL_POINTS,),
        source=f"closed form (SDGD two-body solution, c ~ N(0,1) seed {seed}), {EVAL_POINTS} uniform points in B^{dim}",
        error=3.3e-15, note="float64 rounding, vs 80-bit evaluation (docs/bench.md); measured at d = 100",
    )
    equation = "Δu = g" if kind == "poisson" else "Δu + u - u³ = g"
    return Problem(
        name=name,
        domain=domain,
        input_names=tuple(f"x{i + 1}" for i in range(dim)),
        output_names=("u",),
        conditions={"pde": Residual(_residual_fn(kind, c)), "bc": Dirichlet(0.0)},
        reference=reference,
        ansatz=Ansatz(lift=_lift, distance=_distance, enforces=("bc",)),
        sizes={"pde": 100, "bc": 100},
        description=f"{equation} on the unit ball in {dim} dimensions, u = 0 on the sphere; SDGD two-body exact u",
    )


def poisson_nd(*, dim: int = 100, seed: int = 0) -> Problem:
    """Poisson Δu = g on the unit ball B^dim with the SDGD two-body exact solution."""
    return _problem("poisson", "poisson-nd", dim, seed)


def allen_cahn_nd(*, dim: int = 100, seed: int = 0) -> Problem:
    """Allen–Cahn Δu + u - u³ = g on the unit ball B^dim with the SDGD two-body exact solution."""
    return _problem("allen-cahn", "allen-cahn-nd", dim, seed)
