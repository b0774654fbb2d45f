"""PeriodicEmbedding: exact periodicity, its config key, and resume with it."""

import math

import pytest
import torch

import physopt
from physopt.config import ConfigError, build, resolve
from physopt.models import MLP, PeriodicEmbedding, periodic_features


def _net(*, axes=(0,), periods=(2.0,), in_dim=2, harmonics=2, seed=0):
    feats = PeriodicEmbedding.features(in_dim=in_dim, axes=axes, harmonics=harmonics)
    mlp = MLP(in_dim=feats, out_dim=1, width=16, depth=3, generator=torch.Generator().manual_seed(seed))
    return PeriodicEmbedding(mlp, in_dim=in_dim, axes=axes, periods=periods, harmonics=harmonics)


def test_output_and_derivatives_are_periodic_to_round_off():
    net = _net(periods=(3.0,))  # a period other than 2: the frequency must come from it
    g = torch.Generator().manual_seed(1)
    t = torch.rand(50, 1, generator=g, dtype=torch.float64)
    lo = torch.cat([torch.full_like(t, -0.5), t], dim=1).requires_grad_(True)
    hi = torch.cat([torch.full_like(t, 2.5), t], dim=1).requires_grad_(True)
    ua, ub = net(lo), net(hi)
    # 1e-12: a few ulps of cos/sin at x and x + P, amplified by the network (outputs are O(1)).
    assert (ua - ub).abs().max() < 1e-12
    ga = torch.autograd.grad(ua.sum(), lo, create_graph=True)[0][:, 0]
    gb = torch.autograd.grad(ub.sum(), hi, create_graph=True)[0][:, 0]
    assert (ga - gb).abs().max() < 1e-11  # same round-off, times the O(1-10) first derivatives
    # and the output is not constant along x, so the check above is not trivially true
    mid = torch.cat([torch.full_like(t, 0.25), t], dim=1)
    assert (net(mid) - ua).abs().max() > 1e-3


def test_features_layout():
    x = torch.tensor([[0.5, 0.2, 7.0]], dtype=torch.float64)
    f = periodic_features(x, axes=(0,), periods=(2.0,), harmonics=2)
    w = math.pi  # 2π / 2
    expected = [0.2, 7.0, math.cos(w * 0.5), math.cos(2 * w * 0.5), math.sin(w * 0.5), math.sin(2 * w * 0.5)]
    torch.testing.assert_close(f, torch.tensor([expected], dtype=torch.float64), rtol=0, atol=1e-15)
    lo, hi = PeriodicEmbedding.feature_bounds(([-1.0, 0.0, 5.0], [1.0, 1.0, 9.0]), axes=(0,), harmonics=2)
    assert lo == [0.0, 5.0, -1.0, -1.0, -1.0, -1.0] and hi == [1.0, 9.0, 1.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("kw", "match"),
    [(dict(axes=(), periods=()), "one period per axis"), (dict(axes=(0, 0), periods=(1.0, 1.0)), "distinct"),
     (dict(axes=(2,), periods=(1.0,)), "distinct"), (dict(axes=(0,), periods=(0.0,)), "periods"),
     (dict(axes=(0,), periods=(1.0,), harmonics=0), "harmonics")],
)
def test_bad_arguments_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        PeriodicEmbedding(torch.nn.Identity(), in_dim=2, **kw)


def test_config_key_makes_kdv_periodicity_exact_and_drops_it_from_the_loss():
    b = build(resolve("kdv", overrides=["model.periodic=true", "model.width=8", "model.depth=2"]))
    assert b.objective.roles["bc"].kind == "hard" and "bc" not in b.objective.trained
    cond = b.problem.conditions["bc"]  # u, u_x, u_xx on both faces, through the hard IC ansatz
    batch = cond.sample(b.problem.domain, 100, generator=torch.Generator().manual_seed(2), dtype=b.dtype)
    assert cond.residual(b.model, batch, {}).abs().max() < 1e-10  # round-off of third-order autograd
    plain = build(resolve("kdv", overrides=["model.periodic=false", "model.width=8", "model.depth=2"]))
    assert plain.objective.roles["bc"].kind == "penalty"


def test_non_periodic_lift_keeps_the_condition_in_the_loss():
    # Allen–Cahn's hard IC lift x² cos(πx) has u_x(-1) = 2 ≠ u_x(1) = -2: not exact, so bc stays trained.
    b = build(resolve("allen-cahn", overrides=["model.periodic=true", "model.width=8", "model.depth=2"]))
    assert b.objective.roles["bc"].kind == "penalty"


def test_refuses_problems_without_periodic_conditions():
    with pytest.raises(ConfigError, match=r"model.periodic.*'burgers'.*Dirichlet"):
        build(resolve("burgers", overrides=["model.periodic=true"]))
    with pytest.raises(ConfigError, match="harmonics"):
        build(resolve("kdv", overrides=["model.periodic=true", "model.harmonics=0"]))
    with pytest.raises(ConfigError, match="holds exactly"):  # a multiplier for a condition that cannot be violated
        build(resolve("kdv", overrides=["model.periodic=true", "roles.bc=alm"]))
    with pytest.raises(ConfigError, match="lpinn"):
        build(resolve("kdv", overrides=["model.periodic=true", "method=lpinn"]))


def test_resume_with_the_embedding_equals_uninterrupted(tmp_path, stop_at):
    common = dict(optimizer="adam+ssbroyden", steps=16, seed=3, overrides=[
        "model.periodic=true", "model.harmonics=2", "model.width=8", "model.depth=2", "sampler.sizes.pde=100",
        "optim.switch_at=8", "checkpoint_every=5", "eval_every=1000"])
    full = physopt.solve("kdv", **common)
    part = tmp_path / "part"
    assert physopt.solve("kdv", out=part, callbacks=[stop_at(10)], **common).status == "interrupted"
    resumed = physopt.resume(part)
    assert resumed.report.rel_l2 == full.report.rel_l2  # bit-for-bit: float64, CPU, same threads
    for (k, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    pts = torch.tensor([[-1.0, 0.5], [1.0, 0.5]], dtype=torch.float64).numpy()
    u = physopt.load(part).predict(pts)  # the loaded run rebuilds the embedding from config.toml
    assert u.shape == (2, 1) and abs(u[0, 0] - u[1, 0]) < 1e-12  # periodic to round-off, as above
