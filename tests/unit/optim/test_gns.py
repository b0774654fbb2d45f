"""GNSNewton: exact Newton on a quadratic, a nonconvex minimum, an augmented-Lagrangian inner
solver, statuses, NaN safety, state round trips and resume equality."""

from __future__ import annotations

import io
import math

import pytest
import torch

from physopt.optim import GNSNewton, build, spec
from physopt.optim._gns import bfgs_hessian_update

F64 = torch.float64


def _closure(x: torch.nn.Parameter, fn):
    def closure():
        x.grad = None
        loss = fn(x)
        loss.backward()
        return loss

    return closure


def _rosenbrock(z: torch.Tensor) -> torch.Tensor:
    return 100.0 * (z[1] - z[0] ** 2) ** 2 + (1.0 - z[0]) ** 2


def _run(opt: GNSNewton, closure, n: int = 500) -> None:
    for _ in range(n):
        opt.step(closure)
        if opt.status != "running":
            return


def _quadratic(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    M = torch.randn(6, 6, generator=g, dtype=F64)
    A = M @ M.T + 0.5 * torch.eye(6, dtype=F64)
    b = torch.randn(6, generator=g, dtype=F64)
    return A, b, torch.linalg.solve(A, b)


def test_quadratic_with_exact_hessian_is_newton_in_one_step():
    A, b, x_star = _quadratic()
    x = torch.nn.Parameter(torch.zeros(6, dtype=F64))
    # gamma0 = 1e12 makes lambda = |g|/gamma negligible: the step is the Newton step A^-1 b
    opt = GNSNewton([x], lr=1e12, hessian=lambda: A)
    opt.step(_closure(x, lambda z: 0.5 * z @ A @ z - b @ z))
    # 1e-9: lambda ~ 1e-12 |b| perturbs the solution by ~1e-12 relative; Cholesky adds ~1e-14
    assert torch.allclose(x.detach(), x_star, atol=1e-9, rtol=0)
    assert opt.state[x]["n_evals"] == 2  # the start and the accepted trial


@pytest.mark.parametrize("hessian", ["bfgs", "fd"])
def test_quadratic_converges_with_approximate_hessians(hessian):
    A, b, x_star = _quadratic(1)
    x = torch.nn.Parameter(torch.zeros(6, dtype=F64))
    opt = GNSNewton([x], hessian=hessian, tolerance_grad=1e-10)
    _run(opt, _closure(x, lambda z: 0.5 * z @ A @ z - b @ z))
    assert opt.status == "converged: gradient tolerance"
    # 1e-8: |g| <= 1e-10 and the smallest eigenvalue of A is >= 0.5
    assert torch.allclose(x.detach(), x_star, atol=1e-8, rtol=0)


@pytest.mark.parametrize("hessian", ["bfgs", "fd", "exact"])
def test_rosenbrock_reaches_its_minimum(hessian):
    x = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=F64))
    h = (lambda: torch.autograd.functional.hessian(_rosenbrock, x.detach())) if hessian == "exact" else hessian
    opt = GNSNewton([x], hessian=h)
    _run(opt, _closure(x, _rosenbrock))
    assert opt.status == "converged: gradient tolerance"
    # 1e-8: |g| <= 1e-11 at a minimum whose Hessian has smallest eigenvalue ~0.4
    assert torch.allclose(x.detach(), torch.ones(2, dtype=F64), atol=1e-8, rtol=0)


def test_inner_solver_of_an_augmented_lagrangian_method():
    # min x0 + x1  s.t.  x0^2 + x1^2 = 2: x* = (-1, -1), multiplier 1/2 (grad f + lam grad h = 0)
    x = torch.nn.Parameter(torch.tensor([0.5, -0.2], dtype=F64))
    lam, rho = 0.0, 10.0

    def h(z):
        return z @ z - 2.0

    opt = GNSNewton([x], hessian="fd", tolerance_grad=1e-10)
    for _ in range(30):  # method of multipliers (Nocedal & Wright Alg. 17.4) with a fixed penalty
        opt.invalidate()  # new multiplier: a new inner objective
        _run(opt, _closure(x, lambda z, lam=lam: z.sum() + lam * h(z) + 0.5 * rho * h(z) ** 2))
        assert opt.status == "converged: gradient tolerance"
        lam += rho * float(h(x.detach()))
        if abs(float(h(x.detach()))) < 1e-12:
            break
    # 1e-9: the outer loop stops at |h| < 1e-12 and the inner one at |grad| < 1e-10
    assert torch.allclose(x.detach(), torch.tensor([-1.0, -1.0], dtype=F64), atol=1e-9, rtol=0)
    assert lam == pytest.approx(0.5, abs=1e-9)


def test_bfgs_update_satisfies_the_secant_equation():
    B = torch.zeros(3, 3, dtype=F64)
    s, y = torch.tensor([1.0, 0.0, 2.0], dtype=F64), torch.tensor([2.0, 1.0, 3.0], dtype=F64)
    assert bfgs_hessian_update(B, s, y)
    assert torch.allclose(B.mv(s), y, atol=1e-12)  # 1e-12: a few float64 roundings
    assert not bfgs_hessian_update(B, s, -y)  # negative curvature: skipped
    assert torch.allclose(B.mv(s), y, atol=1e-12)


def test_statuses_never_nan_and_max_evaluations():
    x = torch.nn.Parameter(torch.tensor([0.0], dtype=F64))

    def fn(z):  # minimum at 3, but NaN beyond 1: the search must stay in [0, 1]
        return torch.where(z.detach() > 1.0, torch.full_like(z, math.nan), (z - 3.0) ** 2).sum()

    opt = GNSNewton([x], lr=100.0)
    for _ in range(20):
        loss = opt.step(_closure(x, fn))
        assert math.isfinite(float(loss)) and math.isfinite(float(x.detach()))
    assert float(x.detach()) <= 1.0
    assert opt.status in ("no progress", "running")

    y = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=F64))
    opt = GNSNewton([y], max_eval=5)
    _run(opt, _closure(y, _rosenbrock), n=50)
    assert opt.status == "max evaluations" and opt.n_evals <= 5


def test_state_dict_round_trip_and_resume_equality():
    x = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=F64))
    opt = GNSNewton([x])
    for _ in range(5):
        opt.step(_closure(x, _rosenbrock))
    buf = io.BytesIO()
    torch.save({"x": x.detach().clone(), "opt": opt.state_dict()}, buf)
    after = [float(opt.step(_closure(x, _rosenbrock))) for _ in range(5)]

    buf.seek(0)
    saved = torch.load(buf, weights_only=True)
    x2 = torch.nn.Parameter(saved["x"].clone())
    opt2 = GNSNewton([x2])
    opt2.load_state_dict(saved["opt"])
    assert opt2.gamma == saved["opt"]["state"][0]["gamma"]
    again = [float(opt2.step(_closure(x2, _rosenbrock))) for _ in range(5)]
    assert again == after and torch.equal(x.detach(), x2.detach())


def test_registry_and_bad_input():
    assert spec("gnsnewton").needs_closure and not spec("gnsnewton").needs_residuals
    w = torch.nn.Parameter(torch.zeros(2, dtype=F64))
    assert isinstance(build("gnsnewton", [w], lr=0.1, hessian="fd"), GNSNewton)
    for kwargs in ({"lr": -1.0}, {"hessian": "exact"}, {"max_search": 0}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            GNSNewton([w], **kwargs)
    with pytest.raises(ValueError, match="max_params"):
        GNSNewton([torch.nn.Parameter(torch.zeros(11, dtype=F64))], max_params=10)
    opt = GNSNewton([w], hessian=lambda: torch.eye(3, dtype=F64))
    with pytest.raises(ValueError, match="shape"):
        opt.step(_closure(w, lambda z: ((z - 1.0) ** 2).sum()))
