"""Inverse problems: unknown coefficients from sparse, seeded-noise observations of a known solution.

Reference: each problem's truth comes from our own solutions (below). Each problem takes ``noise``
(relative level: σ = noise · RMS of the clean observations, Gaussian, drawn from ``seed``) and
states the truth of every unknown, so reports give the relative error.
``discrepancy=True`` (with ``noise`` > 0 and ``roles.data = "alm"``) fits the data to the noise level
as one constraint instead of a penalty (:class:`~physopt.problems.Data`).

- ``burgers-inverse``: ν of the Burgers problem (truth 0.01/π) from ``sensors`` samples of the
  exact Cole–Hopf solution at Halton points of [-1, 1] × [0, 0.99] (Raissi et al. 2019, §4.1.1,
  identify ν from 2000 scattered samples). IC and walls stay exact through the Burgers ansatz.
- ``lotka-volterra-inverse``: the four rates (α, β, γ, δ) of x' = αx − βxy, y' = δxy − γy on
  [0, 6] from samples of both species; reference from SciPy's DOP853 at rtol = atol = 1e-12.
  The initial state is exact through the ansatz u = u0 + t · N(t).
- ``kovasznay-inverse``: the Reynolds number (truth 20) of Kovasznay's flow from samples of the
  velocity (u, v) only (the pressure is observed nowhere but its outflow value, as in the forward
  problem), with the closed form as the truth.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.integrate import solve_ivp
from scipy.stats import qmc

from .._conditions import Data, Dirichlet, Initial, Residual
from .._domain import Interval, Rectangle, TimeInterval
from .._ops import grad
from .._problem import Ansatz, Problem, Reference
from .._unknowns import Unknown
from ._burgers import NU, _distance, _lift, _pde, _reference_grid, burgers_cole_hopf
from ._common import grid_points
from ._kovasznay import _pde as kovasznay_residual
from ._kovasznay import kovasznay_exact

__all__ = ["LOTKA_VOLTERRA_RATES", "burgers_inverse", "kovasznay_inverse", "lotka_volterra",
           "lotka_volterra_inverse"]


def _sensors(n: int, lo: tuple[float, ...], hi: tuple[float, ...], seed: int) -> np.ndarray:
    # Halton: low discrepancy at any n (Sobol balances only at powers of 2).
    return qmc.scale(qmc.Halton(len(lo), scramble=True, seed=seed).random(n), lo, hi)


def _observe(points: np.ndarray, clean: np.ndarray, *, noise: float, seed: int, discrepancy: bool,
             components: tuple[int, ...] | None = None) -> Data:
    gen = torch.Generator().manual_seed(seed + 1)  # the noise stream is not the sensor-placement stream
    return Data.noisy(torch.from_numpy(points), torch.from_numpy(np.asarray(clean).reshape(len(points), -1)),
                      level=noise, generator=gen, components=components, discrepancy=discrepancy)


def burgers_inverse(*, noise: float = 0.0, discrepancy: bool = False, sensors: int = 2000, seed: int = 0,
                    nu_guess: float = 0.01) -> Problem:
    """ν of the Burgers problem from ``sensors`` noisy samples (``log`` parametrisation, start ``nu_guess``)."""
    pts = _sensors(sensors, (-1.0, 0.0), (1.0, 0.99), seed)
    data = _observe(pts, burgers_cole_hopf(pts[:, 0], pts[:, 1]), noise=noise, seed=seed, discrepancy=discrepancy)
    grid = _reference_grid()
    reference = Reference.from_function(lambda p: burgers_cole_hopf(p[:, 0], p[:, 1]), grid, grid_shape=(256, 100),
                                        source="exact Cole–Hopf solution, 256 x 100 grid (the burgers reference)")
    return Problem(
        name="burgers-inverse",
        domain=Interval(-1.0, 1.0) * TimeInterval(0.0, 0.99),
        input_names=("x", "t"), output_names=("u",),
        conditions={"pde": Residual(_pde), "bc": Dirichlet(0.0),
                    "ic": Initial(lambda x: -torch.sin(math.pi * x[:, :1])), "data": data},
        trainable={"nu": Unknown(nu_guess, transform="log", truth=NU)},
        reference=reference,
        ansatz=Ansatz(lift=_lift, distance=_distance, enforces=("bc", "ic")),
        sizes={"pde": 2540, "bc": 80, "ic": 160, "data": sensors},
        description=f"Burgers, ν unknown (truth 0.01/π) from {sensors} Cole–Hopf samples, {noise:.0%} noise",
    )


# (α, β, γ, δ) and the initial state of the Lotka–Volterra system.
LOTKA_VOLTERRA_RATES = {"alpha": 1.0, "beta": 0.4, "gamma": 0.8, "delta": 0.2}
_LV_U0 = (4.0, 2.0)
_LV_T = 6.0


def lotka_volterra(t: np.ndarray, *, rates: dict[str, float] = LOTKA_VOLTERRA_RATES) -> np.ndarray:
    """(x, y) at times ``t`` from DOP853 (rtol = atol = 1e-12), ``(n, 2)``."""
    a, b, g, d = (rates[k] for k in ("alpha", "beta", "gamma", "delta"))
    t = np.asarray(t, dtype=np.float64).ravel()
    order = np.argsort(t)
    sol = solve_ivp(lambda _, u: [a * u[0] - b * u[0] * u[1], d * u[0] * u[1] - g * u[1]], (0.0, float(t.max())),
                    _LV_U0, method="DOP853", t_eval=t[order], rtol=1e-12, atol=1e-12)
    out = np.empty((t.size, 2))
    out[order] = sol.y.T
    return out


def _lv_residual(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    du = torch.cat([grad(u[:, i : i + 1], x) for i in range(2)], dim=1)
    X, Y = u[:, 0:1], u[:, 1:2]
    return torch.cat([du[:, 0:1] - params["alpha"] * X + params["beta"] * X * Y,
                      du[:, 1:2] - params["delta"] * X * Y + params["gamma"] * Y], dim=1)


def lotka_volterra_inverse(*, noise: float = 0.0, discrepancy: bool = False, sensors: int = 60, seed: int = 0,
                           guess: float = 0.5) -> Problem:
    """The four Lotka–Volterra rates (each ``log``-parametrised, started at ``guess``) from
    ``sensors`` samples of (x, y) on [0, 6]."""
    t = np.sort(_sensors(sensors, (0.0,), (_LV_T,), seed), axis=0)
    data = _observe(t, lotka_volterra(t[:, 0]), noise=noise, seed=seed, discrepancy=discrepancy)
    ts = np.linspace(0.0, _LV_T, 601)[:, None]
    u0 = torch.tensor(_LV_U0)
    return Problem(
        name="lotka-volterra-inverse",
        domain=TimeInterval(0.0, _LV_T),
        input_names=("t",), output_names=("x", "y"),
        conditions={"pde": Residual(_lv_residual), "ic": Initial(lambda x: u0.to(x)[None, :].expand(x.shape[0], 2)),
                    "data": data},
        trainable={k: Unknown(guess, transform="log", truth=v) for k, v in LOTKA_VOLTERRA_RATES.items()},
        reference=Reference(points=ts, values=lotka_volterra(ts[:, 0]),
                            grid_shape=(601,), source="SciPy DOP853, rtol = atol = 1e-12, 601 times"),
        ansatz=Ansatz(lift=lambda x: u0.to(x)[None, :].expand(x.shape[0], 2), distance=lambda x: x[:, :1],
                      enforces=("ic",)),
        sizes={"pde": 600, "ic": 1, "data": sensors},  # Data draws all its points
        description=f"Lotka–Volterra, 4 unknown rates from {sensors} samples of (x, y) on [0, 6], {noise:.0%} noise",
    )


def _kovasznay_pde(x: torch.Tensor, out: torch.Tensor, params) -> torch.Tensor:
    return kovasznay_residual(x, out, {"nu": 1.0 / params["re"]})  # the forward residual at ν = 1/Re


def kovasznay_inverse(*, noise: float = 0.0, discrepancy: bool = False, sensors: int = 500, seed: int = 0,
                      re_guess: float = 10.0) -> Problem:
    """The Reynolds number (truth 20) from ``sensors`` samples of (u, v); walls carry the exact velocity."""
    re = 20.0
    lo, hi = (-0.5, -0.5), (1.0, 1.5)
    pts = _sensors(sensors, lo, hi, seed)
    data = _observe(pts, kovasznay_exact(pts, re=re)[:, :2], noise=noise, seed=seed,
                    discrepancy=discrepancy, components=(0, 1))
    grid = grid_points(np.linspace(-0.5, 1.0, 101), np.linspace(-0.5, 1.5, 101))
    return Problem(
        name="kovasznay-inverse",
        domain=Rectangle(lo, hi),
        input_names=("x", "y"), output_names=("u", "v", "p"),
        conditions={"pde": Residual(_kovasznay_pde),
                    "bc": Dirichlet(lambda x: kovasznay_exact(x, re=re)[:, :2], components=(0, 1)),
                    "bc_p": Dirichlet(lambda x: kovasznay_exact(x, re=re)[:, 2:3],
                                      on=lambda x: x[:, 0] >= 1.0 - 1e-12, components=(2,)),
                    "data": data},
        trainable={"re": Unknown(re_guess, transform="log", truth=re)},
        reference=Reference(points=grid, values=kovasznay_exact(grid, re=re), grid_shape=(101, 101),
                            source="closed form (Kovasznay 1948), 101 x 101 grid"),
        sizes={"pde": 2601, "bc": 400, "bc_p": 50, "data": sensors},
        description=f"Kovasznay flow, Re unknown (truth 20) from {sensors} velocity samples, {noise:.0%} noise",
    )
