"""Kovasznay flow: an exact steady solution of the incompressible Navier–Stokes equations.

    u u_x + v u_y + p_x - ν Δu = 0,   u v_x + v v_y + p_y - ν Δv = 0,   u_x + v_y = 0,
    (x, y) ∈ [-0.5, 1] x [-0.5, 1.5],   Re = 1/ν = 20,
    u = 1 - e^{λx} cos 2πy,   v = (λ / 2π) e^{λx} sin 2πy,   p = (1 - e^{2λx}) / 2,
    λ = 1/(2ν) - √(1/(4ν²) + 4π²).

Kovasznay 1948, "Laminar flow behind a two-dimensional grid" (Proc. Camb. Phil. Soc. 44); the
domain and Re are DeepXDE's example (examples/pinn_forward/Kovasznay_flow.py), which fixes the
pressure constant with p = p_exact on the outflow x = 1 (``bc_p``) and the velocity on the whole
boundary (``bc``). Reference: the closed form for (u, v, p) on a 101 x 101 grid (residual tests in
tests/numerics/test_zoo_references.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._conditions import Dirichlet, Residual
from .._domain import Rectangle
from .._ops import grad, laplacian
from .._problem import Problem, Reference
from ._common import backend, grid_points

__all__ = ["kovasznay", "kovasznay_exact", "kovasznay_lambda"]


def kovasznay_lambda(re: float = 20.0) -> float:
    return 0.5 * re - math.sqrt(0.25 * re**2 + 4 * math.pi**2)


def kovasznay_exact(p, *, re: float = 20.0):
    """(u, v, p) at points ``p = (x, y)`` (numpy array or torch tensor), ``(n, 3)``."""
    m = backend(p)
    lam = kovasznay_lambda(re)
    x, y = p[:, 0], p[:, 1]
    e = m.exp(lam * x)
    u = 1 - e * m.cos(2 * math.pi * y)
    v = lam / (2 * math.pi) * e * m.sin(2 * math.pi * y)
    pr = 0.5 * (1 - m.exp(2 * lam * x))
    return m.stack([u, v, pr], 1) if m is torch else np.stack([u, v, pr], axis=1)


def _pde(x: torch.Tensor, out: torch.Tensor, params) -> torch.Tensor:
    nu = params["nu"]
    u, v, p = out[:, 0:1], out[:, 1:2], out[:, 2:3]
    gu, gv, gp = grad(u, x), grad(v, x), grad(p, x)
    mom_x = u * gu[:, 0:1] + v * gu[:, 1:2] + gp[:, 0:1] - nu * laplacian(u, x)
    mom_y = u * gv[:, 0:1] + v * gv[:, 1:2] + gp[:, 1:2] - nu * laplacian(v, x)
    return torch.cat([mom_x, mom_y, gu[:, 0:1] + gv[:, 1:2]], dim=1)


def kovasznay(*, re: float = 20.0) -> Problem:
    """Kovasznay flow at Reynolds number ``re`` (default 20) on DeepXDE's domain."""
    xs = np.linspace(-0.5, 1.0, 101)
    ys = np.linspace(-0.5, 1.5, 101)
    reference = Reference.from_function(
        lambda p: kovasznay_exact(p, re=re), grid_points(xs, ys), grid_shape=(101, 101),
        source=f"closed form (Kovasznay 1948), Re = {re:g}, 101 x 101 grid",
        error=1.6e-16, note="float64 rounding, vs 80-bit evaluation (docs/bench.md)",
    )
    return Problem(
        name="kovasznay",
        domain=Rectangle((-0.5, -0.5), (1.0, 1.5)),
        input_names=("x", "y"),
        output_names=("u", "v", "p"),
        conditions={
            "pde": Residual(_pde),
            "bc": Dirichlet(lambda x: kovasznay_exact(x, re=re)[:, :2], components=(0, 1)),
            "bc_p": Dirichlet(
                lambda x: kovasznay_exact(x, re=re)[:, 2:3], on=lambda x: x[:, 0] >= 1.0 - 1e-12, components=(2,)
            ),
        },
        params={"nu": 1.0 / re},
        reference=reference,
        sizes={"pde": 2601, "bc": 400, "bc_p": 50},
        description=f"steady Navier–Stokes, Re = {re:g}, on [-0.5,1]×[-0.5,1.5]; Kovasznay's exact (u, v, p)",
    )
