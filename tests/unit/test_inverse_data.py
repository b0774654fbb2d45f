"""Observations for inverse problems: components, noise, batching, the discrepancy constraint, reports."""

import json

import pytest
import torch

from physopt import problems
from physopt.evaluation import DataMisfit, Report, UnknownResult
from physopt.problems import Data, Problem, Rectangle, Residual, Unknown
from physopt.training import Objective, Parameters, Role


def _data(**kw):
    x = torch.linspace(0, 1, 10, dtype=torch.float64)[:, None]
    return Data(x, 2 * x, **kw)


def test_data_observes_the_selected_components():
    d = _data(components=(1,))
    batch = d.sample(None, 0, generator=torch.Generator(), dtype=torch.float64)
    r = d.residual(lambda x: torch.cat([x, 2 * x], dim=1), batch, {})
    assert r.shape == (10, 1) and float(r.abs().max()) == 0.0  # column 1 is exactly 2x


@pytest.mark.parametrize("kw, match", [
    ({"components": (0, 1)}, "observes components"),
    ({"noise": -1.0}, "noise must be"),
    ({"discrepancy": True}, "needs a noise level"),
    ({"batch": 0}, "batch must be"),
])
def test_bad_data_names_what_was_given(kw, match):
    with pytest.raises(ValueError, match=match):
        _data(**kw)


def test_batched_data_draws_a_seeded_subset_without_repeats():
    d = _data(batch=4)
    a = d.sample(None, 0, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    b = d.sample(None, 0, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert a.n == 4 and torch.equal(a.x, b.x) and a.x.unique().numel() == 4
    assert torch.equal(a["values"], 2 * a.x)  # rows stay paired with their observations


def test_noisy_observations_have_the_stated_level():
    clean = torch.ones(20000, 1, dtype=torch.float64) * 3.0
    d = Data.noisy(torch.zeros(20000, 1, dtype=torch.float64), clean, level=0.01,
                   generator=torch.Generator().manual_seed(0))
    assert d.noise == pytest.approx(0.03)  # 1 % of RMS(clean) = 3
    # Sample std of 20000 normal draws: relative standard error 1/sqrt(2n) = 0.5 %, so 3 % is 6 sigma.
    assert float((d.values - clean).std()) == pytest.approx(0.03, rel=0.03)


def test_the_discrepancy_principle_is_one_scalar_inequality():
    form = _data(noise=0.1, discrepancy=True).constraint
    assert (form.kind, form.multiplier) == ("ineq", "scalar")
    r = torch.full((10, 1), 0.1, dtype=torch.float64)
    assert float(form.values(r)) == pytest.approx(0.0, abs=1e-12)  # misfit exactly at the noise level
    assert float(form.values(2 * r)) == pytest.approx(3.0)  # 4σ²/σ² - 1
    assert _data().constraint.kind == "eq"


def _fit_problem(discrepancy):
    # Fit u(x) = a (a trainable constant model) to data y = 1 with noise σ = 0.5 under ALM:
    # the discrepancy constraint (a - 1)² ≤ σ² is inactive at a = 1.2, the pointwise one is not.
    x = torch.linspace(0, 1, 8, dtype=torch.float64)[:, None]
    data = Data(x, torch.ones(8, 1, dtype=torch.float64), noise=0.5, discrepancy=discrepancy)
    return Problem(name="fit", domain=Rectangle((0.0, 0.0), (1.0, 1.0)), input_names=("x", "y"),
                   output_names=("u",), conditions={"pde": Residual(lambda x, u, p: u * 0), "data": data})


def test_the_objective_imposes_the_discrepancy_constraint():
    problem = _fit_problem(True)
    obj = Objective(problem, {"pde": Role(), "data": Role("alm", penalty=1.0)})
    batch = {"pde": problem.conditions["pde"].sample(problem.domain, 4, generator=torch.Generator(),
                                                    dtype=torch.float64),
             "data": problem.conditions["data"].sample(problem.domain, 0, generator=torch.Generator(),
                                                      dtype=torch.float64)}
    _, residuals = obj.terms(lambda x: torch.full((x.shape[0], 1), 1.2, dtype=x.dtype), batch, {})
    # g = (0.2)² / 0.5² - 1 = -0.84: one value, satisfied
    assert residuals["data"].shape == (1,) and float(residuals["data"]) == pytest.approx(-0.84)
    pointwise = Objective(_fit_problem(False), {"pde": Role(), "data": Role("alm")})
    _, residuals = pointwise.terms(lambda x: torch.full((x.shape[0], 1), 1.2, dtype=x.dtype), batch, {})
    assert residuals["data"].shape == (8, 1)


def test_report_round_trips_the_inverse_fields(tmp_path):
    base = dict(problem="p", optimizer="adam", constraints="penalty", steps=1, wall_time_s=1.0, rel_l2=None,
                max_abs_error=None, constraint_violation={}, residual_rms={}, status="completed", message="",
                seed=0, dtype="float64", final_loss=None, versions={})
    u = UnknownResult.of(value=1.01, initial=0.5, truth=1.0, parametrisation="θ = 0 + exp(ρ)")
    assert u.rel_error == pytest.approx(0.01)
    rep = Report(**base, unknowns={"k": u}, data_misfit={"data": DataMisfit(0.02, 0.02, 1.0, 10)})
    rep.save(tmp_path)
    back = Report.from_dict(json.loads((tmp_path / "report.json").read_text()))
    assert back == rep
    md = (tmp_path / "report.md").read_text()
    assert "## Unknowns" in md and "| k | 1.01 | 1 | 0.01 |" in md and "## Data misfit" in md


@pytest.mark.parametrize("name, truths", [
    ("burgers-inverse", {"nu": 0.01 / torch.pi}),
    ("lotka-volterra-inverse", problems.zoo.LOTKA_VOLTERRA_RATES),
    ("kovasznay-inverse", {"re": 20.0}),
])
def test_zoo_inverse_problems_state_their_truths_and_clean_data(name, truths):
    p = problems.get(name)
    assert {k: u.truth for k, u in p.unknowns.items()} == pytest.approx(truths)
    data = p.conditions["data"]
    assert data.noise == 0.0
    # Noise-free observations are the reference solution at the sensors (the same closed form /
    # solver): checked through the reference function where it is cheap to evaluate.
    noisy = problems.get(name, noise=0.01)
    nd = noisy.conditions["data"]
    ratio = float((nd.values - data.values).pow(2).mean().sqrt()) / nd.noise
    assert 0.8 < ratio < 1.2  # an RMS of >= 60 draws of N(0, σ²): 1 ± 4 standard errors (1/sqrt(2·60))


def test_parameters_reach_the_residual_of_a_zoo_problem():
    p = problems.get("lotka-volterra-inverse")
    params = Parameters.create(constants=p.params, unknowns=p.unknowns, dtype=torch.float64,
                               device=torch.device("cpu"))
    assert params.snapshot() == pytest.approx({k: 0.5 for k in p.unknowns})
    assert all(isinstance(u, Unknown) and u.transform == "log" for u in p.unknowns.values())
