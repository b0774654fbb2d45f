"""Nonlinear diffusion on a periodic unit cell: the microscale problem of first-order homogenisation.

On ``Y = [0, 1]^2`` with a two-phase microstructure ``a(y)`` (a disk of conductivity ``high`` of radius
``radius`` in a matrix of ``low``, or a ``laminate`` of the same volume fraction), a macroscopic gradient
``G`` drives the periodic fluctuation ``φ`` (mean zero)::

    div q = 0,   q_i = a(y) (g_i + β g_i³),   g = G + ∇φ           (componentwise nonlinear law)

(the heat-conduction analogue of the paper's quasi-static solid mechanics: balance ``div q = 0``
in place of ``div σ = 0``, a nonlinear constitutive law, periodic boundary conditions; the mean flux
``⟨q⟩`` is the homogenised response at the macroscale point). Finite volumes on the periodic ``n × n``
cell grid: ``φ`` at cell centres, ``q_x`` on east faces and ``q_y`` on north faces (stored at their
cell's index), face conductivities the harmonic mean of the two cells (each cell's ``a`` its area average
from ``subsamples²`` points); Newton's method on the flux balance of every cell to ``tol``. The discrete
fluxes are divergence-free cell by cell (``Σ`` of face fluxes = 0 to ``tol``).

Instances: ``G`` uniform in ``[-load, load]^2``. Inputs ``(n, 4, r, r)``: the east and north face
conductivities and ``G`` as two constant channels; outputs ``(n, 3, r, r)``: ``q_x``, ``q_y``, ``φ``.
The solver runs on the output grid, so the data are the discrete solution itself (a physics-informed
model trained on the same discrete law can match them exactly); the convergence study in
docs/operators.md measures the discretisation error of ``⟨q⟩`` against finer grids and, for the
laminate, against the 1-D closed form of :func:`laminate_flux`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._checks import positive_int, positive_number
from ._data import OperatorData

__all__ = ["UnitCellOptions", "cell_conductivity", "generate_unit_cell", "laminate_flux", "solve_unit_cell"]

_SHAPES = ("disk", "laminate")


@dataclass(frozen=True)
class UnitCellOptions:
    """Options of the ``unit-cell`` family (see the module docstring)."""

    high: float = 10.0
    low: float = 1.0
    radius: float = 0.3
    shape: str = "disk"
    beta: float = 1.0
    load: float = 1.0
    subsamples: int = 8
    tol: float = 1e-10

    def __post_init__(self) -> None:
        for name in ("high", "low", "load", "tol"):
            positive_number("unit-cell", name, getattr(self, name))
        positive_int("unit-cell", "subsamples", self.subsamples)
        if isinstance(self.beta, bool) or not isinstance(self.beta, int | float) or self.beta < 0:
            raise ValueError(f"unit-cell option beta must be a number >= 0, got {self.beta!r}")
        if not isinstance(self.radius, int | float) or not 0 < self.radius < 0.5:
            raise ValueError(f"unit-cell option radius must be in (0, 0.5), got {self.radius!r}")
        if self.shape not in _SHAPES:
            raise ValueError(f"unit-cell option shape must be one of {', '.join(_SHAPES)}, got {self.shape!r}")

    def fraction(self) -> float:
        """The volume fraction of the ``high`` phase."""
        return math.pi * self.radius**2 if self.shape == "disk" else 2 * self.radius


def cell_conductivity(options: UnitCellOptions, n: int) -> np.ndarray:
    """``a`` per cell of the ``n × n`` grid: the area average over ``subsamples²`` points of each cell."""
    s = options.subsamples
    t = (np.arange(n * s) + 0.5) / (n * s)
    if options.shape == "disk":
        inside = (t[:, None] - 0.5) ** 2 + (t[None, :] - 0.5) ** 2 < options.radius**2
    else:
        inside = np.broadcast_to((np.abs(t - 0.5) < options.radius)[:, None], (n * s, n * s))
    a = np.where(inside, options.high, options.low)
    return a.reshape(n, s, n, s).mean(axis=(1, 3))


def _faces(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    east = 2 * a * np.roll(a, -1, 0) / (a + np.roll(a, -1, 0))
    north = 2 * a * np.roll(a, -1, 1) / (a + np.roll(a, -1, 1))
    return east, north


def _difference(n: int, axis: int) -> sp.csr_matrix:
    """Periodic forward difference ``(φ[i+1] - φ[i]) n`` along ``axis`` of the C-ordered ``n × n`` grid."""
    one = sp.identity(n, format="csr")
    shift = sp.csr_matrix((np.ones(n), (np.arange(n), (np.arange(n) + 1) % n)), shape=(n, n))
    d = (shift - one) * n
    return (sp.kron(d, one) if axis == 0 else sp.kron(one, d)).tocsr()


def solve_unit_cell(east: np.ndarray, north: np.ndarray, load: np.ndarray, *, beta: float,
                    tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(q_x, q_y, φ)`` on the ``n × n`` grid for face conductivities ``east``/``north`` and ``G = load`` (2,).

    Newton on ``F(φ) = Dxᵀ q_x + Dyᵀ q_y`` (the negative flux balance), ``φ[0]`` pinned and the mean removed
    afterwards; ``ValueError`` if the balance is not below ``tol`` (relative to the flux scale) in 30 steps."""
    n = east.shape[0]
    dx, dy = _difference(n, 0), _difference(n, 1)
    ax, ay = east.ravel(), north.ravel()
    phi = np.zeros(n * n)
    scale = max(float(np.abs(ax).max() * (abs(load[0]) + abs(load[1]) + 1.0)), 1.0)
    for _ in range(30):
        gx, gy = load[0] + dx @ phi, load[1] + dy @ phi
        qx, qy = ax * (gx + beta * gx**3), ay * (gy + beta * gy**3)
        f = dx.T @ qx + dy.T @ qy
        if np.abs(f).max() / n < tol * scale:
            break
        jac = (dx.T @ sp.diags(ax * (1 + 3 * beta * gx**2)) @ dx + dy.T @ sp.diags(ay * (1 + 3 * beta * gy**2)) @ dy)
        step = np.zeros(n * n)
        step[1:] = spla.splu(jac.tocsc()[1:, 1:]).solve(-f[1:])
        phi += step
    else:
        raise ValueError(f"unit-cell Newton did not converge to tol={tol} in 30 steps (lower beta or load)")
    phi -= phi.mean()
    gx, gy = load[0] + dx @ phi, load[1] + dy @ phi
    qx, qy = ax * (gx + beta * gx**3), ay * (gy + beta * gy**3)
    return qx.reshape(n, n), qy.reshape(n, n), phi.reshape(n, n)


def laminate_flux(options: UnitCellOptions, load: float) -> float:
    """The exact mean flux across the layers of the laminate (``G = (load, 0)``): the 1-D cell problem.

    Across layers ``q`` is constant and ``a_p (g_p + β g_p³) = q`` in each phase ``p``, with the phases'
    gradients averaging to ``load``; ``q`` is the root of that scalar equation (bracketed, to 1e-14)."""
    f = options.fraction()

    def gradient(a: float, q: float) -> float:  # the real root of a (g + β g³) = q, increasing in q
        if options.beta == 0:
            return q / a
        return float(scipy.optimize.brentq(lambda g: a * (g + options.beta * g**3) - q, -abs(q) / a - 1, abs(q) / a + 1,
                                           xtol=1e-15, rtol=1e-15))

    def mismatch(q: float) -> float:
        return f * gradient(options.high, q) + (1 - f) * gradient(options.low, q) - load

    hi = options.high * (abs(load) + options.beta * abs(load) ** 3) + 1.0
    return float(scipy.optimize.brentq(mismatch, -hi, hi, xtol=1e-15, rtol=1e-15))


def generate_unit_cell(options: UnitCellOptions, *, n: int, resolution: int, seed: int) -> OperatorData:
    """``n`` instances at ``resolution`` (see the module docstring); instance ``i``'s load depends on ``(seed, i)``."""
    east, north = _faces(cell_conductivity(options, resolution))
    loads = np.random.default_rng(seed).uniform(-options.load, options.load, size=(n, 2))
    inputs = np.empty((n, 4, resolution, resolution))
    outputs = np.empty((n, 3, resolution, resolution))
    start = time.process_time()
    for i, g in enumerate(loads):
        outputs[i] = solve_unit_cell(east, north, g, beta=options.beta, tol=options.tol)
    solve = (time.process_time() - start) / n
    inputs[:, 0], inputs[:, 1] = east, north
    inputs[:, 2], inputs[:, 3] = loads[:, 0, None, None], loads[:, 1, None, None]
    return OperatorData(inputs, outputs, periodic=True, name="unit-cell", solve_time_s=solve)
