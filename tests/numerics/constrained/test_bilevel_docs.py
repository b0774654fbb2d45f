"""The python block of docs/constrained.md's "Bilevel optimization" section runs and prints what it says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "constrained.md"


@pytest.mark.slow  # 3550 LV-HBA iterations: 3-20 s depending on the machine's load
def test_bilevel_docs_example_prints_its_claims() -> None:
    section = DOC.read_text().split("## Bilevel optimization", 1)[1]
    block = re.findall(r"```python\n(.*?)```", section, re.DOTALL)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, str(DOC), "exec"), {})  # noqa: S102 - our own documentation
    printed = out.getvalue().splitlines()
    # the comments next to each print in the doc are the exact expected lines
    assert printed == ["converged 1.5000 1.5000", "converged 1.0000 0.0000 2.000", "3550 3550 11005"]
