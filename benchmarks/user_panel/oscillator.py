"""An ODE system: a damped harmonic oscillator over several periods, as a user would write it.

    x' = v,   v' = −ω² x − 2ζω v   on t ∈ [0, 10],   x(0) = 1, v(0) = 0,   ω = 2, ζ = 0.1,
    exact: x = e^{−ζωt} (cos ω_d t + ζω/ω_d sin ω_d t),  v = x',  ω_d = ω √(1 − ζ²).

Run: ``physopt solve benchmarks/user_panel/oscillator.py:make``.
"""

import math

import numpy as np
import torch

from physopt.problems import Initial, Problem, Reference, Residual, TimeInterval, ops

OMEGA, ZETA = 2.0, 0.1
WD = OMEGA * math.sqrt(1 - ZETA**2)


def exact(p):
    t = p[:, 0]
    a = ZETA * OMEGA
    x = np.exp(-a * t) * (np.cos(WD * t) + a / WD * np.sin(WD * t))
    v = -np.exp(-a * t) * (a**2 / WD + WD) * np.sin(WD * t)
    return np.stack([x, v], 1)


def ode(t, w, params):
    x, v = w[:, :1], w[:, 1:2]
    return torch.cat([ops.grad(x, t) - v, ops.grad(v, t) + OMEGA**2 * x + 2 * ZETA * OMEGA * v], dim=1)


def make():
    ts = np.linspace(0, 10, 1001)[:, None]
    return Problem(
        name="oscillator",
        domain=TimeInterval(0.0, 10.0),
        input_names=("t",),
        output_names=("x", "v"),
        conditions={"ode": Residual(ode), "ic": Initial(lambda t: torch.cat([torch.ones_like(t), 0 * t], 1))},
        reference=Reference.from_function(exact, ts, source="closed form"),
        sizes={"ode": 1000},
    )
