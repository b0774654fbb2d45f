"""The two-dimensional Taylor–Green vortex: incompressible Navier–Stokes with a closed form.

    u_t + u u_x + v u_y + p_x = ν Δu,   v_t + u v_x + v v_y + p_y = ν Δv,   u_x + v_y = 0,
    (x, y) ∈ [0, 2π]² periodic, t ∈ [0, 2],   ν = 0.1,
    u = -cos x sin y F(t),   v = sin x cos y F(t),   p = -¼ (cos 2x + cos 2y) F(t)²,   F = e^{-2νt}.

Taylor & Green (1937). The velocity is a divergence-free eigenfunction of the Laplacian
(Δu = -2u), and its advection ``(u·∇)u = ¼ ∇(cos 2x + cos 2y) F²`` is a pure gradient, which the
pressure balances exactly: the nonlinear equations reduce to ``u_t = -2ν u``. The incompressible
case of the INSR paper's fluid experiments (Chen et al. 2023) at a size with a closed form. The
initial condition gives all three outputs at t = 0 (the pressure too, so the initial state is the
exact one); periodic in both axes (value and first derivative). Only ``∇p`` enters the equations:
after t = 0 the pressure is determined up to a function of time, which is why comparisons of
solvers (benchmarks/insr.py) report the velocity error on its own.

Reference: the closed form on a 33 x 33 x 11 grid of [0, 2π]² x [0, 2].
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._conditions import Initial, Periodic, Residual
from .._domain import Rectangle, TimeInterval
from .._ops import grad
from .._problem import Problem, Reference
from ._common import backend

__all__ = ["taylor_green", "taylor_green_exact"]

_NU, _T = 0.1, 2.0
TWO_PI = 2 * math.pi


def taylor_green_exact(p, *, nu: float = _NU):
    """``(u, v, p)`` at points ``p = (x, y, t)`` (numpy array or torch tensor), shape ``(n, 3)``."""
    m = backend(p)
    x, y, t = p[:, 0], p[:, 1], p[:, 2]
    f = m.exp(-2 * nu * t)
    cols = [-m.cos(x) * m.sin(y) * f, m.sin(x) * m.cos(y) * f, -0.25 * (m.cos(2 * x) + m.cos(2 * y)) * f * f]
    return m.stack(cols, 1) if m is torch else np.stack(cols, axis=1)


def _pde(z: torch.Tensor, out: torch.Tensor, params) -> torch.Tensor:
    u, v, p = out[:, 0:1], out[:, 1:2], out[:, 2:3]
    gu, gv, gp = grad(u, z), grad(v, z), grad(p, z)  # columns: ∂/∂x, ∂/∂y, ∂/∂t
    lap_u = grad(gu[:, 0:1], z)[:, 0:1] + grad(gu[:, 1:2], z)[:, 1:2]
    lap_v = grad(gv[:, 0:1], z)[:, 0:1] + grad(gv[:, 1:2], z)[:, 1:2]
    nu = params["nu"]
    return torch.cat([gu[:, 2:3] + u * gu[:, 0:1] + v * gu[:, 1:2] + gp[:, 0:1] - nu * lap_u,
                      gv[:, 2:3] + u * gv[:, 0:1] + v * gv[:, 1:2] + gp[:, 1:2] - nu * lap_v,
                      gu[:, 0:1] + gv[:, 1:2]], dim=1)


def taylor_green(*, nu: float = _NU) -> Problem:
    """The Taylor–Green vortex above (registered as ``taylor-green``); ``nu`` the viscosity."""
    if not math.isfinite(nu) or nu <= 0:
        raise ValueError(f"taylor-green needs a viscosity nu > 0, got nu={nu!r}")
    axis, times = np.linspace(0.0, TWO_PI, 33), np.linspace(0.0, _T, 11)
    grid = np.stack(np.meshgrid(axis, axis, times, indexing="ij"), -1).reshape(-1, 3)
    reference = Reference.from_function(
        lambda p: taylor_green_exact(p, nu=nu), grid, grid_shape=(33, 33, 11),
        source=f"closed form (Taylor–Green vortex, ν = {nu:g}), 33 x 33 x 11 grid on [0,2π]² x [0,{_T:g}]",
        error=1e-15, note="float64 rounding of O(1) products of sines")
    return Problem(
        name="taylor-green",
        domain=Rectangle((0.0, 0.0), (TWO_PI, TWO_PI)) * TimeInterval(0.0, _T),
        input_names=("x", "y", "t"),
        output_names=("u", "v", "p"),
        conditions={
            "pde": Residual(_pde),
            "bc_x": Periodic(axis=0, derivatives=1),
            "bc_y": Periodic(axis=1, derivatives=1),
            "ic": Initial(lambda z: taylor_green_exact(z, nu=nu)),
        },
        params={"nu": nu},
        reference=reference,
        sizes={"pde": 2000, "bc_x": 200, "bc_y": 200, "ic": 500},
        description=f"2-D incompressible Navier–Stokes, Taylor–Green vortex (ν = {nu:g}) on the periodic "
                    f"[0,2π]², t ∈ [0, {_T:g}], closed form",
    )
