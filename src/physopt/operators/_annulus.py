"""``poisson-annulus``: ``-Laplace u = f`` on an annulus (curved, non-convex) with random ``f`` and ``g``.

The domain is ``r_in < |x - c| < r_out``, ``c = (1/2, 1/2)``, inside the unit square of the grid.
Each instance is built so that its solution is known in closed form (the family's "solver" is exact,
the strongest solver data there is):

    f(x) = sum_j a_j sin(k_j . x + phi_j),            u_p = sum_j a_j / |k_j|^2 sin(k_j . x + phi_j)
    h(x) = b_0 + b_1 log(rho / r_out)
           + sum_{n=1}^{N} (rho/r_out)^n (c_n cos n theta + d_n sin n theta)
                         + (r_in/rho)^n (e_n cos n theta + s_n sin n theta)           (harmonic)
    u = u_p + h,   g = u on both circles,

so ``-Laplace u_p = f`` and ``Laplace h = 0``. Inputs on the grid are three channels: ``f`` inside
the domain (0 outside), the boundary data carried off the boundary along the radius
(``g(P(x))``, ``P`` the radial projection onto the nearer circle; a function of ``g`` alone) and
the domain mask; the output is ``u`` inside (0 outside).

:meth:`AnnulusInstance` holds one instance as point functions (distance to the boundary, ``f``,
``g``, ``u``) for mesh-free estimators: the Walk-on-Spheres labels of WoS-NO
(:func:`physopt.config` ``data.labels = "wos"``) and the unbiasedness test use them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ._checks import positive_int, positive_number
from ._data import OperatorData, axis_coordinates
from ._grf import instance_generators

__all__ = ["AnnulusInstance", "AnnulusOptions", "annulus_instances", "generate_annulus", "grid_nodes"]

_CENTER = 0.5


@dataclass(frozen=True)
class AnnulusOptions:
    """Options of ``poisson-annulus``.

    Attributes:
        r_in, r_out: the radii (``0 < r_in < r_out <= 1/2``).
        waves: plane waves ``J`` in the source; wavenumbers ``|k_j|`` uniform in ``[k_min, k_max]``.
        harmonics: angular orders ``N`` of the harmonic part.
        source_scale: ``a_j ~ N(0, (source_scale |k_j|^2)^2 / J)``, so ``u_p`` is of size ``source_scale``.
        boundary_scale: the harmonic coefficients of order ``n`` are ``N(0, (boundary_scale / n)^2)``.
    """

    r_in: float = 0.15
    r_out: float = 0.45
    waves: int = 4
    k_min: float = 2.0
    k_max: float = 8.0
    harmonics: int = 3
    source_scale: float = 0.5
    boundary_scale: float = 0.5

    def __post_init__(self) -> None:
        for name in ("r_in", "r_out", "k_min", "k_max", "source_scale", "boundary_scale"):
            positive_number("poisson-annulus", name, getattr(self, name))
        positive_int("poisson-annulus", "waves", self.waves)
        positive_int("poisson-annulus", "harmonics", self.harmonics)
        if not self.r_in < self.r_out <= 0.5:
            raise ValueError(f"poisson-annulus needs 0 < r_in < r_out <= 0.5, got r_in={self.r_in}, r_out={self.r_out}")
        if self.k_min > self.k_max:
            raise ValueError(f"poisson-annulus needs k_min <= k_max, got {self.k_min} > {self.k_max}")


@dataclass(frozen=True)
class AnnulusInstance:
    """One instance as NumPy point functions of ``x`` ``(m, 2)`` returning ``(m,)``."""

    options: AnnulusOptions
    k: np.ndarray  # (J, 2) wave vectors
    phase: np.ndarray  # (J,)
    amplitude: np.ndarray  # (J,)
    log_coefficients: np.ndarray  # (2,): b_0, b_1
    outer: np.ndarray  # (N, 2): c_n, d_n
    inner: np.ndarray  # (N, 2): e_n, s_n

    def _polar(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = x - _CENTER
        return np.hypot(d[:, 0], d[:, 1]), np.arctan2(d[:, 1], d[:, 0])

    def distance(self, x: np.ndarray) -> np.ndarray:
        """Distance to the nearer circle (positive inside the annulus)."""
        rho, _ = self._polar(x)
        return np.minimum(rho - self.options.r_in, self.options.r_out - rho)

    def mask(self, x: np.ndarray) -> np.ndarray:
        return self.distance(x) > 0

    def source(self, x: np.ndarray) -> np.ndarray:
        return np.sin(x @ self.k.T + self.phase) @ self.amplitude

    def solution(self, x: np.ndarray) -> np.ndarray:
        """The exact ``u`` (the formula holds at any ``x`` off the centre)."""
        o = self.options
        rho, theta = self._polar(x)
        rho = np.maximum(rho, 1e-12)  # the centre is outside the domain; keep the formula finite there
        u = np.sin(x @ self.k.T + self.phase) @ (self.amplitude / (self.k**2).sum(1))
        u = u + self.log_coefficients[0] + self.log_coefficients[1] * np.log(rho / o.r_out)
        for n in range(1, o.harmonics + 1):
            c, s = np.cos(n * theta), np.sin(n * theta)
            u = u + (rho / o.r_out) ** n * (self.outer[n - 1, 0] * c + self.outer[n - 1, 1] * s)
            u = u + (o.r_in / rho) ** n * (self.inner[n - 1, 0] * c + self.inner[n - 1, 1] * s)
        return u

    def project(self, x: np.ndarray) -> np.ndarray:
        """The radial projection of ``x`` onto the nearer circle."""
        o = self.options
        rho, theta = self._polar(x)
        radius = np.where(rho - o.r_in < o.r_out - rho, o.r_in, o.r_out)
        return _CENTER + radius[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)

    def boundary(self, x: np.ndarray) -> np.ndarray:
        """``g(P(x))``: the boundary data at the projection of ``x`` (equals ``g`` on the circles)."""
        return self.solution(self.project(x))


def annulus_instances(options: AnnulusOptions, *, seed: int, indices: range | list[int]) -> list[AnnulusInstance]:
    """Instances ``indices`` of the family (instance ``i`` depends on ``(seed, i)`` and ``options`` only)."""
    o = options
    gens = instance_generators(seed, max(indices, default=-1) + 1)
    out = []
    for i in indices:
        rng = gens[i]
        norm = rng.uniform(o.k_min, o.k_max, o.waves)
        angle = rng.uniform(0, 2 * math.pi, o.waves)
        k = norm[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        phase = rng.uniform(0, 2 * math.pi, o.waves)
        amplitude = o.source_scale * norm**2 * rng.standard_normal(o.waves) / math.sqrt(o.waves)
        order = np.arange(1, o.harmonics + 1)[:, None]
        out.append(AnnulusInstance(
            o, k, phase, amplitude, log_coefficients=o.boundary_scale * rng.standard_normal(2),
            outer=o.boundary_scale * rng.standard_normal((o.harmonics, 2)) / order,
            inner=o.boundary_scale * rng.standard_normal((o.harmonics, 2)) / order))
    return out


def grid_nodes(resolution: int) -> np.ndarray:
    """The ``(r * r, 2)`` node coordinates of the ``r x r`` grid in C order."""
    x = axis_coordinates(resolution, periodic=False)
    gx, gy = np.meshgrid(x, x, indexing="ij")
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def generate_annulus(options: AnnulusOptions, *, n: int, resolution: int, seed: int) -> OperatorData:
    """``n`` instances: inputs ``(f, g(P(x)), mask)`` ``(n, 3, r, r)``, outputs ``u`` ``(n, 1, r, r)``."""
    nodes = grid_nodes(resolution)
    shape = (resolution, resolution)
    inputs = np.zeros((n, 3, *shape))
    outputs = np.zeros((n, 1, *shape))
    start = time.process_time()
    instances = annulus_instances(options, seed=seed, indices=range(n))
    for i, inst in enumerate(instances):
        inside = inst.mask(nodes)
        inputs[i, 0] = np.where(inside, inst.source(nodes), 0.0).reshape(shape)
        inputs[i, 1] = inst.boundary(nodes).reshape(shape)
        inputs[i, 2] = inside.reshape(shape)
        outputs[i, 0] = np.where(inside, inst.solution(nodes), 0.0).reshape(shape)
    solve = (time.process_time() - start) / n
    return OperatorData(inputs, outputs, periodic=False, name="poisson-annulus", solve_time_s=solve)
