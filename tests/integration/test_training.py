"""Training end to end: the error drops, resume equals an uninterrupted run, load().predict works."""

import json
import shutil

import numpy as np
import pytest
import torch

import physopt
from physopt.evaluation import rel_l2

SMALL_BURGERS = ["model.width=10", "model.depth=3", "sampler.sizes.pde=300", "optim.first_sizes.pde=100",
                 "checkpoint_every=25", "eval_every=20", "log_every=10", "optim.switch_at=60"]


def test_error_drops_on_a_small_problem(tmp_path, user_problem):
    spec = f"{user_problem}:problem"
    opts = dict(constraints="penalty", optimizer="adam+lbfgs", overrides=["optim.switch_at=200", "model.depth=3"])
    before = physopt.solve(spec, steps=0, **opts).metrics["rel_l2"]
    after = physopt.solve(spec, steps=400, **opts).metrics["rel_l2"]
    # An untrained net is O(1) wrong; 400 Adam/L-BFGS steps on this smooth 1-D problem reach
    # ~1e-4 or better. Requiring a 100x drop leaves a wide margin yet fails if training is broken.
    assert after < before / 100, (before, after)


@pytest.mark.parametrize(
    ("stop", "kill", "constraints", "optimizer"),
    [(40, False, "hard", "adam+ssbroyden"), (90, False, "hard", "adam+ssbroyden"),
     (110, True, "hard", "adam+ssbroyden"), (70, False, "alm", "adam")],
)
def test_resume_equals_uninterrupted(tmp_path, stop, kill, constraints, optimizer, stop_at):
    common = dict(optimizer=optimizer, constraints=constraints, steps=140, seed=3, overrides=SMALL_BURGERS)
    full = physopt.solve("burgers", out=tmp_path / "full", **common)
    part = tmp_path / "part"
    if kill:
        with pytest.raises(KeyboardInterrupt):
            physopt.solve("burgers", out=part, callbacks=[stop_at(stop, kill=True)], **common)
    else:
        r = physopt.solve("burgers", out=part, callbacks=[stop_at(stop, kill=False)], **common)
        assert r.status == "interrupted" and r.report.steps == stop
    resumed = physopt.resume(part)
    assert resumed.status == full.status == "completed"
    # Bit-for-bit: float64 on CPU with the same thread count is deterministic.
    assert resumed.report.rel_l2 == full.report.rel_l2
    assert resumed.report.final_loss == full.report.final_loss
    for (k, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    strip = lambda hist: [{k: v for k, v in h.items() if k not in ("wall_time_s", "cpu_time_s")} for h in hist]  # noqa: E731
    lines = [json.loads(x) for x in (part / "metrics.jsonl").read_text().splitlines()]
    assert strip(lines) == strip(full.history)


def test_load_predict(tmp_path):
    out = tmp_path / "run"
    res = physopt.solve("burgers", steps=30, out=out, overrides=SMALL_BURGERS)
    sol = physopt.load(out)
    ref = physopt.problems.get("burgers").reference
    pred = sol.predict(ref.points)
    assert pred.shape == (ref.points.shape[0], 1) and pred.dtype == np.float64
    assert rel_l2(pred, ref.values) == res.report.rel_l2
    assert sol.report.rel_l2 == res.report.rel_l2
    # Hard constraints hold exactly at t = 0 and x = ±1 whatever the weights.
    x = np.linspace(-1, 1, 7)
    assert np.allclose(sol.predict(np.stack([x, 0 * x], 1))[:, 0], -np.sin(np.pi * x), atol=1e-14)
    with pytest.raises(ValueError, match="shape"):
        sol.predict(np.zeros((3, 3)))
    shutil.rmtree(out)
    with pytest.raises(ValueError, match="not a physopt run directory"):
        physopt.load(out)


def test_constraint_roles_report_multipliers(tmp_path):
    res = physopt.solve("burgers", constraints="lagrangian", optimizer="adam", steps=20, out=tmp_path / "lag",
                        overrides=SMALL_BURGERS)
    assert set(res.report.multipliers) == {f"{s}/{c}" for s in ("multiplier", "multiplier_max", "penalty")
                                           for c in ("bc", "ic")}
    assert res.report.multipliers["multiplier/ic"] != 0  # the multipliers did move
    assert set(res.report.constraint_violation) == {"bc", "ic"}
