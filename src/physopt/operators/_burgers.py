"""Viscous Burgers' equation on the periodic unit interval: ``u(., 0) -> u(., T)``.

``u_t + (u^2 / 2)_x = nu u_xx`` with Gaussian-random-field initial data
``N(0, 625 (-Laplace + 25)^-2)`` (Li et al. 2021, FNO, Section 5.1). Solved pseudo-spectrally on a fixed
internal grid (``solver_points``, independent of the output resolution) with the integrating-factor
RK4 scheme and 2/3 dealiasing, then sampled exactly on the requested grid.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ._checks import positive_int, positive_number
from ._data import OperatorData
from ._grf import GaussianField, checked_field
from ._spectral import check_resolved, dealias_mask, evaluate_periodic, integrating_factor_rk4, wavenumbers

__all__ = ["BurgersOptions", "cole_hopf_sine", "generate_burgers", "solve_burgers"]


@dataclass(frozen=True)
class BurgersOptions:
    """Options of the ``burgers-1d`` family.

    Attributes:
        nu: viscosity.
        time: final time ``T``.
        trajectory: outputs are ``u`` at ``snapshots`` equally spaced times in ``(0, T]`` (channels)
            instead of ``u(., T)`` alone.
        snapshots: number of output times when ``trajectory``.
        alpha, tau, sigma, modes: the initial field ``N(0, sigma^2 (-Laplace + tau^2)^-alpha)``, ``modes``
            Fourier wavenumbers.
        solver_points: internal grid (even, more than three times ``modes`` so the field is dealiased).
        dt: largest time step of the solver.
    """

    nu: float = 1e-2
    time: float = 1.0
    trajectory: bool = False
    snapshots: int = 10
    alpha: float = 2.0
    tau: float = 5.0
    sigma: float = 25.0
    modes: int = 64
    solver_points: int = 512
    dt: float = 5e-4

    def __post_init__(self) -> None:
        for name in ("nu", "time", "dt"):
            positive_number("burgers-1d", name, getattr(self, name))
        positive_int("burgers-1d", "snapshots", self.snapshots)
        if not isinstance(self.trajectory, bool):
            raise ValueError(f"burgers-1d option trajectory must be true or false, got {self.trajectory!r}")
        self.field()  # checks alpha, tau, sigma, modes
        positive_int("burgers-1d", "solver_points", self.solver_points, even=True, above=3 * self.modes)

    def field(self) -> GaussianField:
        return checked_field("burgers-1d",
                             dim=1, alpha=self.alpha, tau=self.tau, sigma=self.sigma, modes=self.modes, periodic=True)

    def times(self) -> np.ndarray:
        count = self.snapshots if self.trajectory else 1
        return self.time * np.arange(1, count + 1) / count


def solve_burgers(u0: np.ndarray, *, nu: float, times: np.ndarray, dt: float) -> np.ndarray:
    """``u`` at ``times`` from initial samples ``u0`` (``(batch, n)`` on the periodic grid ``i/n``).

    Returns ``(len(times), batch, n)`` on the same grid; ``ValueError`` if the solution blows up
    (the time step is too large for these data)."""
    n = u0.shape[-1]
    (k,) = wavenumbers(n, 1)
    keep = dealias_mask(n, 1)

    def nonlinear(v: np.ndarray) -> np.ndarray:  # -(u^2/2)_x of the dealiased u
        u = np.fft.irfft(v * keep, n=n)
        return -0.5j * k * np.fft.rfft(u * u)

    def speed(v: np.ndarray) -> float:
        return float(np.abs(np.fft.irfft(v, n=n)).max())

    v = integrating_factor_rk4(np.fft.rfft(u0) * keep, -nu * k**2, nonlinear, dt=dt, times=times, speed=speed,
                               k_max=float(np.abs(k[keep]).max()))
    u = np.fft.irfft(v, n=n)
    if not np.isfinite(u).all():
        raise ValueError(f"the Burgers solver diverged: dt={dt} is too large for these data (reduce dt)")
    check_resolved(v, 1, "solver_points")
    return u


def cole_hopf_sine(n: int, *, nu: float, t: float, points: int = 8192) -> np.ndarray:
    """The exact ``u(., t)`` from ``u0 = sin(2 pi x)`` on the periodic grid ``i/n`` (``n`` divides ``points``).

    Cole–Hopf: ``u = -2 nu phi_x / phi`` with ``phi_t = nu phi_xx`` and ``phi0 = exp(-(1 - cos 2 pi x) /
    (4 pi nu))``; the heat equation is solved exactly in Fourier space on ``points`` points (``phi0`` is
    entire, so its series converges to rounding long before ``points / 2``)."""
    x = np.arange(points) / points
    k = 2 * math.pi * np.fft.fftfreq(points, 1.0 / points)
    phi = np.fft.fft(np.exp(-(1 - np.cos(2 * math.pi * x)) / (4 * math.pi * nu))) * np.exp(-nu * k**2 * t)
    return (-2 * nu * np.fft.ifft(1j * k * phi).real / np.fft.ifft(phi).real)[:: points // n]


def generate_burgers(options: BurgersOptions, *, n: int, resolution: int, seed: int) -> OperatorData:
    """``n`` instances: inputs ``u(., 0)`` ``(n, 1, resolution)``, outputs ``u`` at the output times."""
    field = options.field()
    coefficients = field.draw(seed, n)
    start = time.process_time()
    u0 = field.evaluate(coefficients, options.solver_points)
    u = solve_burgers(u0, nu=options.nu, times=options.times(), dt=options.dt)
    outputs = evaluate_periodic(np.moveaxis(u, 0, 1), resolution, 1)
    solve = (time.process_time() - start) / n
    return OperatorData(field.evaluate(coefficients, resolution)[:, None], outputs, periodic=True,
                        name="burgers-1d", solve_time_s=solve)
