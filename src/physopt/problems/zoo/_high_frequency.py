"""High-frequency and multi-scale Poisson problems, the test bed of GP-HM.

    poisson1d-hf:          -u'' = f on [0, 2π],  u = sin(100x) + sin(x),
    poisson2d-multiscale:  -Δu = f on [0, 2π]²,  u = sin(6x)cos(20x) + sin(6y)cos(20y),

with Dirichlet data from the solution on the whole boundary. Both are cases of Fang et al. (2024),
"Solving High Frequency and Multi-Scale PDEs with Gaussian Processes" (ICLR 2024): the 1-D one
joins their single-frequency ``sin(100x)`` case with a unit-frequency mode (the two scales differ
by 10⁴ in ``f``, which is what spectral bias makes hard for a PINN); the 2-D one is their
"sin_add_cos" Poisson case (components at 14 and 26 rad per unit along each axis). The frequency
``k`` of the 1-D case is a problem option (``--set problem.k=20``).

Reference: the closed forms (float64) on grids that resolve the highest frequency (≥ 40 points
per period); tests/numerics/test_zoo_references.py checks them against the PDE by autograd.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._conditions import Dirichlet, Residual
from .._domain import Interval, Rectangle
from .._energy import Energy
from .._ops import laplacian, partial
from .._problem import Problem, Reference
from ._common import backend, grid_points

__all__ = ["poisson1d_hf", "poisson1d_hf_exact", "poisson2d_multiscale", "poisson2d_multiscale_exact"]

TWO_PI = 2 * math.pi


def poisson1d_hf_exact(p, *, k: float = 100.0):
    """u = sin(kx) + sin(x) at points ``p`` (``(n, 1)``, numpy or torch), ``(n,)``."""
    m = backend(p)
    return m.sin(k * p[:, 0]) + m.sin(p[:, 0])


def _source_1d(x: torch.Tensor, k: float) -> torch.Tensor:
    return (k * k * torch.sin(k * x[:, 0]) + torch.sin(x[:, 0]))[:, None]  # f = -u''


def poisson1d_hf(*, k: float = 100.0) -> Problem:
    """-u'' = f on [0, 2π] with u = sin(kx) + sin(x) and its Dirichlet data at both ends."""
    if not math.isfinite(k) or k <= 0:
        raise ValueError(f"poisson1d-hf needs a frequency k > 0, got k={k!r}")
    n = max(2001, int(40 * k) + 1)  # >= 40 points per period of sin(kx) on [0, 2π]
    xs = np.linspace(0.0, TWO_PI, n)[:, None]
    reference = Reference.from_function(
        lambda p: poisson1d_hf_exact(p, k=k), xs, grid_shape=(n,),
        source=f"closed form u = sin({k:g}x) + sin(x), {n} points", error=1e-15,
        note="float64 rounding of O(1) sines",
    )

    def pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
        return -partial(u, x, 0, 0) - _source_1d(x, k)

    return Problem(
        name="poisson1d-hf",
        domain=Interval(0.0, TWO_PI),
        input_names=("x",),
        output_names=("u",),
        conditions={"pde": Residual(pde), "bc": Dirichlet(lambda x: poisson1d_hf_exact(x, k=k)[:, None])},
        reference=reference,
        sizes={"pde": 4000, "bc": 2},
        description=f"-u'' = f on [0,2π], u = sin({k:g}x) + sin(x) (multi-scale, Fang et al. 2024), Dirichlet ends",
        energy=Energy(source=lambda x: _source_1d(x, k), p=2),  # -Δu = f: read by --method gp-hm and wos
    )


def poisson2d_multiscale_exact(p):
    """u = sin(6x)cos(20x) + sin(6y)cos(20y) at points ``p`` (``(n, 2)``), ``(n,)``."""
    m = backend(p)
    x, y = p[:, 0], p[:, 1]
    return m.sin(6 * x) * m.cos(20 * x) + m.sin(6 * y) * m.cos(20 * y)


def _g_second(t: torch.Tensor) -> torch.Tensor:
    # g = sin(6t)cos(20t) = ½[sin(26t) - sin(14t)], g'' = ½[-676 sin(26t) + 196 sin(14t)].
    return 0.5 * (-676 * torch.sin(26 * t) + 196 * torch.sin(14 * t))


def _source_2d(x: torch.Tensor) -> torch.Tensor:
    return -(_g_second(x[:, 0]) + _g_second(x[:, 1]))[:, None]  # f = -Δu


def _pde_2d(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    return -laplacian(u, x) - _source_2d(x)


def poisson2d_multiscale() -> Problem:
    """-Δu = f on [0, 2π]² with u = sin(6x)cos(20x) + sin(6y)cos(20y) and its Dirichlet data."""
    axis = np.linspace(0.0, TWO_PI, 201)  # 48 points per period of the 26-rad component
    reference = Reference.from_function(
        poisson2d_multiscale_exact, grid_points(axis, axis), grid_shape=(201, 201),
        source="closed form u = sin(6x)cos(20x) + sin(6y)cos(20y), 201 x 201 grid", error=1e-15,
        note="float64 rounding of O(1) sines",
    )
    return Problem(
        name="poisson2d-multiscale",
        domain=Rectangle((0.0, 0.0), (TWO_PI, TWO_PI)),
        input_names=("x", "y"),
        output_names=("u",),
        conditions={"pde": Residual(_pde_2d), "bc": Dirichlet(lambda x: poisson2d_multiscale_exact(x)[:, None])},
        reference=reference,
        sizes={"pde": 8000, "bc": 800},
        description="-Δu = f on [0,2π]², u = sin(6x)cos(20x) + sin(6y)cos(20y) (Fang et al. 2024), Dirichlet",
        energy=Energy(source=_source_2d, p=2),
    )
