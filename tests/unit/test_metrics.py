"""Comparable metrics (PINNacle's L1RE and MSE, PDEBench's nRMSE) against values computed by hand."""

import json
from pathlib import Path

import numpy as np
import pytest

from physopt.cli import main
from physopt.evaluation import Report, comparable_metrics, l1_rel, mse, nrmse, rel_l2

# Two components at four points; two time steps (t = 0: rows 0, 1; t = 1: rows 2, 3).
REF = np.array([[3.0, 1.0], [4.0, 0.0], [0.0, 2.0], [1.0, 0.0]])
PRED = np.array([[3.0, 2.0], [1.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
TIMES = np.array([0.0, 0.0, 1.0, 1.0])
# errors e = pred - ref: [[0, 1], [-3, 0], [0, 0], [1, 2]]


def test_l1_rel_by_hand():
    # Σ|e| = 0 + 1 + 3 + 0 + 0 + 0 + 1 + 2 = 7;  Σ|ref| = 3 + 1 + 4 + 0 + 0 + 2 + 1 + 0 = 11.
    assert l1_rel(PRED, REF) == pytest.approx(7 / 11, rel=1e-15)


def test_mse_by_hand():
    # Σe² = 1 + 9 + 1 + 4 = 15 over 8 entries.
    assert mse(PRED, REF) == pytest.approx(15 / 8, rel=1e-15)


def test_nrmse_by_hand_per_component_and_time_step():
    # t=0, c=0: ‖(0, -3)‖/‖(3, 4)‖ = 3/5;   t=0, c=1: ‖(1, 0)‖/‖(1, 0)‖ = 1
    # t=1, c=0: ‖(0, 1)‖/‖(0, 1)‖ = 1;     t=1, c=1: ‖(0, 2)‖/‖(2, 0)‖ = 1
    assert nrmse(PRED, REF, times=TIMES) == pytest.approx((0.6 + 1 + 1 + 1) / 4, rel=1e-15)
    # One step (steady): c=0: ‖(0, -3, 0, 1)‖/‖(3, 4, 0, 1)‖ = √10/√26; c=1: ‖(1, 0, 0, 2)‖/‖(1, 0, 2, 0)‖ = 1.
    assert nrmse(PRED, REF) == pytest.approx((np.sqrt(10 / 26) + 1) / 2, rel=1e-15)
    # ...which is not rel_l2 (one norm over everything): √15/√31.
    assert rel_l2(PRED, REF) == pytest.approx(np.sqrt(15 / 31), rel=1e-15)


def test_nrmse_time_steps_need_not_be_sorted():
    order = np.array([3, 0, 2, 1])
    assert nrmse(PRED[order], REF[order], times=TIMES[order]) == pytest.approx(nrmse(PRED, REF, times=TIMES), rel=1e-15)


def test_undefined_values_raise_and_become_none_in_the_report_dict():
    zero = np.zeros((4, 2))
    with pytest.raises(ValueError, match="all-zero"):
        l1_rel(PRED, zero)
    ref = REF.copy()
    ref[2:, 0] = 0.0  # component 0 is all zero at t = 1
    with pytest.raises(ValueError, match="time step 1"):
        nrmse(PRED, ref, times=TIMES)
    out = comparable_metrics(PRED, ref, times=TIMES)
    assert out["nrmse"] is None and out["mse"] == pytest.approx(mse(PRED, ref))
    # Scattered times (no time grid): no time steps to average over.
    assert comparable_metrics(PRED, REF, times=np.array([0.0, 0.1, 0.2, 0.3]))["nrmse"] is None


def test_bad_times_shape_is_refused():
    with pytest.raises(ValueError, match="one time per point"):
        nrmse(PRED, REF, times=np.zeros(3))


def test_a_run_report_carries_them(tmp_path):
    out, user_problem = tmp_path / "run", Path(__file__).resolve().parents[1] / "integration" / "poisson1d.py"
    assert main(["solve", f"{user_problem}:problem", "--steps", "5", "--out", str(out), "--quiet"]) == 0
    report = Report.from_dict(json.loads((out / "report.json").read_text()))
    assert report.l1_rel is not None and report.l1_rel > 0 and report.mse is not None and report.mse > 0
    assert report.nrmse == pytest.approx(report.rel_l2, rel=1e-12)  # one component, steady: the same ratio
    assert "nRMSE (PDEBench)" in (out / "report.md").read_text()


def test_docs_metrics_example_runs():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "solve.md").read_text()
    block = doc.split("### Metrics comparable with PINNacle", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, "docs/solve.md:metrics", "exec"), {})  # noqa: S102 - the block asserts what it shows
