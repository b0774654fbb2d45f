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
    q, a, best = tsp_instance(n, 1)
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


@pytest.mark.parametrize("seed", range(3))
def test_kelley_reaches_the_lagrangian_dual_optimum(seed: int) -> None:
    # with Q = 0 the Lagrangian dual of a binary program equals its LP relaxation over [0, 1]ⁿ
    # (conv{0,1}ⁿ = [0,1]ⁿ: Geoffrion's integrality property), which HiGHS solves exactly
    linprog = pytest.importorskip("scipy.optimize").linprog
    c, w, cap = knapsack(12, seed)
    lp = linprog(c.numpy(), A_ub=w.numpy(), b_ub=cap.numpy(), bounds=(0, 1), method="highs")
    res = relax(c, A_ub=w, b_ub=cap, method="cutting-plane", inner="exact", max_iter=60)
    assert res.lower_bound <= lp.fun + 1e-9  # weak duality (the test of the test)
    # the master LP is solved to 1e-9 and the loop stops when the model predicts a rise ≤ 1e-9 |q|
    assert res.lower_bound == pytest.approx(lp.fun, rel=1e-6)
    assert res.nit < 60  # the box-stabilised method terminates (unstabilised Kelley oscillated)


def tsp_instance(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
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
    return q, a, best


@pytest.mark.parametrize("method", ["subgradient", "bundle", "cutting-plane"])
def test_repair_turns_plain_lagrangian_points_into_tours(method: str) -> None:
    q, a, best = tsp_instance(4, 1)
    c = torch.zeros(16, dtype=torch.float64)
    plain = relax(c, Q=q, A_eq=a, b_eq=torch.ones(8), method=method, inner="exact", max_iter=30)
    fixed = relax(c, Q=q, A_eq=a, b_eq=torch.ones(8), method=method, inner="exact", max_iter=30, repair=True)
    assert not plain.feasible  # the failure the repair exists for (measured on this instance)
    assert fixed.feasible and fixed.repaired
    assert bool(((a @ fixed.x - 1).abs() <= 1e-12).all())  # a permutation matrix: a tour
    assert best - 1e-9 <= fixed.fun <= 1.5 * best  # a tour, and a reasonable one (measured: optimal)


def test_repair_keeps_knapsack_points_feasible_and_no_worse() -> None:
    c, w, cap = knapsack()
    opt = brute_force(c, torch.zeros(10, 10, dtype=torch.float64), w, cap)
    plain = relax(c, A_ub=w, b_ub=cap, method="bundle", inner="exact", max_iter=30)
    fixed = relax(c, A_ub=w, b_ub=cap, method="bundle", inner="exact", max_iter=30, repair=True)
    assert bool((w @ fixed.x <= cap).all())
    assert opt - 1e-9 <= fixed.fun <= plain.fun  # the repair only adds candidates


def test_repair_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match="repair must be True or False"):
        relax(torch.ones(4, dtype=torch.float64), repair=1)  # type: ignore[arg-type]
