"""A system of two coupled PDEs, as a user would write it.

    −Δu + v = f,   −Δv − u = g   on [0, 1]²,   u = v = 0 on the boundary,
    exact: u = sin(πx) sin(πy),  v = x(1 − x) y(1 − y) e^{x},  f and g manufactured from them.

Run: ``physopt solve benchmarks/user_panel/coupled_system.py:make``.
"""

import math

import numpy as np
import torch

from physopt.problems import Dirichlet, Problem, Rectangle, Reference, Residual, ops


def u_exact(x, y, m=np):
    return m.sin(math.pi * x) * m.sin(math.pi * y)


def v_exact(x, y, m=np):
    return x * (1 - x) * y * (1 - y) * m.exp(x)


def lap_v(x, y):
    # v = a(x) b(y) with a = x(1−x)eˣ, b = y(1−y): Δv = a'' b + a b''.
    a = x * (1 - x) * torch.exp(x)
    a2 = -(x**2 + 3 * x) * torch.exp(x)  # (x − x²)eˣ differentiated twice
    b = y * (1 - y)
    return a2 * b - 2 * a


def exact(p):
    return np.stack([u_exact(p[:, 0], p[:, 1]), v_exact(p[:, 0], p[:, 1])], 1)


def pde(x, w, params):
    X, Y = x[:, :1], x[:, 1:2]
    u, v = w[:, :1], w[:, 1:2]
    f = 2 * math.pi**2 * u_exact(X, Y, torch) + v_exact(X, Y, torch)
    g = -lap_v(X, Y) - u_exact(X, Y, torch)
    return torch.cat([-ops.laplacian(u, x) + v - f, -ops.laplacian(v, x) - u - g], dim=1)


def make():
    axis = np.linspace(0, 1, 101)
    pts = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    return Problem(
        name="coupled-system",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        input_names=("x", "y"),
        output_names=("u", "v"),
        conditions={"pde": Residual(pde), "bc": Dirichlet(0.0)},
        reference=Reference.from_function(exact, pts, source="closed form"),
        sizes={"pde": 2000, "bc": 400},
    )
