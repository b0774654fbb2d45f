"""The Python examples of docs/inverse.md run (each block asserts what the page says it measured)."""

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "inverse.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)


def test_the_page_has_its_examples():
    assert len(BLOCKS) == 3


def test_the_scalar_unknown_example_runs():
    exec(compile(BLOCKS[0], f"{DOC}:block0", "exec"), {})  # noqa: S102 - the block asserts its result


@pytest.mark.slow  # two 1500-step runs: ~12 CPU s
def test_the_discrepancy_example_runs():
    exec(compile(BLOCKS[1], f"{DOC}:block1", "exec"), {})  # noqa: S102 - the block asserts its results


@pytest.mark.slow  # one 1500-step run with a grid field: ~13 CPU s
def test_the_field_example_runs():
    exec(compile(BLOCKS[2], f"{DOC}:block2", "exec"), {})  # noqa: S102 - the block asserts its result
