"""Duals: primal-loss gradients, update order, safeguards, validation and checkpointing."""

from __future__ import annotations

import copy
import io
import itertools
import math

import pytest
import torch

import physopt.constrained as pc
from physopt.constrained import (
    AdaptivePenalty,
    Constraint,
    Duals,
    GradientAscent,
    GrowOnStall,
    Indexed,
    NuPI,
)

D = torch.float64


def _x(n: int = 4, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=D).requires_grad_()


def _warm(duals: Duals, values: dict[str, torch.Tensor], steps: int = 3) -> None:
    """Move the multipliers away from 0 with a few steps on fixed values."""
    for _ in range(steps):
        duals.step(torch.zeros((), dtype=D), values)


def test_public_names_resolve() -> None:
    for name in pc.__all__:
        assert getattr(pc, name) is not None


# ------------------------------------------------------------------ gradient of the primal loss
def test_alm_equality_gradient_is_grad_f_plus_lambda_plus_rho_h() -> None:
    x = _x()
    a = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=D)
    duals = Duals({"h": Constraint("eq", multiplier="pointwise", penalty=2.5)}, formulation="alm")
    _warm(duals, {"h": torch.tensor([0.3, -0.1, 0.2, 0.4], dtype=D)})
    lam = duals.multipliers["h"]
    assert lam is not None and lam.abs().min() > 0  # the test below would not see λ otherwise
    h = x * x - a  # pointwise equality, ∇h_i = 2 x_i e_i
    f = (x**3).sum()
    duals.step(f, {"h": h}).backward()
    expected = 3 * x.detach() ** 2 + (lam + 2.5 * h.detach()) * 2 * x.detach()
    torch.testing.assert_close(x.grad, expected, rtol=0, atol=1e-12)  # same float64 ops, round-off


def test_alm_inequality_phr_value_and_gradient() -> None:
    # g = x - c with entries active (λ + ρg > 0) and inactive (λ + ρg ≤ 0).
    x = _x()
    c = torch.tensor([0.0, 5.0, -5.0, 0.2], dtype=D)
    rho = 3.0
    duals = Duals({"g": Constraint("ineq", penalty=rho)}, formulation="alm")
    _warm(duals, {"g": torch.tensor([0.5, 0.1, -1.0, 0.2], dtype=D)})
    lam = duals.multipliers["g"]
    assert lam is not None and (lam >= 0).all() and lam.max() > 0
    g = x - c
    out = duals.step(torch.zeros((), dtype=D), {"g": g})
    gd = g.detach()
    phr = 0.5 * rho * torch.clamp(gd + lam / rho, min=0) ** 2 - lam**2 / (2 * rho)
    torch.testing.assert_close(out.detach(), phr.sum(), rtol=0, atol=1e-12)
    out.backward()
    torch.testing.assert_close(x.grad, torch.clamp(lam + rho * gd, min=0), rtol=0, atol=1e-12)
    active = lam + rho * gd > 0
    assert active.any() and (~active).any()


@pytest.mark.parametrize("kind", ["eq", "ineq"])
def test_lagrangian_and_penalty_gradients(kind: str) -> None:
    x = _x()
    lag = Duals({"c": Constraint(kind, multiplier="pointwise")}, formulation="lagrangian")
    pen = Duals({"c": Constraint(kind, multiplier="pointwise", penalty=4.0)}, formulation="penalty")
    _warm(lag, {"c": torch.tensor([0.5, 0.1, -1.0, 0.2], dtype=D)})
    lam = lag.multipliers["c"]
    lag.step(torch.zeros((), dtype=D), {"c": x - 0.1}).backward()
    torch.testing.assert_close(x.grad, lam, rtol=0, atol=0)  # ∇(λ·(x−0.1)) = λ exactly
    x.grad = None
    pen.step(torch.zeros((), dtype=D), {"c": x - 0.1}).backward()
    v = x.detach() - 0.1 if kind == "eq" else torch.clamp(x.detach() - 0.1, min=0)
    torch.testing.assert_close(x.grad, 4.0 * v, rtol=0, atol=1e-12)


def test_mean_reduction_divides_by_the_number_of_entries() -> None:
    x = _x()
    s = Duals({"c": Constraint("eq", penalty=2.0)}).step(torch.zeros((), dtype=D), {"c": x})
    m = Duals({"c": Constraint("eq", penalty=2.0, reduction="mean")}).step(
        torch.zeros((), dtype=D), {"c": x}
    )
    torch.testing.assert_close(m, s / 4, rtol=1e-15, atol=0)


def test_multipliers_get_no_gradient_and_old_losses_stay_differentiable() -> None:
    x = _x()
    duals = Duals({"h": Constraint("eq", multiplier="pointwise")})
    first = duals.step((x**2).sum(), {"h": x - 1})
    second = duals.step((x**2).sum(), {"h": x - 1})  # replaces the multipliers, never in place
    first.backward()  # would raise "modified by an inplace operation" if λ were mutated
    second.backward()
    lam = duals.multipliers["h"]
    assert lam is not None and not lam.requires_grad and lam.grad is None


# ------------------------------------------------------------------ order of the updates
def test_primal_uses_pre_update_multipliers_and_dual_uses_this_steps_values() -> None:
    x = torch.tensor(2.0, dtype=D, requires_grad=True)
    rho = 0.5
    duals = Duals({"h": Constraint("eq", penalty=rho)}, formulation="alm")
    duals.step(x * 0, {"h": x - 1}).backward()  # λ_0 = 0 → gradient ρ h = 0.5
    assert x.grad.item() == pytest.approx(rho * 1.0, abs=1e-15)
    assert duals.multipliers["h"].item() == pytest.approx(rho * 1.0, abs=1e-15)  # λ_1 = λ_0 + ρh_0
    x.grad = None
    with torch.no_grad():
        x.fill_(3.0)
    duals.step(x * 0, {"h": x - 1}).backward()  # gradient (λ_1 + ρ h_1) = 0.5 + 1.0
    assert x.grad.item() == pytest.approx(1.5, abs=1e-15)
    assert duals.multipliers["h"].item() == pytest.approx(1.5, abs=1e-15)


def test_alm_inequality_dual_step_is_method_of_multipliers() -> None:
    duals = Duals({"g": Constraint("ineq", penalty=2.0, multiplier="pointwise")})
    _warm(duals, {"g": torch.tensor([1.0, 0.5], dtype=D)}, steps=1)  # λ = max(0, 0 + 2g) = [2, 1]
    duals.step(torch.zeros((), dtype=D), {"g": torch.tensor([-0.4, -3.0], dtype=D)})
    # λ ← max(0, λ + ρg) = [2 − 0.8, max(0, 1 − 6)] = [1.2, 0]
    torch.testing.assert_close(duals.multipliers["g"], torch.tensor([1.2, 0.0], dtype=D))


def test_safeguards_projection_and_box() -> None:
    duals = Duals(
        {
            "g": Constraint("ineq", multiplier="pointwise", max_multiplier=3.0),
            "h": Constraint("eq", multiplier="pointwise", max_multiplier=3.0),
        },
        formulation="lagrangian",
    )
    for _ in range(5):
        duals.step(
            torch.zeros((), dtype=D),
            {"g": torch.tensor([-1.0, 2.0], dtype=D), "h": torch.tensor([-2.0, 2.0], dtype=D)},
        )
    torch.testing.assert_close(duals.multipliers["g"], torch.tensor([0.0, 3.0], dtype=D))
    torch.testing.assert_close(duals.multipliers["h"], torch.tensor([-3.0, 3.0], dtype=D))


def test_penalty_formulation_reports_first_order_estimates() -> None:
    duals = Duals(
        {"h": Constraint("eq", penalty=10.0), "g": Constraint("ineq", penalty=10.0)},
        formulation="penalty",
    )
    duals.step(
        torch.zeros((), dtype=D),
        {"h": torch.tensor(0.2, dtype=D), "g": torch.tensor(-0.3, dtype=D)},
    )
    st = duals.stats()
    assert st["h"]["multiplier"] == pytest.approx(2.0) and st["g"]["multiplier"] == 0.0


# ------------------------------------------------------------------ pointwise / indexed
def test_indexed_updates_only_observed_rows_and_averages_duplicates() -> None:
    duals = Duals({"bc": Constraint("eq", multiplier="pointwise", num_points=5, penalty=1.0)})
    vals = torch.tensor([1.0, 3.0, -2.0], dtype=D)
    duals.step(torch.zeros((), dtype=D), {"bc": Indexed(vals, torch.tensor([1, 1, 4]))})
    torch.testing.assert_close(duals.multipliers["bc"], torch.tensor([0, 2.0, 0, 0, -2.0], dtype=D))


def test_indexed_gradient_uses_the_rows_of_the_index() -> None:
    duals = Duals({"bc": Constraint("eq", multiplier="pointwise", num_points=4, penalty=1.0)})
    _warm(duals, {"bc": torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=D)}, steps=1)  # λ = [1, 2, 3, 4]
    x = torch.zeros(2, dtype=D, requires_grad=True)
    duals.step(torch.zeros((), dtype=D), {"bc": Indexed(x, torch.tensor([3, 0]))}).backward()
    torch.testing.assert_close(x.grad, torch.tensor([4.0, 1.0], dtype=D))  # λ_idx + ρ·0


# ------------------------------------------------------------------ dual update rules
def _trajectory(dual: object, steps: int = 12) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    duals = Duals(
        {"h": Constraint("eq", multiplier="pointwise", dual=dual)}, formulation="lagrangian"
    )
    out = []
    for _ in range(steps):
        duals.step(torch.zeros((), dtype=D), {"h": torch.randn(3, generator=g, dtype=D)})
        out.append(duals.multipliers["h"])
    return out


def test_nupi_reductions() -> None:
    plain = _trajectory(GradientAscent(lr=0.1))
    for a, b in zip(_trajectory(NuPI(lr=0.1, kp=0.0, ki=1.0, ema_nu=0.7)), plain, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)  # K_P = 0, K_I = 1 is gradient ascent
    for a in _trajectory(NuPI(lr=0.1, kp=0.0, ki=0.0)):
        assert torch.count_nonzero(a) == 0  # no gain: the multipliers never move
    # K_P = K_I = 1, ν = 0: optimistic ascent λ_{t+1} = λ_t + η(2e_t − e_{t−1}), first step η e_0.
    g = torch.Generator().manual_seed(3)
    es = [torch.randn(3, generator=g, dtype=D) for _ in range(12)]
    lam, prev, expected = torch.zeros(3, dtype=D), None, []
    for e in es:
        lam = lam + 0.1 * (e if prev is None else 2 * e - prev)
        prev = e
        expected.append(lam)
    for a, b in zip(_trajectory(NuPI(lr=0.1, kp=1.0, ki=1.0)), expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-14)  # same ops, different grouping


# ------------------------------------------------------------------ penalty updaters
def _run_updater(updater: object, violations: list[float]) -> list[float]:
    duals = Duals({"h": Constraint("eq", penalty=updater)}, formulation="penalty")
    rhos = []
    for v in violations:
        duals.step(torch.zeros((), dtype=D), {"h": torch.tensor(v, dtype=D)})
        rhos.append(duals.penalties["h"])
    return rhos


def test_grow_on_stall_grows_only_when_violation_stalls() -> None:
    upd = GrowOnStall(init=1.0, growth=2.0, decrease=0.5, interval=4, rho_max=16.0)
    stalled = _run_updater(upd, [0.1] * 40)
    assert stalled[3] == 1.0  # the first window has nothing to compare with
    assert stalled[7] == 2.0 and stalled[11] == 4.0 and stalled[-1] == 16.0  # ×2 per window, capped
    assert all(r in (1.0, 2.0, 4.0, 8.0, 16.0) for r in stalled)
    decaying = _run_updater(upd, [0.1 * 0.7**k for k in range(40)])  # window means drop 0.7⁴ ≈ 0.24
    assert set(decaying) == {1.0}
    tiny = _run_updater(GrowOnStall(interval=2, tol=1e-3), [1e-4] * 10)  # below tol: feasible
    assert set(tiny) == {1.0}


def test_adaptive_penalty_is_monotone_and_follows_violation_size() -> None:
    upd = AdaptivePenalty(init=1.0, eta=1e-2, zeta=0.9)
    big = _run_updater(upd, [1e-1] * 20)
    small = _run_updater(upd, [1e-4] * 20)
    assert set(big) == {1.0}  # η / RMS(V) = 0.1 < ρ₀: the max keeps ρ₀
    # Bias-corrected RMS is exact; ε = 1e-16 added to v̄ = 1e-8 shifts ρ by a relative 5e-9.
    assert small[-1] == pytest.approx(1e-2 / 1e-4, rel=1e-8)
    mixed = _run_updater(upd, [1e-4] * 10 + [1.0] * 10)
    assert all(b >= a for a, b in itertools.pairwise(mixed))  # never decreases


# ------------------------------------------------------------------ validation
def test_bad_input_raises_value_error_naming_it() -> None:
    duals = Duals({"bc": Constraint("eq", multiplier="pointwise"), "m": "ineq"})
    z = torch.zeros((), dtype=D)
    with pytest.raises(ValueError, match="'bcc'"):
        duals.step(z, {"bcc": torch.zeros(3)})
    duals.step(z, {"bc": torch.zeros(3)})
    with pytest.raises(ValueError, match=r"'bc' changed shape.*\(3,\).*\(4,\)"):
        duals.step(z, {"bc": torch.zeros(4)})
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="'m' has non-finite"):
            duals.step(z, {"m": torch.tensor(bad)})
    with pytest.raises(ValueError, match="'m' has a scalar multiplier.*\\(2,\\)"):
        Duals({"m": Constraint("ineq", multiplier="scalar")}).step(z, {"m": torch.zeros(2)})
    with pytest.raises(ValueError, match="'almm'"):
        Duals({"m": "eq"}, formulation="almm")
    with pytest.raises(ValueError, match="'sqp'"):
        Constraint("eq", formulation="sqp")
    with pytest.raises(ValueError, match="'le'"):
        Constraint("le")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_points"):
        duals.step(z, {"bc": Indexed(torch.zeros(2), torch.tensor([0, 1]))})
    idx = Duals({"bc": Constraint("eq", multiplier="pointwise", num_points=3)})
    with pytest.raises(ValueError, match=r"\[0, 3\).*\[0, 7\]"):
        idx.step(z, {"bc": Indexed(torch.zeros(2), torch.tensor([0, 7]))})
    with pytest.raises(ValueError, match="one-element"):
        duals.step(torch.zeros(2), {})
    with pytest.raises(ValueError, match="lr"):
        GradientAscent(lr=-1.0)
    with pytest.raises(ValueError, match="penalty"):
        Constraint("eq", penalty=0.0)


# ------------------------------------------------------------------ history and checkpoints
def test_stats_are_plain_floats() -> None:
    duals = Duals({"bc": Constraint("eq", multiplier="pointwise"), "m": "ineq"})
    assert math.isnan(duals.stats()["bc"]["violation"])
    duals.step(torch.zeros(()), {"bc": torch.tensor([1.0, -3.0]), "m": torch.tensor(0.5)})
    st = duals.stats()
    assert st["bc"] == {"multiplier": -1.0, "multiplier_max": 3.0, "penalty": 1.0, "violation": 3.0}
    assert all(type(v) is float for d in st.values() for v in d.values())


def _make(model: torch.nn.Module) -> tuple[Duals, torch.optim.Optimizer]:
    duals = Duals(
        {
            "bc": Constraint(
                "eq",
                multiplier="pointwise",
                num_points=16,
                penalty=GrowOnStall(interval=3),
                dual=NuPI(kp=0.5, ema_nu=0.3),
            ),
            "mass": Constraint("ineq", penalty=AdaptivePenalty(zeta=0.8)),
            "norm": Constraint("eq", formulation="lagrangian", dual=GradientAscent(lr=0.05)),
        },
        formulation="alm",
    )
    return duals, torch.optim.Adam(model.parameters(), lr=1e-2)


def _train(model, duals, opt, start: int, stop: int) -> None:
    pts = torch.linspace(-1, 1, 16).unsqueeze(1)
    for t in range(start, stop):
        idx = torch.randperm(16, generator=torch.Generator().manual_seed(t))[:6]
        u = model(pts)
        opt.zero_grad()
        lagr = duals.step(
            (u**2).mean(),
            {
                "bc": Indexed(u[idx, 0] - pts[idx, 0] ** 2, idx),
                "mass": u.mean() - 0.1,
                "norm": (u**2).sum() - 1.0,
            },
        )
        lagr.backward()
        opt.step()


def test_checkpoint_round_trip_is_bit_exact() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    ref_model = copy.deepcopy(model)
    ref_duals, ref_opt = _make(ref_model)
    _train(ref_model, ref_duals, ref_opt, 0, 30)

    duals, opt = _make(model)
    _train(model, duals, opt, 0, 13)
    buf = io.BytesIO()
    torch.save(
        {"duals": duals.state_dict(), "model": model.state_dict(), "opt": opt.state_dict()}, buf
    )
    buf.seek(0)
    ck = torch.load(buf, weights_only=True)  # plain tensors, floats and dicts only
    model2 = copy.deepcopy(model)
    torch.nn.init.zeros_(model2[0].weight)
    model2.load_state_dict(ck["model"])
    duals2, opt2 = _make(model2)
    duals2.load_state_dict(ck["duals"])
    opt2.load_state_dict(ck["opt"])
    _train(model2, duals2, opt2, 13, 30)

    for k in ref_duals.names:
        assert torch.equal(ref_duals.multipliers[k], duals2.multipliers[k]), k
    assert ref_duals.penalties == duals2.penalties
    assert ref_duals.stats() == duals2.stats()
    assert ref_duals.penalties["mass"] != 1.0  # the updater state was exercised
    for a, b in zip(ref_model.parameters(), model2.parameters(), strict=True):
        assert torch.equal(a, b)


def test_load_state_dict_rejects_other_constraints() -> None:
    a = Duals({"bc": "eq"})
    with pytest.raises(ValueError, match=r"\['bc'\].*\['bc', 'm'\]"):
        Duals({"bc": "eq", "m": "ineq"}).load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="kind='eq'"):
        Duals({"bc": "ineq"}).load_state_dict(a.state_dict())
