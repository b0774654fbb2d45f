"""Poisson-type families with a Gaussian-random-field source ``f``: ``f -> u``.

- ``antiderivative`` (Lu et al. 2021, DeepONet's canonical operator): ``u' = f`` on ``[0, 1]``,
  ``u(0) = 0``.
- ``poisson-1d``: ``-u'' = f`` on ``[0, 1]``, ``u(0) = u(1) = 0``.
- ``poisson-2d``: ``-Laplace u = f`` on ``[0, 1]^2``, ``u = 0`` on the boundary.

``f`` is a truncated cosine expansion (see ``_grf.py``), so both 1-D problems are solved exactly, term by
term (``integral of sqrt 2 cos(pi k x)`` is ``sqrt 2 sin(pi k x) / (pi k)``): the data carry no
discretisation error at any resolution. ``poisson-2d`` has no such closed form (a cosine is not zero on
the boundary); it uses the five-point Laplacian on a grid ``refine`` times finer than the output,
diagonalised by the type-I discrete sine transform, second order in the grid spacing.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.fft

from ._checks import positive_int
from ._data import OperatorData, axis_coordinates
from ._grf import GaussianField, checked_field

__all__ = ["PoissonOptions", "Poisson2dOptions", "antiderivative_series", "generate_antiderivative",
           "generate_poisson_1d", "generate_poisson_2d", "poisson_1d_series", "solve_poisson_2d"]


@dataclass(frozen=True)
class PoissonOptions:
    """Options of the 1-D families: the source ``N(0, sigma^2 (-Laplace + tau^2)^-alpha)``, ``modes`` cosines."""

    alpha: float = 2.0
    tau: float = 3.0
    sigma: float = 3.0**1.5
    modes: int = 64

    def __post_init__(self) -> None:
        self.field()

    def field(self) -> GaussianField:
        return checked_field("poisson-1d/antiderivative",
                             dim=1, alpha=self.alpha, tau=self.tau, sigma=self.sigma, modes=self.modes, periodic=False)


@dataclass(frozen=True)
class Poisson2dOptions:
    """Options of ``poisson-2d``: the source field as in :class:`PoissonOptions`, and ``refine`` solver
    cells per output cell along each axis."""

    alpha: float = 2.0
    tau: float = 3.0
    sigma: float = 3.0
    modes: int = 32
    refine: int = 4

    def __post_init__(self) -> None:
        positive_int("poisson-2d", "refine", self.refine)
        self.field()

    def field(self) -> GaussianField:
        return checked_field("poisson-2d",
                             dim=2, alpha=self.alpha, tau=self.tau, sigma=self.sigma, modes=self.modes, periodic=False)


def _series(coefficients: np.ndarray, x: np.ndarray, *, constant: np.ndarray, cosine) -> np.ndarray:
    """``sum_k c_k g_k(x)`` with ``g_0 = constant`` and ``g_k = sqrt 2 cosine(k, x)``; ``c`` is ``(m, K)``."""
    k = np.arange(1, coefficients.shape[-1])[:, None]
    terms = np.concatenate([constant[None, :], math.sqrt(2.0) * cosine(k, x[None, :])])
    return coefficients @ terms


def antiderivative_series(coefficients: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``u(x) = int_0^x f`` for the cosine coefficients of ``f`` (``(m, K)``), exactly."""
    return _series(coefficients, x, constant=x, cosine=lambda k, x: np.sin(math.pi * k * x) / (math.pi * k))


def poisson_1d_series(coefficients: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``u`` with ``-u'' = f``, ``u(0) = u(1) = 0``, for the cosine coefficients of ``f``, exactly: each term's
    particular solution ``cos(pi k x) / (pi k)^2`` minus the line through its boundary values."""
    def term(k: np.ndarray, x: np.ndarray) -> np.ndarray:
        return (np.cos(math.pi * k * x) - (1 - x) - np.cos(math.pi * k) * x) / (math.pi * k) ** 2

    return _series(coefficients, x, constant=x * (1 - x) / 2, cosine=term)


def _generate_1d(options: PoissonOptions, name: str, solution, *, n: int, resolution: int,
                 seed: int) -> OperatorData:
    field = options.field()
    coefficients = field.draw(seed, n)
    x = axis_coordinates(resolution, periodic=False)
    start = time.process_time()
    outputs = solution(coefficients, x)
    solve = (time.process_time() - start) / n
    return OperatorData(field.evaluate(coefficients, resolution)[:, None], outputs[:, None], periodic=False,
                        name=name, solve_time_s=solve)


def generate_antiderivative(options: PoissonOptions, *, n: int, resolution: int, seed: int) -> OperatorData:
    """``n`` instances: inputs ``f`` ``(n, 1, r)``, outputs ``u = int_0^x f`` ``(n, 1, r)``."""
    return _generate_1d(options, "antiderivative", antiderivative_series, n=n, resolution=resolution, seed=seed)


def generate_poisson_1d(options: PoissonOptions, *, n: int, resolution: int, seed: int) -> OperatorData:
    """``n`` instances: inputs ``f`` ``(n, 1, r)``, outputs ``u`` with ``-u'' = f`` ``(n, 1, r)``."""
    return _generate_1d(options, "poisson-1d", poisson_1d_series, n=n, resolution=resolution, seed=seed)


def solve_poisson_2d(f: np.ndarray) -> np.ndarray:
    """``u`` on the ``m x m`` node grid of the five-point ``-Laplace_h u = f``, ``u = 0`` on the boundary
    (``f`` given at the nodes, ``(..., m, m)``): the sine transform diagonalises ``-Laplace_h``."""
    m = f.shape[-1]
    j = np.arange(1, m - 1)
    eigen = (2 - 2 * np.cos(math.pi * j / (m - 1))) * (m - 1) ** 2
    modes = scipy.fft.dstn(f[..., 1:-1, 1:-1], type=1, axes=(-2, -1))
    u = np.zeros(f.shape)
    u[..., 1:-1, 1:-1] = scipy.fft.idstn(modes / (eigen[:, None] + eigen[None, :]), type=1, axes=(-2, -1))
    return u


def generate_poisson_2d(options: Poisson2dOptions, *, n: int, resolution: int, seed: int) -> OperatorData:
    """``n`` instances: inputs ``f`` ``(n, 1, r, r)``, outputs ``u`` ``(n, 1, r, r)`` on the node grid."""
    field = options.field()
    coefficients = field.draw(seed, n)
    r = options.refine
    start = time.process_time()
    outputs = solve_poisson_2d(field.evaluate(coefficients, r * (resolution - 1) + 1))[:, ::r, ::r]
    solve = (time.process_time() - start) / n
    return OperatorData(field.evaluate(coefficients, resolution)[:, None], outputs[:, None], periodic=False,
                        name="poisson-2d", solve_time_s=solve)
