"""An inverse problem with two unknown scalars, as a user would write it: the diffusivity D and
the reaction rate k of a steady reaction–diffusion equation from 40 samples of u.

    −D u'' + k u = f   on [0, 1],   u(0) = u(1) = 0,   truth D = 0.5, k = 3,
    exact: u = sin(πx) + 0.5 sin(3πx),   f = D π² sin(πx) + 4.5 D π² sin(3πx) + k u.

Run: ``physopt solve benchmarks/user_panel/inverse_reaction.py:make``.
"""

import math

import numpy as np
import torch

from physopt.problems import Data, Dirichlet, Interval, Problem, Reference, Residual, Unknown, ops

D_TRUE, K_TRUE = 0.5, 3.0


def exact(x, m=np):
    return m.sin(math.pi * x) + 0.5 * m.sin(3 * math.pi * x)


def source(x):
    s1, s3 = torch.sin(math.pi * x), torch.sin(3 * math.pi * x)
    return D_TRUE * math.pi**2 * (s1 + 4.5 * s3) + K_TRUE * exact(x, torch)


def pde(x, u, params):
    return -params["D"] * ops.laplacian(u, x) + params["k"] * u - source(x)


def make():
    sensors = np.linspace(0.0125, 0.9875, 40)[:, None]
    grid = np.linspace(0, 1, 1001)[:, None]
    return Problem(
        name="inverse-reaction",
        domain=Interval(0.0, 1.0),
        input_names=("x",),
        output_names=("u",),
        conditions={"pde": Residual(pde), "bc": Dirichlet(0.0),
                    "data": Data(torch.from_numpy(sensors), torch.from_numpy(exact(sensors)))},
        trainable={"D": Unknown(1.0, transform="log", truth=D_TRUE), "k": Unknown(1.0, transform="log", truth=K_TRUE)},
        reference=Reference.from_function(lambda p: exact(p[:, 0]), grid, source="closed form"),
        sizes={"pde": 500, "bc": 2},
    )
