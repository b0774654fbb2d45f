"""Poisson far from unit scale, as a user would write it in physical units: a plate 100 m wide,
a temperature around 30 degrees.

    −Δu = f   on [0, 100]²,   u = 30 + 0.05 x on the boundary,
    exact: u = 30 + 0.05 x + 20 sin(πx/100) sin(πy/100),   f = 2 (π/100)² · 20 sin(πx/100) sin(πy/100).

Run: ``physopt solve benchmarks/user_panel/large_scale.py:make``.
"""

import math

import numpy as np
import torch

from physopt.problems import Dirichlet, Problem, Rectangle, Reference, Residual, ops

L = 100.0
K = math.pi / L


def exact(p):
    return 30 + 0.05 * p[:, 0] + 20 * np.sin(K * p[:, 0]) * np.sin(K * p[:, 1])


def pde(x, u, params):
    bump = 20 * torch.sin(K * x[:, :1]) * torch.sin(K * x[:, 1:2])
    return -ops.laplacian(u, x) - 2 * K**2 * bump


def make():
    axis = np.linspace(0, L, 101)
    pts = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    return Problem(
        name="large-scale",
        domain=Rectangle((0.0, 0.0), (L, L)),
        input_names=("x", "y"),
        output_names=("u",),
        conditions={"pde": Residual(pde), "bc": Dirichlet(lambda x: 30 + 0.05 * x[:, :1])},
        reference=Reference.from_function(exact, pts, source="closed form"),
        sizes={"pde": 2000, "bc": 400},
    )
