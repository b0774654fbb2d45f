"""Poisson equation on the unit square with a manufactured solution.

    -Δu = f,   (x, y) ∈ [0, 1]²,   u = 0 on the boundary,
    u(x, y) = sin(πx) sin(πy),   f = 2π² sin(πx) sin(πy).

The standard manufactured test (e.g. the first example of Lagaris, Likas & Fotiadis 1998,
"Artificial neural networks for solving ordinary and partial differential equations", uses the
same eigenfunction structure). Reference: the closed form, exact to rounding, on a 101 x 101 grid;
tests/numerics/test_zoo_references.py checks it against the PDE residual by autograd in float64.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._conditions import Dirichlet, Residual
from .._domain import Rectangle
from .._energy import Energy
from .._ops import laplacian
from .._problem import Ansatz, Problem, Reference
from ._common import backend, grid_points

__all__ = ["poisson2d", "poisson2d_exact"]


def poisson2d_exact(p):
    """u = sin(πx) sin(πy) at points ``p`` (numpy array or torch tensor, ``(n, 2)``), ``(n,)``."""
    m = backend(p)
    return m.sin(math.pi * p[:, 0]) * m.sin(math.pi * p[:, 1])


def _source(x: torch.Tensor) -> torch.Tensor:
    return 2 * math.pi**2 * poisson2d_exact(x)[:, None]


def _pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    return -laplacian(u, x) - _source(x)


def _distance(x: torch.Tensor) -> torch.Tensor:
    return (x[:, 0:1] * (1 - x[:, 0:1]) * x[:, 1:2] * (1 - x[:, 1:2])) * 16.0  # scaled to max 1


def poisson2d() -> Problem:
    """Manufactured Poisson problem u = sin(πx) sin(πy) on [0,1]² with homogeneous Dirichlet data."""
    axis = np.linspace(0.0, 1.0, 101)
    reference = Reference.from_function(
        poisson2d_exact, grid_points(axis, axis), grid_shape=(101, 101),
        source="closed form u = sin(πx) sin(πy) (manufactured), 101 x 101 grid",
        error=1.6e-16, note="float64 rounding, vs 80-bit evaluation (docs/bench.md)",
    )
    return Problem(
        name="poisson2d",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        input_names=("x", "y"),
        output_names=("u",),
        conditions={"pde": Residual(_pde), "bc": Dirichlet(0.0)},
        reference=reference,
        ansatz=Ansatz(lift=lambda x: torch.zeros_like(x[:, :1]), distance=_distance, enforces=("bc",)),
        sizes={"pde": 2000, "bc": 400},
        description="-Δu = 2π² sin(πx) sin(πy) on [0,1]², u = 0 on the boundary; u = sin(πx) sin(πy)",
        # The Dirichlet energy ∫ ½|∇u|² - f u: --method ritz minimises it, --method wos reads f.
        energy=Energy(source=_source, p=2),
    )
