"""The commands of the INSR and PhysicsFormer sections of docs/methods.md run (shortened)."""

import re
import shlex
from pathlib import Path

import pytest

from physopt.cli import main

DOC = (Path(__file__).resolve().parents[2] / "docs" / "methods.md").read_text()
# Appended to each command so the check is short: later --set / flags win over the page's values.
SHORT = {"insr": ["--set", "insr.steps=2", "--set", "insr.iterations=2", "--set", "insr.initial_iterations=2"],
         "physicsformer": ["--time-budget", "1", "--set", "sampler.sizes.pde=64"]}


def _commands(heading: str) -> list[list[str]]:
    section = DOC.split(heading, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    return [shlex.split(line) for b in blocks for line in b.replace("\\\n", " ").splitlines() if line.strip()]


@pytest.mark.slow  # each command builds its problem and runs a few steps: ~10-30 CPU s in all
@pytest.mark.parametrize(("heading", "short"), [("## INSR", "insr"), ("## PhysicsFormer", "physicsformer")])
def test_the_sections_commands_run(heading, short, tmp_path):
    commands = _commands(heading)
    assert commands and all(c[:2] == ["physopt", "solve"] for c in commands)
    for i, command in enumerate(commands):
        assert main([*command[1:], *SHORT[short], "--out", str(tmp_path / str(i)), "--quiet"]) == 0
