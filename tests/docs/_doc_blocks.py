"""Every fenced block of README.md and docs/*.md, with the example marker that says how it is tested.

A block is tested according to the HTML comment on the line just above its opening fence::

    <!-- example: run -->                        run it in the default suite
    <!-- example: slow expect="rel_l2<=2e-5" --> run it under ``-m slow``; check the run's report.json
    <!-- example: run continues -->              a Python block that goes on in the previous block's namespace
    <!-- example: command -->                    a benchmarks/ or pytest command (and what it prints): the script
                                                 or test files exist and the script takes every flag written
    <!-- example: run problem=burgers -->        a TOML block: a valid config file for that problem
    <!-- example: run cwd=repo -->               run it from the repository root (it reads committed files)
    <!-- example: tested by=tests/x/test_y.py -->  run by a dedicated test of that page (the file must exist)
    <!-- example: output -->                     what a command above prints (a listing, not run)
    <!-- example: reference reason="..." -->     not runnable here, for the reason given (GPU, template, setup)

Unmarked blocks are an error, so a new example in the docs is a test from the day it is written.
Python blocks run with ``exec`` and assert what the page says they measured; shell blocks run
command by command (``physopt ...`` in-process through :func:`physopt.cli.main`, anything else as a
subprocess) in a scratch directory, and ``expect`` compares fields of the newest ``report.json``.
"""

from __future__ import annotations

import dataclasses
import operator
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
KINDS = ("run", "slow", "command", "tested", "output", "reference")
PROGRAMS = ("physopt", "python", "python3", "torchrun", "rm", "cp", "tensorboard")
SHELLS = ("bash", "sh", "shell", "console")

_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_MARK = re.compile(r"<!--\s*example:\s*(.*?)\s*-->\s*$")
_EXPECT = re.compile(r"^([\w.]+)\s*(<=|>=|==|<|>)\s*(\S+)$")
_OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "<": operator.lt, ">": operator.gt}


@dataclasses.dataclass(frozen=True)
class Expect:
    """``field op value`` on report.json (``field`` may be dotted: ``unknowns.nu.rel_error``)."""

    field: str
    op: str
    value: float | str

    def check(self, report: dict) -> None:
        got: object = report
        for key in self.field.split("."):
            if not isinstance(got, dict) or key not in got:
                raise AssertionError(f"report.json has no field {self.field!r}")
            got = got[key]
        assert _OPS[self.op](got, self.value), f"{self.field} = {got!r}, the docs state {self.op} {self.value!r}"


@dataclasses.dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    text: str
    kind: str | None
    continues: bool = False
    expects: tuple[Expect, ...] = ()
    reason: str = ""
    by: str = ""
    problem: str = ""
    in_repo: bool = False
    timeout: float | None = None

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    def commands(self) -> list[list[str]]:
        """The block's commands, one argv each: ``\\`` lines joined, comments dropped, and lines that do
        not start with a known program (after ``VAR=value`` prefixes) read as the output shown."""
        joined = re.sub(r"\\\n", " ", self.text)
        out, pending = [], ""
        for line in joined.splitlines():
            pending += line + "\n"
            try:
                argv = shlex.split(pending, comments=True)
            except ValueError:  # an open quote: a python -c "..." program goes on over the next lines
                continue
            pending = ""
            argv = _drop_nice(argv)
            words = [w for w in argv if not is_env(w)]
            if words and Path(words[0]).name in PROGRAMS:
                out.append(argv)
        return out


def is_env(word: str) -> bool:
    """A ``VAR=value`` prefix of a shell command."""
    return re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", word) is not None


def _drop_nice(argv: list[str]) -> list[str]:
    """``VAR=1 nice -n 5 python ...`` runs as ``VAR=1 python ...`` (priority is not part of the example)."""
    env = 0
    while env < len(argv) and is_env(argv[env]):
        env += 1
    rest = argv[env:]
    if rest[:1] == ["nice"]:
        rest = rest[3:] if rest[1:2] == ["-n"] else rest[1:]
    return argv[:env] + rest


def _parse_mark(spec: str, where: str) -> dict:
    words = shlex.split(spec)
    if not words or words[0] not in KINDS:
        raise ValueError(f"{where}: example marker must start with one of {KINDS}, got {spec!r}")
    found: dict = {"kind": words[0], "expects": []}
    for word in words[1:]:
        key, eq, value = word.partition("=")
        if word == "continues":
            found["continues"] = True
        elif key == "expect" and eq:
            for clause in value.split(","):
                m = _EXPECT.match(clause.strip())
                if m is None:
                    raise ValueError(f"{where}: expect clause {clause!r} is not 'field<=value'")
                raw = m.group(3)
                try:
                    parsed: float | str = float(raw)
                except ValueError:
                    parsed = raw
                found["expects"].append(Expect(m.group(1), m.group(2), parsed))
        elif key == "reason" and eq:
            found["reason"] = value
        elif key == "cwd" and value == "repo":
            found["in_repo"] = True
        elif key == "problem" and eq:
            found["problem"] = value
        elif key == "by" and eq:
            found["by"] = value
        elif key == "timeout" and eq:
            found["timeout"] = float(value)
        else:
            raise ValueError(f"{where}: unknown word {word!r} in example marker {spec!r}")
    if found["kind"] == "reference" and not found.get("reason"):
        raise ValueError(f"{where}: a reference block needs reason=\"...\"")
    if found["kind"] == "tested" and not found.get("by"):
        raise ValueError(f"{where}: a tested block needs by=tests/...")
    found["expects"] = tuple(found["expects"])
    return found


def blocks(pages: tuple[Path, ...] = PAGES) -> list[Block]:
    """Every fenced block of ``pages`` with its marker (``kind`` None when the block has none)."""
    out = []
    for page in pages:
        text = page.read_text()
        for m in _FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
            mark = _MARK.search(before)
            where = f"{page.relative_to(ROOT)}:{line}"
            fields = _parse_mark(mark.group(1), where) if mark else {"kind": None}
            out.append(Block(page=page, line=line, lang=m.group(1), text=m.group(2), **fields))
    return out
