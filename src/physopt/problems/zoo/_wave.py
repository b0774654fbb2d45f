"""One-dimensional wave equation with a two-mode standing wave (the NTK-paper benchmark).

    u_tt = C² u_xx,   x ∈ [0, 1], t ∈ [0, 1],   C = 2,
    u(0, t) = u(1, t) = 0,   u(x, 0) = sin(πx) + 0.5 sin(4πx),   u_t(x, 0) = 0,
    u(x, t) = sin(πx) cos(2πt) + 0.5 sin(4πx) cos(8πt).

Wang, Yu & Perdikaris 2022, "When and why PINNs fail to train: a neural tangent kernel
perspective" (J. Comput. Phys. 449); JAX-PI's ``examples/wave``. Reference: the closed form
(separation of variables) on a 201 x 201 grid; residual tests in tests/numerics/test_zoo_references.py.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._conditions import Dirichlet, Initial, Residual
from .._domain import Interval, TimeInterval
from .._ops import partial
from .._problem import Ansatz, Problem, Reference
from ._common import backend, grid_points

__all__ = ["wave", "wave_exact"]


def wave_exact(p):
    """u = sin(πx) cos(2πt) + 0.5 sin(4πx) cos(8πt) at points ``p = (x, t)``, ``(n,)``."""
    m = backend(p)
    x, t = p[:, 0], p[:, 1]
    return m.sin(math.pi * x) * m.cos(2 * math.pi * t) + 0.5 * m.sin(4 * math.pi * x) * m.cos(8 * math.pi * t)


def _pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    return partial(u, x, 1, 1) - params["c"] ** 2 * partial(u, x, 0, 0)


def _initial(x: torch.Tensor) -> torch.Tensor:
    xs = x[:, :1]
    return torch.sin(math.pi * xs) + 0.5 * torch.sin(4 * math.pi * xs)


def _distance(x: torch.Tensor) -> torch.Tensor:
    t2 = x[:, 1:2] ** 2
    return t2 / (t2 + 0.2**2) * x[:, :1] * (1 - x[:, :1]) * 4.0


def wave(*, c: float = 2.0) -> Problem:
    """The standing-wave problem above (the closed form needs C = 2)."""
    if c != 2.0:
        raise ValueError("the closed-form solution is for C = 2")
    axis = np.linspace(0.0, 1.0, 201)
    reference = Reference.from_function(
        wave_exact, grid_points(axis, axis), grid_shape=(201, 201),
        source="closed form u = sin(πx)cos(2πt) + 0.5 sin(4πx)cos(8πt), 201 x 201 grid",
        error=4.1e-16, note="float64 rounding, vs 80-bit evaluation (docs/bench.md)",
    )
    return Problem(
        name="wave",
        domain=Interval(0.0, 1.0) * TimeInterval(0.0, 1.0),
        input_names=("x", "t"),
        output_names=("u",),
        conditions={
            "pde": Residual(_pde),
            "bc": Dirichlet(0.0),
            "ic": Initial(_initial),
            "ic_t": Initial(0.0, order=1),
        },
        params={"c": c},
        reference=reference,
        # u = u0(x) + t²/(t² + 0.04) · 4x(1 - x) N: u0 vanishes at x = 0, 1, and the time factor
        # vanishes to second order at t = 0 (u_t(x, 0) = 0) but saturates at 1, so N stays O(1)
        # (with t² alone N had to reach ~300 near t = 0; see physopt.problems' TimeFactor).
        ansatz=Ansatz(lift=_initial, distance=_distance, enforces=("bc", "ic", "ic_t")),
        sizes={"pde": 4000, "bc": 200, "ic": 200, "ic_t": 200},
        description="u_tt = 4 u_xx on [0,1]², u(0,t) = u(1,t) = 0, u(x,0) = sin πx + ½ sin 4πx, u_t(x,0) = 0",
    )
