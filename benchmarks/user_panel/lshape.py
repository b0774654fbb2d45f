"""Poisson on a non-convex polygon (an L-shape) with non-zero Dirichlet data, as a user would write it.

    −Δu = 2π² sin(πx) sin(πy)   in the L-shape (−1, 1)² minus [0, 1) × [0, 1),
    u = exact solution on the boundary,   exact: u = sin(πx) sin(πy) + x + 2y.

A Polygon has no automatic ansatz, so the generic recipe keeps the boundary data as a penalty.
Run: ``physopt solve benchmarks/user_panel/lshape.py:make``.
"""

import math

import numpy as np
import torch

from physopt.problems import Dirichlet, Polygon, Problem, Reference, Residual, ops

L_SHAPE = Polygon([(-1, -1), (1, -1), (1, 0), (0, 0), (0, 1), (-1, 1)])


def exact(p):
    return np.sin(math.pi * p[:, 0]) * np.sin(math.pi * p[:, 1]) + p[:, 0] + 2 * p[:, 1]


def pde(x, u, params):
    s = torch.sin(math.pi * x[:, :1]) * torch.sin(math.pi * x[:, 1:2])
    return -ops.laplacian(u, x) - 2 * math.pi**2 * s


def boundary(x):
    return torch.sin(math.pi * x[:, :1]) * torch.sin(math.pi * x[:, 1:2]) + x[:, :1] + 2 * x[:, 1:2]


def make():
    axis = np.linspace(-1, 1, 101)
    xx, yy = np.meshgrid(axis, axis, indexing="ij")
    pts = np.stack([xx.ravel(), yy.ravel()], 1)
    pts = pts[~((pts[:, 0] > 0) & (pts[:, 1] > 0))]  # the L-shape's grid points
    return Problem(
        name="lshape",
        domain=L_SHAPE,
        input_names=("x", "y"),
        output_names=("u",),
        conditions={"pde": Residual(pde), "bc": Dirichlet(boundary)},
        reference=Reference.from_function(exact, pts, source="closed form"),
        sizes={"pde": 2000, "bc": 400},
    )
