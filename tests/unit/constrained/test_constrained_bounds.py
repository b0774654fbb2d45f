"""The ``bounds`` forms of SciPy and ours: each read one way only, ambiguous ones refused (issue 19)."""

from __future__ import annotations

import pytest
import scipy.optimize as so
import torch

from physopt.constrained import Bounds, MinimizeStatus, minimize


def f(x: torch.Tensor) -> torch.Tensor:
    # unconstrained minimum (3, 3); inside [0, 2]² plus x0 + x1 <= 3 the optimum is (1.5, 1.5)
    return ((x - 3.0) ** 2).sum()


INEQ = [lambda x: x.sum() - 3.0]
OPT = torch.tensor([1.5, 1.5], dtype=torch.float64)


@pytest.mark.parametrize(
    "bounds",
    [Bounds(lower=0.0, upper=2.0), Bounds(lower=[0.0, 0.0], upper=[2.0, 2.0]), so.Bounds([0, 0], [2, 2]),
     so.Bounds(0.0, 2.0), (0.0, 2.0)],
    ids=["Bounds-scalar", "Bounds-array", "scipy-Bounds", "scipy-Bounds-scalar", "pair-of-scalars"],
)
def test_unambiguous_forms_solve_the_issue_example(bounds: object) -> None:
    res = minimize(f, torch.zeros(2), ineq=INEQ, bounds=bounds)
    assert res.status is MinimizeStatus.CONVERGED, res.message
    torch.testing.assert_close(res.x, OPT, atol=1e-7, rtol=0.0)  # KKT ≤ 1e-8 on a κ=1 problem


def test_the_issue_example_is_refused_not_guessed() -> None:
    # [(0, 2), (0, 2)] is x ∈ [0, 2]² to SciPy and lower = upper = (0, 2) to a (lower, upper) reader
    with pytest.raises(ValueError, match=r"ambiguous for 2 variables.*Bounds\(lower=\.\.\., upper=\.\.\.\)"):
        minimize(f, torch.zeros(2), ineq=INEQ, bounds=[(0, 2), (0, 2)])
    with pytest.raises(ValueError, match="ambiguous"):
        minimize(f, torch.zeros(2), bounds=(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 3.0])))


def test_per_variable_pairs_with_none() -> None:
    res = minimize(lambda x: ((x - 3.0) ** 2).sum(), torch.zeros(3), bounds=[(0, 1), (None, 2), (-1, None)])
    assert res.success, res.message
    torch.testing.assert_close(res.x, torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), atol=1e-7, rtol=0.0)
    torch.testing.assert_close(res.multipliers.upper, torch.tensor([4.0, 2.0, 0.0], dtype=torch.float64),
                               atol=1e-6, rtol=0.0)


def test_only_one_reading_is_a_box() -> None:
    # HS21's ((2, -50), (50, 50)) as per-variable pairs would be x0 ∈ [2, -50]: not a box, so it is
    # (lower, upper); [(0, None), (1, 5)] cannot be (lower, upper) (None inside an array): pairs
    res = minimize(lambda x: (x**2).sum(), torch.zeros(2), bounds=((2.0, -50.0), (50.0, 50.0)))
    torch.testing.assert_close(res.x, torch.tensor([2.0, 0.0], dtype=torch.float64), atol=1e-7, rtol=0.0)
    res = minimize(lambda x: (x**2).sum(), torch.zeros(2) + 3, bounds=[(1, None), (-1, 5)])
    torch.testing.assert_close(res.x, torch.tensor([1.0, 0.0], dtype=torch.float64), atol=1e-7, rtol=0.0)


@pytest.mark.parametrize(
    ("bounds", "match"),
    [
        ([(0, 1), (0, 1), (0, 1)], r"list of 2 per-variable \(low, high\) pairs"),
        (torch.zeros(2, 2), r"got Tensor"),
        ("0,1", r"got str"),
        ([(0, 1, 2), (0, 1, 2)], r"bounds lower has shape \(3,\)"),
        (Bounds(lower=1.0, upper=0.0), r"lower > upper at index 0"),
        ([(0, float("nan")), (0, 1)], r"bounds contain NaN"),
    ],
)
def test_bad_bounds_name_what_was_given(bounds: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        minimize(f, torch.zeros(2), bounds=bounds)
