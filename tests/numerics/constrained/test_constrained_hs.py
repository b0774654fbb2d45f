"""Every §4.3 Hock–Schittkowski problem (and the Platt–Barr toy) with every method that applies.

Acceptance tolerances from issue 5: |f − f*| ≤ 1e-6·max(1, |f*|), ‖x − x*‖∞ ≤ 1e-4, KKT residual
≤ 1e-6, multipliers matching the table where it lists them.
"""

from __future__ import annotations

import pytest
import torch
from hs_problems import PROBLEMS, HSProblem

from physopt.constrained import MinimizeStatus, minimize

# The quadratic penalty method reaches KKT ~1e-7 at best: its violation is |λ|/ρ and the rounding
# noise in ρ·h grows with ρ (HS43 bottoms out at 2e-7). With tol=1e-6 its violation alone moves f by
# |λ|·1e-6 = 2e-6 on HS39, past the f tolerance, so it runs with tol=3e-7: reachable on every problem
# and tight enough for |f − f*| ≤ 1e-6.
TOL = {"alm": 1e-8, "penalty": 3e-7, "exact-al": 1e-8, "newton": 1e-8}
# Table multipliers are given to ~6 significant digits (1.59449, 1.84659): allow 1e-5 absolute for
# alm/exact-al (KKT ≤ 1e-8 pins them to ~1e-7); the penalty method's estimates ρh carry the 1e-6
# tolerance times the conditioning of the active Jacobian, so 1e-4 there.
MULT_ATOL = {"alm": 1e-5, "penalty": 1e-4, "exact-al": 1e-5, "newton": 1e-5}

CASES = [
    pytest.param(p, m, id=f"{p.name}-{m}")
    for p in PROBLEMS
    for m in ("alm", "penalty", "exact-al", "newton")
    if m != "exact-al" or p.equality_only
]


def solve(p: HSProblem, method: str):
    return minimize(
        p.fun, torch.tensor(p.x0), eq=list(p.eq), ineq=list(p.ineq), bounds=p.bounds,
        method=method, tol=TOL[method],
    )


@pytest.mark.parametrize(("problem", "method"), CASES)
def test_known_optimum(problem: HSProblem, method: str) -> None:
    res = solve(problem, method)
    assert res.success, res.message
    assert res.status is MinimizeStatus.CONVERGED
    assert abs(res.fun - problem.f_star) <= 1e-6 * max(1.0, abs(problem.f_star)), res.fun
    x_star = torch.tensor(problem.x_star, dtype=torch.float64)
    assert float((res.x - x_star).abs().max()) <= 1e-4, res.x
    assert res.kkt_residual <= 1e-6
    # the reported residual is the max of its parts, and a success means all of them are ≤ tol
    assert res.kkt_residual == max(res.stationarity, res.max_violation, res.complementarity)
    assert res.kkt_residual <= TOL[method]
    for kind, expected in problem.multipliers.items():
        got = getattr(res.multipliers, kind)
        torch.testing.assert_close(
            got, torch.tensor(expected, dtype=torch.float64), atol=MULT_ATOL[method], rtol=0.0
        )
    assert bool((res.multipliers.ineq >= 0).all()) and bool((res.multipliers.lower >= 0).all())
    assert res.nfev > 0 and res.ngev > 0 and res.nit >= 1
