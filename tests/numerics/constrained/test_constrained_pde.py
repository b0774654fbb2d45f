"""PDE-constrained linear-quadratic control against independent sparse-LU optima (issue 19, part 1).

Every case checks the solver's ``(y, u)`` and adjoint ``p`` against :mod:`pde_problems`'s reference
(KKT solve, or the primal-dual active set method with a box on the control) and its KKT residual.
Tolerances: the solver stops at KKT ≤ tol (1e-8, or 10× the rounding floor of ``A y`` where that is
larger: 1-D at 10⁴, see ``LQControl.tolerance``); the error in ``x`` is that residual times the norm of
the inverse KKT matrix, ≤ ~1/α = 100 for these problems, so 100 tol on ``x`` (|x*| ~ 10) and on ``p``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pde_problems import LQControl, heat, poisson

from physopt.constrained import MinimizeResult, MinimizeStatus, minimize

SMALL = [poisson(1, 30), poisson(2, 7), heat(10, 5), poisson(2, 7, box=(-6.0, 6.0)), poisson(1, 50, box=(0.0, 15.0)),
         heat(10, 5, box=(0.0, 30.0))]
# ~10³ variables, every kind with and without a box: the Schur-complement preconditioner makes these
# take well under a second each (the diagonal one needed 10⁴-10⁵ MINRES steps on the 1-D ones)
THOUSAND = [poisson(1, 500), poisson(2, 22), heat(32, 16),
            poisson(1, 500, box=(0.0, 15.0)), poisson(2, 22, box=(-6.0, 6.0)), heat(32, 16, box=(0.0, 30.0))]
# ~10⁴ variables, 10-20 s each under load (3-8 CPU s with a box: the primal-dual active set polish ends
# the barrier path at τ ≈ 3e-3 after 15-50 Newton steps; before it, 2-D and heat ended max_iter with
# stationarity stuck at 7e-6 / 2e-5, and the 1-D reference itself was 1.6e-5 off u = P(p/α) at one point
# until its LU solve got iterative refinement)
TEN_THOUSAND = [poisson(1, 5000), poisson(2, 71), heat(100, 50), poisson(1, 5000, box=(0.0, 15.0)),
                poisson(2, 71, box=(-6.0, 6.0)), heat(100, 50, box=(0.0, 30.0))]


def check(problem: LQControl, **kwargs: object) -> MinimizeResult:
    x_ref, p_ref = problem.reference()
    tol = problem.tolerance()  # 1e-8, or above the rounding floor at 1-D 10⁴ (see pde_problems)
    res = minimize(problem.fun, torch.zeros(problem.n), eq=[problem.eq], bounds=problem.bounds(), tol=tol, **kwargs)
    assert res.status is MinimizeStatus.CONVERGED, res.message
    assert res.kkt_residual <= tol
    np.testing.assert_allclose(res.x.numpy(), x_ref, atol=100 * tol, rtol=0)
    np.testing.assert_allclose(res.multipliers.eq.numpy(), p_ref, atol=100 * tol, rtol=0)
    return res


def test_reference_is_a_kkt_point() -> None:
    # the reference itself: A y = u, y − y_d + Aᵀp = 0 and u = P(p/α) to rounding (the test of the test)
    for problem in (poisson(1, 30), poisson(2, 7, box=(-6.0, 6.0)), poisson(1, 5000, box=(0.0, 15.0))):
        x, p = problem.reference()
        m = problem.n_state
        y, u = x[:m], x[m:]
        a = problem.matrix
        assert np.abs(a @ y - u).max() <= 1e-9 * np.abs(u).max() * 1e3
        assert np.abs(y - problem.target + a.T @ p).max() <= 1e-8
        lo, hi = problem.box if problem.box else (-np.inf, np.inf)
        assert np.abs(u - np.clip(p / problem.alpha, lo, hi)).max() <= 1e-9
        if problem.box:
            assert ((u <= lo) | (u >= hi)).sum() > 0  # the box is active somewhere


def test_issue_example_default_method() -> None:
    # the 60-variable Poisson control problem that ended in "multipliers diverging" with the old default
    check(poisson(1, 30))


@pytest.mark.parametrize("problem", SMALL, ids=lambda p: getattr(p, "name", None))
def test_small(problem: LQControl) -> None:
    check(problem, method="newton")


@pytest.mark.parametrize("problem", THOUSAND, ids=lambda p: p.name)
def test_thousand_variables(problem: LQControl) -> None:
    res = check(problem, method="newton")
    # preconditioned MINRES: measured 20-50 products without a box and 130-310 with one (barrier path
    # cut at τ ≈ 3e-3 by the active-set polish, 13-31 Newton steps; 650-710 before it); the diagonal
    # preconditioner needed 6 000-100 000
    assert res.nhvp <= (800 if problem.box else 200)


@pytest.mark.slow
@pytest.mark.parametrize("problem", TEN_THOUSAND, ids=lambda p: getattr(p, "name", None))
def test_ten_thousand_variables(problem: LQControl) -> None:
    check(problem, method="newton")
