"""physopt.constrained.bilevel on problems with known solutions (tests/numerics/constrained/bilevel_problems.py)."""

from __future__ import annotations

import math

import pytest
import torch
from bilevel_problems import coupled_constraint, nonconvex_lower, quadratic, scalar_toy

from physopt.constrained import Bounds
from physopt.constrained.bilevel import (
    BilevelResult,
    BilevelStatus,
    LVHBAOptions,
    PenaltyOptions,
    minimize_bilevel,
)

# LV-HBA: alpha = eta = 0.3 are below 1/L (L = L_f + 1/γ₁ ≈ 2.1 for these scalar problems)
FAST_LVHBA = LVHBAOptions(alpha=0.3, beta=0.3, eta=0.3, c0=10.0)


def _err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


def test_penalty_scalar_toy_converges_to_closed_form() -> None:
    case = scalar_toy()
    res = minimize_bilevel(case.upper, case.lower, x0=case.x0, y0=case.y0, method="penalty")
    assert isinstance(res, BilevelResult)
    assert res.status is BilevelStatus.CONVERGED and res.success, res.message
    # the penalty solution is O(σ_min) = O(1e-4) from the bilevel one; measured 2.5e-5
    assert _err(res.x, case.x_star) < 1e-4
    assert _err(res.y, case.y_star) < 1e-4
    assert res.lower_residual <= 1e-6  # tol: y is the lower-level iterate z, solved to σ·tol
    assert res.nupper > 0 and res.nlower > res.nupper  # two lower problems per outer step
    assert res.history and res.history[-1].iteration == res.nit - 1


@pytest.mark.slow  # 4-12 s: inner loops to σ·tol = 1e-10
def test_penalty_nonconvex_lower_level() -> None:
    case = nonconvex_lower()
    res = minimize_bilevel(case.upper, case.lower, x0=case.x0, y0=case.y0, method="penalty")
    assert res.success, res.message
    assert _err(res.x, case.x_star) < 1e-4  # O(σ_min) bias, as above; measured 5e-6


@pytest.mark.slow  # ~9 s: 500 outer steps with inner loops to σ·tol
def test_penalty_quadratic_benchmark() -> None:
    case = quadratic()
    res = minimize_bilevel(case.upper, case.lower, x0=case.x0, y0=case.y0, method="penalty",
                           options=PenaltyOptions(lr_x=0.5, lr_y=0.3))
    assert _err(res.x, case.x_star) < 1e-3  # O(σ_min) bias times ‖∇²φ⁻¹‖ ≈ 5


def test_lv_hba_scalar_and_nonconvex() -> None:
    slower_theta = LVHBAOptions(alpha=0.3, beta=0.3, eta=0.1, c0=10.0)  # η = 0.3 oscillates on the quartic
    runs = ((scalar_toy(), FAST_LVHBA, 1e-3), (nonconvex_lower(), slower_theta, 1e-3))
    for case, options, bound in runs:
        res = minimize_bilevel(case.upper, case.lower, x0=case.x0, y0=case.y0, method="lv-hba",
                               options=options, max_iter=3000)
        # LV-HBA's y sits O(1/c_k) off y*(x) (c_3000 ≈ 500): measured |x − x*| 2e-4 and 3e-4
        assert _err(res.x, case.x_star) < bound, (case.name, res.message)
        assert res.value_gap >= -1e-12  # f ≥ v_γ at any y (the value function is below f)
        assert res.nupper == res.nit and res.nlower == 3 * res.nit  # one F and three f passes / step


def test_lv_hba_lower_level_constraint_and_multiplier() -> None:
    case = coupled_constraint()
    res = minimize_bilevel(case.upper, case.lower, x0=case.x0, y0=case.y0, lower_ineq=case.lower_ineq,
                           project=case.project, method="lv-hba",
                           options=LVHBAOptions(alpha=0.3, beta=0.3, eta=0.3, c0=1.0, gamma2=0.1),
                           max_iter=5000, tol=1e-6)
    assert res.success, res.message
    assert _err(res.x, case.x_star) < 1e-4  # measured 3.4e-5 at convergence (tol 1e-6 on the steps)
    assert _err(res.y, case.y_star) < 1e-4
    assert abs(float(res.multipliers[0]) - 2.0) < 1e-2  # λ* = 2 from ∇_y(f + λg) = 2(y − x) + λ = 0
    assert float(case.lower_ineq(res.x, res.y)) <= 1e-12  # iterates stay in C = {g <= 0}


def test_penalty_lower_level_constraint_on_defaults() -> None:
    # The value-function penalty with g(x, y) = x + y − 1 <= 0 kept in both inner problems: no
    # projection, no tuned options (LV-HBA above needs both).
    case = coupled_constraint()
    res = minimize_bilevel(case.upper, case.lower, x0=case.x0, y0=case.y0, lower_ineq=case.lower_ineq,
                           method="penalty")
    assert res.success, res.message
    # measured |x − x*| = |y − y*| = 1.5e-7 and |λ − 2| = 6e-7 (tol 1e-6 on steps and KKT residual)
    assert _err(res.x, case.x_star) < 1e-5 and _err(res.y, case.y_star) < 1e-5
    assert abs(float(res.multipliers[0]) - 2.0) < 1e-5  # λ* = 2: ∇_y(f + λg) = 2(y − x) + λ = 0
    assert float(case.lower_ineq(res.x, res.y)) <= 1e-8  # feasible to the KKT tolerance
    assert res.lower_residual <= 1e-6


def test_penalty_sgd_noisy_quadratic() -> None:
    case = quadratic(n=3, rho=0.5)
    gen_noise = 0.1

    def sample(gen: torch.Generator) -> torch.Tensor:
        return gen_noise * torch.randn(3, generator=gen, dtype=torch.float64)

    res = minimize_bilevel(lambda x, y, xi: case.upper(x, y), lambda x, y, xi: case.lower(x + xi, y),
                           x0=case.x0, y0=case.y0, method="penalty-sgd", sample=sample, max_iter=400,
                           options=PenaltyOptions(lr_x=0.5, lr_y=0.3, sigma0=0.1, sigma_min=1e-2, inner_iter=10))
    assert res.status is BilevelStatus.MAX_ITER  # the stochastic method never certifies a tolerance
    # noise 0.1 in the lower linear term, steps 0.5/√k, σ_min = 1e-2: measured 5.6e-3 (start error 0.39)
    assert _err(res.x, case.x_star) < 2e-2, res.message
    again = minimize_bilevel(lambda x, y, xi: case.upper(x, y), lambda x, y, xi: case.lower(x + xi, y),
                             x0=case.x0, y0=case.y0, method="penalty-sgd", sample=sample, max_iter=400,
                             options=PenaltyOptions(lr_x=0.5, lr_y=0.3, sigma0=0.1, sigma_min=1e-2, inner_iter=10))
    assert torch.equal(res.x, again.x)  # seeded: same seed, same run


def test_bounds_keep_iterates_inside() -> None:
    case = scalar_toy()  # unconstrained x* = 1.5; with x <= 1 the bilevel solution is x = 1
    res = minimize_bilevel(case.upper, case.lower, x0=case.x0, y0=case.y0, method="penalty",
                           x_bounds=Bounds(upper=1.0))
    assert res.success, res.message
    assert abs(float(res.x) - 1.0) < 1e-12  # projected onto the bound exactly


def test_nan_is_a_status() -> None:
    res = minimize_bilevel(lambda x, y: (y * math.nan).sum(), lambda x, y: ((y - x) ** 2).sum(),
                           x0=torch.zeros(1), y0=torch.zeros(1), method="lv-hba", max_iter=10)
    assert res.status is BilevelStatus.STALLED and not res.success


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "newton"}, "method must be one of"),
        ({"method": "penalty", "options": LVHBAOptions()}, "takes PenaltyOptions"),
        ({"method": "penalty-sgd", "sample": lambda g: None, "lower_ineq": lambda x, y: y},
         "does not handle lower_ineq"),
        ({"lower_ineq": lambda x, y: y}, "needs project="),
        ({"method": "penalty-sgd"}, "needs sample="),
        ({"sample": lambda g: None}, "is deterministic"),
        ({"tol": -1.0}, "tol must be"),
        ({"max_iter": 0}, "max_iter must be"),
        ({"x0": [math.nan]}, "x0 must be"),
    ],
)
def test_bad_input_raises(kwargs: dict, match: str) -> None:
    base = {"x0": torch.zeros(1), "y0": torch.zeros(1)}
    with pytest.raises(ValueError, match=match):
        minimize_bilevel(lambda x, y: (y ** 2).sum(), lambda x, y: ((y - x) ** 2).sum(), **{**base, **kwargs})


def test_bad_options_raise() -> None:
    with pytest.raises(ValueError, match="alpha"):
        LVHBAOptions(alpha=0.0)
    with pytest.raises(ValueError, match="sigma_min"):
        PenaltyOptions(sigma0=1e-3, sigma_min=1e-2)


def test_upper_returning_vector_raises() -> None:
    with pytest.raises(ValueError, match="upper must return a scalar tensor"):
        minimize_bilevel(lambda x, y: y, lambda x, y: ((y - x) ** 2).sum(), x0=torch.zeros(2), y0=torch.zeros(2))


def test_float32_start_points_keep_their_dtype_and_converge() -> None:
    res = minimize_bilevel(lambda x, y: ((x - 2) ** 2).sum() + ((y - 1) ** 2).sum(),
                           lambda x, y: ((y - x) ** 2).sum(), x0=torch.zeros(1), y0=torch.zeros(1),
                           method="penalty", tol=1e-4, options=PenaltyOptions(sigma_min=1e-2))
    assert res.x.dtype == torch.float32 and res.y.dtype == torch.float32
    assert res.success, res.message  # inner tolerance floored at round-off, so float32 can stop
    assert abs(float(res.x) - 1.5) < 1e-2  # O(σ_min) = O(1e-2) penalty bias; measured 2.5e-3
