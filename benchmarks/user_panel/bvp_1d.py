"""A 1-D boundary-value problem, written as a user would write it.

    u'' = -(4π² sin(2πx) + 2)   on [0, 1],   u(0) = 1,   u(1) = 0,
    exact: u = sin(2πx) − x² + 1.

Run: ``physopt solve benchmarks/user_panel/bvp_1d.py:make``.
"""

import math

import numpy as np
import torch

from physopt.problems import Dirichlet, Interval, Problem, Reference, Residual, ops


def exact(x):
    return np.sin(2 * math.pi * x[:, 0]) - x[:, 0] ** 2 + 1


def pde(x, u, params):
    return ops.laplacian(u, x) + 4 * math.pi**2 * torch.sin(2 * math.pi * x) + 2


def make():
    grid = np.linspace(0, 1, 1001)[:, None]
    return Problem(
        name="bvp-1d",
        domain=Interval(0.0, 1.0),
        input_names=("x",),
        output_names=("u",),
        conditions={"pde": Residual(pde), "bc": Dirichlet(lambda x: 1 - x[:, :1] ** 2)},
        reference=Reference.from_function(exact, grid, source="closed form"),
        sizes={"pde": 200, "bc": 2},
    )
