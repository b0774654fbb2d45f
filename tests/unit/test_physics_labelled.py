"""``physics.labelled`` (a few labelled rows, the rest on the physics term) and ``physics.form`` (the
strong residual or DGNO's weak form) through ``physopt learn``."""

from __future__ import annotations

import pytest
import torch

import physopt
from physopt.config import PHYSICS_FORMS, ConfigError, build_learn, resolve_learn
from physopt.models import DGNO, Normalized
from physopt.operators import FAMILIES, family_options
from physopt.training import DGNOLoss, Pairs, PhysicsOperatorLoss


def _built(tmp_path, source="darcy", model="fno", sets=()):
    cfg = resolve_learn(source, flags={"epochs": 1, "seed": 0}, overrides=[
        "data.n_train=10", "data.n_val=2", "data.n_test=2", "data.resolution=9", f"data.cache={tmp_path}",
        f"model.kind={model}", *sets])
    return build_learn(cfg)


def test_labelled_keeps_the_first_rows_and_the_scale_of_those_only(tmp_path):
    b = _built(tmp_path, sets=["physics.weight=1", "physics.labelled=3"])
    out = b.batches.data.outputs
    finite = torch.isfinite(out.flatten(1)).all(1)
    assert finite.tolist() == [True] * 3 + [False] * 7
    torch.testing.assert_close(out[:3], torch.from_numpy(b.splits.train.outputs[:3]).float())  # labels untouched
    y = torch.from_numpy(b.splits.train.outputs[:3]).double()
    mean, std = Normalized.channel_stats(y)
    assert isinstance(b.model, Normalized)
    torch.testing.assert_close(b.model.out_mean.double(), mean.to(b.model.out_mean.device), rtol=1e-6, atol=0)
    torch.testing.assert_close(b.model.out_std.double(), std.to(b.model.out_std.device), rtol=1e-6, atol=0)


def test_strong_loss_reads_only_the_labelled_rows():
    opts = family_options("poisson-1d")
    loss = PhysicsOperatorLoss(kind="l2", periodic=False, residual=lambda a, u: FAMILIES["poisson-1d"].residual(
        opts, a, u), weight=1.0, data=True, norm="relative")
    f = torch.randn(4, 1, 17, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = 0.1 * f.clone()
    y[0] = 0.3 * f[0]  # the one labelled row with a wrong model: its error 2/3 is the whole data term
    y[1:] = float("nan")
    squares, _ = loss.terms(lambda a: 0.1 * a, {"data": Pairs(f, y)}, {})
    assert float(squares["data"]) == pytest.approx(2 / 3, rel=1e-12)
    none = torch.full_like(f, float("nan"))
    squares, _ = loss.terms(lambda a: 0.1 * a, {"data": Pairs(f, none)}, {})
    assert float(squares["data"]) == 0 and torch.isfinite(loss.loss(squares, {}))


def test_the_weak_form_builds_dgno_unwrapped_with_its_loss(tmp_path):
    b = _built(tmp_path, model="dgno", sets=["physics.form=weak", "physics.weight=2", "physics.labelled=2",
                                             "physics.tests=7", "model.latent=4", "model.width=8"])
    assert isinstance(b.model, DGNO) and isinstance(b.loss, DGNOLoss)  # DGNOLoss calls encode / decode
    assert b.loss.weights["weak"] == 2 and b.loss.tests.count == 7 and b.loss.tests.radius == (0.08, 0.25)
    a = b.splits.train.inputs
    assert float(b.model.in_mean) == pytest.approx(float(a.mean()), rel=1e-6)  # fit_dgno: the input scale
    assert float(b.model.in_std) == pytest.approx(float(a.std()), rel=1e-3)  # float32 vs numpy's float64 std
    terms, _ = b.loss.terms(b.model, b.batches.batch(0), {})
    assert set(terms) == {"weak", "rec", "kl", "data"} and all(bool(torch.isfinite(t)) for t in terms.values())
    assert set(PHYSICS_FORMS) == {"strong", "weak"}


@pytest.mark.parametrize(("source", "model", "sets", "message"), [
    ("darcy", "fno", ["physics.weight=1", "physics.labelled=11"], "exceeds the 10 training instances"),
    ("darcy", "fno", ["physics.weight=1", "physics.labelled=-2"], "-1 \\(all\\) or a count >= 0"),
    ("darcy", "fno", ["physics.weight=1", "physics.labelled=3", "physics.data=false"], "drop one of the two"),
    ("darcy", "fno", ["physics.labelled=3"], "needs physics.weight > 0"),
    ("darcy", "fno", ["physics.weight=1", "physics.form=weak"], "a kind with a latent code"),
    ("darcy", "dgno", ["physics.weight=1", "physics.form=mixed"], "unknown physics.form 'mixed'"),
    ("poisson-2d", "dgno", ["physics.weight=1", "physics.form=weak"], "knows the PDE of darcy, not 'poisson-2d'"),
    ("darcy", "dgno", ["physics.weight=1", "physics.form=weak", "physics.radius=[0.1]"], "must be \\[lo, hi\\]"),
    ("darcy", "dgno", ["physics.weight=1", "physics.form=weak", "loss=h1"], "relative L2 error, got loss = 'h1'"),
])
def test_bad_labelled_and_form_settings_are_refused(tmp_path, source, model, sets, message):
    with pytest.raises(ConfigError, match=message):
        _built(tmp_path, source=source, model=model, sets=sets)


@pytest.mark.slow  # about 8 CPU s: 300 steps of a small DGNO
def test_learn_trains_dgno_on_the_weak_form_without_labels(tmp_path):
    # a constant coefficient, where the weak form of the nodal a and the solver's problem agree (test_dgno.py): the
    # weak form alone, through physopt.learn, must take the test error from ~1 to below 0.1, as the library test does
    run = physopt.learn("darcy", model="dgno", epochs=100, batch_size=8, seed=0, overrides=[
        "data.n_train=24", "data.n_val=4", "data.n_test=8", "data.resolution=17", f"data.cache={tmp_path}",
        "family.high=1", "family.low=1", "model.latent=8", "model.width=32", "physics.form=weak", "physics.weight=1",
        "physics.data=false", "physics.tests=100", "physics.radius=[0.1, 0.25]", "optim.lr=3e-3", "plots=0"])
    assert run.history[0]["rel_l2"] > 0.5
    assert run.report.tests["17x17"].mean < 0.1
