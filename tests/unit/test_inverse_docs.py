"""The Python example of docs/inverse.md runs and finds its unknown (the block asserts it)."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "inverse.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)


def test_the_scalar_unknown_example_runs():
    assert len(BLOCKS) == 1
    exec(compile(BLOCKS[0], f"{DOC}:block0", "exec"), {})  # noqa: S102 - the block asserts its result
