"""The optional TensorBoard writer: the logged records, read back with tensorboard's EventAccumulator."""

import importlib.util
import json

import pytest

from physopt.cli import main

FAST = ["--steps", "30", "--set", "log_every=10", "--quiet"]


def test_off_by_default(tmp_path, user_problem):
    out = tmp_path / "run"
    assert main(["solve", f"{user_problem}:problem", *FAST, "--out", str(out)]) == 0
    assert not (out / "tensorboard").exists()


def test_scalars_read_back_equal_metrics_jsonl(tmp_path, user_problem):
    pytest.importorskip("tensorboard", reason="optional extra: pip install 'physopt[tensorboard]'")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    args = ["solve", f"{user_problem}:problem", *FAST, "--set", "tensorboard=true", "--set", "eval_every=10"]
    assert main([*args, "--optimizer", "adam", "--set", "optim.lr=0.003", "--out", str(out)]) == 0
    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    tags = set(events.Tags()["scalars"])
    assert {"loss", "loss/pde", "loss/bc", "rel_l2", "lr/group0"} <= tags, tags
    for tag in ("loss", "loss/pde", "rel_l2"):
        scalars = events.Scalars(tag)
        assert [s.step for s in scalars] == [r["step"] for r in records]
        # TensorBoard stores float32: equal to the float64 record to float32 rounding.
        assert [s.value for s in scalars] == pytest.approx([r[tag] for r in records], rel=1e-6)
    assert [s.value for s in events.Scalars("lr/group0")] == pytest.approx([0.003] * len(records), rel=1e-6)


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is not None, reason="tensorboard is installed")
def test_asking_without_the_package_is_bad_input(tmp_path, user_problem, capsys):
    out = tmp_path / "run"
    assert main(["solve", f"{user_problem}:problem", *FAST, "--set", "tensorboard=true", "--out", str(out)]) == 2
    assert "pip install 'physopt[tensorboard]'" in capsys.readouterr().err
