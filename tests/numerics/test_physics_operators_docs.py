"""The physics-informed section of docs/operators.md: its example runs and prints a trained data-free
operator's error, and the benchmark command quoted there runs and prints its tables (tiny budgets: the
numbers in the doc come from the full commands)."""

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
HEADING = "## Physics-informed and data-free operators"


@pytest.mark.slow  # about 5 CPU-seconds: 320 steps of a small FNO on 40 poisson-1d inputs, no labels
def test_the_data_free_example_learns_without_labels(tmp_path, monkeypatch):
    block = re.search(rf"{re.escape(HEADING)}.*?```python\n(.*?)```", DOC.read_text(), re.DOTALL).group(1)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, str(DOC), "exec"), {})  # noqa: S102 - our own documentation
    error, labelled = out.getvalue().split()
    # the same run as tests/unit/test_physics_loss.py (measured 0.18 for seed 0; predicting zero is 1.0)
    assert float(error) < 0.4 and labelled == "False"


@pytest.mark.slow  # about 40 CPU-seconds: three methods on two small families for ~1 CPU s each, and timings
def test_the_benchmark_of_the_doc_runs_and_prints_its_tables(tmp_path):
    command = ["benchmarks/physics_operators.py", "--families", "poisson-1d,burgers-1d", "--methods",
               "data,physics,lordnet", "--budget", "1", "--n-train", "20", "--n-test", "10", "--seeds", "0,1",
               "--inference", "16"]
    assert command[0] in DOC.read_text()
    done = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env={"PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1",
                               "XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 6 + 1 + 1  # header + family x method, then the timing table's header and one grid
    cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows[1:7]]
    assert {c[1] for c in cells} == {"data", "physics", "lordnet"}
    assert all((c[3] == "0") == (c[1] != "data") for c in cells)  # the data-free methods read no labelled sample
    for c in cells:  # the median of two seeds lies between them
        lo, hi = (float(v) for v in c[5].split(" - "))
        assert lo <= float(c[4]) <= hi
