"""Linear convection (advection) with periodic boundaries, the PINN failure-mode benchmark.

    u_t + β u_x = 0,   x ∈ [0, 2π] periodic, t ∈ [0, 1],   u(x, 0) = sin x,
    u(x, t) = sin(x - βt).

Krishnapriyan et al. 2021, "Characterizing possible failure modes in physics-informed neural
networks" (NeurIPS): vanilla PINNs fail for β ≳ 30; registered as ``convection`` (β = 30) and
``convection-50`` (β = 50, the Lagrangian-PINN case of Mojgani et al.). As in that paper the
boundary condition is u(0, t) = u(2π, t). Reference: the closed form (method of characteristics)
on their 256 x 100 grid; the residual tests are in tests/numerics/test_zoo_references.py.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._conditions import Initial, Periodic, Residual
from .._domain import Interval, TimeInterval
from .._ops import dt, partial
from .._problem import Ansatz, Problem, Reference, Transport
from ._common import backend, grid_points

__all__ = ["convection", "convection_exact"]


def convection_exact(p, *, beta: float = 30.0):
    """u = sin(x - βt) at points ``p = (x, t)`` (numpy array or torch tensor), ``(n,)``."""
    return backend(p).sin(p[:, 0] - beta * p[:, 1])


def _pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    return dt(u, x) + params["beta"] * partial(u, x, 0)


def _velocity(u: torch.Tensor, params) -> torch.Tensor:
    return params["beta"] * torch.ones_like(u)


def _initial(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(x[:, :1])


def convection(*, beta: float = 30.0) -> Problem:
    """u_t + β u_x = 0 with u0 = sin x on [0, 2π] periodic; named ``convection-<β>`` unless β = 30."""
    name = "convection" if beta == 30.0 else f"convection-{beta:g}"
    xs = np.linspace(0.0, 2 * math.pi, 256)
    ts = np.linspace(0.0, 1.0, 100)
    reference = Reference.from_function(
        lambda p: convection_exact(p, beta=beta), grid_points(xs, ts), grid_shape=(256, 100),
        source=f"closed form u = sin(x - {beta:g}t) (characteristics), 256 x 100 grid",
        error=2e-15, note="float64 rounding, vs 80-bit evaluation (docs/bench.md); β = 30: 1.0e-15, β = 50: 1.8e-15",
    )
    return Problem(
        name=name,
        domain=Interval(0.0, 2 * math.pi) * TimeInterval(0.0, 1.0),
        input_names=("x", "t"),
        output_names=("u",),
        conditions={"pde": Residual(_pde), "bc": Periodic(axis=0), "ic": Initial(_initial)},
        params={"beta": beta},
        reference=reference,
        # u = sin x + t·N: exact initial condition; periodicity stays a penalty.
        ansatz=Ansatz(lift=_initial, distance=lambda x: x[:, 1:2], enforces=("ic",)),
        sizes={"pde": 2000, "bc": 200, "ic": 256},
        description=f"u_t + {beta:g} u_x = 0 on [0,2π] periodic × [0,1], u(x,0) = sin x",
        transport=Transport(velocity=_velocity),  # characteristics x = ξ + βt (--method lpinn)
    )
