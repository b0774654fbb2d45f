"""Allen–Cahn equation: the periodic PINN benchmark and DeepXDE's Dirichlet variant.

``allen-cahn`` (Raissi et al. 2019; Wight & Zhao 2020; JAX-PI, Wang et al. 2023)::

    u_t = ε u_xx + γ (u - u³),   x ∈ [-1, 1] periodic, t ∈ [0, 1],   ε = 1e-4, γ = 5,
    u(x, 0) = x² cos(πx).

``allen-cahn-deepxde`` (DeepXDE's ``Allen_Cahn.mat`` example)::

    u_t = ε u_xx + γ (u - u³),   x ∈ [-1, 1], t ∈ [0, 1],   ε = 1e-3, γ = 5,
    u(x, 0) = x² cos(πx),   u(±1, t) = -1.

Reference: our own pseudo-spectral solver with ETDRK4 time stepping (Cox & Matthews 2002; Kassam &
Trefethen 2005, contour-integral φ-functions; see ``_spectral.py``) — Fourier modes for the periodic
problem, sine modes for ``δ = u + 1`` (homogeneous Dirichlet) in the DeepXDE variant.

Both initial data are *incompatible* with the smooth extension the basis assumes, which would cap a
plain spectral method at algebraic accuracy (N^-1.5 in L2 for the periodic case: ~1e-5 relative,
~6e-4 pointwise at 512 modes):

* periodic: u0'(1⁻) = -2 but u0'(-1⁺) = +2, a kink at x = ±1;
* Dirichlet: δ0''(±1) = π² - 2 ≠ 0, a jump in the second derivative of the odd (sine) extension,
  i.e. the corner incompatibility u_t(±1, 0⁺) = ε u0''(±1) ≠ 0.

The singular part is carried analytically. Near u = -1 the reaction linearises to
δ_t = ε δ_xx - 2γ δ, whose solutions from the offending piecewise-polynomial data are closed forms
by the heat kernel (erf/Gaussian, method of images): with s = |x| - 1 ≤ 0, σ² = 2εt, Φ/φ the normal
cdf/pdf,

* periodic: g = e^{-2γt} [1 - x² - 2εt + 4 (s Φ(s/σ) + σ φ(s/σ))], the periodic heat flow of 1 - x²;
* Dirichlet: g = c e^{-2γt} [x² - 1 + 2εt - 2 ((s² + σ²) Φ(s/σ) + s σ φ(s/σ))], c = (π² - 2)/2,
  the odd-extension heat flow of c (x² - 1).

(The neglected images are O(e^{-1/(4εt)}) < e^{-250}.) The spectral solver then steps only the
smooth remainder w = δ - g, w_t = ε w_xx - 2γ w + γ (3δ² - δ³), which converges spectrally:
512 vs 1024 vs 2048 Fourier modes agree to 3e-8 / 8e-11 relative L2 (tests/numerics/test_zoo_allen_cahn.py).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import scipy.fft
import torch
from scipy.special import ndtr

from .._conditions import Dirichlet, Initial, Periodic, Residual
from .._domain import Interval, TimeInterval
from .._ops import dt, partial
from .._problem import Ansatz, Problem, Reference
from ._spectral import etdrk4

__all__ = ["allen_cahn", "allen_cahn_deepxde", "allen_cahn_dirichlet_solution", "allen_cahn_periodic_solution"]

_SQRT_2PI = math.sqrt(2 * math.pi)


def _u0(x: np.ndarray) -> np.ndarray:
    return x**2 * np.cos(np.pi * x)


def _periodic_carrier(x: np.ndarray, t: float, eps: float, gamma: float) -> np.ndarray:
    s = np.abs(x) - 1.0
    if t == 0.0:
        corr = 4.0 * np.maximum(s, 0.0)
    else:
        sig = math.sqrt(2 * eps * t)
        z = s / sig
        corr = 4.0 * (s * ndtr(z) + sig * np.exp(-0.5 * z**2) / _SQRT_2PI)
    return math.exp(-2 * gamma * t) * (1.0 - x**2 - 2 * eps * t + corr)


def _dirichlet_carrier(x: np.ndarray, t: float, eps: float, gamma: float) -> np.ndarray:
    c = (math.pi**2 - 2.0) / 2.0
    s = np.abs(x) - 1.0
    if t == 0.0:
        corr = 2.0 * s**2 * (s > 0)
    else:
        sig2 = 2 * eps * t
        sig = math.sqrt(sig2)
        z = s / sig
        corr = 2.0 * ((s**2 + sig2) * ndtr(z) + s * sig * np.exp(-0.5 * z**2) / _SQRT_2PI)
    return c * math.exp(-2 * gamma * t) * (x**2 - 1.0 + 2 * eps * t - corr)


def _steps(t_end: float, n_times: int, dt: float) -> tuple[int, int, float]:
    """Steps per saved time, number of steps and the exact step size."""
    per = max(1, round(t_end / (n_times - 1) / dt))
    return per, per * (n_times - 1), t_end / (per * (n_times - 1))


def allen_cahn_periodic_solution(
    *, modes: int = 1024, dt: float = 2e-4, n_times: int = 201, t_end: float = 1.0,
    eps: float = 1e-4, gamma: float = 5.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Periodic Allen–Cahn from u0 = x² cos(πx): ``(x, t, u)`` with ``u[i, j] = u(x[j], t[i])``.

    ``x = -1 + 2j/modes`` (``modes`` points on the periodic grid, x = 1 excluded), ``t`` has
    ``n_times`` equispaced values in ``[0, t_end]``. Fourier pseudo-spectral in space (no
    dealiasing: the remainder is resolved, aliasing is below the truncation error), ETDRK4 in time.
    """
    if modes % 2:
        raise ValueError(f"modes must be even, got {modes}")
    x = -1.0 + 2.0 * np.arange(modes) / modes
    k = np.pi * np.arange(modes // 2 + 1)  # wavenumbers of the period-2 Fourier modes
    L = -eps * k**2 - 2 * gamma

    def nonlinear(v: np.ndarray, t: float) -> np.ndarray:
        d = np.fft.irfft(v, n=modes) + _periodic_carrier(x, t, eps, gamma)
        return np.fft.rfft(gamma * (3 * d**2 - d**3))

    per, steps, h = _steps(t_end, n_times, dt)
    w0 = _u0(x) + 1.0 - _periodic_carrier(x, 0.0, eps, gamma)
    V = etdrk4(np.fft.rfft(w0), L, nonlinear, h=h, steps=steps, save_every=per)
    t = np.linspace(0.0, t_end, n_times)
    u = np.fft.irfft(V, n=modes, axis=1)
    for i, ti in enumerate(t):
        u[i] += _periodic_carrier(x, float(ti), eps, gamma) - 1.0
    return x, t, u


def allen_cahn_dirichlet_solution(
    *, modes: int = 400, dt: float = 1e-4, n_times: int = 101, t_end: float = 1.0,
    eps: float = 1e-3, gamma: float = 5.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allen–Cahn with u(±1, t) = -1 from u0 = x² cos(πx): ``(x, t, u)``, ``u[i, j] = u(x[j], t[i])``.

    ``x = -1 + 2j/modes`` for ``j = 0..modes`` (boundary values included, exactly -1). Sine
    pseudo-spectral in space (DST-I on the ``modes - 1`` interior nodes), ETDRK4 in time.
    """
    x = -1.0 + 2.0 * np.arange(modes + 1) / modes
    xi = x[1:-1]
    m = np.arange(1, modes)
    L = -eps * (m * np.pi / 2) ** 2 - 2 * gamma

    def dst(f: np.ndarray) -> np.ndarray:
        return scipy.fft.dst(f, type=1, norm="ortho", axis=-1)  # orthogonal and its own inverse

    def nonlinear(v: np.ndarray, t: float) -> np.ndarray:
        d = dst(v) + _dirichlet_carrier(xi, t, eps, gamma)
        return dst(gamma * (3 * d**2 - d**3))

    per, steps, h = _steps(t_end, n_times, dt)
    w0 = _u0(xi) + 1.0 - _dirichlet_carrier(xi, 0.0, eps, gamma)
    V = etdrk4(dst(w0), L, nonlinear, h=h, steps=steps, save_every=per)
    t = np.linspace(0.0, t_end, n_times)
    u = np.full((n_times, modes + 1), -1.0)
    u[:, 1:-1] = dst(V) - 1.0
    for i, ti in enumerate(t):
        u[i, 1:-1] += _dirichlet_carrier(xi, float(ti), eps, gamma)
    return x, t, u


def _grid(xs: np.ndarray, ts: np.ndarray) -> np.ndarray:
    X, T = np.meshgrid(xs, ts, indexing="ij")
    return np.stack([X.ravel(), T.ravel()], axis=1)


# Reference resolutions (justified by the convergence tests): the periodic grid is DeepXDE's/Raissi's
# 512 x 201; we solve with 1024 modes and keep every other point. The Dirichlet grid is the one of
# DeepXDE's Allen_Cahn.mat, 201 x 101; we solve with 400 sine modes (x spacing 0.005).
PERIODIC_GRID = (512, 201)
DIRICHLET_GRID = (201, 101)


@cache
def _periodic_values() -> np.ndarray:
    x, t, u = allen_cahn_periodic_solution(modes=1024, dt=2e-4, n_times=PERIODIC_GRID[1])
    return u[:, ::2].T.copy()  # (512, 201), x-major


@cache
def _dirichlet_values() -> np.ndarray:
    x, t, u = allen_cahn_dirichlet_solution(modes=400, dt=1e-4, n_times=DIRICHLET_GRID[1])
    return u[:, ::2].T.copy()  # (201, 101), x-major


def _grid_function(values, shape):
    def function(points: np.ndarray) -> np.ndarray:
        if points.shape[0] != shape[0] * shape[1]:
            raise ValueError(f"this reference is only defined on its {shape} grid")
        return values().ravel()

    return function


def _pde(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    return dt(u, x) - params["eps"] * partial(u, x, 0, 0) - params["gamma"] * (u - u**3)


def _initial(x: torch.Tensor) -> torch.Tensor:
    return x[:, :1] ** 2 * torch.cos(math.pi * x[:, :1])


def allen_cahn(*, eps: float = 1e-4, gamma: float = 5.0) -> Problem:
    """The periodic Allen–Cahn benchmark with an ETDRK4–Fourier reference on a 512 x 201 grid."""
    if (eps, gamma) != (1e-4, 5.0):
        raise ValueError("the reference is computed for eps = 1e-4, gamma = 5 only")
    xs = -1.0 + 2.0 * np.arange(PERIODIC_GRID[0]) / PERIODIC_GRID[0]
    ts = np.linspace(0.0, 1.0, PERIODIC_GRID[1])
    reference = Reference.from_function(
        _grid_function(_periodic_values, PERIODIC_GRID), _grid(xs, ts), grid_shape=PERIODIC_GRID,
        source="ETDRK4 Fourier pseudo-spectral (1024 modes, dt 2e-4) with analytic kink carrier; "
        "512 x 201 grid, x in [-1, 1)",
        error=8e-11, note="vs 2048 modes, dt 1e-4 (tests/numerics/test_zoo_allen_cahn.py)",
    )
    return Problem(
        name="allen-cahn",
        domain=Interval(-1.0, 1.0) * TimeInterval(0.0, 1.0),
        input_names=("x", "t"),
        output_names=("u",),
        conditions={
            "pde": Residual(_pde),
            "bc": Periodic(axis=0, derivatives=1),
            "ic": Initial(_initial),
        },
        params={"eps": eps, "gamma": gamma},
        reference=reference,
        # u = u0(x) + t·N: exact initial condition; periodicity stays a penalty.
        ansatz=Ansatz(lift=_initial, distance=lambda x: x[:, 1:2], enforces=("ic",)),
        sizes={"pde": 4096, "bc": 256, "ic": 512},
        description="u_t = 1e-4 u_xx + 5(u - u³) on [-1,1] periodic × [0,1], u(x,0) = x² cos(πx)",
    )


def allen_cahn_deepxde(*, eps: float = 1e-3, gamma: float = 5.0) -> Problem:
    """DeepXDE's Allen–Cahn variant (Dirichlet u = -1) with an ETDRK4–sine reference on 201 x 101."""
    if (eps, gamma) != (1e-3, 5.0):
        raise ValueError("the reference is computed for eps = 1e-3, gamma = 5 only")
    xs = np.linspace(-1.0, 1.0, DIRICHLET_GRID[0])
    ts = np.linspace(0.0, 1.0, DIRICHLET_GRID[1])
    reference = Reference.from_function(
        _grid_function(_dirichlet_values, DIRICHLET_GRID), _grid(xs, ts), grid_shape=DIRICHLET_GRID,
        source="ETDRK4 sine pseudo-spectral (400 modes, dt 1e-4) with analytic corner carrier; "
        "201 x 101 grid of DeepXDE's Allen_Cahn.mat",
        error=1.2e-9, note="vs 800 modes (tests/numerics/test_zoo_allen_cahn.py)",
    )
    return Problem(
        name="allen-cahn-deepxde",
        domain=Interval(-1.0, 1.0) * TimeInterval(0.0, 1.0),
        input_names=("x", "t"),
        output_names=("u",),
        conditions={
            "pde": Residual(_pde),
            "bc": Dirichlet(-1.0),
            "ic": Initial(_initial),
        },
        params={"eps": eps, "gamma": gamma},
        reference=reference,
        # DeepXDE's output transform: u = x² cos(πx) + t (1 - x²) N, exact for both conditions.
        ansatz=Ansatz(lift=_initial, distance=lambda x: x[:, 1:2] * (1 - x[:, :1] ** 2), enforces=("bc", "ic")),
        sizes={"pde": 8000, "bc": 400, "ic": 800},
        description="u_t = 0.001 u_xx + 5(u - u³) on [-1,1]×[0,1], u(x,0) = x² cos(πx), u(±1,t) = -1",
    )
