"""Switching a problem to another optimizer starts from that optimizer's recommended settings."""

from __future__ import annotations

import pytest
import torch

from physopt import optim
from physopt.config import PROBLEM_DEFAULTS, ConfigError, load_problem, recommended_optim, resolve
from physopt.config import build as build_run


def test_problem_default_optimizer_keeps_its_tuned_table():
    cfg = resolve("poisson-nd")
    tuned = PROBLEM_DEFAULTS["poisson-nd"]["optim"]
    assert (cfg.optim.name, cfg.optim.lr, cfg.optim.schedule) == (tuned["name"], tuned["lr"], tuned["schedule"])
    # Naming the default optimizer again (in any case) is not a switch.
    again = resolve("poisson-nd", flags={"optim.name": "NorMuon"})
    assert (again.optim.lr, again.optim.schedule, again.optim.decay) == (tuned["lr"], "exp", tuned["decay"])


def test_a_changed_phase_takes_the_recommendation_the_plan_stays():
    # burgers is tuned for adam+ssbroyden with first_sizes and switch_at; muon gets its own lr.
    tuned = PROBLEM_DEFAULTS["burgers"]["optim"]
    cfg = resolve("burgers", flags={"optim.name": "muon"})
    assert cfg.optim.lr == optim.spec("muon").recommended["lr"] != tuned["lr"]
    assert cfg.optim.options == {"adamw_lr": optim.spec("muon").recommended["adamw_lr"]}
    assert (cfg.optim.first_sizes, cfg.optim.switch_at) == (tuned["first_sizes"], tuned["switch_at"])
    # poisson-nd's NorMuon lr (5e-3) and decay schedule do not leak into Adam.
    adam = resolve("poisson-nd", overrides=["optim.name=adam"])
    assert (adam.optim.lr, adam.optim.schedule) == (optim.spec("adam").recommended["lr"], "constant")
    # The rest of the problem's defaults (model, sampler, SDGD) stay.
    assert adam.sdgd.dims == PROBLEM_DEFAULTS["poisson-nd"]["sdgd"]["dims"]
    assert adam.model.width == PROBLEM_DEFAULTS["poisson-nd"]["model"]["width"]


def test_explicit_optim_values_win_over_the_recommendation(tmp_path):
    cfg = resolve("burgers", flags={"optim.name": "muon"}, overrides=["optim.lr=0.05"])
    assert cfg.optim.lr == 0.05
    path = tmp_path / "run.toml"
    path.write_text('[optim]\nname = "soap"\nlr = 0.007\n')
    from_file = resolve("burgers", config_file=path)
    assert (from_file.optim.name, from_file.optim.lr) == ("soap", 0.007)


def test_an_unchanged_phase_keeps_the_problems_tuning():
    tuned = PROBLEM_DEFAULTS["poisson-nd"]["optim"]  # normuon, lr 5e-3, exp decay 0.7
    cfg = resolve("poisson-nd", flags={"optim.name": "normuon+ssbroyden"})
    assert (cfg.optim.lr, cfg.optim.schedule, cfg.optim.decay) == (tuned["lr"], "exp", tuned["decay"])
    assert cfg.optim.then_lr == optim.spec("ssbroyden").recommended["lr"]
    # burgers' first phase is Adam: adam+lbfgs keeps it exactly, only the second method changes.
    burgers = PROBLEM_DEFAULTS["burgers"]["optim"]
    chain = resolve("burgers", flags={"optim.name": "adam+lbfgs"})
    assert (chain.optim.lr, chain.optim.first_sizes) == (burgers["lr"], burgers["first_sizes"])


def test_chains_take_each_phase_from_its_own_method():
    table = recommended_optim("soap+ssbroyden")
    assert table["lr"] == optim.spec("soap").recommended["lr"]
    assert table["then_lr"] == optim.spec("ssbroyden").recommended["lr"]
    cfg = resolve("poisson-nd", flags={"optim.name": "muon+lbfgs"})
    assert (cfg.optim.lr, cfg.optim.schedule, cfg.optim.then_lr) == (0.02, "constant", 1.0)


def test_unknown_optimizer_is_reported_by_build_not_hidden():
    cfg = resolve("poisson2d", flags={"optim.name": "nosuchopt"})
    with pytest.raises((ConfigError, ValueError), match="nosuchopt"):
        build_run(cfg, load_problem("poisson2d", {}))


@pytest.mark.parametrize("name", optim.available())
def test_every_recommendation_builds(name):
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8),
                                torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    rec = dict(optim.spec(name).recommended)
    opt = optim.build(name, model, **rec)
    assert opt.param_groups[0]["lr"] == rec["lr"]
