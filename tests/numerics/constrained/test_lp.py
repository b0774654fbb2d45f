"""The dense interior-point LP behind Kelley's master problem, against SciPy's HiGHS (test only)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from physopt.constrained._lp import solve_lp

linprog = pytest.importorskip("scipy.optimize").linprog


@pytest.mark.parametrize("seed", range(40))
def test_matches_highs_on_random_bounded_lps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 30)), int(rng.integers(1, 60))
    g = rng.normal(size=(m, n))
    x0 = rng.normal(size=n)
    h = g @ x0 + rng.random(m)  # x0 is strictly feasible
    c = rng.normal(size=n)
    lo = np.where(rng.random(n) < 0.7, -3 * rng.random(n) - np.abs(x0), -np.inf)
    up = np.where(rng.random(n) < 0.7, 3 * rng.random(n) + np.abs(x0), np.inf)
    ref = linprog(c, A_ub=g, b_ub=h, bounds=[(None if np.isinf(a) else a, None if np.isinf(b) else b)
                                             for a, b in zip(lo, up, strict=True)], method="highs")
    if ref.status != 0:
        pytest.skip("unbounded draw")  # free variables can leave the LP unbounded; HiGHS says so
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    res = solve_lp(t(c), t(g), t(h), lower=t(lo), upper=t(up))
    assert res.converged
    # relative residuals and gap ≤ 1e-9 imply the objective to ~1e-8; HiGHS itself is accurate to ~1e-9
    assert res.fun == pytest.approx(ref.fun, rel=1e-7, abs=1e-7)
    assert float((t(g) @ res.x - t(h)).max()) <= 1e-7
    assert bool((res.x >= t(lo) - 1e-7).all() & (res.x <= t(up) + 1e-7).all())
    assert bool((res.z >= 0).all())
