"""The DeepONet-family and optimizer sections of docs/operators.md: their examples run and print what they say,
and the benchmark commands quoted there run (one epoch each: the numbers come from the full commands)."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "operators.md"


def _block(heading: str) -> str:
    return re.search(rf"{re.escape(heading)}.*?```python\n(.*?)```", DOC.read_text(), re.DOTALL).group(1)


def _run(block: str, tmp_path, monkeypatch) -> list[float]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, str(DOC), "exec"), {})  # noqa: S102 - our own documentation
    return [float(v) for v in out.getvalue().split()]


@pytest.mark.slow  # about 60 CPU-seconds: 500 DeepONet epochs on 1,000 instances
def test_deeponet_example_reaches_the_goal_and_predicts_off_the_sensors(tmp_path, monkeypatch):
    test_error, closed_form = _run(_block("### DeepONet on the antiderivative"), tmp_path, monkeypatch)
    # Issue 15's goal is 1e-2; the run is deterministic on the CPU (seed 0) and measured 6.01e-3.
    assert test_error <= 1e-2
    # f = 0.2 cos 2πx is not a draw of the family; its antiderivative at 500 random points is still
    # within a few times the test error (measured 1.73e-2, 2.9x the test error; the doc quotes both).
    assert closed_form < 5 * test_error


@pytest.mark.slow  # about 15 CPU-seconds: 20 MT-DeepONet epochs on 2,080 instances
def test_mtdeeponet_example_trains_one_model_for_both_tasks(tmp_path, monkeypatch):
    errors = _run(_block("### MT-DeepONet: two tasks in one model"), tmp_path, monkeypatch)
    assert len(errors) == 2
    # 20 epochs is short training; an untrained network is at ~1 (the outputs are normalised): both tasks
    # must have been learned by the one model.
    assert all(e < 0.2 for e in errors)


@pytest.mark.slow  # about 40 CPU-seconds: each benchmark for one epoch (imports, data, a few models)
@pytest.mark.parametrize("command", [
    ["benchmarks/deeponet_antiderivative.py", "--epochs", "1", "--models", "deeponet,multionet"],
    ["benchmarks/mtdeeponet_tasks.py", "--epochs", "1"],
    ["benchmarks/operators_optimizers.py", "--source", "antiderivative", "--model", "deeponet", "--epochs", "1",
     "--optimizers", "adamw,muon,soap", "--seeds", "0,1"],
])
def test_the_benchmarks_of_the_doc_run_and_print_a_table(command, tmp_path):
    assert command[0] in DOC.read_text()
    done = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={"PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1",
                               "XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 3  # a header and one row per model / optimizer
