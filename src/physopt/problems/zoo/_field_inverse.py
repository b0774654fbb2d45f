"""``poisson-field-inverse``: a 2-D diffusion coefficient field a(x, y) from interior sensors of u.

    −∇·(a ∇u) = f on (0, 1)²,  u = 0 on the boundary,

with the manufactured truth u = sin(πx) sin(πy) and a = 1 + ½ exp(−|x − c|² / (2 s²)), c = (0.6, 0.4),
s = 0.15 (a bump on a constant background: the field varies by 50 % and is not in the span of
the initial constant). The source f = −a Δu − ∇a·∇u is evaluated in closed form (:func:`source`),
so the reference is exact (Reference: the closed-form u on a 101 × 101 grid). Observed:
``sensors`` Halton samples of u, with seeded Gaussian noise of relative level ``noise``.
Unknown: the field a (a second network, ``softplus`` above 0, started at the constant 1) with an
H¹ penalty of weight ``reg_weight``; the walls are exact through the ansatz u = x(1 − x) y(1 − y) N.

a is identifiable from u and f because the PDE is first order in a along ∇u: a = −f/Δu where
∇u = 0 (the centre), and a is transported outwards along ∇u. At the four corners ∇u = Δu = 0
and the data say nothing about a: the penalty fills them in.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.stats import qmc

from .._conditions import Data, Dirichlet, Residual
from .._domain import Rectangle
from .._fields import FieldNetwork, FieldRegularizer, UnknownField
from .._ops import div, grad
from .._problem import Ansatz, Problem, Reference
from ._common import grid_points

__all__ = ["field_truth", "poisson_field_inverse", "solution", "source"]

_CENTRE, _WIDTH, _BUMP = (0.6, 0.4), 0.15, 0.5


def field_truth(x: torch.Tensor) -> torch.Tensor:
    """a(x, y) = 1 + ½ exp(−|x − c|² / (2 s²)), ``(n, 1)``."""
    r2 = (x[:, 0:1] - _CENTRE[0]) ** 2 + (x[:, 1:2] - _CENTRE[1]) ** 2
    return 1.0 + _BUMP * torch.exp(-r2 / (2 * _WIDTH**2))


def solution(x: torch.Tensor) -> torch.Tensor:
    """u = sin(πx) sin(πy), ``(n, 1)``."""
    return torch.sin(math.pi * x[:, 0:1]) * torch.sin(math.pi * x[:, 1:2])


def source(x: torch.Tensor) -> torch.Tensor:
    """f = −a Δu − ∇a·∇u of the truth, in closed form, ``(n, 1)``."""
    px, py = math.pi * x[:, 0:1], math.pi * x[:, 1:2]
    a = field_truth(x)
    dx, dy = x[:, 0:1] - _CENTRE[0], x[:, 1:2] - _CENTRE[1]
    a_x, a_y = -(a - 1.0) * dx / _WIDTH**2, -(a - 1.0) * dy / _WIDTH**2
    u_x = math.pi * torch.cos(px) * torch.sin(py)
    u_y = math.pi * torch.sin(px) * torch.cos(py)
    lap = -2 * math.pi**2 * torch.sin(px) * torch.sin(py)
    return -a * lap - a_x * u_x - a_y * u_y


def _pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    return -div(params["a"](x) * grad(u, x), x) - source(x)


def poisson_field_inverse(*, noise: float = 0.0, sensors: int = 200, seed: int = 0, reg_weight: float = 1e-5,
                          width: int = 20, depth: int = 3) -> Problem:
    """a(x, y) of −∇·(a∇u) = f from ``sensors`` samples of u (a ``width`` × ``depth`` field network)."""
    pts = qmc.Halton(2, scramble=True, seed=seed).random(sensors)
    x = torch.from_numpy(pts)
    data = Data.noisy(x, solution(x), level=noise, generator=torch.Generator().manual_seed(seed + 1))
    grid = grid_points(np.linspace(0.0, 1.0, 101), np.linspace(0.0, 1.0, 101))
    return Problem(
        name="poisson-field-inverse",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        input_names=("x", "y"), output_names=("u",),
        conditions={"pde": Residual(_pde), "bc": Dirichlet(0.0), "data": data,
                    "reg": FieldRegularizer("a", penalty="h1", weight=reg_weight)},
        trainable={"a": UnknownField(1.0, transform="softplus", representation=FieldNetwork(width=width, depth=depth),
                                     truth=field_truth)},
        reference=Reference(points=grid, values=solution(torch.from_numpy(grid)).numpy(), grid_shape=(101, 101),
                            source="closed form u = sin(πx) sin(πy), 101 x 101 grid"),
        ansatz=Ansatz(lift=lambda x: torch.zeros_like(x[:, :1]),
                      distance=lambda x: x[:, 0:1] * (1 - x[:, 0:1]) * x[:, 1:2] * (1 - x[:, 1:2]), enforces=("bc",)),
        sizes={"pde": 1000, "bc": 200, "data": sensors, "reg": 500},
        description=f"diffusion field a(x, y) of −∇·(a∇u) = f from {sensors} samples of u, {noise:.0%} noise",
    )
