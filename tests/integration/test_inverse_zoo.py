"""Inverse zoo problems: the CLI runs them, and their defaults find the unknowns (slow)."""

import json

import pytest

import physopt
from physopt.cli import main


@pytest.mark.slow  # the report evaluates the 256 x 100 Cole–Hopf reference: ~15 s
def test_cli_solves_burgers_inverse_and_reports_the_unknown(tmp_path):
    out = tmp_path / "run"
    assert main(["solve", "burgers-inverse", "--steps", "3", "--set", "problem.sensors=50",
                 "--set", "problem.noise=0.01", "--out", str(out), "--quiet"]) == 0
    rep = json.loads((out / "report.json").read_text())
    nu = rep["unknowns"]["nu"]
    assert nu["truth"] == pytest.approx(0.01 / 3.141592653589793) and nu["parametrisation"] == "θ = 0 + exp(ρ)"
    assert rep["data_misfit"]["data"]["observations"] == 50 and rep["data_misfit"]["data"]["noise"] > 0
    assert (out / "unknowns.png").exists() and "## Unknowns" in (out / "report.md").read_text()


def test_cli_rejects_a_bad_noise_level_in_one_line(capsys):
    assert main(["solve", "burgers-inverse", "--steps", "1", "--set", "problem.noise=-1", "--quiet"]) == 2
    assert "noise level must be a finite number >= 0, got -1" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("noise, tol", [(0.0, 1e-3), (0.01, 1e-2)])  # the goals: 0.1 % / 1 %
def test_lotka_volterra_default_finds_the_four_rates(noise, tol):
    res = physopt.solve("lotka-volterra-inverse", seed=0, overrides=[f"problem.noise={noise}", "threads=1"])
    errors = {k: u.rel_error for k, u in res.report.unknowns.items()}
    assert len(errors) == 4 and max(errors.values()) < tol, errors


@pytest.mark.slow  # about 60 CPU s
@pytest.mark.parametrize("noise", [0.0, 0.01])
def test_poisson_field_inverse_default_recovers_the_field(noise):
    res = physopt.solve("poisson-field-inverse", seed=0, overrides=[f"problem.noise={noise}", "threads=1"])
    assert res.report.fields["a"].rel_l2 < 0.05  # the goal for fields: 5 % relative L2


@pytest.mark.slow  # ~150 CPU s each (157 and 151 at load 13-40 on 2 cores)
@pytest.mark.parametrize("noise, tol", [(0.0, 1e-3), (0.01, 1e-2)])  # the goals: 0.1 % / 1 %
def test_kovasznay_inverse_default_finds_the_reynolds_number(noise, tol):
    res = physopt.solve("kovasznay-inverse", seed=0, overrides=[f"problem.noise={noise}", "threads=1"])
    # measured at the default's 1200 steps, seed 0: 7.1e-5 (0 %) and 2.6e-3 (1 %)
    assert res.report.unknowns["re"].rel_error < tol, res.report.unknowns["re"]
    # the 5 % for fields; (u, v, p) measured 8.2e-4 / 7.4e-4 at steps 1000 / 1250 with 1 % noise
    assert res.report.rel_l2 < 0.05
