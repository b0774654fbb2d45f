"""benchmarks/inverse.py's table and goals, and inverse_user_vs_deepxde.py's time-to-accuracy reading (no training)."""

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(**kw):
    row = {"problem": "kovasznay-inverse", "noise": 0.0, "seed": 0, "steps": 1500, "unknowns": {"re": 2e-4},
           "fields": {}, "rel_l2": 1e-4, "misfit_ratio": None, "train_cpu_s": 150.0, "cpu_s": 155.0}
    return {**row, **kw}


@pytest.mark.parametrize("row, met", [
    (_row(), True),
    (_row(unknowns={"re": 2e-3}), False),                     # 0.1 % on clean data
    (_row(noise=0.01, unknowns={"re": 9e-3}), True),          # 1 % with 1 % noise
    (_row(noise=0.01, unknowns={"re": 1.1e-2}), False),
    (_row(train_cpu_s=181.0), False),                         # 3 CPU-minutes
    (_row(unknowns={}, fields={"a": 0.049}), True),           # a field: 5 % relative L2
    (_row(unknowns={}, fields={"a": 0.051}), False),
])
def test_goal_met_applies_the_issues_goals(row, met):
    assert _load("inverse").goal_met(row) is met


def test_the_table_has_one_row_per_run_with_every_unknown_and_field():
    bench = _load("inverse")
    text = bench.table([_row(), _row(problem="poisson-field-inverse", noise=0.01, unknowns={}, fields={"a": 0.03},
                                     misfit_ratio=0.99, train_cpu_s=200.0)])
    lines = text.splitlines()
    assert len(lines) == 4 and lines[0].count("|") == lines[2].count("|") == lines[3].count("|")
    assert "| kovasznay-inverse | 0% | re 2.0e-04 | – | 1.0e-04 | n/a | 1500 | 150 | 155 | yes |" in lines[2]
    assert "| poisson-field-inverse | 1% | – | a 3.00e-02 |" in lines[3]
    assert lines[3].endswith("| 0.99 | 1500 | 200 | 155 | no |")


def test_latest_keeps_the_last_run_of_each_problem_and_noise(tmp_path):
    path = tmp_path / "runs.jsonl"
    rows = [_row(unknowns={"re": 1.0}), _row(noise=0.01), _row(unknowns={"re": 3e-4})]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    got = _load("inverse").latest(path)
    assert [(r["noise"], r["unknowns"]["re"]) for r in got] == [(0.0, 3e-4), (0.01, 2e-4)]


def test_time_to_accuracy_counts_only_a_run_that_stays_within_it():
    bench = _load("inverse_user_vs_deepxde")
    trace = [{"D": 0.5, "k": 3.0, "cpu_s": 1.0},      # within, then leaves: does not count
             {"D": 0.6, "k": 3.0, "cpu_s": 2.0},
             {"D": 0.504, "k": 3.0, "cpu_s": 3.0},    # 0.8 %: within 1 % from here on
             {"D": 0.5001, "k": 3.001, "cpu_s": 4.0}]  # within 0.1 % from here on
    assert bench.first_within(trace, 1e-2) == 3.0 and bench.first_within(trace, 1e-3) == 4.0
    assert bench.first_within(trace[:2], 1e-2) is None
    assert bench.max_error({"D": 0.5, "k": 3.3}) == pytest.approx(0.1)
