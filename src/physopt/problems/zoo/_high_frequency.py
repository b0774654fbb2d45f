"""High-frequency and multi-scale Poisson problems, the test bed of GP-HM.

    poisson1d-hf:          -u'' = f on [0, 2π],  u = sin(100x) + sin(x),
    poisson2d-multiscale:  -Δu = f on [0, 2π]²,  u = g(x) g(y),  g(t) = sin(6t)cos(20t),

with Dirichlet data from the solution on the whole boundary. Both are cases of Fang et al. (2024),
"Solving High Frequency and Multi-Scale PDEs with Gaussian Processes" (ICLR 2024): the 1-D one
joins their single-frequency ``sin(100x)`` case with a unit-frequency mode (the two scales differ
by 10⁴ in ``f``, which is what spectral bias makes hard for a PINN); the 2-D one has the factors
of their "sin_add_cos" Poisson case (components at 14 and 26 rad per unit along each axis) as a
product rather than a sum. Decided here: their sum ``g(x) + g(y)`` is reproduced exactly by the
transfinite (Coons) interpolant of its boundary values, so physopt's automatic hard-constraint
ansatz would solve it before training; the product vanishes on the boundary and has no such
shortcut. The frequency
``k`` of the 1-D case and the amplitude ``a`` of its unit-frequency mode are problem options
(``--set problem.k=20``; ``--set problem.a=0`` is the paper's single-frequency ``sin(100x)``).

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


def poisson1d_hf_exact(p, *, k: float = 100.0, a: float = 1.0):
    """u = sin(kx) + a sin(x) at points ``p`` (``(n, 1)``, numpy or torch), ``(n,)``."""
    m = backend(p)
    return m.sin(k * p[:, 0]) + a * m.sin(p[:, 0])


def _source_1d(x: torch.Tensor, k: float, a: float) -> torch.Tensor:
    return (k * k * torch.sin(k * x[:, 0]) + a * torch.sin(x[:, 0]))[:, None]  # f = -u''


def poisson1d_hf(*, k: float = 100.0, a: float = 1.0) -> Problem:
    """-u'' = f on [0, 2π] with u = sin(kx) + a sin(x) and its Dirichlet data at both ends."""
    if not math.isfinite(k) or k <= 0 or not math.isfinite(a):
        raise ValueError(f"poisson1d-hf needs a frequency k > 0 and a finite amplitude a, got k={k!r}, a={a!r}")
    n = max(2001, int(40 * k) + 1)  # >= 40 points per period of sin(kx) on [0, 2π]
    xs = np.linspace(0.0, TWO_PI, n)[:, None]
    reference = Reference.from_function(
        lambda p: poisson1d_hf_exact(p, k=k, a=a), xs, grid_shape=(n,),
        source=f"closed form u = sin({k:g}x) + {a:g} sin(x), {n} points", error=1e-15,
        note="float64 rounding of O(1) sines",
    )

    def pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
        return -partial(u, x, 0, 0) - _source_1d(x, k, a)

    return Problem(
        name="poisson1d-hf",
        domain=Interval(0.0, TWO_PI),
        input_names=("x",),
        output_names=("u",),
        conditions={"pde": Residual(pde), "bc": Dirichlet(lambda x: poisson1d_hf_exact(x, k=k, a=a)[:, None])},
        reference=reference,
        sizes={"pde": 4000, "bc": 2},
        description=f"-u'' = f on [0,2π], u = sin({k:g}x) + {a:g} sin(x) (Fang et al. 2024), Dirichlet ends",
        energy=Energy(source=lambda x: _source_1d(x, k, a), p=2),  # -Δu = f: read by --method gp-hm and wos
    )


def _g(t, m=torch):
    return m.sin(6 * t) * m.cos(20 * t)


def poisson2d_multiscale_exact(p):
    """u = g(x) g(y), g(t) = sin(6t)cos(20t), at points ``p`` (``(n, 2)``), ``(n,)``."""
    m = backend(p)
    return _g(p[:, 0], m) * _g(p[:, 1], m)


def _g_second(t: torch.Tensor) -> torch.Tensor:
    # g = sin(6t)cos(20t) = ½[sin(26t) - sin(14t)], g'' = ½[-676 sin(26t) + 196 sin(14t)].
    return 0.5 * (-676 * torch.sin(26 * t) + 196 * torch.sin(14 * t))


def _source_2d(x: torch.Tensor) -> torch.Tensor:
    x0, x1 = x[:, 0], x[:, 1]
    return -(_g_second(x0) * _g(x1) + _g(x0) * _g_second(x1))[:, None]  # f = -Δu


def _pde_2d(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    return -laplacian(u, x) - _source_2d(x)


def poisson2d_multiscale() -> Problem:
    """-Δu = f on [0, 2π]² with u = g(x)g(y), g(t) = sin(6t)cos(20t), and its Dirichlet data (zero)."""
    axis = np.linspace(0.0, TWO_PI, 201)  # 48 points per period of the 26-rad component
    reference = Reference.from_function(
        poisson2d_multiscale_exact, grid_points(axis, axis), grid_shape=(201, 201),
        source="closed form u = g(x)g(y), g(t) = sin(6t)cos(20t), 201 x 201 grid", error=1e-15,
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
        description="-Δu = f on [0,2π]², u = g(x)g(y), g(t) = sin(6t)cos(20t) (after Fang et al. 2024), Dirichlet",
        energy=Energy(source=_source_2d, p=2),
    )
