"""Unit tests for physopt.optim._quasi_newton (line search, dense update, state, status)."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from physopt.optim._quasi_newton import (
    LBFGS,
    SSBFGS,
    STATUSES,
    SSBroyden,
    cubic_minimizer,
    dense_inverse_update,
    ss_bfgs_coefficients,
    ss_broyden_coefficients,
    strong_wolfe_line_search,
    two_loop_direction,
)

OPTIMIZERS = [SSBroyden, SSBFGS, LBFGS]
DT = torch.float64


@pytest.fixture(autouse=True)
def _single_thread():
    """These problems are tiny; intra-op threads only add spin-wait overhead (10x slower
    on a loaded 2-core machine).  Restore the caller's setting afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)



def _rosen(x: torch.Tensor) -> torch.Tensor:
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def _closure_for(param, fn):
    def closure():
        if param.grad is not None:
            param.grad.zero_()
        loss = fn(param)
        loss.backward()
        return loss

    return closure


def _random_spd(n: int, cond: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=DT))
    ev = torch.logspace(0, math.log10(cond), n, dtype=DT)
    return (q * ev) @ q.T


# ---------------------------------------------------------------------------- line search


def test_cubic_minimizer_exact_on_cubic():
    # f(x) = (x-0.3)^2 (x+2): local min at 0.3; data at 0 and 1 determine the cubic.
    f = lambda x: (x - 0.3) ** 2 * (x + 2.0)  # noqa: E731
    df = lambda x: 2 * (x - 0.3) * (x + 2.0) + (x - 0.3) ** 2  # noqa: E731
    x = cubic_minimizer(0.0, f(0.0), df(0.0), 1.0, f(1.0), df(1.0), 0.0, 1.0)
    assert x == pytest.approx(0.3, abs=1e-12)
    # non-finite data -> midpoint of the bounds
    assert cubic_minimizer(0.0, 1.0, -1.0, 1.0, math.nan, 1.0, 0.2, 0.6) == pytest.approx(0.4)


def test_line_search_satisfies_strong_wolfe_on_quadratic():
    A = _random_spd(6, 50.0, 0)
    x0 = torch.ones(6, dtype=DT)
    f = lambda x: float(0.5 * x @ A @ x)  # noqa: E731
    g0 = A @ x0
    d = -g0
    res = strong_wolfe_line_search(lambda a: (f(x0 + a * d), A @ (x0 + a * d)), f(x0), g0, d,
                                   alpha0=10.0, c1=1e-4, c2=0.1)
    assert res.status == "wolfe"
    d0 = float(g0 @ d)
    assert res.f <= f(x0) + 1e-4 * res.alpha * d0
    assert abs(float(res.g @ d)) <= 0.1 * abs(d0)


def test_line_search_shrinks_on_nonfinite_and_never_returns_it():
    # f finite only for alpha < 0.05; minimum along the ray at alpha = 0.02
    calls = []

    def evaluate(a):
        calls.append(a)
        if a >= 0.05:
            return math.nan, torch.full((1,), math.nan, dtype=DT)
        return (a - 0.02) ** 2, torch.tensor([-(2 * (a - 0.02))], dtype=DT)

    g0 = torch.tensor([0.04], dtype=DT)  # d(phi)/da at 0 = -0.04 with direction -1
    res = strong_wolfe_line_search(evaluate, 0.0004, g0, torch.tensor([-1.0], dtype=DT), 1.0)
    assert res.status in ("wolfe", "armijo")
    assert 0.0 < res.alpha < 0.05 and math.isfinite(res.f) and res.f < 0.0004
    assert calls[0] == 1.0 and calls[1] == pytest.approx(0.25)  # shrink by 4


def test_line_search_fails_cleanly_without_descent():
    g0 = torch.tensor([1.0], dtype=DT)
    res = strong_wolfe_line_search(lambda a: (math.nan, g0), 1.0, g0, torch.tensor([1.0], dtype=DT))
    assert res.status == "failed" and res.alpha == 0.0 and res.n_evals == 0
    res = strong_wolfe_line_search(lambda a: (math.inf, g0), 1.0, g0, -g0, max_evals=5)
    assert res.status == "failed" and res.alpha == 0.0 and res.f == 1.0 and res.n_evals == 5


# ---------------------------------------------------------------------------- algebra


@pytest.mark.parametrize("coeffs", [(1.0, 1.0), (1.0, 0.0), (0.7, 1.0), (1.3, -0.2), (0.05, 2.5)])
def test_dense_update_secant_equation(coeffs):
    """H_{k+1} y = s holds for every (tau, phi): v^T y = 0 analytically, so the residual is
    pure float64 rounding, O(eps * cond(H_{k+1}) * |s|); with cond ~ 1e2..1e3 here we
    require 1e-11 relative (eps = 2.2e-16)."""
    n = 50
    g = torch.Generator().manual_seed(1)
    H = _random_spd(n, 100.0, 2)
    s = torch.randn(n, generator=g, dtype=DT)
    y = _random_spd(n, 30.0, 3) @ s  # y.s > 0
    tau, phi = coeffs
    H1 = dense_inverse_update(H.clone(), s, y, tau, phi)
    assert float((H1 @ y - s).norm() / s.norm()) < 1e-11
    assert torch.allclose(H1, H1.T, rtol=0, atol=1e-12 * float(H1.abs().max()))


def test_dense_update_bfgs_matches_textbook_formula():
    n = 20
    H = _random_spd(n, 10.0, 4)
    s = torch.randn(n, dtype=DT, generator=torch.Generator().manual_seed(5))
    y = _random_spd(n, 10.0, 6) @ s
    rho = 1.0 / float(y @ s)
    eye = torch.eye(n, dtype=DT)
    ref = (eye - rho * torch.outer(s, y)) @ H @ (eye - rho * torch.outer(y, s)) + rho * torch.outer(s, s)
    got = dense_inverse_update(H.clone(), s, y, 1.0, 1.0)
    assert torch.allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_ss_coefficients():
    # a = b h - 1 = 0 -> theta = 0 (BFGS), tau = min(1, 1/b) up to sigma^(1/(1-n)) = 1
    tau, phi = ss_broyden_coefficients(2.0, 0.5, 100)
    assert phi == 1.0 and tau == pytest.approx(0.5)
    assert ss_bfgs_coefficients(4.0, 9.0, 10) == (0.25, 1.0)
    assert ss_bfgs_coefficients(0.5, 9.0, 10) == (1.0, 1.0)
    for b, h in [(0.3, 7.0), (5.0, 2.0), (1.0, 1.5), (50.0, 0.1)]:
        tau, phi = ss_broyden_coefficients(b, h, 1000)
        assert math.isfinite(tau) and tau > 0 and math.isfinite(phi)


def test_two_loop_matches_dense_bfgs():
    n = 8
    A = _random_spd(n, 20.0, 7)
    gen = torch.Generator().manual_seed(8)
    S = [torch.randn(n, generator=gen, dtype=DT) for _ in range(4)]
    Y = [A @ s for s in S]
    gamma = float(S[-1] @ Y[-1] / (Y[-1] @ Y[-1]))
    H = gamma * torch.eye(n, dtype=DT)
    for s, y in zip(S, Y, strict=True):
        H = dense_inverse_update(H, s, y, 1.0, 1.0)
    g = torch.randn(n, generator=gen, dtype=DT)
    d = two_loop_direction(g, S, Y, [1.0 / float(y @ s) for s, y in zip(S, Y, strict=True)], gamma)
    assert torch.allclose(d, -H @ g, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------- optimizers


def _small_net(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(2, 12), torch.nn.Tanh(), torch.nn.Linear(12, 12), torch.nn.Tanh(),
        torch.nn.Linear(12, 1),
    ).double()


def _fit_closure(net, opt):
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(64, 2, generator=gen, dtype=DT) * 2 - 1
    Y = torch.sin(3 * X[:, :1]) * X[:, 1:]

    def closure():
        opt.zero_grad()
        loss = ((net(X) - Y) ** 2).mean()
        loss.backward()
        return loss

    return closure


@pytest.mark.parametrize("cls", OPTIMIZERS)
@pytest.mark.parametrize("initial_step", ["unit", "interpolate"])
def test_resume_is_bit_identical(cls, initial_step):
    net = _small_net(0)
    opt = cls(net.parameters(), initial_step=initial_step)
    closure = _fit_closure(net, opt)
    for _ in range(15):
        opt.step(closure)
    ckpt_model = copy.deepcopy(net.state_dict())
    ckpt_opt = opt.state_dict()
    ref = []
    for _ in range(15):
        ref.append(float(opt.step(closure)))
    ref_params = [p.detach().clone() for p in net.parameters()]

    net2 = _small_net(123)  # different init, overwritten by the checkpoint
    net2.load_state_dict(ckpt_model)
    opt2 = cls(net2.parameters(), initial_step=initial_step)
    opt2.load_state_dict(ckpt_opt)
    closure2 = _fit_closure(net2, opt2)
    got = [float(opt2.step(closure2)) for _ in range(15)]
    assert got == ref  # exact float equality, not approx
    for p, q in zip(net2.parameters(), ref_params, strict=True):
        assert torch.equal(p.detach(), q)
    assert opt2.n_evals == opt.n_evals and opt2.n_iter == opt.n_iter
    assert opt2.status == opt.status


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_state_dict_is_a_snapshot(cls):
    net = _small_net(0)
    opt = cls(net.parameters())
    closure = _fit_closure(net, opt)
    opt.step(closure)
    opt.step(closure)
    sd = opt.state_dict()
    before = copy.deepcopy(sd)
    opt.step(closure)
    opt.step(closure)
    flat = lambda d: [v for st in d["state"].values() for v in st.values()]  # noqa: E731
    for a, b in zip(flat(sd), flat(before), strict=True):
        if isinstance(a, torch.Tensor):
            assert torch.equal(a, b)


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_nan_region_never_reaches_parameters(cls):
    """Loss is NaN whenever |x|_inf > 1.5 (a step overshoot); minimum at x = 1 (inside)."""
    x = torch.nn.Parameter(torch.full((5,), -1.0, dtype=DT))

    def fn(p):
        base = ((p - 1.0) ** 2).sum() * 50.0 + (p ** 4).sum()
        return torch.where(p.abs().max() > 1.5, torch.full_like(base, math.nan), base)

    opt = cls([x], lr=1.0)
    closure = _closure_for(x, fn)
    for _ in range(60):
        loss = opt.step(closure)
        assert torch.isfinite(x).all()
        assert math.isfinite(float(loss))
        if opt.status != "running":
            break
    assert float(x.detach().abs().max()) <= 1.5
    assert opt.status == "converged: gradient tolerance"


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_status_max_evaluations_and_noop_after(cls):
    x = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=DT))
    opt = cls([x], max_eval=7)
    closure = _closure_for(x, _rosen)
    for _ in range(20):
        opt.step(closure)
    assert opt.status == "max evaluations"
    assert opt.n_evals == 7
    before = x.detach().clone()
    opt.step(closure)
    assert torch.equal(before, x.detach()) and opt.n_evals == 7
    assert opt.status in STATUSES


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_status_no_progress_on_nonfinite_objective(cls):
    x = torch.nn.Parameter(torch.tensor([0.5, 0.5], dtype=DT))
    # gradient exists but every trial step is non-finite: no decrease can be found
    def fn(p):
        base = (p ** 2).sum()
        moved = (p - 0.5).abs().max() > 0
        return torch.where(moved, torch.full_like(base, math.inf), base)

    opt = cls([x], max_ls=6)
    closure = _closure_for(x, fn)
    for _ in range(5):
        opt.step(closure)
    assert opt.status == "no progress"
    assert torch.equal(x.detach(), torch.tensor([0.5, 0.5], dtype=DT))


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_cached_evaluation_and_invalidate(cls):
    x = torch.nn.Parameter(torch.tensor([-1.2, 1.0], dtype=DT))
    opt = cls([x])
    closure = _closure_for(x, _rosen)
    opt.step(closure)
    n = opt.n_evals
    opt.step(closure)
    # second step re-uses the cached loss/gradient: only line-search evaluations
    assert opt.n_evals - n >= 1
    k = opt.n_evals
    opt.invalidate()
    opt.step(closure)
    assert opt.n_evals >= k + 2  # re-evaluation + line search


def test_lbfgs_keeps_going_after_adam_warm_start():
    """torch.optim.LBFGS with default tolerances can stop after one iteration when
    started from an Adam iterate (tiny first step min(1,1/|g|_1) -> tolerance_change);
    ours must keep making progress."""
    net = _small_net(1)
    adam = torch.optim.Adam(net.parameters(), lr=1e-2)
    closure_adam = _fit_closure(net, adam)
    for _ in range(200):
        adam.step(closure_adam)
    opt = LBFGS(net.parameters())
    closure = _fit_closure(net, opt)
    f0 = float(closure().detach())
    losses = [float(opt.step(closure)) for _ in range(50)]
    assert opt.status == "running"
    assert opt.n_iter == 50
    assert losses[-1] < 0.1 * f0


def test_dense_refuses_huge_models():
    p = torch.nn.Parameter(torch.zeros(30_001, dtype=DT))
    with pytest.raises(ValueError):
        SSBroyden([p])
    SSBroyden([p], max_params=40_000)  # explicit opt-in is allowed (lazy allocation)


def test_constructor_validation():
    p = torch.nn.Parameter(torch.zeros(3, dtype=DT))
    with pytest.raises(ValueError):
        LBFGS([p], c1=0.5, c2=0.1)
    with pytest.raises(ValueError):
        SSBFGS([p], lr=0.0)
    with pytest.raises(ValueError):
        SSBroyden([p], initial_step="cubic")
    with pytest.raises(ValueError):
        LBFGS([{"params": [p]}, {"params": [torch.nn.Parameter(torch.zeros(1))]}])
