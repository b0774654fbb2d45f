"""Public surface and input validation of physopt.constrained.minimize."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import physopt.constrained as pc
from physopt.constrained import KKTMultipliers, MinimizeResult, MinimizeStatus, minimize


def quad(x: torch.Tensor) -> torch.Tensor:
    return (x**2).sum()


def test_all_names_resolve() -> None:
    for name in pc.__all__:
        assert getattr(pc, name) is not None


def test_result_is_frozen_value_with_x0_shape() -> None:
    x0 = torch.ones(2, 2)
    res = minimize(quad, x0, eq=[lambda x: x.sum() - 1.0])
    assert isinstance(res, MinimizeResult) and isinstance(res.multipliers, KKTMultipliers)
    assert res.x.shape == x0.shape and res.x.dtype == torch.float64
    torch.testing.assert_close(res.x, torch.full((2, 2), 0.25, dtype=torch.float64))
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.fun = 0.0  # type: ignore[misc]
    assert res.status is MinimizeStatus.CONVERGED and res.status.value == "converged"
    assert res.message.startswith("converged")


def test_vector_constraints_and_list_x0() -> None:
    res = minimize(quad, [3.0, -1.0, 2.0], eq=[lambda x: torch.stack([x[0] - 1, x[1] + x[2] - 2])])
    assert res.success and res.multipliers.eq.shape == (2,)
    torch.testing.assert_close(res.x, torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64))


def test_unconstrained_with_bounds() -> None:
    res = minimize(lambda x: ((x - 3) ** 2).sum(), torch.zeros(3), bounds=(None, 1.0))
    assert res.success
    torch.testing.assert_close(res.x, torch.ones(3, dtype=torch.float64))
    torch.testing.assert_close(res.multipliers.upper, torch.full((3,), 4.0, dtype=torch.float64))


def test_warm_start_reuses_multipliers() -> None:
    def f(x: torch.Tensor) -> torch.Tensor:
        return (x[0] - 2) ** 2 + (x[1] - 1) ** 2

    eq = [lambda x: x[0] - 2 * x[1] + 1]
    ineq = [lambda x: 0.25 * x[0] ** 2 + x[1] ** 2 - 1]
    # method="alm": there starting at the solution with its multipliers is (almost) free (5 evaluations
    # against 31). "newton" restarts its barrier at τ₀ = 0.1 and walks back to the solution: a warm start
    # saves it only the least-squares multiplier estimate (11 Newton steps either way; this test passed
    # for the default by one evaluation until that estimate stopped costing one)
    cold = minimize(f, torch.tensor([2.0, 2.0]), eq=eq, ineq=ineq, method="alm")
    warm = minimize(f, cold.x, eq=eq, ineq=ineq, warm_start=cold, method="alm")
    assert cold.success and warm.success
    assert warm.nfev < cold.nfev


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fun": 3.0}, r"fun is not callable; got 3\.0"),
        ({"eq": [quad, "h"]}, r"eq\[1\] is not callable; got 'h'"),
        ({"ineq": 5}, r"ineq must be a list of callables; got int"),
        ({"bounds": (torch.zeros(3), None)}, r"bounds lower has shape \(3,\), but x0 has shape \(2,\)"),
        ({"bounds": (1.0, 0.0)}, r"lower > upper at index 0"),
        ({"bounds": [0.0]}, r"bounds must be a pair"),
        ({"eq": [lambda x: torch.ones(2, 2)]}, r"eq\[0\] must return a scalar or a 1-D tensor; got shape \(2, 2\)"),
        ({"ineq": [lambda x: 1.0]}, r"ineq\[0\] must return a torch.Tensor .*; got float"),
        ({"fun": lambda x: x}, r"fun must return a scalar; got shape \(2,\)"),
        ({"method": "sqp"}, r"method must be one of .*; got 'sqp'"),
        ({"tol": 0.0}, r"tol must be a positive finite number; got 0\.0"),
        ({"max_iter": 2.5}, r"max_iter must be a positive integer; got 2\.5"),
        ({"x0": [1.0, float("nan")]}, r"x0 contains NaN or Inf"),
        ({"method": "exact-al", "ineq": [quad]}, r"exact-al.*equality constraints only"),
        ({"method": "exact-al", "bounds": (0.0, None)}, r"exact-al.*equality constraints only"),
    ],
)
def test_bad_input_raises_value_error(kwargs: dict, match: str) -> None:
    args = {"fun": quad, "x0": torch.zeros(2)}
    args.update(kwargs)
    fun, x0 = args.pop("fun"), args.pop("x0")
    with pytest.raises(ValueError, match=match):
        minimize(fun, x0, **args)


def test_constraint_changing_size_is_reported() -> None:
    calls = {"n": 0}

    def h(x: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        return x[:1] if calls["n"] == 1 else x
    with pytest.raises(ValueError, match=r"eq\[0\] returned 2 values, but 1 at the first call"):
        minimize(quad, torch.ones(2), eq=[h])
