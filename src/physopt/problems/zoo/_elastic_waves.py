"""Two-dimensional linear elastodynamics: a P wave and an S wave crossing a periodic plate.

    ρ u_tt = ∇·σ(u) = (λ + μ) ∇(∇·u) + μ Δu,   σ = λ (∇·u) I + μ (∇u + ∇uᵀ),
    x ∈ [0, 1]² periodic, t ∈ [0, 0.5],   ρ = λ = μ = 1,
    u = A d_P cos(k_P·x - c_P |k_P| t) + B d_S cos(k_S·x - c_S |k_S| t),

with ``k_P = 2π (1, 1)``, ``d_P = k_P / |k_P|`` (longitudinal, speed ``c_P = √((λ + 2μ)/ρ)``) and
``k_S = 2π (1, 0)``, ``d_S = (0, 1)`` (transverse, ``c_S = √(μ/ρ)``), ``A = 1``, ``B = 1/2``: each plane
wave solves the Navier–Cauchy equation on its own (∇·u_S = 0; ∇×u_P = 0), so the sum is exact.
The vector, two-wave-speed analogue of the INSR paper's elastodynamics cases (Chen et al. 2023) at a
size with a closed form. Initial displacement and velocity from the closed form, periodic in both
axes (value and first derivative). Reference: the closed form on a 33 x 33 x 11 grid.
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

__all__ = ["elastic_waves", "elastic_waves_exact"]

_LAMBDA, _MU, _RHO, _T = 1.0, 1.0, 1.0, 0.5
_WAVES = (  # (amplitude, wavevector / 2π, polarisation, speed)
    (1.0, (1.0, 1.0), (1 / math.sqrt(2), 1 / math.sqrt(2)), math.sqrt((_LAMBDA + 2 * _MU) / _RHO)),
    (0.5, (1.0, 0.0), (0.0, 1.0), math.sqrt(_MU / _RHO)),
)


def _field(p, *, derivative: int):
    """The displacement (``derivative = 0``) or velocity (``1``) at ``p = (x, y, t)``, ``(n, 2)``."""
    m = backend(p)
    x, y, t = p[:, 0], p[:, 1], p[:, 2]
    out = [0 * x, 0 * x]
    for a, (kx, ky), d, c in _WAVES:
        k = 2 * math.pi * math.hypot(kx, ky)
        phase = 2 * math.pi * (kx * x + ky * y) - c * k * t
        s = m.cos(phase) if derivative == 0 else c * k * m.sin(phase)  # d/dt cos(φ) = ck sin(φ)
        out = [out[0] + a * d[0] * s, out[1] + a * d[1] * s]
    return m.stack(out, 1) if m is torch else np.stack(out, axis=1)


def elastic_waves_exact(p):
    """The displacement ``(u, v)`` at points ``p = (x, y, t)`` (numpy array or torch tensor)."""
    return _field(p, derivative=0)


def _pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    gu, gv = grad(u[:, 0:1], x), grad(u[:, 1:2], x)
    hu = [grad(gu[:, i : i + 1], x) for i in range(3)]  # hu[i][:, j] = ∂²u/∂x_i∂x_j (axis 2: t)
    hv = [grad(gv[:, i : i + 1], x) for i in range(3)]
    lam, mu, rho = params["lambda"], params["mu"], params["rho"]
    div_x = hu[0][:, 0:1] + hv[0][:, 1:2]  # ∂/∂x (u_x + v_y)
    div_y = hu[1][:, 0:1] + hv[1][:, 1:2]
    lap_u, lap_v = hu[0][:, 0:1] + hu[1][:, 1:2], hv[0][:, 0:1] + hv[1][:, 1:2]
    return torch.cat([rho * hu[2][:, 2:3] - (lam + mu) * div_x - mu * lap_u,
                      rho * hv[2][:, 2:3] - (lam + mu) * div_y - mu * lap_v], dim=1)


def elastic_waves() -> Problem:
    """The two-wave problem above (registered as ``elastic-waves``)."""
    axis, times = np.linspace(0.0, 1.0, 33), np.linspace(0.0, _T, 11)
    grid = np.stack(np.meshgrid(axis, axis, times, indexing="ij"), -1).reshape(-1, 3)
    reference = Reference.from_function(
        elastic_waves_exact, grid, grid_shape=(33, 33, 11),
        source="closed form (P wave + S wave), 33 x 33 x 11 grid on [0,1]² x [0,0.5]")
    return Problem(
        name="elastic-waves",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)) * TimeInterval(0.0, _T),
        input_names=("x", "y", "t"),
        output_names=("u", "v"),
        conditions={
            "pde": Residual(_pde),
            "bc_x": Periodic(axis=0, derivatives=1),
            "bc_y": Periodic(axis=1, derivatives=1),
            "ic": Initial(lambda x: _field(x, derivative=0)),
            "ic_t": Initial(lambda x: _field(x, derivative=1), order=1),
        },
        params={"lambda": _LAMBDA, "mu": _MU, "rho": _RHO},
        reference=reference,
        sizes={"pde": 2000, "bc_x": 200, "bc_y": 200, "ic": 500, "ic_t": 500},
        description="2-D linear elastodynamics (λ = μ = ρ = 1), P + S plane waves on the periodic unit square, "
                    "t ∈ [0, 0.5]",
    )
