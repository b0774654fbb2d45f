"""Every command and code block of README.md and docs/ is a test (see tests/docs/_doc_blocks.py for the markers).

Default suite: the markers are complete and well formed, ``run`` blocks run, ``command`` blocks name a
script that exists and takes every flag written, ``tested`` blocks name a test file that exists.
``-m slow``: the ``slow`` blocks run and their ``expect`` clauses hold on the run's report.json.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _doc_blocks import ROOT, SHELLS, Block, blocks, is_env

ALL = blocks()
_NAMESPACES: dict[Path, dict] = {}  # per page: the namespace a ``continues`` block goes on in
_SCRATCH: dict[Path, Path] = {}  # per page: one scratch directory, so a continuing block sees the files before it


def _ids(selected: list[Block]) -> list[str]:
    return [b.id for b in selected]


def test_every_block_has_an_example_marker():
    missing = [b.id for b in ALL if b.kind is None]
    assert not missing, "blocks without an <!-- example: ... --> marker (see tests/docs/_doc_blocks.py): " + ", ".join(
        missing
    )


def _strip_env(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    env = {}
    while argv and is_env(argv[0]):
        key, _, value = argv[0].partition("=")
        env[key] = value
        argv = argv[1:]
    return env, argv


def _redirect(argv: list[str]) -> tuple[list[str], str | None]:
    """``cmd ... > file``: the command and the file its stdout goes to."""
    if ">" not in argv:
        return argv, None
    at = argv.index(">")
    assert at == len(argv) - 2, f"only a trailing '> file' redirect is supported: {argv}"
    return argv[:at], argv[at + 1]


def _python(argv0: str) -> bool:
    return Path(argv0).name.startswith("python")


def _run_python(block: Block) -> None:
    namespace = _NAMESPACES.get(block.page, {}) if block.continues else {}
    exec(compile(block.text, block.id, "exec"), namespace)  # noqa: S102 - our own documentation
    _NAMESPACES[block.page] = namespace


def _run_shell(block: Block, scratch: Path, monkeypatch) -> None:
    from physopt.cli import main

    monkeypatch.chdir(scratch)
    for argv in block.commands():
        env, argv = _strip_env(argv)
        if argv[0] == "physopt":
            for key, value in env.items():
                monkeypatch.setenv(key, value)
            argv, target = _redirect(argv)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = main(argv[1:])
            if target is not None:
                (scratch / target).write_text(out.getvalue())
            assert code in (0, None), f"{block.id}: {' '.join(argv)} exited {code}"
            continue
        if _python(argv[0]):
            argv = [sys.executable, *argv[1:]]
        done = subprocess.run(
            argv,
            cwd=scratch,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **env},
            capture_output=True,
            text=True,
            timeout=block.timeout or 3600,
        )
        assert done.returncode == 0, f"{block.id}: {' '.join(argv)} exited {done.returncode}\n{done.stderr[-2000:]}"


def _scratch(block: Block, factory) -> Path:
    if block.page not in _SCRATCH:
        _SCRATCH[block.page] = factory.mktemp(block.page.stem)
    return _SCRATCH[block.page]


def _run(block: Block, scratch: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(scratch / "cache"))  # family data caches stay in the scratch dir
    if block.lang == "python":
        monkeypatch.chdir(ROOT if block.in_repo else scratch)
        _run_python(block)
    elif block.lang in SHELLS:
        _run_shell(block, scratch, monkeypatch)
    elif block.lang == "toml":
        from physopt.config import resolve

        assert block.problem, f"{block.id}: a TOML example names its problem (problem=...)"
        (scratch / "example.toml").write_text(block.text)
        resolve(block.problem, config_file=scratch / "example.toml")  # raises ConfigError on any bad key
    else:
        raise AssertionError(f"{block.id}: a runnable block must be python or shell, got {block.lang!r}")
    if block.expects:
        reports = sorted(scratch.rglob("report.json"), key=lambda p: p.stat().st_mtime)
        assert reports, f"{block.id}: expect given but the block wrote no report.json"
        report = json.loads(reports[-1].read_text())
        for expect in block.expects:
            expect.check(report)


RUN = [b for b in ALL if b.kind == "run"]
SLOW = [b for b in ALL if b.kind == "slow"]


@pytest.mark.parametrize("block", RUN, ids=_ids(RUN))
def test_run_blocks(block, tmp_path_factory, monkeypatch):
    _run(block, _scratch(block, tmp_path_factory), monkeypatch)


@pytest.mark.slow  # the docs' full-length commands: minutes each
@pytest.mark.parametrize("block", SLOW, ids=_ids(SLOW))
def test_slow_blocks(block, tmp_path_factory, monkeypatch):
    _run(block, _scratch(block, tmp_path_factory), monkeypatch)


BENCH = [b for b in ALL if b.kind == "command"]


@pytest.mark.parametrize("block", BENCH, ids=_ids(BENCH))
def test_benchmark_commands_name_real_scripts_and_flags(block):
    # a command block shows python commands and what they print ("physopt Muon  257.7 ..." is output)
    commands = [argv for argv in (_strip_env(a)[1] for a in block.commands()) if argv and _python(argv[0])]
    assert commands, f"{block.id}: a benchmark block without a command"
    for argv in commands:
        if _python(argv[0]) and argv[1:3] == ["-m", "pytest"]:
            paths = [a.split("::")[0] for a in argv[3:] if a.startswith("tests/")]
            assert paths and all((ROOT / p).exists() for p in paths), f"{block.id}: {paths}"
            continue
        scripts = [a for a in argv if a.startswith("benchmarks/") and a.endswith(".py")]
        assert _python(argv[0]) and len(scripts) == 1, f"{block.id}: not a 'python benchmarks/x.py' command: {argv}"
        source = (ROOT / scripts[0]).read_text()
        for flag in (a.split("=")[0] for a in argv if a.startswith("--")):
            # the flag is declared in the script (argparse add_argument) under exactly that spelling
            assert f'"{flag}"' in source or f"'{flag}'" in source, f"{block.id}: {scripts[0]} has no flag {flag}"


TESTED = [b for b in ALL if b.kind == "tested"]


@pytest.mark.parametrize("block", TESTED, ids=_ids(TESTED))
def test_tested_blocks_name_a_test_of_their_page(block):
    test = ROOT / block.by
    assert test.is_file(), f"{block.id}: by={block.by} does not exist"
    assert block.page.name in test.read_text(), f"{block.id}: {block.by} does not read {block.page.name}"
