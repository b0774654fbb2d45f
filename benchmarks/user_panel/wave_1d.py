"""The wave equation on a string, second order in time, as a user would write it.

    u_tt = c² u_xx   on x ∈ [0, 1], t ∈ [0, 1],   c = 1,   u(0, t) = u(1, t) = 0,
    u(x, 0) = sin(πx) + 0.5 sin(2πx),   u_t(x, 0) = 0,
    exact: u = sin(πx) cos(πt) + 0.5 sin(2πx) cos(2πt).

Run: ``physopt solve benchmarks/user_panel/wave_1d.py:make``.
"""

import math

import numpy as np
import torch

from physopt.problems import Dirichlet, Initial, Interval, Problem, Reference, Residual, TimeInterval, ops

C = 1.0


def exact(p):
    x, t = p[:, 0], p[:, 1]
    return np.sin(math.pi * x) * np.cos(math.pi * t) + 0.5 * np.sin(2 * math.pi * x) * np.cos(2 * math.pi * t)


def pde(x, u, params):
    return ops.partial(u, x, 1, 1) - C**2 * ops.partial(u, x, 0, 0)


def u0(x):
    return torch.sin(math.pi * x[:, :1]) + 0.5 * torch.sin(2 * math.pi * x[:, :1])


def make():
    xs, ts = np.linspace(0, 1, 101), np.linspace(0, 1, 101)
    pts = np.stack(np.meshgrid(xs, ts, indexing="ij"), -1).reshape(-1, 2)
    return Problem(
        name="wave-1d",
        domain=Interval(0.0, 1.0) * TimeInterval(0.0, 1.0),
        input_names=("x", "t"),
        output_names=("u",),
        conditions={"pde": Residual(pde), "bc": Dirichlet(0.0), "ic": Initial(u0), "ic_t": Initial(0.0, order=1)},
        reference=Reference.from_function(exact, pts, grid_shape=(101, 101), source="closed form"),
        sizes={"pde": 2000, "bc": 200, "ic": 200, "ic_t": 200},
    )
