"""Poisson with mixed boundary conditions, as a user would write it: Dirichlet on the left and
bottom sides, Neumann (a prescribed outward flux) on the right and top.

    −Δu = (π/2)² (cos(πx/2) + sin(πy/2))   on [0, 1]²,
    u given on x = 0 and y = 0,   ∂u/∂n given on x = 1 and y = 1,
    exact: u = cos(πx/2) + sin(πy/2) + x y.

Run: ``physopt solve benchmarks/user_panel/mixed_bc.py:make``.
"""

import math

import numpy as np
import torch

from physopt.problems import Dirichlet, Neumann, Problem, Rectangle, Reference, Residual, ops

H = math.pi / 2


def exact(p):
    return np.cos(H * p[:, 0]) + np.sin(H * p[:, 1]) + p[:, 0] * p[:, 1]


def u_exact(x):
    return torch.cos(H * x[:, :1]) + torch.sin(H * x[:, 1:2]) + x[:, :1] * x[:, 1:2]


def pde(x, u, params):
    return -ops.laplacian(u, x) - H**2 * (torch.cos(H * x[:, :1]) + torch.sin(H * x[:, 1:2]))


def flux(x):
    # ∂u/∂n on x = 1 is u_x = −H sin(H x) + y; on y = 1 it is u_y = H cos(H y) + x.
    right = x[:, :1] >= 1 - 1e-9  # face samples carry the exact coordinate; 1e-9 absorbs round-off
    ux = -H * torch.sin(H * x[:, :1]) + x[:, 1:2]
    uy = H * torch.cos(H * x[:, 1:2]) + x[:, :1]
    return torch.where(right, ux, uy)


def on_dirichlet(x):
    return (x[:, 0] <= 1e-9) | (x[:, 1] <= 1e-9)


def on_neumann(x):
    return ~on_dirichlet(x)


def make():
    axis = np.linspace(0, 1, 101)
    pts = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    return Problem(
        name="mixed-bc",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        input_names=("x", "y"),
        output_names=("u",),
        conditions={"pde": Residual(pde), "wall": Dirichlet(u_exact, on=on_dirichlet),
                    "flux": Neumann(flux, on=on_neumann)},
        reference=Reference.from_function(exact, pts, source="closed form"),
        sizes={"pde": 2000, "wall": 200, "flux": 200},
    )
