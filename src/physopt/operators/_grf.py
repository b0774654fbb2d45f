"""Gaussian random fields defined independently of any grid, the inputs of every family.

A field ``g ~ N(0, sigma^2 (-Laplace + tau^2)^(-alpha))`` on ``[0, 1]^d`` is a truncated
Karhunen–Loève expansion in the Laplacian's eigenfunctions: cosines ``c_k cos(pi k x)`` (zero
Neumann data, ``c_0 = 1``, ``c_k = sqrt 2``) or, on the torus, ``1, sqrt 2 cos(2 pi k x),
sqrt 2 sin(2 pi k x)``; tensor products in ``d`` dimensions. A draw is its coefficient array
``xi_k sqrt(lambda_k)`` with ``xi_k`` standard normal from the instance's own generator, so the same
instance evaluated on two grids is the same function — the property zero-shot tests rely on.
(Li et al. 2021, FNO, use the same covariances sampled on one grid by an inverse FFT; their
``sigma`` multiplies the standard deviation, as here.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._data import axis_coordinates

__all__ = ["GaussianField", "checked_field", "instance_generators"]


def instance_generators(seed: int, n: int) -> list[np.random.Generator]:
    """Generator ``i`` seeded by ``(seed, i)`` only, so instance ``i`` never depends on ``n``."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return [np.random.default_rng([seed, i]) for i in range(n)]


def checked_field(family: str, **parameters: object) -> GaussianField:
    """The field of a family's options; a bad parameter raises ``ValueError`` naming the family's option."""
    try:
        return GaussianField(**parameters)  # type: ignore[arg-type]
    except ValueError as err:
        raise ValueError(f"{family} option {err}") from None


@dataclass(frozen=True)
class GaussianField:
    """``N(0, sigma^2 (-Laplace + tau^2)^(-alpha))`` on ``[0, 1]^dim``, ``modes`` wavenumbers per axis.

    Attributes:
        dim: spatial dimension.
        alpha, tau, sigma: smoothness, inverse length scale and standard-deviation scale.
        modes: wavenumbers ``0 .. modes - 1`` per axis are kept (the truncation of the expansion).
        periodic: Fourier basis of the torus (wavenumber ``2 pi k``) instead of Neumann cosines (``pi k``).
        mean_zero: drop the constant mode (FNO's Darcy and Navier–Stokes fields; a periodic
            vorticity has zero mean).
    """

    dim: int
    alpha: float
    tau: float
    sigma: float
    modes: int
    periodic: bool
    mean_zero: bool = False

    def __post_init__(self) -> None:
        for name in ("alpha", "tau", "sigma"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not isinstance(self.modes, int) or isinstance(self.modes, bool) or self.modes < 2:
            raise ValueError(f"modes must be an int >= 2, got {self.modes!r}")

    def _wavenumbers(self) -> np.ndarray:
        """Per-axis wavenumber of each basis function (``0, 1, 1, 2, 2, ...`` on the torus)."""
        k = np.arange(self.modes, dtype=float)
        return np.concatenate([[0.0], np.repeat(k[1:], 2)]) if self.periodic else k

    def _scales(self) -> np.ndarray:
        """``sigma sqrt(lambda_k)`` on the tensor grid of basis indices."""
        factor = 2 * math.pi if self.periodic else math.pi
        k2 = sum(np.meshgrid(*([(factor * self._wavenumbers()) ** 2] * self.dim), indexing="ij"))
        scale = self.sigma * (k2 + self.tau**2) ** (-self.alpha / 2)
        if self.mean_zero:
            scale[(0,) * self.dim] = 0.0
        return scale

    def sample(self, generator: np.random.Generator) -> np.ndarray:
        """One draw: its coefficients (shape ``(basis size,) * dim``), independent of any grid."""
        scale = self._scales()
        return generator.standard_normal(scale.shape) * scale

    def draw(self, seed: int, n: int) -> np.ndarray:
        """The coefficients of instances ``0 .. n-1`` (``(n, *shape)``), instance ``i`` from ``(seed, i)``."""
        return np.stack([self.sample(g) for g in instance_generators(seed, n)])

    def basis(self, x: np.ndarray) -> np.ndarray:
        """The ``(len(x), basis size)`` values of the 1-D basis at the coordinates ``x``."""
        x = np.asarray(x, dtype=float)[:, None]
        if not self.periodic:
            k = self._wavenumbers()[None, :]
            return np.where(k == 0, 1.0, math.sqrt(2.0)) * np.cos(math.pi * k * x)
        k = np.arange(1, self.modes)[None, :]
        out = np.empty((len(x), 2 * self.modes - 1))
        out[:, 0] = 1.0
        out[:, 1::2] = math.sqrt(2.0) * np.cos(2 * math.pi * k * x)
        out[:, 2::2] = math.sqrt(2.0) * np.sin(2 * math.pi * k * x)
        return out

    def evaluate(self, coefficients: np.ndarray, n: int) -> np.ndarray:
        """The field of ``coefficients`` (one draw, or a stack ``(m, *shape)``) on the ``n^dim`` grid
        of its convention (see :func:`~physopt.operators.axis_coordinates`)."""
        return self.evaluate_at(coefficients, axis_coordinates(n, periodic=self.periodic))

    def evaluate_at(self, coefficients: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The field on the tensor grid ``x^dim`` (the same coordinates on every axis)."""
        phi = self.basis(x)
        out = coefficients
        for _ in range(self.dim):  # contract the first basis axis left each time; grid axes land in order
            out = np.tensordot(out, phi, axes=([out.ndim - self.dim], [1]))
        return out
