"""The finite-well and barrier references against their definitions and an independent eigensolve."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

from physopt.problems import ZOO
from physopt.problems.zoo import Barrier, FiniteWell


def _fd_ground_energy(lo: float, hi: float, potential, n: int) -> float:
    """Lowest eigenvalue of -D² + V with Dirichlet ends, second-order differences on n intervals."""
    h = (hi - lo) / n
    x = lo + h * np.arange(1, n)
    main = 2.0 / h**2 + potential(x)
    off = -np.ones(n - 2) / h**2
    a = sp.diags([off, main, off], [-1, 0, 1], format="csc")
    return float(eigsh(a, k=1, sigma=0.0, which="LM", return_eigenvectors=False)[0])


def _richardson(lo, hi, potential, n):
    e1, e2 = _fd_ground_energy(lo, hi, potential, n), _fd_ground_energy(lo, hi, potential, 2 * n)
    return (4 * e2 - e1) / 3  # second-order scheme: extrapolated error O(h^4) away from the jumps


def test_finite_well_root_matches_the_interface_condition():
    well = FiniteWell()
    e = well.energy
    k, kappa, a = math.sqrt(e), math.sqrt(well.v0 - e), well.a
    # ψ'/ψ from the inside (-k tan ka) and the tail (-κ) agree at x = a: the transcendental equation.
    # 1e-13: a root found to float64 precision leaves only rounding in k tan(ka) (~10 ulp of 4).
    assert abs(k * math.tan(k * a) - kappa) < 1e-13
    # Energy to 1e-12 means the equation changes sign within ±1e-12 of the root.
    f = lambda en: math.sqrt(en) * math.tan(math.sqrt(en) * a) - math.sqrt(well.v0 - en)  # noqa: E731
    assert f(e - 1e-12) < 0 < f(e + 1e-12)


def test_finite_well_energy_matches_an_independent_eigensolve():
    well = FiniteWell()
    # A Dirichlet box at ±8: the tail there is e^{-κ·7.5} ~ 1e-13, far below the FD error.
    # The jumps at ±a sit on grid nodes (V there is the mean 10) so the scheme stays second order;
    # 1e-6 relative: the extrapolated FD error at n = 16000 measured ~1e-8.
    v = lambda x: np.where(np.abs(x) > well.a, well.v0, np.where(np.abs(x) == well.a, well.v0 / 2, 0.0))  # noqa: E731
    assert abs(_richardson(-8.0, 8.0, v, 16000) - well.energy) < 1e-6 * well.energy


def test_barrier_energy_matches_its_equation_and_an_eigensolve():
    b = Barrier()
    e = b.energy
    k, kappa, ell = math.sqrt(e), math.sqrt(b.v0 - e), (1 - b.w) / 2
    f = lambda kk: math.sqrt(b.v0 - kk * kk) * math.tanh(math.sqrt(b.v0 - kk * kk) * b.w / 2) + kk / math.tan(kk * ell)  # noqa: E731
    assert abs(f(k)) < 1e-12 * kappa  # the root to float64 precision (f's terms are ~κ ≈ 8)
    assert f(math.sqrt(e - 1e-12)) * f(math.sqrt(e + 1e-12)) < 0  # E bracketed within ±1e-12
    v = lambda x: np.where(np.abs(x - 0.5) < b.w / 2 - 1e-12, b.v0,  # noqa: E731
                           np.where(np.abs(np.abs(x - 0.5) - b.w / 2) < 1e-12, b.v0 / 2, 0.0))
    assert abs(_richardson(0.0, 1.0, v, 10000) - e) < 1e-6 * e  # as above: FD error ~1e-8 measured


@pytest.mark.parametrize("name", ["quantum-finite-well", "quantum-barrier", "quantum-well-fixed-e"])
def test_references_are_normalised_continuous_and_positive(name):
    problem = ZOO[name]()
    x = problem.reference.points[:, 0]
    psi = problem.reference.values.reshape(-1)
    # Trapezoid on 401 points of a C¹ function with kinks in ψ'': error O(h²) ~ 1e-5.
    assert abs(np.trapezoid(psi**2, x) - 1.0) < 1e-4
    assert psi.min() >= 0.0 and psi.sum() > 0  # the ground state has no node; the gauge picks +
    assert np.abs(np.diff(psi)).max() < 0.05  # continuous: no jump larger than a grid step's slope


def test_finite_well_reference_satisfies_the_exact_tail_condition():
    well, half = FiniteWell(), 1.0
    x = np.array([half - 1e-6, half])
    psi = well.psi(x, half)
    slope = (psi[1] - psi[0]) / 1e-6
    # ψ' + κψ = 0 at x = L; 1e-5: the one-sided difference's O(h) error times κ² ψ ~ 4
    assert abs(slope + math.sqrt(well.v0 - well.energy) * psi[1]) < 1e-5
