"""Korteweg–de Vries equation, the JAX-PI / PirateNet benchmark.

    u_t + η u u_x + μ² u_xxx = 0,   x ∈ [-1, 1] periodic, t ∈ [0, 1],   η = 1, μ = 0.022,
    u(x, 0) = cos(πx).

Zabusky & Kruskal's 1965 setup ("Interaction of 'solitons' in a collisionless plasma", Phys. Rev.
Lett. 15), used by Raissi et al. 2019 and JAX-PI (Wang et al. 2023, ``examples/kdv``): the cosine
breaks into a train of solitons. Reference: our Fourier pseudo-spectral solver with ETDRK4 in time
(Kassam & Trefethen 2005, contour-integral φ-functions, complex diagonal ``L = iμ²k³``; 2/3-rule
dealiasing of u²), 512 modes and dt = 1e-4 on the 512 x 201 grid. It agrees with 1024 modes and
dt = 5e-5 to 1.5e-10 relative L2, and reproduces the exact travelling soliton
u = 3c sech²(√c (x - ct - x0) / (2μ)) to 1e-11 (tests/numerics/test_zoo_kdv.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
import torch

from .._conditions import Initial, Periodic, Residual
from .._domain import Interval, TimeInterval
from .._ops import dt, partial
from .._problem import Ansatz, Problem, Reference
from ._common import grid_points
from ._spectral import etdrk4

__all__ = ["kdv", "kdv_solution"]

ETA = 1.0
MU = 0.022
GRID = (512, 201)


def kdv_solution(
    *, modes: int = 512, dt: float = 1e-4, n_times: int = 201, t_end: float = 1.0, eta: float = ETA,
    mu: float = MU, initial: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Periodic KdV on [-1, 1): ``(x, t, u)`` with ``u[i, j] = u(x[j], t[i])``, ``x = -1 + 2j/modes``.

    ``initial`` defaults to cos(πx).
    """
    if modes % 2:
        raise ValueError(f"modes must be even, got {modes}")
    x = -1.0 + 2.0 * np.arange(modes) / modes
    index = np.arange(modes // 2 + 1)
    k = np.pi * index
    L = 1j * mu**2 * k**3  # -μ² (ik)³
    g = -0.5j * eta * k * (index <= modes // 3)  # -(η/2) ik, with the 2/3 dealiasing rule

    def nonlinear(v: np.ndarray, t: float) -> np.ndarray:
        u = np.fft.irfft(v, n=modes)
        return g * np.fft.rfft(u * u)

    per = max(1, round(t_end / (n_times - 1) / dt))
    h = t_end / (per * (n_times - 1))
    u0 = np.cos(np.pi * x) if initial is None else initial(x)
    V = etdrk4(np.fft.rfft(u0).astype(complex), L, nonlinear, h=h, steps=per * (n_times - 1), save_every=per)
    return x, np.linspace(0.0, t_end, n_times), np.fft.irfft(V, n=modes, axis=1)


@cache
def _values() -> np.ndarray:
    return kdv_solution()[2].T.copy()  # (512, 201), x-major


def _reference_function(points: np.ndarray) -> np.ndarray:
    if points.shape[0] != GRID[0] * GRID[1]:
        raise ValueError(f"this reference is only defined on its {GRID} grid")
    return _values().ravel()


def _pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    return dt(u, x) + params["eta"] * u * partial(u, x, 0) + params["mu"] ** 2 * partial(u, x, 0, 0, 0)


def _initial(x: torch.Tensor) -> torch.Tensor:
    return torch.cos(math.pi * x[:, :1])


def kdv() -> Problem:
    """KdV with u0 = cos(πx), η = 1, μ = 0.022 and its ETDRK4–Fourier reference (512 x 201)."""
    xs = -1.0 + 2.0 * np.arange(GRID[0]) / GRID[0]
    ts = np.linspace(0.0, 1.0, GRID[1])
    reference = Reference.from_function(
        _reference_function, grid_points(xs, ts), grid_shape=GRID,
        source="ETDRK4 Fourier pseudo-spectral (512 modes, dt 1e-4, 2/3 dealiasing); 512 x 201 grid, x in [-1, 1)",
        error=1.5e-10, note="vs 1024 modes, dt 5e-5 (tests/numerics/test_zoo_kdv.py)",
    )
    return Problem(
        name="kdv",
        domain=Interval(-1.0, 1.0) * TimeInterval(0.0, 1.0),
        input_names=("x", "t"),
        output_names=("u",),
        conditions={
            "pde": Residual(_pde),
            "bc": Periodic(axis=0, derivatives=2),
            "ic": Initial(_initial),
        },
        params={"eta": ETA, "mu": MU},
        reference=reference,
        ansatz=Ansatz(lift=_initial, distance=lambda x: x[:, 1:2], enforces=("ic",)),
        sizes={"pde": 4096, "bc": 256, "ic": 512},
        description="u_t + u u_x + 0.022² u_xxx = 0 on [-1,1] periodic × [0,1], u(x,0) = cos(πx)",
    )
