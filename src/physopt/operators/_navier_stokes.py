"""Two-dimensional incompressible Navier–Stokes in vorticity form on the periodic unit square.

``w_t + u . grad w = nu Laplace w + f``, ``u = (psi_y, -psi_x)``, ``-Laplace psi = w``, with
``f = 0.1 (sin 2 pi (x + y) + cos 2 pi (x + y))`` and initial vorticity ``N(0, sigma^2 (-Laplace + 49)^-2.5)``
(Li et al. 2021, FNO, Section 5.3; their code scales the standard deviation by ``sqrt 2 * 7^1.5``, the
default here). The vorticity at ``t_in`` snapshots (times ``interval, 2 interval, ...``) maps to the next
``t_out``. Pseudo-spectral on a fixed internal grid (``solver_points``, independent of the output
resolution), integrating-factor RK4, 2/3 dealiasing; outputs are exact samples of its Fourier series.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ._checks import positive_int, positive_number
from ._data import OperatorData, axis_coordinates
from ._grf import GaussianField, checked_field
from ._spectral import check_resolved, dealias_mask, evaluate_periodic, integrating_factor_rk4, wavenumbers

__all__ = ["NavierStokesOptions", "fno_forcing", "generate_navier_stokes", "solve_vorticity"]


@dataclass(frozen=True)
class NavierStokesOptions:
    """Options of the ``navier-stokes-2d`` family.

    Attributes:
        nu: viscosity.
        t_in, t_out: input and output snapshots (channels).
        interval: time between snapshots.
        alpha, tau, sigma, modes: the initial vorticity field (mean zero), ``modes`` wavenumbers per axis.
        solver_points: internal grid per axis (even, more than three times ``modes``).
        dt: largest time step of the solver.
    """

    nu: float = 1e-3
    t_in: int = 10
    t_out: int = 10
    interval: float = 1.0
    alpha: float = 2.5
    tau: float = 7.0
    sigma: float = math.sqrt(2.0) * 7.0**1.5
    modes: int = 16
    solver_points: int = 64
    dt: float = 5e-2

    def __post_init__(self) -> None:
        for name in ("nu", "interval", "dt"):
            positive_number("navier-stokes-2d", name, getattr(self, name))
        for name in ("t_in", "t_out"):
            positive_int("navier-stokes-2d", name, getattr(self, name))
        self.field()
        positive_int("navier-stokes-2d", "solver_points", self.solver_points, even=True, above=3 * self.modes)

    def field(self) -> GaussianField:
        return checked_field("navier-stokes-2d",
                             dim=2, alpha=self.alpha, tau=self.tau, sigma=self.sigma, modes=self.modes, periodic=True,
                             mean_zero=True)

    def times(self) -> np.ndarray:
        return self.interval * np.arange(1, self.t_in + self.t_out + 1)


def fno_forcing(n: int) -> np.ndarray:
    """``0.1 (sin 2 pi (x + y) + cos 2 pi (x + y))`` on the ``n x n`` periodic grid."""
    x = axis_coordinates(n, periodic=True)
    s = 2 * math.pi * (x[:, None] + x[None, :])
    return 0.1 * (np.sin(s) + np.cos(s))


def solve_vorticity(w0: np.ndarray, *, nu: float, times: np.ndarray, dt: float,
                    forcing: np.ndarray | None) -> np.ndarray:
    """Vorticity at ``times`` from ``w0`` (``(batch, n, n)`` on the periodic grid, axes ``x, y``).

    Returns ``(len(times), batch, n, n)``; ``ValueError`` if the solution blows up (``dt``) or is
    under-resolved (``solver_points``)."""
    n = w0.shape[-1]
    kx, ky = wavenumbers(n, 2)
    k2 = kx**2 + ky**2
    inverse_laplace = np.where(k2 > 0, 1.0 / np.where(k2 > 0, k2, 1.0), 0.0)
    keep = dealias_mask(n, 2)
    source = 0.0 if forcing is None else np.fft.rfft2(forcing) * keep

    def velocity(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # (psi_y, psi_x) = (u, -v)
        psi = v * inverse_laplace
        return np.fft.irfft2(1j * ky * psi, s=(n, n)), np.fft.irfft2(1j * kx * psi, s=(n, n))

    def nonlinear(v: np.ndarray) -> np.ndarray:  # -(u . grad w) + f, products of dealiased fields
        v = v * keep
        u, minus_v = velocity(v)
        w_x, w_y = np.fft.irfft2(1j * kx * v, s=(n, n)), np.fft.irfft2(1j * ky * v, s=(n, n))
        return source - np.fft.rfft2(u * w_x - minus_v * w_y) * keep

    def speed(v: np.ndarray) -> float:  # |u| + |v| bounds the advection along any wavevector direction
        u, minus_v = velocity(v)
        return float((np.abs(u) + np.abs(minus_v)).max())

    k_max = float(np.abs(kx * keep).max())
    v = integrating_factor_rk4(np.fft.rfft2(w0) * keep, -nu * k2, nonlinear, dt=dt, times=times, speed=speed,
                               k_max=k_max)
    w = np.fft.irfft2(v, s=(n, n))
    if not np.isfinite(w).all():
        raise ValueError(f"the Navier–Stokes solver diverged: dt={dt} is too large for these data (reduce dt)")
    check_resolved(v, 2, "solver_points")
    return w


# Instances solved together: batched FFTs are faster, and each chunk's states stay small (every
# instance's arithmetic is its own, so chunking never changes a result).
_CHUNK = 32


def generate_navier_stokes(options: NavierStokesOptions, *, n: int, resolution: int, seed: int) -> OperatorData:
    """``n`` instances: inputs ``(n, t_in, r, r)``, outputs ``(n, t_out, r, r)`` (snapshots as channels)."""
    field = options.field()
    coefficients = field.draw(seed, n)
    m = options.solver_points
    snapshots = np.empty((n, options.t_in + options.t_out, resolution, resolution))
    start = time.process_time()
    for first in range(0, n, _CHUNK):
        chunk = coefficients[first:first + _CHUNK]
        w = solve_vorticity(field.evaluate(chunk, m), nu=options.nu, times=options.times(), dt=options.dt,
                            forcing=fno_forcing(m))
        snapshots[first:first + len(chunk)] = evaluate_periodic(np.moveaxis(w, 0, 1), resolution, 2)
    solve = (time.process_time() - start) / n
    return OperatorData(snapshots[:, :options.t_in], snapshots[:, options.t_in:], periodic=True,
                        name="navier-stokes-2d", solve_time_s=solve)
