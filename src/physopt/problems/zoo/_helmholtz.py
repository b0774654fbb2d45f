"""Helmholtz equation on [-1, 1]² with the manufactured solution of the PINN literature.

    Δu + k² u = q,   (x, y) ∈ [-1, 1]²,   u = 0 on the boundary,
    u(x, y) = sin(a1 πx) sin(a2 πy),   q = (k² - (a1 π)² - (a2 π)²) u,   a1 = 1, a2 = 4, k = 1.

The setup of Wang, Teng & Perdikaris 2021, "Understanding and mitigating gradient flow pathologies
in physics-informed neural networks" (SIAM J. Sci. Comput. 43(5)), used since by DeepXDE, PINNacle
and many optimiser papers. Reference: the closed form on a 201 x 201 grid (checked against the PDE
residual by autograd in tests/numerics/test_zoo_references.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._conditions import Dirichlet, Residual
from .._domain import Rectangle
from .._ops import laplacian
from .._problem import Ansatz, Problem, Reference
from ._common import backend, grid_points

__all__ = ["helmholtz2d", "helmholtz2d_exact"]


def helmholtz2d_exact(p, *, a1: float = 1.0, a2: float = 4.0):
    """u = sin(a1 πx) sin(a2 πy) at points ``p`` (numpy array or torch tensor), ``(n,)``."""
    m = backend(p)
    return m.sin(a1 * math.pi * p[:, 0]) * m.sin(a2 * math.pi * p[:, 1])


def helmholtz2d(*, k: float = 1.0, a1: float = 1.0, a2: float = 4.0) -> Problem:
    """Helmholtz Δu + k²u = q with u = sin(a1 πx) sin(a2 πy) on [-1,1]² (integer a1, a2)."""
    if not (float(a1).is_integer() and float(a2).is_integer()):
        raise ValueError(f"a1 and a2 must be integers for u to vanish on the boundary, got {a1}, {a2}")
    source_factor = k**2 - (a1 * math.pi) ** 2 - (a2 * math.pi) ** 2

    def pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
        q = params["source_factor"] * helmholtz2d_exact(x, a1=a1, a2=a2)[:, None]
        return laplacian(u, x) + params["k"] ** 2 * u - q

    axis = np.linspace(-1.0, 1.0, 201)
    reference = Reference.from_function(
        lambda p: helmholtz2d_exact(p, a1=a1, a2=a2), grid_points(axis, axis), grid_shape=(201, 201),
        source=f"closed form u = sin({a1:g}πx) sin({a2:g}πy) (manufactured), 201 x 201 grid",
        error=3.7e-16, note="float64 rounding, vs 80-bit evaluation (docs/bench.md)",
    )
    return Problem(
        name="helmholtz2d",
        domain=Rectangle((-1.0, -1.0), (1.0, 1.0)),
        input_names=("x", "y"),
        output_names=("u",),
        conditions={"pde": Residual(pde), "bc": Dirichlet(0.0)},
        params={"k": k, "source_factor": source_factor},
        reference=reference,
        ansatz=Ansatz(
            lift=lambda x: torch.zeros_like(x[:, :1]),
            distance=lambda x: (1 - x[:, 0:1] ** 2) * (1 - x[:, 1:2] ** 2),
            enforces=("bc",),
        ),
        sizes={"pde": 4000, "bc": 800},
        description=f"Δu + {k:g}²u = q on [-1,1]², u = 0 on the boundary; u = sin({a1:g}πx) sin({a2:g}πy)",
    )
