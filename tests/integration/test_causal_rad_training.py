"""RAD/RAR and causal weighting inside real runs: resume is exact, the history logs the weights."""

import json

import pytest
import torch

import physopt

SMALL = ["model.width=8", "model.depth=2", "sampler.sizes.pde=200", "sampler.sizes.bc=50", "checkpoint_every=10",
         "eval_every=10", "log_every=5", "optim.switch_at=20", "sampler.candidates=1000",
         "sampler.resample_every=15", "causal.epsilon=1", "causal.bins=8"]


@pytest.mark.parametrize(("method", "stop"), [("rad", 17), pytest.param("rar", 31, marks=pytest.mark.slow)])
def test_adaptive_causal_resume_equals_uninterrupted(tmp_path, method, stop, stop_at):
    # adam then ssbroyden: the RAD/RAR redraws at steps 15 and 30 fall in both phases, so the
    # quasi-Newton cache invalidation on new points is exercised too.
    common = dict(optimizer="adam+ssbroyden", constraints="hard", steps=40, seed=5,
                  overrides=[*SMALL, f"sampler.method={method}"])
    full = physopt.solve("convection", **common)
    part = tmp_path / "part"
    r = physopt.solve("convection", out=part, callbacks=[stop_at(stop)], **common)
    assert r.status == "interrupted"
    resumed = physopt.resume(part)
    # Bit-for-bit: float64 on CPU with the same thread count is deterministic.
    assert resumed.report.rel_l2 == full.report.rel_l2
    for (k, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    lines = [json.loads(x) for x in (part / "metrics.jsonl").read_text().splitlines()]
    strip = lambda hist: [{k: v for k, v in h.items() if k not in ("wall_time_s", "cpu_time_s")} for h in hist]  # noqa: E731
    assert strip(lines) == strip(full.history)
    w = [h["causal/min_weight"] for h in full.history]
    assert all(0 <= v <= 1 for v in w) and len(w) == len(full.history)


def test_causal_needs_time_and_rad_rejects_bad_options(user_problem):
    with pytest.raises(ValueError, match="time"):
        physopt.solve(f"{user_problem}:problem", steps=1, overrides=["causal.epsilon=1"])
    with pytest.raises(ValueError, match="candidates"):
        physopt.solve("convection", steps=1, overrides=["sampler.method=rad", "sampler.candidates=10",
                                                             "sampler.resample_every=5"])
