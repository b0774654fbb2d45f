"""The closed-form log barrier of method="newton" and the re-use of evaluations it allows."""

from __future__ import annotations

import math

import pytest
import torch

from physopt.constrained import minimize
from physopt.constrained._barrier import LogBarrier
from physopt.constrained._exact_al_mf import NewtonStats, _Local


def _autograd_barrier(tau: float, lo: torch.Tensor, hi: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    n = lo.numel()
    x, s = z[:n], z[n:]
    total = torch.log(s).sum()
    for i in range(n):
        if math.isfinite(float(lo[i])):
            total = total + torch.log(x[i] - lo[i])
        if math.isfinite(float(hi[i])):
            total = total + torch.log(hi[i] - x[i])
    return -tau * total


def test_barrier_matches_autograd() -> None:
    inf = math.inf
    lo = torch.tensor([0.0, -inf, -1.0, -inf], dtype=torch.float64)
    hi = torch.tensor([2.0, 3.0, inf, inf], dtype=torch.float64)
    z = torch.tensor([0.5, 1.0, 4.0, -7.0, 0.3, 2.0], dtype=torch.float64)
    bar = LogBarrier(0.05, lo, hi)
    zz = z.clone().requires_grad_(True)
    val = _autograd_barrier(0.05, lo, hi, zz)
    (grad,) = torch.autograd.grad(val, zz, create_graph=True)
    hess = torch.stack([torch.autograd.grad(grad[i], zz, retain_graph=True)[0] for i in range(z.numel())])
    assert bar.value(z) == pytest.approx(float(val.detach()), rel=1e-14)
    torch.testing.assert_close(bar.grad(z), grad.detach(), rtol=1e-14, atol=0.0)
    torch.testing.assert_close(torch.diag(bar.hess_diag(z)), hess, rtol=1e-14, atol=0.0)
    # outside the interior the value is not finite, so the line search rejects the point
    assert not math.isfinite(bar.value(torch.tensor([-0.1, 1.0, 4.0, -7.0, 0.3, 2.0], dtype=torch.float64)))


def test_rebased_point_equals_a_fresh_evaluation() -> None:
    # changing λ and the barrier at the same z must give the merit parts, gradient and Hessian products
    # of evaluating the functions again there, without calling them
    calls = []

    def fn(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        calls.append(1)
        x, s = z[:2], z[2:]
        return (x[0] - 1) ** 4 + x[0] * x[1] ** 2, torch.stack([x[0] ** 2 + x[1] - 1, x[1] ** 3 + s[0]])

    lo = torch.tensor([0.0, -math.inf], dtype=torch.float64)
    hi = torch.tensor([math.inf, 2.0], dtype=torch.float64)
    z = torch.tensor([0.7, 0.4, 0.9], dtype=torch.float64)
    lam_a, lam_b = torch.tensor([0.3, -0.2], dtype=torch.float64), torch.tensor([1.1, 0.5], dtype=torch.float64)
    old = _Local(fn, z, lam_a, NewtonStats(), LogBarrier(0.1, lo, hi))
    n_calls = len(calls)
    moved = old.rebased(lam_b, LogBarrier(0.02, lo, hi))
    assert len(calls) == n_calls
    fresh = _Local(fn, z, lam_b, NewtonStats(), LogBarrier(0.02, lo, hi))
    assert moved.parts == pytest.approx(fresh.parts, rel=1e-14)
    torch.testing.assert_close(moved.g, fresh.g, rtol=1e-14, atol=1e-15)
    v = torch.tensor([0.3, -1.2, 0.5], dtype=torch.float64)
    torch.testing.assert_close(moved.hvp(v), fresh.hvp(v), rtol=1e-13, atol=1e-14)


def test_default_method_evaluation_counts_on_a_bounded_problem() -> None:
    # the docs' first example: 15 Newton steps; the counts were 33 / 32 with an evaluation and gradient
    # per barrier decrease, per multiplier estimate and per KKT test, 27 / 26 since (same iterates)
    def f(x: torch.Tensor) -> torch.Tensor:
        return (x[0] - 2) ** 2 + (x[1] - 1) ** 2

    res = minimize(f, torch.tensor([2.0, 2.0]), eq=[lambda x: x[0] - 2 * x[1] + 1],
                   ineq=[lambda x: 0.25 * x[0] ** 2 + x[1] ** 2 - 1], bounds=(0.0, 1.5))
    assert res.success and res.nit == 15
    assert (res.nfev, res.ngev) == (27, 26)
