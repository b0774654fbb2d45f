"""The heat equation with insulated ends (Neumann walls), as a user would write it.

    u_t = κ u_xx  on x ∈ [0, 1], t ∈ [0, 1],  κ = 0.1,
    u_x(0, t) = u_x(1, t) = 0,   u(x, 0) = 1 + cos(πx) + 0.5 cos(2πx),
    exact: u = 1 + e^{−κπ²t} cos(πx) + 0.5 e^{−4κπ²t} cos(2πx).

Run: ``physopt solve benchmarks/user_panel/heat_neumann.py:make``.
"""

import math

import numpy as np
import torch

from physopt.problems import Initial, Interval, Neumann, Problem, Reference, Residual, TimeInterval, ops

KAPPA = 0.1


def exact(p):
    x, t = p[:, 0], p[:, 1]
    a = math.pi**2 * KAPPA
    return 1 + np.exp(-a * t) * np.cos(math.pi * x) + 0.5 * np.exp(-4 * a * t) * np.cos(2 * math.pi * x)


def pde(x, u, params):
    return ops.partial(u, x, 1) - KAPPA * ops.partial(u, x, 0, 0)


def u0(x):
    return 1 + torch.cos(math.pi * x[:, :1]) + 0.5 * torch.cos(2 * math.pi * x[:, :1])


def make():
    xs, ts = np.linspace(0, 1, 101), np.linspace(0, 1, 101)
    pts = np.stack(np.meshgrid(xs, ts, indexing="ij"), -1).reshape(-1, 2)
    return Problem(
        name="heat-neumann",
        domain=Interval(0.0, 1.0) * TimeInterval(0.0, 1.0),
        input_names=("x", "t"),
        output_names=("u",),
        conditions={"pde": Residual(pde), "walls": Neumann(0.0), "ic": Initial(u0)},
        reference=Reference.from_function(exact, pts, grid_shape=(101, 101), source="closed form"),
        sizes={"pde": 2000, "walls": 200, "ic": 200},
    )
