"""ENGD: exact Gauss–Newton on linear least squares, a nonlinear minimizer, status strings, NaN
safety, state round trips and resume equality."""

from __future__ import annotations

import io
import math

import pytest
import torch

from physopt.optim import ENGD, build, spec
from physopt.optim._engd import gauss_newton_direction, residual_jacobian

F64 = torch.float64


def _rosenbrock(x: torch.Tensor):
    # f = ||r||^2 = 100 (x1 - x0^2)^2 + (1 - x0)^2, minimizer (1, 1)
    return lambda: torch.stack([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])


def _linear(n_rows: int, n_cols: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n_rows, n_cols, generator=g, dtype=F64), torch.randn(n_rows, generator=g, dtype=F64)


@pytest.mark.parametrize("shape", [(20, 5), (4, 9)], ids=["overdetermined", "underdetermined"])
def test_linear_least_squares_one_step_is_exact_gauss_newton(shape):
    A, b = _linear(*shape)
    w = torch.nn.Parameter(torch.zeros(shape[1], dtype=F64))
    opt = ENGD([w], damping=0.0)
    opt.step(lambda: A @ w - b)
    # from 0, the undamped step is the minimum-norm least-squares solution pinv(A) b
    expected = torch.linalg.pinv(A) @ b
    # 1e-10: float64 Cholesky of a Gram matrix with condition ~1e2 loses ~4 digits at most
    assert torch.allclose(w.detach(), expected, atol=1e-10, rtol=0)
    assert opt.param_groups[0]["lr"] == 1.0 and opt.state[w]["last_alpha"] == 1.0


def test_direction_primal_and_dual_forms_agree_with_a_direct_solve():
    A, b = _linear(6, 6, seed=3)
    for J, r in ((A, b), (A[:5], b[:5])):  # 6x6 is solved in parameter space, 5x6 in residual space
        d, mu = gauss_newton_direction(J, r, damping=1e-3)
        assert mu == pytest.approx(1e-3 * float(J.square().sum()) / 6, rel=1e-14)  # rounding only
        ref = -torch.linalg.solve(J.T @ J + mu * torch.eye(6, dtype=F64), J.T @ r)
        # 1e-9: float64 solves of systems with condition below 1e5
        assert torch.allclose(d, ref, atol=1e-9, rtol=0)


@pytest.mark.parametrize("line_search", ["armijo", "grid"])
def test_rosenbrock_residuals_reach_the_minimizer(line_search):
    x = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=F64))
    opt = ENGD([x], line_search=line_search)
    for _ in range(100):
        opt.step(_rosenbrock(x))
        if opt.status != "running":
            break
    assert opt.status == "converged: gradient tolerance"
    # 1e-8: the gradient tolerance 1e-11 bounds |x - x*| far below this near a regular minimum
    assert torch.allclose(x.detach(), torch.ones(2, dtype=F64), atol=1e-8, rtol=0)


def test_max_evaluations_status_and_budget():
    x = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=F64))
    opt = ENGD([x], max_eval=4)
    for _ in range(10):
        opt.step(_rosenbrock(x))
    assert opt.status == "max evaluations"
    assert opt.n_evals <= 4


def test_wrong_jacobian_gives_no_progress_and_keeps_parameters():
    w = torch.nn.Parameter(torch.tensor([0.0], dtype=F64))

    def closure():  # value w - 1, but a derivative of -1: the "Gauss-Newton" step goes uphill
        return (w.detach() - 1.0) + (w.detach() - w)

    opt = ENGD([w])
    opt.step(closure)
    assert opt.status == "no progress"
    assert float(w.detach()) == 0.0
    assert opt.step(closure).item() == 1.0  # a no-op once stopped
    opt.invalidate()
    assert opt.status == "running"


def test_never_steps_to_nan():
    w = torch.nn.Parameter(torch.tensor([0.0], dtype=F64))

    def closure():  # the full Gauss-Newton step (to w = 3) lands where the residual is NaN
        r = w - 3.0
        return torch.where(w.detach() > 1.0, torch.full_like(r, math.nan), r)

    opt = ENGD([w])
    losses = [float(opt.step(closure)) for _ in range(5)]
    assert math.isfinite(float(w.detach())) and 0.0 < float(w.detach()) <= 1.0
    assert all(math.isfinite(v) for v in losses) and losses[0] < 9.0


def _mlp_problem(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=F64) * 0.5)
    x = torch.linspace(0, 1, 12, dtype=F64)[:, None]

    def closure():  # -u'' = pi^2 sin(pi x): a residual with second input derivatives inside
        xr = x.clone().requires_grad_(True)
        u = net(xr)
        du = torch.autograd.grad(u.sum(), xr, create_graph=True)[0]
        d2u = torch.autograd.grad(du.sum(), xr, create_graph=True)[0]
        return (-d2u - math.pi**2 * torch.sin(math.pi * xr)).reshape(-1) / math.sqrt(12)

    return net, closure


def test_jacobian_batched_equals_per_row():
    net, closure = _mlp_problem()
    r = closure()
    params = list(net.parameters())
    J1 = residual_jacobian(r, params)
    J2 = residual_jacobian(r, params, batched=True)
    # 1e-12: the same backward formulas, vmapped or not; only summation order may differ
    assert J1.shape == (12, 25) and torch.allclose(J1, J2, atol=1e-12, rtol=0)


def test_state_dict_round_trip_and_resume_equality():
    net, closure = _mlp_problem()
    opt = ENGD(net.parameters())
    for _ in range(3):
        opt.step(closure)
    buf = io.BytesIO()
    torch.save({"model": net.state_dict(), "opt": opt.state_dict()}, buf)
    after = [float(opt.step(closure)) for _ in range(3)]
    final = [p.detach().clone() for p in net.parameters()]

    buf.seek(0)
    saved = torch.load(buf, weights_only=True)
    net2, closure2 = _mlp_problem(seed=1)  # different init: everything must come from the checkpoint
    net2.load_state_dict(saved["model"])
    opt2 = ENGD(net2.parameters())
    opt2.load_state_dict(saved["opt"])
    assert opt2.n_iter == 3
    again = [float(opt2.step(closure2)) for _ in range(3)]
    assert again == after
    assert all(torch.equal(a, b.detach()) for a, b in zip(final, net2.parameters(), strict=True))


def test_registry_and_bad_input():
    entry = spec("engd")
    assert entry.needs_residuals and entry.needs_closure
    w = torch.nn.Parameter(torch.zeros(2, dtype=F64))
    assert isinstance(build("engd", [w], lr=0.5, line_search="grid"), ENGD)
    for kwargs in ({"lr": 0.0}, {"damping": -1.0}, {"line_search": "wolfe"}, {"grid_size": 0}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            ENGD([w], **kwargs)
    with pytest.raises(ValueError, match="1-D residual"):
        ENGD([w]).step(lambda: (w**2).sum())
    with pytest.raises(ValueError, match="max_params"):
        ENGD([torch.nn.Parameter(torch.zeros(11, dtype=F64))], max_params=10)
