"""Diffusion–reaction with a manufactured source (DeepXDE's "diffusion-reaction" example).

    u_t = d u_xx + e^{-t} (3/2 sin 2x + 8/3 sin 3x + 15/4 sin 4x + 63/8 sin 8x),
    x ∈ [-π, π], t ∈ [0, 1], d = 1,   u(±π, t) = 0,
    u(x, 0) = sin x + sin 2x / 2 + sin 3x / 3 + sin 4x / 4 + sin 8x / 8,
    u(x, t) = e^{-t} (sin x + sin 2x / 2 + sin 3x / 3 + sin 4x / 4 + sin 8x / 8).

Each mode sin(jx)/j contributes e^{-t}(j - 1/j) sin(jx) to u_t - u_xx, which is the source above
(Lu, Meng, Mao & Karniadakis 2021, "DeepXDE: a deep learning library for solving differential
equations", SIAM Review; examples/pinn_forward/diffusion_reaction.py). Reference: the closed form on
a 201 x 101 grid (residual tests in tests/numerics/test_zoo_references.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._conditions import Dirichlet, Initial, Residual
from .._domain import Interval, TimeInterval
from .._ops import dt, partial
from .._problem import Ansatz, Problem, Reference
from ._common import backend, grid_points

__all__ = ["diffusion_reaction", "diffusion_reaction_exact"]

_MODES = (1, 2, 3, 4, 8)


def _profile(x, m):
    return sum(m.sin(j * x) / j for j in _MODES)


def diffusion_reaction_exact(p):
    """u = e^{-t} Σ_j sin(jx)/j, j ∈ {1, 2, 3, 4, 8}, at points ``p = (x, t)``, ``(n,)``."""
    m = backend(p)
    return m.exp(-p[:, 1]) * _profile(p[:, 0], m)


def _pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    xs, t = x[:, :1], x[:, 1:2]
    source = torch.exp(-t) * sum((j - 1 / j) * torch.sin(j * xs) for j in _MODES)
    return dt(u, x) - params["d"] * partial(u, x, 0, 0) - source


def _initial(x: torch.Tensor) -> torch.Tensor:
    return _profile(x[:, :1], torch)


def diffusion_reaction(*, d: float = 1.0) -> Problem:
    """DeepXDE's diffusion–reaction problem with its closed-form solution (d = 1 only)."""
    if d != 1.0:
        raise ValueError("the manufactured source is derived for d = 1")
    xs = np.linspace(-math.pi, math.pi, 201)
    ts = np.linspace(0.0, 1.0, 101)
    reference = Reference.from_function(
        diffusion_reaction_exact, grid_points(xs, ts), grid_shape=(201, 101),
        source="closed form u = e^{-t} Σ sin(jx)/j (manufactured), 201 x 101 grid",
        error=1.4e-16, note="float64 rounding, vs 80-bit evaluation (docs/bench.md)",
    )
    return Problem(
        name="diffusion-reaction",
        domain=Interval(-math.pi, math.pi) * TimeInterval(0.0, 1.0),
        input_names=("x", "t"),
        output_names=("u",),
        conditions={"pde": Residual(_pde), "bc": Dirichlet(0.0), "ic": Initial(_initial)},
        params={"d": d},
        reference=reference,
        # DeepXDE's output transform: u = u0(x) + t (π² - x²) N.
        ansatz=Ansatz(
            lift=_initial, distance=lambda x: x[:, 1:2] * (math.pi**2 - x[:, :1] ** 2), enforces=("bc", "ic")
        ),
        sizes={"pde": 2000, "bc": 100, "ic": 200},
        description="u_t = u_xx + e^{-t}(...) on [-π,π]×[0,1], u(±π,t) = 0; u = e^{-t} Σ sin(jx)/j",
    )
