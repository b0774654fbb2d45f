"""Viscous Burgers equation, the classic PINN benchmark (Raissi et al. 2019; DeepXDE's example).

    u_t + u u_x = ν u_xx,   x ∈ [-1, 1], t ∈ [0, 0.99],   ν = 0.01/π,
    u(x, 0) = -sin(πx),     u(±1, t) = 0.

Reference: the exact Cole–Hopf solution (Basdevant et al. 1986, "Spectral and finite difference
solutions of the Burgers equation"). With η = 2√(νt)·z,

    u(x, t) = -∫ sin(π(x - η)) w(z) dz / ∫ w(z) dz,   w(z) = exp(-cos(π(x - η)) / (2πν) - z²),

evaluated by the trapezoid rule on z ∈ [-L, L]. The integrand is smooth and decays like e^{-z²},
so the trapezoid rule converges spectrally; the exponent is shifted by its maximum (log-sum-exp)
because 1/(2πν) = 50 would otherwise overflow intermediate products.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._conditions import Dirichlet, Initial, Residual
from .._domain import Interval, TimeInterval
from .._ops import grad, partial
from .._problem import Ansatz, Problem, Reference

__all__ = ["burgers", "burgers_cole_hopf"]

NU = 0.01 / math.pi


def burgers_cole_hopf(
    x: np.ndarray, t: np.ndarray, *, nu: float = NU, nodes: int = 1000, half_width: float = 14.0
) -> np.ndarray:
    """Exact solution of the Burgers problem above at points ``(x[i], t[i])`` (same-shape arrays).

    ``half_width`` L must make e^{1/(πν) - L²} negligible: the exponent spans at most 1/(πν) = 100
    (ν = 0.01/π), so L = 14 leaves e^{-96}. ``nodes`` trapezoid nodes: 1000 agree with 4000 (L = 16) to
    machine precision (see tests/numerics/test_burgers_reference.py).
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    t = np.asarray(t, dtype=np.float64).ravel()
    if x.shape != t.shape:
        raise ValueError(f"x and t must have the same number of points, got {x.shape} and {t.shape}")
    if np.any(t < 0):
        raise ValueError("the Cole–Hopf formula needs t >= 0")
    z = np.linspace(-half_width, half_width, nodes)
    out = np.empty_like(x)
    chunk = max(1, 4_000_000 // nodes)
    for start in range(0, x.size, chunk):
        xs, ts = x[start : start + chunk, None], t[start : start + chunk, None]
        y = xs - 2.0 * np.sqrt(nu * ts) * z[None, :]
        e = -np.cos(np.pi * y) / (2 * np.pi * nu) - z[None, :] ** 2
        w = np.exp(e - e.max(axis=1, keepdims=True))
        # Equal trapezoid weights cancel in the ratio; the end nodes carry ~e^{-96} and do not matter.
        out[start : start + chunk] = -(np.sin(np.pi * y) * w).sum(axis=1) / w.sum(axis=1)
    return out


def _reference_grid(nx: int = 256, nt: int = 100) -> np.ndarray:
    xs = np.linspace(-1.0, 1.0, nx)
    ts = np.linspace(0.0, 0.99, nt)
    X, T = np.meshgrid(xs, ts, indexing="ij")
    return np.stack([X.ravel(), T.ravel()], axis=1)


def _pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    # One gradient of u gives both u_x and u_t, and u_xx differentiates that u_x: two passes
    # through the network instead of the four of dt(u, x), partial(u, x, 0) and partial(u, x, 0, 0)
    # (each of which differentiates u afresh). The same values (tests/unit/test_burgers_residual.py);
    # a loss-and-gradient evaluation on 8000 points costs about 0.7x (benchmarks/burgers_profile.py).
    nu = params["nu"]
    g = grad(u, x)
    u_x, u_t = g[:, :1], g[:, 1:]
    return u_t + u * u_x - nu * partial(u_x, x, 0)


def _initial(x: torch.Tensor) -> torch.Tensor:
    return -torch.sin(math.pi * x[:, :1])


def _lift(x: torch.Tensor) -> torch.Tensor:
    # Satisfies both u(x, 0) = -sin(πx) and u(±1, t) = 0.
    return -torch.sin(math.pi * x[:, :1])


def _distance(x: torch.Tensor) -> torch.Tensor:
    # Vanishes at t = 0 and at x = ±1 only.
    return x[:, 1:2] * (1 - x[:, :1] ** 2)


def burgers(*, nu: float = NU) -> Problem:
    """The viscous Burgers problem with its Cole–Hopf reference on DeepXDE's 256 × 100 grid."""
    points = _reference_grid()
    reference = Reference.from_function(
        lambda p: burgers_cole_hopf(p[:, 0], p[:, 1], nu=nu),
        points,
        grid_shape=(256, 100),
        source="exact Cole–Hopf solution, trapezoid quadrature (1000 nodes), 256 x 100 grid",
        error=2.4e-16, note="vs 4000 quadrature nodes (tests/numerics/test_burgers_reference.py)",
    )
    return Problem(
        name="burgers",
        domain=Interval(-1.0, 1.0) * TimeInterval(0.0, 0.99),
        input_names=("x", "t"),
        output_names=("u",),
        conditions={
            "pde": Residual(_pde),
            "bc": Dirichlet(0.0),
            "ic": Initial(_initial),
        },
        params={"nu": nu},
        reference=reference,
        ansatz=Ansatz(lift=_lift, distance=_distance, enforces=("bc", "ic")),
        sizes={"pde": 2540, "bc": 80, "ic": 160},
        description="u_t + u u_x = (0.01/π) u_xx on [-1,1]×[0,0.99], u(x,0) = -sin(πx), u(±1,t) = 0",
    )
