"""Darcy flow on the unit square: the coefficient ``a`` maps to the pressure ``u``.

``-div(a grad u) = 1`` on ``[0, 1]^2`` with ``u = 0`` on the boundary, ``a = 12`` where a Gaussian
random field ``N(0, (-Laplace + 9)^-2)`` (mean mode dropped, as in FNO's data) is ``>= 0`` and ``3``
elsewhere (Li et al. 2021, FNO, Section 5.2). Five-point finite differences, solved by a sparse LU
factorisation. Each face's conductivity is the harmonic mean along the flux of ``a`` sampled
``subsamples`` times finer, averaged across the face: exact for layers, and it places the jumps of
``a`` between nodes instead of at them, which the plain two-node harmonic mean cannot (see
docs/operators.md for the measured gain). The solver grid refines each output cell ``refine`` times,
so output nodes are solver nodes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._checks import positive_int, positive_number
from ._data import OperatorData
from ._grf import GaussianField, checked_field

__all__ = ["DarcyOptions", "face_conductivities", "generate_darcy", "node_faces", "solve_darcy"]


@dataclass(frozen=True)
class DarcyOptions:
    """Options of the ``darcy`` family.

    Attributes:
        high, low: ``a`` where the field is ``>= 0`` / ``< 0``.
        alpha, tau, modes: the field ``N(0, (-Laplace + tau^2)^-alpha)``, ``modes`` cosines per axis.
        refine: solver cells per output cell along each axis.
        subsamples: samples of ``a`` per solver cell along each axis for the face conductivities (even).
    """

    high: float = 12.0
    low: float = 3.0
    alpha: float = 2.0
    tau: float = 3.0
    modes: int = 32
    refine: int = 2
    subsamples: int = 4

    def __post_init__(self) -> None:
        positive_number("darcy", "high", self.high)
        positive_number("darcy", "low", self.low)
        positive_int("darcy", "refine", self.refine)
        positive_int("darcy", "subsamples", self.subsamples, even=True)
        self.field()

    def field(self) -> GaussianField:
        return checked_field("darcy",
                             dim=2, alpha=self.alpha, tau=self.tau, sigma=1.0, modes=self.modes, periodic=False,
                             mean_zero=True)

    def coefficient(self, values: np.ndarray) -> np.ndarray:
        return np.where(values >= 0, self.high, self.low)


def face_conductivities(a: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Conductivities of the interior faces of an ``m x m`` node grid from ``a`` sampled at the cell-centred
    points ``(t + 1/2) h / s`` (``(S, S)``, ``S = s (m - 1)``, ``s`` even): harmonic mean along the flux,
    arithmetic mean across a face of width ``h`` centred on its node. Returns ``east (m-1, m-2)`` (faces
    ``(i + 1/2, j)`` for interior ``j``) and ``north (m-2, m-1)``."""
    m = a.shape[0] // s + 1

    def along_first(b: np.ndarray) -> np.ndarray:
        harmonic = s / (1.0 / b).reshape(m - 1, s, -1).sum(axis=1)  # (m-1, S)
        return harmonic[:, s // 2: s // 2 + (m - 2) * s].reshape(m - 1, m - 2, s).mean(axis=2)

    return along_first(a), along_first(a.T).T


def node_faces(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two-node harmonic means of node values ``a`` (``(m, m)``), in :func:`face_conductivities`' layout."""
    east = 2 * a[1:, 1:-1] * a[:-1, 1:-1] / (a[1:, 1:-1] + a[:-1, 1:-1])
    north = 2 * a[1:-1, 1:] * a[1:-1, :-1] / (a[1:-1, 1:] + a[1:-1, :-1])
    return east, north


def solve_darcy(east: np.ndarray, north: np.ndarray, f: float | np.ndarray = 1.0) -> np.ndarray:
    """``u`` on the ``m x m`` node grid (``x_i = i/(m-1)``, boundary included) of ``-div(a grad u) = f``,
    ``u = 0`` on the boundary, from face conductivities (see :func:`face_conductivities`)."""
    m = east.shape[0] + 1
    k = m - 2  # interior unknowns per axis, index (i-1) * k + (j-1)
    we, ee, sn, nn = east[:-1, :], east[1:, :], north[:, :-1], north[:, 1:]  # faces around each interior node
    index = np.arange(k * k).reshape(k, k)
    rows = [index.ravel(), index[1:, :].ravel(), index[:-1, :].ravel(), index[:, 1:].ravel(), index[:, :-1].ravel()]
    cols = [index.ravel(), index[:-1, :].ravel(), index[1:, :].ravel(), index[:, :-1].ravel(), index[:, 1:].ravel()]
    vals = [(we + ee + sn + nn).ravel(), -we[1:, :].ravel(), -ee[:-1, :].ravel(), -sn[:, 1:].ravel(),
            -nn[:, :-1].ravel()]
    matrix = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(k * k,) * 2)
    rhs = np.broadcast_to(np.asarray(f, dtype=float), (m, m))[1:-1, 1:-1].ravel() / (m - 1) ** 2
    u = np.zeros((m, m))
    u[1:-1, 1:-1] = spla.splu(matrix).solve(rhs).reshape(k, k)
    return u


def generate_darcy(options: DarcyOptions, *, n: int, resolution: int, seed: int) -> OperatorData:
    """``n`` instances: inputs ``a`` ``(n, 1, r, r)``, outputs ``u`` ``(n, 1, r, r)`` on the node grid."""
    field = options.field()
    r, s, q = options.refine, options.subsamples, resolution
    cells = r * (q - 1)
    sub = (np.arange(s * cells) + 0.5) / (s * cells)
    inputs = np.empty((n, 1, q, q))
    outputs = np.empty((n, 1, q, q))
    start = time.process_time()
    for i, coefficients in enumerate(field.draw(seed, n)):
        inputs[i, 0] = options.coefficient(field.evaluate(coefficients, q))
        faces = face_conductivities(options.coefficient(field.evaluate_at(coefficients, sub)), s)
        outputs[i, 0] = solve_darcy(*faces)[::r, ::r]
    solve = (time.process_time() - start) / n
    return OperatorData(inputs, outputs, periodic=False, name="darcy", solve_time_s=solve)
