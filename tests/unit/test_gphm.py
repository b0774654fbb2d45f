"""GP-HM (physopt.gp): the kernel's closed-form derivatives, the Kronecker algebra against dense
float64 references, the objective against its dense definition, and a small 1-D solve."""

import math

import pytest
import torch

from physopt.gp import (
    GPHM,
    Envelope,
    KroneckerCholesky,
    SpectralMixture,
    ValuesUpdate,
    gphm_fit,
    grid_pde,
    grid_points,
    kron_dense,
    kron_matvec,
    solve_values,
)

F64 = torch.float64


def _kernel(envelope: Envelope, seed: int = 0) -> SpectralMixture:
    g = torch.Generator().manual_seed(seed)
    k = SpectralMixture(components=5, max_frequency=3.0, envelope=envelope)
    with torch.no_grad():  # non-default weights and widths so every term of the product rule matters
        k.log_weight.copy_(torch.randn(5, generator=g, dtype=F64))
        k.log_rho.copy_(torch.randn(5, generator=g, dtype=F64) * 0.5)
        k.frequency.add_(torch.rand(5, generator=g, dtype=F64) * 0.3)
    return k


@pytest.mark.parametrize("envelope", list(Envelope))
def test_kernel_derivatives_match_autograd(envelope):
    k = _kernel(envelope)
    # Lags away from 0: autograd differentiates |τ| in the Matérn envelope, whose second derivative
    # at exactly 0 it gets wrong (sign'(0) = 0); τ = 0 is checked by finite differences below.
    tau = torch.linspace(0.05, 2.5, 40, dtype=F64)
    tau = torch.cat([-tau, tau]).requires_grad_(True)
    k0 = k.of_lag(tau)
    (d1,) = torch.autograd.grad(k0.sum(), tau, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), tau)
    # 1e-11: closed form and autograd differ by float64 rounding of O(10)-sized sums only.
    torch.testing.assert_close(k.of_lag(tau, 1), d1, rtol=0, atol=1e-11)
    torch.testing.assert_close(k.of_lag(tau, 2), d2, rtol=0, atol=1e-11)


@pytest.mark.parametrize("envelope", list(Envelope))
def test_kernel_derivatives_at_zero_lag_match_finite_differences(envelope):
    k = _kernel(envelope, seed=1)
    h = 1e-5
    with torch.no_grad():
        t = torch.tensor([-h, 0.0, h], dtype=F64)
        k1 = k.of_lag(t, 1)
        # Central differences of k' give k''(0) to relative truncation h² ω²/6 ≈ 7e-9 (ω = 2π·3.3 the
        # largest angular frequency); 3e-8 leaves room for that, not for a wrong closed form.
        k2 = float(k.of_lag(t, 2)[1])
        assert abs(k2 - float((k1[2] - k1[0]) / (2 * h))) < 3e-8 * abs(k2)
        assert float(k1[1]) == 0.0  # an even kernel: k'(0) = 0 exactly


def test_toeplitz_equals_dense_kernel_matrix():
    k = _kernel(Envelope.MATERN52)
    x = torch.linspace(0.0, 2.0, 17, dtype=F64)
    for n in (0, 2):
        # 1e-13: the same formula at the same lags, up to the rounding of (i - j) h vs x_i - x_j.
        torch.testing.assert_close(k.toeplitz(17, 2.0 / 16, n), k.matrix(x, x, n), rtol=0, atol=1e-13)


def _spd(n: int, g: torch.Generator) -> torch.Tensor:
    a = torch.randn(n, n, generator=g, dtype=F64)
    return a @ a.T + n * torch.eye(n, dtype=F64)


def test_kronecker_matvec_solve_logdet_equal_dense():
    g = torch.Generator().manual_seed(0)
    factors = [_spd(n, g) for n in (4, 5, 3)]
    t = torch.randn(4, 5, 3, generator=g, dtype=F64)
    dense = kron_dense(factors)
    kc = KroneckerCholesky(factors)
    # 1e-10: a 60 x 60 well-conditioned (cond ~ 10) float64 system; rounding is ~1e-13.
    torch.testing.assert_close(kron_matvec(factors, t).reshape(-1), dense @ t.reshape(-1), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(kc.solve(t).reshape(-1), torch.linalg.solve(dense, t.reshape(-1)),
                               rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(kc.logdet(), torch.linalg.slogdet(dense)[1], rtol=1e-12, atol=1e-10)


def test_kronecker_rejects_bad_input():
    with pytest.raises(ValueError, match="positive definite"):
        KroneckerCholesky([-torch.eye(3, dtype=F64)])
    with pytest.raises(ValueError, match="shape"):
        KroneckerCholesky([torch.eye(3, dtype=F64)]).solve(torch.zeros(4, dtype=F64))


def _small_2d():
    u = lambda x: torch.sin(3 * x[:, 0]) * torch.cos(2 * x[:, 1])  # noqa: E731
    f = lambda x: -13 * u(x)  # noqa: E731 - Δu for the u above
    pde = grid_pde(lo=[0.0, 0.0], hi=[1.0, 2.0], points=[6, 7], source=f, boundary=u, second=[1.0, 1.0],
                   zeroth=0.5)
    model = GPHM(pde.axes, components=4, max_frequency=[2.0, 1.0], jitter=1e-6)
    with torch.no_grad():
        model.values.copy_(torch.randn(6, 7, generator=torch.Generator().manual_seed(3), dtype=F64))
        model.log_boundary_precision.fill_(0.3)
        model.log_residual_precision.fill_(-0.2)
    return pde, model


def test_objective_and_prediction_equal_the_dense_definition():
    pde, model = _small_2d()
    k1, k2 = (model.kernels[d].matrix(a, a) + 1e-6 * torch.eye(len(a), dtype=F64) for d, a in enumerate(pde.axes))
    d1, d2 = (model.kernels[d].matrix(a, a, 2) for d, a in enumerate(pde.axes))
    K = torch.kron(k1, k2)
    u = model.values.reshape(-1)
    alpha = torch.linalg.solve(K, u)
    lap = (torch.kron(d1, k2) + torch.kron(k1, d2)) @ alpha  # ∂²/∂x² + ∂²/∂y² of the conditional mean
    r = lap + 0.5 * u - pde.source.reshape(-1)
    mask = pde.boundary_mask().reshape(-1)
    assert int(mask.sum()) == 2 * 6 + 2 * 7 - 4
    tb, tr = 0.3, -0.2
    gap_b = ((u - pde.boundary.reshape(-1))[mask] ** 2).sum()
    expected = (0.5 * torch.linalg.slogdet(K)[1] + 0.5 * u @ alpha
                + 200.0 * (0.5 * math.exp(tb) * gap_b - 0.5 * int(mask.sum()) * tb)
                + 0.5 * math.exp(tr) * (r**2).sum() - 0.5 * u.numel() * tr)
    with torch.no_grad():
        # 1e-8 relative: K has condition ~1e6 with this jitter; dense and Kronecker solves round differently.
        torch.testing.assert_close(model.objective(pde), expected, rtol=1e-8, atol=0)
        torch.testing.assert_close(model.residual(pde).reshape(-1), r, rtol=1e-7, atol=1e-7)
        x = torch.rand(9, 2, generator=torch.Generator().manual_seed(4), dtype=F64) * torch.tensor([1.0, 2.0])
        b1, b2 = (model.kernels[d].matrix(x[:, d], a) for d, a in enumerate(pde.axes))
        kx = b1[:, :, None] * b2[:, None, :]
        torch.testing.assert_close(model(x)[:, 0], kx.reshape(9, -1) @ alpha, rtol=1e-8, atol=1e-8)
        assert grid_points(pde.axes).shape == (42, 2)


@pytest.mark.slow  # ~4 CPU s, but ~17 s wall on the shared machine
def test_gphm_solves_a_small_1d_poisson_problem_and_finds_its_frequency():
    # u'' = f on [0, 2π] with u = sin(6x): 6 periods on 40 nodes, the mixture band [0, 2] cycles/unit.
    u = lambda x: torch.sin(6 * x[:, 0])  # noqa: E731
    f = lambda x: -36 * torch.sin(6 * x[:, 0])  # noqa: E731
    pde = grid_pde(lo=[0.0], hi=[2 * math.pi], points=[40], source=f, boundary=u, second=[1.0])
    model = GPHM(pde.axes, max_frequency=2.0)
    result = gphm_fit(model, pde, iterations=1000, lr=0.02, final_lr=0.002)
    assert result.steps == 1000 and result.losses[-1] < result.losses[0]
    x = torch.linspace(0.0, 2 * math.pi, 500, dtype=F64)[:, None]
    with torch.no_grad():
        err = float((model(x)[:, 0] - u(x)).norm() / u(x).norm())
        top = model.kernels[0].frequency.detach()[model.kernels[0].log_weight.argmax()]
    # Measured 1.9e-4 (3.7e-3 with the constant step, whose error oscillates); 2e-3 allows for
    # rounding-level differences in the path, while a wrong derivative or objective leaves O(1).
    assert err < 2e-3
    # The heaviest component sits at the solution's frequency 6/(2π) = 0.955 cycles per unit.
    assert abs(float(top) - 6 / (2 * math.pi)) < 0.01


@pytest.mark.slow  # ~7 CPU s for the two fits
def test_solved_values_fit_both_scales_of_a_multiscale_solution_where_adam_stalls():
    # u = sin(20x) + sin(x) on [0, 2π], 60 nodes: the sources of the two modes differ by 400.
    u = lambda x: torch.sin(20 * x[:, 0]) + torch.sin(x[:, 0])  # noqa: E731
    f = lambda x: -400 * torch.sin(20 * x[:, 0]) - torch.sin(x[:, 0])  # noqa: E731
    x = torch.linspace(0.0, 2 * math.pi, 1001, dtype=F64)[:, None]
    errors = {}
    for values, lr in ((ValuesUpdate.SOLVE, 3e-2), (ValuesUpdate.ADAM, 1e-2)):
        pde = grid_pde(lo=[0.0], hi=[2 * math.pi], points=[60], source=f, boundary=u, second=[1.0])
        model = GPHM(pde.axes, max_frequency=5.0)
        gphm_fit(model, pde, iterations=400, lr=lr, final_lr=lr / 10, values=values)
        with torch.no_grad():
            errors[values] = float((model(x)[:, 0] - u(x)).norm() / u(x).norm())
    # Measured 3.7e-3 (solve) and 0.853 (adam: the high mode fitted, the sin x mode not); 2e-2 leaves
    # room for rounding-level path differences, while a solve that missed a mode would be at ~0.7.
    assert errors[ValuesUpdate.SOLVE] < 2e-2
    assert errors[ValuesUpdate.ADAM] > 0.5


def test_gphm_fit_rejects_bad_input():
    pde, model = _small_2d()
    with pytest.raises(ValueError, match="iterations"):
        gphm_fit(model, pde, iterations=0)
    with pytest.raises(ValueError, match="one value per axis"):
        GPHM(pde.axes, max_frequency=[1.0])


def test_solve_values_is_the_minimiser_of_the_objective_in_the_values():
    pde, model = _small_2d()
    # The objective is quadratic in U: from its autograd Hessian H and gradient g at U = 0 (the
    # definition, not the normal equations solve_values forms), U* = -H⁻¹ g.
    u0 = torch.zeros(pde.shape, dtype=F64)
    objective = lambda u: _objective_at(model, pde, u)  # noqa: E731
    h = torch.autograd.functional.hessian(objective, u0).reshape(42, 42)
    g = torch.autograd.functional.jacobian(objective, u0)
    expected = -torch.linalg.solve(h, g.reshape(-1))
    solve_values(model, pde, 200.0)
    # 1e-6 relative: H holds K⁻¹ (condition ~1e6 with this jitter) and the two routes round differently.
    scale = float(expected.abs().max())
    torch.testing.assert_close(model.values.detach().reshape(-1), expected, rtol=1e-6, atol=1e-6 * scale)


def _objective_at(model: GPHM, pde, u: torch.Tensor) -> torch.Tensor:
    """``model.objective`` with the values replaced by ``u`` (differentiable in ``u``)."""
    saved = model.values
    try:
        del model.values
        model.values = u
        return model.objective(pde)
    finally:
        del model.values
        model.values = saved


def test_fit_with_solved_values_trains_only_the_hyper_parameters():
    pde, model = _small_2d()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    result = gphm_fit(model, pde, iterations=3, values=ValuesUpdate.SOLVE)
    assert result.steps == 3 and model.values.grad is None  # the backward pass skips U
    # The last step's Adam update moved the hyper-parameters away from where U was solved, so the
    # values are the minimiser at the previous step's θ: one more solve changes them, Adam never does.
    values = model.values.detach().clone()
    solve_values(model, pde, 200.0)
    assert not torch.equal(values, model.values.detach())
    assert not torch.equal(before["values"], values)
    assert all(not torch.equal(before[n], p.detach()) for n, p in model.named_parameters() if n != "values")
    with pytest.raises(ValueError, match="values must be one of"):
        gphm_fit(model, pde, iterations=1, values="solve")  # type: ignore[arg-type]
    big = grid_pde(lo=[0.0, 0.0], hi=[1.0, 1.0], points=[51, 51], source=lambda x: x[:, 0], boundary=lambda x: x[:, 0],
                   second=[1.0, 1.0])
    with pytest.raises(ValueError, match="at most 2500 nodes"):
        gphm_fit(GPHM(big.axes, components=2, max_frequency=1.0), big, iterations=1, values=ValuesUpdate.SOLVE)


def test_prediction_derivatives_are_the_closed_form_kernel_derivatives():
    pde, model = _small_2d()
    x = (torch.rand(7, 2, generator=torch.Generator().manual_seed(5), dtype=F64) * torch.tensor([1.0, 2.0]))
    x.requires_grad_(True)
    u = model(x)
    (g,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    (gxx,) = torch.autograd.grad(g[:, 0].sum(), x)
    with torch.no_grad():
        alpha = model.covariance().solve(model.values)
        d2 = model.kernels[0].matrix(x[:, 0].detach(), pde.axes[0], 2)
        b2 = model.kernels[1].matrix(x[:, 1].detach(), pde.axes[1])
        expected = ((d2[:, :, None] * b2[:, None, :]).reshape(7, -1) * alpha.reshape(1, -1)).sum(1)
    # 1e-8: the same closed forms contracted in a different order (K has condition ~1e6).
    torch.testing.assert_close(gxx[:, 0], expected, rtol=1e-8, atol=1e-8)


def test_method_gp_hm_rejects_what_it_cannot_solve():
    import physopt
    from physopt.config import ConfigError

    with pytest.raises(ConfigError, match="needs a Poisson problem"):
        physopt.solve("burgers", method="gp-hm", steps=1)
    with pytest.raises(ConfigError, match="float64"):
        physopt.solve("poisson1d-hf", method="gp-hm", steps=1, dtype="float32")
    with pytest.raises(ConfigError, match="gphm.points"):
        physopt.solve("poisson1d-hf", method="gp-hm", steps=1, overrides=["gphm.points=2"])
    with pytest.raises(ConfigError, match="gphm.values must be one of adam, solve"):
        physopt.solve("poisson1d-hf", method="gp-hm", steps=1, overrides=["gphm.values=newton"])
    with pytest.raises(ConfigError, match="at most 2500"):
        physopt.solve("poisson2d-multiscale", method="gp-hm", steps=1, overrides=["gphm.values=solve"])


def test_method_gp_hm_reads_the_problem_onto_its_grid():
    from physopt.config import RunConfig
    from physopt.config._gphm import gphm_grid_pde, gphm_model
    from physopt.problems import get

    problem = get("poisson2d-multiscale")
    cfg = RunConfig(problem="poisson2d-multiscale", method="gp-hm")
    model = gphm_model(problem, cfg, torch.Generator(), F64)
    pde = gphm_grid_pde(problem, model)
    x = grid_points(pde.axes)
    assert pde.shape == (200, 200) and pde.second == (-1.0, -1.0)
    # The grid's source and boundary data are the problem's own -Δu and Dirichlet values.
    torch.testing.assert_close(pde.source.reshape(-1, 1), problem.energy.source(x), rtol=0, atol=0)
    assert float(pde.boundary[pde.boundary_mask()].abs().max()) < 1e-12  # u = g(x)g(y) vanishes on ∂Ω
