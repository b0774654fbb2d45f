"""PI-HC-MoE (models/_moe.py): each expert's solve enforces the PDE at its points, gradients flow
through the solves, a short training run reduces the error, and the CLI mode builds and validates."""

from __future__ import annotations

import math

import pytest
import torch

import physopt
from physopt.config import ConfigError
from physopt.models import MLP, ExpertInterfaces, MixtureOfExperts, expert_coefficients, slab_points
from physopt.problems import Interval, ops


def _pde(x, u, params):
    # -u'' + k u = f on [0, 1], exact u = sin(πx): linear in u (affine with the source).
    return -ops.partial(u, x, 0, 0) + params["k"] * u - (math.pi**2 + params["k"]) * torch.sin(math.pi * x)


def _model(*, basis=8, width=8, depth=1, per_expert=3, experts=3, ridge=0.0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    domain = Interval(0.0, 1.0)
    net = MLP(in_dim=1, out_dim=basis, width=width, depth=depth, activation="tanh", bounds=domain.bounds,
              generator=gen, dtype=torch.float64)
    points, edges = slab_points(domain, experts=experts, per_expert=per_expert, axis=0, generator=gen,
                                dtype=torch.float64)
    params = {"k": torch.tensor(2.0, dtype=torch.float64)}
    return MixtureOfExperts(net, residual=_pde, points=points, edges=edges, params=params,
                            lift=lambda x: torch.zeros_like(x[:, :1]), distance=lambda x: x * (1 - x), ridge=ridge)


def test_slab_points_belong_to_their_expert():
    model = _model(per_expert=5, experts=4)
    owner = model.expert_of(model.points)
    assert owner.tolist() == [k for k in range(4) for _ in range(5)]


def test_each_expert_enforces_the_pde_at_its_points():
    model = _model(ridge=0.0)
    x = model.points.clone().requires_grad_(True)
    r = _pde(x, model(x), model.params).detach()[:, 0]
    a, f, owner = model.system()
    a, f = a.detach(), f.detach()
    eps = torch.finfo(torch.float64).eps
    for k in range(model.experts):
        ak, fk = a[owner == k], f[owner == k]
        cond = float(torch.linalg.cond(ak))
        # An exact solve of 3 equations in 8 unknowns; through the Gram factor its residual is
        # bounded by ~eps·cond(A)²·‖f‖ (cond reaches ~1e4 for these untrained features); the factor
        # 100 covers the constants of that bound.
        bound = 100 * eps * cond**2 * float(fk.abs().max())
        assert float(r[owner == k].abs().max()) <= bound, (k, cond, float(r[owner == k].abs().max()))
        assert bound < 1e-3 * float(fk.abs().max())  # ... and that bound is a real constraint


def test_expert_coefficients_match_closed_forms():
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(4, 7, generator=gen, dtype=torch.float64)
    f = torch.randn(4, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(expert_coefficients(a, f, ridge=0.0), torch.linalg.pinv(a) @ f)
    lam = 0.3 * (a * a).sum() / 4
    ridge = torch.linalg.solve(a.T @ a + lam * torch.eye(7, dtype=torch.float64), a.T @ f)
    torch.testing.assert_close(expert_coefficients(a, f, ridge=0.3), ridge)
    tall = torch.randn(9, 3, generator=gen, dtype=torch.float64)
    g = torch.randn(9, generator=gen, dtype=torch.float64)
    # More rows than unknowns: the least-squares solve of the paper.
    torch.testing.assert_close(expert_coefficients(tall, g, ridge=0.0), torch.linalg.lstsq(tall, g).solution)


def test_gradients_flow_through_the_expert_solves():
    model = _model(basis=4, width=3, depth=1, per_expert=2, experts=2, ridge=1e-3)
    names, tensors = zip(*model.basis.named_parameters(), strict=True)
    x = torch.tensor([[0.2], [0.7]], dtype=torch.float64)
    k = model.params["k"].clone().requires_grad_(True)

    def output(k_value, *weights):
        model.params["k"] = k_value
        state = dict(zip(names, weights, strict=True))
        return torch.func.functional_call(model, {f"basis.{n}": w for n, w in state.items()}, (x,))

    inputs = (k, *(t.detach().clone().requires_grad_(True) for t in tensors))
    assert torch.autograd.gradcheck(output, inputs, eps=1e-6, atol=1e-6)


def test_short_training_reduces_the_error():
    model = _model(basis=10, width=10, depth=2, per_expert=4, experts=2, ridge=1e-8)
    xs = torch.linspace(0, 1, 101, dtype=torch.float64)[:, None]
    exact = torch.sin(math.pi * xs)

    def error():
        with torch.no_grad():
            return float((model(xs) - exact).norm() / exact.norm())

    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    pts = torch.rand(64, 1, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    before = error()
    for _ in range(150):
        x = pts.clone().requires_grad_(True)
        loss = _pde(x, model(x), model.params).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    # A halving at least; the failure message shows the measured pair.
    assert error() < 0.5 * before, (before, error())


def test_interface_jumps_compare_neighbouring_experts():
    model = _model(experts=3)
    cond = ExpertInterfaces(inner_edges=tuple(float(e) for e in model.edges[1:-1]), axis=0)
    x = cond.sample(Interval(0.0, 1.0), 50, generator=torch.Generator().manual_seed(2), dtype=torch.float64)["x"]
    edges = model.edges[1:-1]
    assert bool(((x - edges).abs().min(dim=1).values == 0).all())  # every point sits on an inner edge
    jump = cond.residual(model, {"x": x}, {})
    left = (x - edges).abs().argmin(dim=1)
    xr = x.clone().requires_grad_(True)
    ul, ur = model(xr, left), model(xr, left + 1)
    dl = torch.autograd.grad(ul.sum(), xr)[0]
    dr = torch.autograd.grad(ur.sum(), xr)[0]
    # The same expressions in a differently stacked batch: equal up to round-off of O(1e3) values.
    torch.testing.assert_close(jump, torch.cat([ul - ur, dl - dr], dim=1).detach(), rtol=1e-12, atol=1e-10)
    assert float(jump[:, 0].detach().abs().max()) > 1e-6  # untrained experts do disagree at their edges


_SMALL = ["model.width=8", "model.depth=1", "moe.basis=6", "moe.points=4", "moe.experts=2", "sampler.sizes.pde=50",
          "threads=1"]


def test_cli_mode_builds_affine_and_nonlinear_pdes():
    result = physopt.solve("diffusion-reaction", constraints="hard-moe", optimizer="adam", steps=2, seed=0,
                           overrides=_SMALL)
    assert isinstance(result.model, MixtureOfExperts)
    assert not result.model.nonlinear  # affine residual: the single ridge solve, as before
    assert max(result.metrics["constraint_violation"].values()) <= 1e-12  # bc/ic through the exact ansatz
    burgers = physopt.solve("burgers", constraints="hard-moe", optimizer="adam", steps=2, seed=0, overrides=_SMALL)
    assert burgers.model.nonlinear  # u·u_x: Levenberg–Marquardt
    assert math.isfinite(burgers.report.rel_l2)


def test_homogeneous_eigenproblem_is_rejected():
    # -ψ'' + Vψ = Eψ with ψ = 0 on the boundary: r(0) ≡ 0, so every expert would return ψ = 0.
    with pytest.raises(ConfigError, match="trivial solution"):
        physopt.solve("quantum-well", constraints="hard-moe", steps=1, overrides=_SMALL)


def _cubic(x, u, params):
    # u'' + u³ = f on [0, 1], exact u = sin(πx): nonlinear in u.
    s = torch.sin(math.pi * x)
    return ops.partial(u, x, 0, 0) + u**3 - (s**3 - math.pi**2 * s)


def _cubic_model(*, iterations, residual=_cubic, nonlinear=True):
    # Fixed, well-spread tanh features (an MLP at init gives nearly collinear ones, cond(J) ~1e7,
    # which slows LM without testing anything more); 2 experts × 4 points × 4 features: square
    # systems, so the residual can vanish and the IFT derivative is exact.
    net = torch.nn.Sequential(torch.nn.Linear(1, 4, dtype=torch.float64), torch.nn.Tanh())
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[-5.0], [-2.0], [1.5], [4.0]]))
        net[0].bias.copy_(torch.tensor([1.0, -0.3, 0.2, -2.5]))
    gen = torch.Generator().manual_seed(0)
    points, edges = slab_points(Interval(0.0, 1.0), experts=2, per_expert=4, axis=0, generator=gen,
                                dtype=torch.float64)
    return MixtureOfExperts(net, residual=residual, points=points, edges=edges, ridge=0.0, nonlinear=nonlinear,
                            iterations=iterations, lift=lambda x: torch.zeros_like(x[:, :1]),
                            distance=lambda x: x * (1 - x))


def test_levenberg_marquardt_solves_a_nonlinear_residual():
    model = _cubic_model(iterations=12)
    assert model.check_affine(generator=torch.Generator().manual_seed(1)) > 1e-4  # really nonlinear
    start = float(model.residual_at(torch.zeros(2, 4, dtype=torch.float64)).detach().abs().max())
    r = float(model.residual_at(model.coefficients().detach()).detach().abs().max())
    # Gauss–Newton converges quadratically once μ has decayed (measured ~1e-14 after 9 iterations
    # from a start of 8.8); 1e-9 relative leaves room for round-off in the cond(J) ~3e3 solves and
    # is ~8 orders below the residual of ω = 0.
    assert r <= 1e-9 * start, (r, start)


def test_levenberg_marquardt_gradient_matches_finite_differences():
    model = _cubic_model(iterations=12)
    x = torch.tensor([[0.1], [0.35], [0.6], [0.9]], dtype=torch.float64)
    weight = model.basis[0].weight

    def loss():
        return (model(x) ** 2).sum()

    (grad,) = torch.autograd.grad(loss(), weight)
    fd = torch.zeros_like(weight)
    h = 1e-6
    with torch.no_grad():
        for i in range(weight.shape[0]):
            weight[i, 0] += h
            up = float(loss())
            weight[i, 0] -= 2 * h
            down = float(loss())
            weight[i, 0] += h
            fd[i, 0] = (up - down) / (2 * h)
    # Central differences of the whole LM pipeline: O(h²) ~1e-12 truncation plus solve round-off
    # (~1e-14 residuals amplified by cond(J) ~3e3 and divided by 2h) ~1e-5 absolute at worst; the
    # gradient entries are O(1), so rtol 1e-5 is a real check of the IFT formula.
    torch.testing.assert_close(grad, fd, rtol=1e-5, atol=1e-5)
    assert float(grad.abs().max()) > 1e-2  # not a vacuous match of zeros


def test_levenberg_marquardt_on_an_affine_residual_matches_the_ridge_solve():
    def poisson(x, u, params):  # u'' = -π² sin(πx): affine in u
        return ops.partial(u, x, 0, 0) + math.pi**2 * torch.sin(math.pi * x)

    affine = _cubic_model(iterations=0, residual=poisson, nonlinear=False)
    assert affine.check_affine(generator=torch.Generator().manual_seed(1)) < 1e-12
    lm = _cubic_model(iterations=12, residual=poisson)
    exact = affine.coefficients().detach()
    # The affine path is the unchanged single ridge solve (the tests above pin it); LM on the same
    # square systems must land on the same unique solution. Its first step is damped (μ = 1e-3) and
    # later ones recover the rest; cond(A) ~3e3 bounds the agreement to ~1e-12 relative, and 1e-9
    # leaves room for round-off along the way.
    torch.testing.assert_close(lm.coefficients().detach(), exact, rtol=1e-9, atol=1e-9 * float(exact.abs().max()))


@pytest.mark.slow  # three runs with run directories and plots: ~20 s on a loaded 2-core machine
def test_hard_moe_resumes_bit_for_bit(tmp_path, stop_at):
    common = dict(constraints="hard-moe", optimizer="adam", steps=6, seed=1,
                  overrides=["model.width=6", "model.depth=1", "moe.basis=5", "moe.points=3", "moe.experts=2",
                             "sampler.sizes.pde=40", "threads=1", "checkpoint_every=2", "eval_every=3"])
    full = physopt.solve("diffusion-reaction", out=tmp_path / "full", **common)
    part = physopt.solve("diffusion-reaction", out=tmp_path / "part", callbacks=[stop_at(3)], **common)
    assert part.status == "interrupted"
    resumed = physopt.resume(tmp_path / "part")
    # float64 on CPU with one thread is deterministic; the enforcement points are buffers.
    assert resumed.report.rel_l2 == full.report.rel_l2
    for (k, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
