"""Every python block of docs/constrained.md runs, and the printed claims it makes hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "constrained.md"


@pytest.mark.slow  # the PDE block with a box on the control takes 10-25 s
def test_docs_examples_run_and_converge() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) >= 4
    for block in blocks:
        scope: dict = {}
        exec(compile(block, str(DOC), "exec"), scope)  # noqa: S102 - our own documentation
        for name in ("res", "res_box", "front"):
            if name in scope:
                assert scope[name].success, name
