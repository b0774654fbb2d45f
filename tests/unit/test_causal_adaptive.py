"""Causal weights (Wang et al.) and RAD/RAR adaptive sampling (Wu et al.) against their formulas."""

import math

import pytest
import torch

from physopt.problems import get
from physopt.training import Causal, Sampler
from physopt.training._adaptive import rad_probabilities, rad_select, rar_select
from physopt.training._causal import bin_losses, causal_weights


def test_causal_weights_match_the_formula_on_a_hand_made_residual():
    # Four bins on [0, 1]; two points per bin, except bin 2 which is empty.
    t = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.8, 0.9, 1.0, 0.95], dtype=torch.float64)
    r = torch.tensor([1.0, 3.0, 2.0, 0.0, 1.0, 1.0, 2.0, 2.0], dtype=torch.float64)[:, None]
    L, idx = bin_losses(r[:, 0] ** 2, t, bins=4, t0=0.0, t1=1.0)
    assert idx.tolist() == [0, 0, 1, 1, 3, 3, 3, 3]  # t = 1 belongs to the last (closed) bin
    assert L.tolist() == [5.0, 2.0, 0.0, 2.5]  # means of r² per bin; the empty bin is 0
    eps = 0.3
    w = causal_weights(L, eps)
    expected = [1.0, math.exp(-eps * 5), math.exp(-eps * 7), math.exp(-eps * 7)]
    # exact up to rounding
    torch.testing.assert_close(w, torch.tensor(expected, dtype=torch.float64), rtol=1e-15, atol=0)
    assert torch.all(w[1:] <= w[:-1])  # monotone: a later bin never outweighs an earlier one
    c = Causal(epsilon=eps, bins=4, t0=0.0, t1=1.0)
    x = torch.stack([torch.zeros_like(t), t], 1)
    loss = c.loss(r, x)
    by_hand = sum(expected[i] * float(r[j, 0]) ** 2 for j, i in enumerate(idx.tolist())) / len(t)
    assert loss.item() == pytest.approx(by_hand, rel=1e-14)  # float64 rounding only
    assert c.min_weight == pytest.approx(math.exp(-eps * 7), rel=1e-14)


def test_causal_weights_are_detached_and_monotone_for_random_residuals():
    gen = torch.Generator().manual_seed(0)
    r = torch.randn(500, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    t = torch.rand(500, generator=gen, dtype=torch.float64)
    c = Causal(epsilon=1.0, bins=16, t0=0.0, t1=1.0)
    loss = c.loss(r, torch.stack([t, t], 1))
    (g,) = torch.autograd.grad(loss, r)
    # Stop-gradient: d loss / d r_j = 2 w_bin(j) r_j / (N k) exactly, no term through the weights.
    L, idx = bin_losses((r.detach() ** 2).mean(1), t, bins=16, t0=0.0, t1=1.0)
    w = causal_weights(L, 1.0)
    torch.testing.assert_close(g, 2 * w[idx][:, None] * r.detach() / r.numel(), rtol=1e-13, atol=0)  # rounding only
    assert torch.all(w[1:] <= w[:-1])


def test_causal_with_zero_epsilon_is_the_plain_mean_square():
    gen = torch.Generator().manual_seed(1)
    r = torch.randn(300, 1, generator=gen, dtype=torch.float64)
    x = torch.rand(300, 2, generator=gen, dtype=torch.float64)
    c = Causal(epsilon=0.0, bins=7, t0=0.0, t1=1.0)
    assert c.loss(r, x).item() == pytest.approx((r**2).mean().item(), rel=1e-14)  # summation order only


def test_causal_annealing_and_validation():
    c = Causal(epsilon=0.0, bins=2, t0=0.0, t1=1.0, epsilons=[0.1, 1.0], threshold=0.5)
    assert c.epsilon == 0.1
    x = torch.tensor([[0.0, 0.1], [0.0, 0.9]], dtype=torch.float64)
    c.loss(torch.tensor([[10.0], [0.0]], dtype=torch.float64), x)  # w_1 = exp(-0.1 * 100) < 0.5
    c.after_step()
    assert c.epsilon == 0.1
    c.loss(torch.tensor([[1.0], [0.0]], dtype=torch.float64), x)  # w_1 = exp(-0.1) > 0.5
    c.after_step()
    assert c.epsilon == 1.0 and c.state_dict()["level"] == 1
    with pytest.raises(ValueError, match="bins"):
        Causal(epsilon=1.0, bins=0, t0=0.0, t1=1.0)
    with pytest.raises(ValueError, match="epsilon"):
        Causal(epsilon=-1.0, bins=4, t0=0.0, t1=1.0)


def test_rad_probabilities_formula():
    norms = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64)
    p = rad_probabilities(norms, k=2.0, c=0.5)
    density = norms**2 / (10 / 3) + 0.5  # E|r|^2 = (0 + 1 + 9) / 3
    torch.testing.assert_close(p, density / density.sum(), rtol=1e-15, atol=0)  # rounding only
    torch.testing.assert_close(rad_probabilities(torch.zeros(4), k=1.0, c=0.0),
                               torch.full((4,), 0.25, dtype=torch.float64))
    with pytest.raises(ValueError, match="k"):
        rad_probabilities(norms, k=-1.0, c=1.0)


def _planted(x):
    """|r| = 1 on the strip x < 0.2·2π (a fifth of the convection domain), 0 elsewhere."""
    return (x[:, :1] < 0.2 * 2 * math.pi).to(x.dtype)


def test_rad_concentrates_where_the_residual_is_large():
    problem = get("convection")
    n, cand = 2000, 100_000
    s = Sampler(problem, sizes={"pde": n, "bc": 10}, generator=torch.Generator().manual_seed(0),
                resample_every=5, method="rad", candidates=cand, rad_k=1.0, rad_c=1.0)
    before = s.batch(0)["pde"]["x"]
    s.adapt(3, lambda name, b: _planted(b["x"]))  # not due yet
    assert s.batch(3)["pde"]["x"] is before
    s.adapt(5, lambda name, b: _planted(b["x"]))
    assert s.drawn_at == 5
    x = s.batch(5)["pde"]["x"]
    assert x.shape == (n, 2)
    frac = float(_planted(x).mean())
    # Density 1/0.2 + 1 = 6 on the strip (area 0.2) vs 1 elsewhere: expected fraction
    # 0.2·6 / (0.2·6 + 0.8) = 0.6. Binomial std sqrt(0.6·0.4/n) = 0.011; drawing without
    # replacement depletes the strip by at most n/(0.2·cand) = 10 % of its mass, a bias < 0.025.
    # Tolerance: 4 std + that bias. A uniform sampler would give 0.2, far outside.
    assert abs(frac - 0.6) < 4 * math.sqrt(0.24 / n) + 0.025, frac


def test_rad_select_matches_density_in_expectation_and_rar_takes_the_top():
    gen = torch.Generator().manual_seed(2)
    cand = torch.linspace(0, 1, 1001, dtype=torch.float64)[:, None]
    norms = cand[:, 0].clone()
    top = rar_select(cand, norms, 10)
    assert sorted(top[:, 0].tolist()) == pytest.approx(torch.linspace(0.991, 1.0, 10).tolist())
    with pytest.raises(ValueError, match="candidates"):
        rad_select(cand, norms, 2000, k=1.0, c=1.0, generator=gen)


def test_rar_appends_worst_candidates_and_validation():
    problem = get("convection")
    s = Sampler(problem, sizes={"pde": 100}, generator=torch.Generator().manual_seed(0),
                resample_every=10, method="rar", candidates=5000, rar_add=50)
    s.batch(0)
    s.adapt(10, lambda name, b: (2 * math.pi - b["x"][:, :1]))  # largest near x = 0
    x = s.batch(10)["pde"]["x"]
    assert x.shape == (150, 2)
    assert float(x[100:, 0].max()) < 0.1  # 50 of 5000 Sobol candidates: x below ~1 % of 2π
    with pytest.raises(ValueError, match="candidates"):
        Sampler(problem, sizes={"pde": 100}, generator=torch.Generator(), method="rad", candidates=10,
                resample_every=5)
    with pytest.raises(ValueError, match="method"):
        Sampler(problem, sizes={"pde": 100}, generator=torch.Generator(), method="rad2")
    with pytest.raises(ValueError, match="resample_every"):
        Sampler(problem, sizes={"pde": 100}, generator=torch.Generator(), method="rar")


def test_boundary_residuals_get_the_pde_weights_of_their_time_bin():
    c = Causal(epsilon=1.0, bins=2, t0=0.0, t1=1.0)
    rb = torch.tensor([[1.0], [2.0]], dtype=torch.float64)
    xb = torch.tensor([[0.0, 0.2], [0.0, 0.7]], dtype=torch.float64)
    assert c.weighted(rb, xb).item() == pytest.approx(2.5, rel=1e-15)  # before any PDE evaluation: plain
    x = torch.tensor([[0.5, 0.1], [0.5, 0.9]], dtype=torch.float64)
    c.loss(torch.tensor([[3.0], [1.0]], dtype=torch.float64), x)  # L = [9, 1]: w = [1, e^-9]
    expected = (1.0 * 1.0 + math.exp(-9.0) * 4.0) / 2
    assert c.weighted(rb, xb).item() == pytest.approx(expected, rel=1e-14)  # rounding only


def test_weights_are_held_within_a_step_and_released_after_it():
    # A line search evaluates several trial points in one step: they must share one objective.
    c = Causal(epsilon=1.0, bins=2, t0=0.0, t1=1.0)
    x = torch.tensor([[0.5, 0.1], [0.5, 0.9]], dtype=torch.float64)
    c.loss(torch.tensor([[2.0], [0.0]], dtype=torch.float64), x)  # w = [1, e^-4]
    held = c.loss(torch.tensor([[0.0], [1.0]], dtype=torch.float64), x)
    assert held.item() == pytest.approx(math.exp(-4.0) / 2, rel=1e-14)  # still e^-4 on the late bin
    c.after_step()
    fresh = c.loss(torch.tensor([[0.0], [1.0]], dtype=torch.float64), x)  # L_0 = 0: w = [1, 1]
    assert fresh.item() == pytest.approx(0.5, rel=1e-14)
