"""3-D Poisson in the unit cube with zero Dirichlet data, as a user would write it.

    −Δu = 3π² sin(πx) sin(πy) sin(πz) in [0, 1]³,  u = 0 on the boundary,
    exact: u = sin(πx) sin(πy) sin(πz).

Run: ``physopt solve benchmarks/user_panel/poisson_3d.py:make``.
"""

import math

import numpy as np
import torch

from physopt.problems import Box, Dirichlet, Problem, Reference, Residual, ops


def exact(p):
    return np.sin(math.pi * p[:, 0]) * np.sin(math.pi * p[:, 1]) * np.sin(math.pi * p[:, 2])


def pde(x, u, params):
    s = torch.sin(math.pi * x).prod(dim=1, keepdim=True)
    return -ops.laplacian(u, x) - 3 * math.pi**2 * s


def make():
    axis = np.linspace(0, 1, 21)
    pts = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    return Problem(
        name="poisson-3d",
        domain=Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
        input_names=("x", "y", "z"),
        output_names=("u",),
        conditions={"pde": Residual(pde), "bc": Dirichlet(0.0)},
        reference=Reference.from_function(exact, pts, source="closed form"),
        sizes={"pde": 2000, "bc": 600},
    )
