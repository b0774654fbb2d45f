"""The physics-informed operator loss: no label read when data-free, bad settings refused, and the
residual alone trains a model on a tiny family."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import physopt
from physopt.config import ConfigError
from physopt.operators import FAMILIES, family_options
from physopt.training import Pairs, PhysicsOperatorLoss


def _bound(name, **options):
    opts = family_options(name, options)
    return lambda a, u: FAMILIES[name].residual(opts, a, u)


def test_data_free_loss_never_reads_the_labels():
    f = torch.randn(4, 1, 17, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    poisoned = Pairs(f, torch.full_like(f, float("nan")))
    loss = PhysicsOperatorLoss(kind="l2", periodic=False, residual=_bound("poisson-1d"), weight=1.0, data=False,
                               norm="relative")
    squares, _ = loss.terms(lambda a: 0.1 * a, {"data": poisoned}, {})
    assert set(squares) == {"physics"} and torch.isfinite(loss.loss(squares, {}))
    both = PhysicsOperatorLoss(kind="l2", periodic=False, residual=_bound("poisson-1d"), weight=0.5, data=True,
                               norm="msr")
    clean = Pairs(f, 0.1 * f)
    squares, _ = both.terms(lambda a: 0.1 * a, {"data": clean}, {})
    assert squares["data"] == 0 and torch.allclose(both.loss(squares, {}), 0.5 * squares["physics"])


@pytest.mark.parametrize(("source", "sets", "message"), [
    ("poisson-1d", ["physics.data=false"], "needs physics.weight > 0"),
    ("burgers-1d", ["physics.weight=1", "data.resolution=64"], "trajectory = true"),
    ("poisson-1d", ["physics.weight=1", "physics.norm=h2"], "unknown physics norm"),
    ("poisson-1d", ["physics.weight=-1"], "finite number > 0"),
])
def test_bad_physics_settings_are_refused_at_build(tmp_path, source, sets, message):
    with pytest.raises(ConfigError, match=message):
        physopt.learn(source, epochs=1, overrides=[*sets, "data.n_train=4", "data.n_test=2",
                                                   f"data.cache={tmp_path}", "model.kind=fno"])


def test_a_data_source_has_no_residual(tmp_path):
    x = np.random.default_rng(0).normal(size=(12, 1, 16))
    np.savez(tmp_path / "d.npz", inputs=x, outputs=2 * x)
    with pytest.raises(ConfigError, match="not one"):
        physopt.learn(str(tmp_path / "d.npz"), epochs=1, overrides=["physics.weight=1"])


def test_the_physics_loss_alone_drives_the_test_error_down(tmp_path):
    # poisson-1d at 33 points, 40 training inputs, 320 steps of a small FNO (~1.6 CPU s); the labels are never read
    # (the output normalisation does not see them either). Predicting zero has rel. L2 1, the model after one epoch
    # 0.93-2.7; after training measured 0.18 / 0.30 / 0.19 for seeds 0 / 1 / 2. Bound 0.4: at least 2.5x below
    # predicting zero, with a margin over the worst seed.
    run = physopt.learn("poisson-1d", model="fno", epochs=80, batch_size=10, seed=0, overrides=[
        "data.n_train=40", "data.n_test=20", "data.resolution=33", f"data.cache={tmp_path}", "model.width=16",
        "model.modes=8", "physics.weight=1", "physics.data=false", "physics.norm=preconditioned", "optim.lr=3e-3"])
    assert run.history[0]["rel_l2"] > 0.9  # validation error after the first epoch: nothing learned yet
    assert run.report.tests["33"].mean < 0.4
    assert run.report.config["physics"] == {"weight": 1.0, "data": False, "norm": "preconditioned", "form": "strong",
                                            "labelled": -1, "tests": 200, "radius": [0.08, 0.25]}


def test_list_families_says_which_take_a_physics_loss(capsys):
    from physopt.cli import main

    assert main(["list", "families"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "physics loss" in lines["darcy"] and "physics loss" not in lines["navier-stokes-2d"]
