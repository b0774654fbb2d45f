"""Status, not silence: problems without a KKT point, infeasible ones and NaN end with a clear status."""

from __future__ import annotations

import math

import pytest
import torch
from hs_problems import HS13, INFEASIBLE

from physopt.constrained import MinimizeStatus, minimize


@pytest.mark.parametrize("method", ["alm", "penalty", "auto"])
@pytest.mark.parametrize("tol", [1e-8, 1e-6])
def test_hs13_reports_diverging_multipliers(method: str, tol: float) -> None:
    p = HS13
    res = minimize(p.fun, torch.tensor(p.x0), ineq=list(p.ineq), bounds=p.bounds, method=method, tol=tol)
    assert not res.success
    assert res.status is MinimizeStatus.MULTIPLIERS_DIVERGING, res.message
    assert "multiplier" in res.message
    # the iterate still approaches the (non-KKT) minimizer (1, 0): 2e-2 is far below ‖x0 − x*‖ = 3.6
    assert float((res.x - torch.tensor([1.0, 0.0], dtype=torch.float64)).abs().max()) < 2e-2
    assert res.max_violation < 1e-4  # it is feasible up to √tol; it is the multipliers that fail


@pytest.mark.parametrize("method", ["alm", "penalty", "auto"])
def test_infeasible_box(method: str) -> None:
    p = INFEASIBLE
    res = minimize(p.fun, torch.tensor(p.x0), ineq=list(p.ineq), bounds=p.bounds, method=method)
    assert not res.success
    assert res.status is MinimizeStatus.INFEASIBLE, res.message
    assert res.max_violation == pytest.approx(8.0, abs=1e-6)  # 10 − (1 + 1) at the best corner
    torch.testing.assert_close(res.x, torch.ones(2, dtype=torch.float64))


def test_inconsistent_equalities_exact_al() -> None:
    res = minimize(
        lambda x: (x**2).sum(), torch.zeros(2),
        eq=[lambda x: x[0] + x[1] - 1, lambda x: x[0] + x[1] - 3], method="exact-al",
    )
    assert not res.success
    assert res.status is MinimizeStatus.STALLED and "rank deficient" in res.message


@pytest.mark.parametrize("method", ["alm", "penalty", "exact-al", "newton"])
def test_nan_constraint_everywhere(method: str) -> None:
    res = minimize(
        lambda x: (x**2).sum(), torch.ones(2), eq=[lambda x: x[0] * math.nan], method=method
    )
    assert not res.success
    assert res.status is MinimizeStatus.STALLED
    assert "eq[0]" in res.message and "non-finite" in res.message
    assert math.isinf(res.kkt_residual)


@pytest.mark.parametrize("method", ["alm", "penalty"])
def test_nan_constraint_in_a_region_is_avoided(method: str) -> None:
    # g = 1 − sqrt(x1) is NaN for x1 < 0; the line search must back off instead of propagating it
    res = minimize(
        lambda x: (x[0] + 1) ** 2 + x[1] ** 2, torch.tensor([4.0, 1.0]),
        ineq=[lambda x: 1 - torch.sqrt(x[0])], method=method, tol=1e-6,
    )
    assert res.status in set(MinimizeStatus)
    assert math.isfinite(res.fun)
    if res.success:
        torch.testing.assert_close(res.x, torch.tensor([1.0, 0.0], dtype=torch.float64), atol=1e-4, rtol=0)


@pytest.mark.parametrize("method", ["alm", "penalty", "exact-al", "newton"])
def test_unbounded(method: str) -> None:
    res = minimize(lambda x: -(x[0] ** 3), torch.tensor([1.0, 0.0]), eq=[lambda x: x[1]], method=method)
    assert not res.success
    assert res.status in {MinimizeStatus.UNBOUNDED, MinimizeStatus.STALLED}, res.message


def test_max_iter() -> None:
    p = HS13
    res = minimize(p.fun, torch.tensor(p.x0), ineq=list(p.ineq), bounds=p.bounds, max_iter=2)
    assert res.status is MinimizeStatus.MAX_ITER and not res.success and res.nit == 2
