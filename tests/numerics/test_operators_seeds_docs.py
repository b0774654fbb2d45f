"""The seed-model example of docs/operators.md ("A small run of each") runs: every kind trains, the refinement
lowers its residual loss."""

from __future__ import annotations

import contextlib
import io
import math
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "operators.md"


@pytest.mark.slow  # about 10 CPU-seconds (measured 9.3 s user): four kinds x 3 epochs, a small Navier-Stokes draw
def test_seed_models_example_runs(tmp_path, monkeypatch):
    block = re.search(r"### A small run of each.*?```python\n(.*?)```", DOC.read_text(), re.DOTALL).group(1)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, str(DOC), "exec"), {})  # noqa: S102 - our own documentation
    lines = out.getvalue().splitlines()
    kinds = {line.split()[0]: line.split()[1:] for line in lines}
    for kind in ("lsm", "dymixop", "equino", "hc-moe"):
        params, error = kinds[kind]
        assert int(params) > 0 and math.isfinite(float(error))
    assert kinds["refined"] == ["True"]  # Adam on the last layer lowers the H^-1 residual
