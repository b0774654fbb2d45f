"""pareto(): fronts with a closed form, cross-checks against the single-objective solver, hypervolume."""

from __future__ import annotations

import math

import pytest
import torch

from physopt.constrained import ParetoFront, hypervolume, minimize, pareto

A = torch.tensor([0.0, 0.0], dtype=torch.float64)
B = torch.tensor([2.0, 1.0], dtype=torch.float64)


def f1(x: torch.Tensor) -> torch.Tensor:
    return ((x - A) ** 2).sum()


def f2(x: torch.Tensor) -> torch.Tensor:
    return ((x - B) ** 2).sum()


@pytest.mark.parametrize("method", ["weighted", "epsilon", "pascoletti-serafini"])
def test_front_of_two_distances_is_the_segment(method: str) -> None:
    # the Pareto set of ‖x − a‖², ‖x − b‖² is the segment [a, b]: √f1 + √f2 = ‖a − b‖ = √5
    front = pareto([f1, f2], torch.zeros(2), method=method, n_points=5)
    assert isinstance(front, ParetoFront) and front.success
    assert front.values.shape == (5, 2)
    sums = front.values.sqrt().sum(dim=1)
    # KKT ≤ 1e-8 puts x within ~1e-8 of the segment; √f is Lipschitz away from the anchors, 1e-6 leaves
    # room for the anchors where √ amplifies (√(1e-16) = 1e-8)
    torch.testing.assert_close(sums, torch.full((5,), math.sqrt(5.0), dtype=torch.float64), atol=1e-6, rtol=0)
    assert bool((front.values[1:, 0] >= front.values[:-1, 0]).all())  # walks from f1's to f2's minimizer
    assert all(p.kkt_residual <= 1e-8 for p in front.points)


def test_pascoletti_serafini_point_is_the_epsilon_constraint_optimum() -> None:
    # with a constraint cutting the segment, a PS point (f1, f2) must also solve min f1 s.t. f2 ≤ its f2
    ineq = [lambda x: x[1] - 0.4]
    front = pareto([f1, f2], torch.zeros(2), ineq=ineq, method="pascoletti-serafini", n_points=5)
    assert front.success
    for k in (1, 2, 3):
        eps = float(front.values[k, 1])
        single = minimize(f1, torch.zeros(2), ineq=[*ineq, lambda x, e=eps: f2(x) - e])
        assert single.success, single.message
        assert abs(single.fun - float(front.values[k, 0])) <= 1e-7  # two solves to KKT 1e-8, κ ~ 10


def test_hypervolume_of_a_staircase() -> None:
    values = torch.tensor([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.5, 3.5]])  # the last one is dominated
    assert hypervolume(values, [4.0, 4.0]) == pytest.approx(3.0 + 2.0 + 1.0, abs=1e-12)
    with pytest.raises(ValueError, match=r"\(n, 2\) values"):
        hypervolume(torch.zeros(3), [1.0, 1.0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"objectives": [f1]}, "two callables"), ({"method": "nbi"}, "method must be one of"),
     ({"n_points": 1}, r"n_points must be an integer ≥ 2")],
)
def test_bad_input(kwargs: dict, match: str) -> None:
    args = {"objectives": [f1, f2], "x0": torch.zeros(2)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        pareto(args.pop("objectives"), args.pop("x0"), **args)


A_L1 = torch.tensor([3.0, -2.0, 1.0, 0.5], dtype=torch.float64)


def _split(z: torch.Tensor) -> torch.Tensor:
    return z[:4] - z[4:]  # x = u⁺ − u⁻ with u± ≥ 0: ‖x‖₁ = Σ(u⁺ + u⁻) at every minimizer


@pytest.mark.parametrize("method", ["weighted", "epsilon", "pascoletti-serafini"])
def test_l1_front_is_soft_thresholding(method: str) -> None:
    # f₁ = ½‖x − a‖², f₂ = ‖x‖₁: the front is x(w) = sign(a) max(|a| − w, 0) (soft thresholding), so a
    # point with f₂ = Σ max(|aᵢ| − w, 0) has f₁ = ½ Σ min(|aᵢ|, w)² (convex: every method reaches it)
    fa = [lambda z: 0.5 * ((_split(z) - A_L1) ** 2).sum(), lambda z: z.sum()]
    front = pareto(fa, torch.ones(8), bounds=(0.0, None), method=method, n_points=6)
    assert front.success, [p.message for p in front.points if not p.success]
    mag = A_L1.abs()
    for f1_val, f2_val in front.values.tolist():
        # invert f₂(w), piecewise linear and decreasing in w, by bisection to 1e-13
        lo, hi = 0.0, float(mag.max())
        for _ in range(60):
            w = 0.5 * (lo + hi)
            lo, hi = (w, hi) if float((mag - w).clamp(min=0).sum()) > f2_val else (lo, w)
        expected = 0.5 * float(torch.minimum(mag, torch.tensor(w, dtype=torch.float64)).pow(2).sum())
        # KKT 1e-8 at each point: f₁ and f₂ within ~1e-8 · (|a| + 1) of the front, and df₁/df₂ = −w ≥ −3
        assert abs(f1_val - expected) <= 1e-7
