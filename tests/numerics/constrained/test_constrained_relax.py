"""relax(): weak duality against brute force, exact inner solves, TSP by the augmented Lagrangian."""

from __future__ import annotations

import itertools

import pytest
import torch

from physopt.constrained import relax


def brute_force(c, q, a_ub=None, b_ub=None, a_eq=None, b_eq=None) -> float:
    n = c.numel()
    best = float("inf")
    for bits in itertools.product((0.0, 1.0), repeat=n):
        x = torch.tensor(bits, dtype=torch.float64)
        if a_ub is not None and bool((a_ub @ x > b_ub + 1e-9).any()):
            continue
        if a_eq is not None and bool(((a_eq @ x - b_eq).abs() > 1e-9).any()):
            continue
        best = min(best, float(x @ q @ x + c @ x))
    return best


def knapsack(n: int = 10, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    v = torch.randint(10, 100, (n,), generator=g).double()
    w = torch.randint(5, 60, (3, n), generator=g).double()
    return -v, w, (w.sum(1) // 2)


@pytest.mark.parametrize("method", ["subgradient", "bundle", "cutting-plane", "alm"])
def test_weak_duality_and_feasibility_on_a_knapsack(method: str) -> None:
    c, w, cap = knapsack()
    opt = brute_force(c, torch.zeros(10, 10, dtype=torch.float64), w, cap)
    res = relax(c, A_ub=w, b_ub=cap, method=method, inner="exact", max_iter=30)
    assert res.feasible and res.inner_exact and res.n_variables == 10
    assert bool((w @ res.x <= cap).all())
    assert res.fun >= opt - 1e-9  # a feasible point cannot beat the optimum (the test of the test)
    if method != "alm":  # the dual value of the plain Lagrangian is a lower bound (weak duality)
        assert res.lower_bound <= opt + 1e-9
    if method == "subgradient":
        assert res.fun == opt  # measured: optimal on seeds 0-2 (dual bound within 5 %); integers, exact


def test_tsp_by_augmented_lagrangian_finds_the_optimal_tour() -> None:
    n = 4
    g = torch.Generator().manual_seed(1)
    pts = torch.rand(n, 2, generator=g, dtype=torch.float64)
    d = torch.cdist(pts, pts)
    q = torch.zeros(n * n, n * n, dtype=torch.float64)
    for t in range(n):
        for i in range(n):
            for j in range(n):
                if i != j:
                    q[i * n + t, j * n + (t + 1) % n] += d[i, j]
    a = torch.zeros(2 * n, n * n, dtype=torch.float64)
    for i in range(n):
        a[i, i * n:(i + 1) * n] = 1.0
        a[n + i, i::n] = 1.0
    best = min(sum(float(d[p[k], p[(k + 1) % n]]) for k in range(n)) for p in itertools.permutations(range(n)))
    res = relax(torch.zeros(n * n, dtype=torch.float64), Q=q, A_eq=a, b_eq=torch.ones(2 * n), method="alm",
                inner="exact", max_iter=60)
    assert res.feasible
    assert res.fun == pytest.approx(best, abs=1e-9)


def test_annealing_matches_enumeration_on_a_small_qubo() -> None:
    g = torch.Generator().manual_seed(3)
    q = torch.randn(12, 12, generator=g, dtype=torch.float64)
    c = torch.randn(12, generator=g, dtype=torch.float64)
    exact = relax(c, Q=q, inner="exact", max_iter=1)
    anneal = relax(c, Q=q, inner="anneal", max_iter=1, seed=0)
    assert exact.fun == pytest.approx(brute_force(c, q), abs=1e-9)
    assert not anneal.inner_exact
    assert anneal.fun == pytest.approx(exact.fun, abs=1e-9)  # 8 chains on 12 variables find the optimum


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"method": "dual"}, "method must be one of"), ({"inner": "qaoa"}, "inner must be one of"),
     ({"A_ub": torch.ones(2, 3)}, "must be given together"),
     ({"A_ub": torch.ones(2, 3), "b_ub": torch.ones(2)}, r"shape \(m, 4\)"), ({"max_iter": 0}, "max_iter")],
)
def test_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        relax(torch.ones(4, dtype=torch.float64), **kwargs)
