"""benchmarks/physics_operators.py: ``--jobs`` runs side by side give the table the serial runs give (each run
is seeded and one-threaded, so its error does not depend on which process trained it), and ``--set`` wins
over a method's own settings."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from physopt.config import resolve_learn

ROOT = Path(__file__).resolve().parents[2]


def _table(jobs: int, tmp_path: Path) -> list[list[str]]:
    # --budget 1e-6: every method's calibration gives max(1, floor(budget / s)) = 1 epoch, so the two runs
    # train the same number of steps and only the process that ran them differs
    command = [sys.executable, "benchmarks/physics_operators.py", "--families", "poisson-1d", "--methods",
               "data,physics", "--budget", "1e-6", "--n-train", "20", "--n-test", "10", "--seeds", "0,1",
               "--jobs", str(jobs)]
    # timeout: a hang guard, not a speed claim (one run took over 300 s of wall time at load 40 on 2 cores)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env={"PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1",
                               "XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    return [[c.strip() for c in r.strip("|").split("|")] for r in rows]


@pytest.mark.slow  # about 15 CPU-seconds: two spawned workers import torch, four one-epoch runs, twice
def test_jobs_give_the_serial_table(tmp_path):
    serial, parallel = _table(1, tmp_path), _table(2, tmp_path)
    assert [c[1] for c in serial] == ["data", "physics"]
    assert [c[3] for c in serial] == ["20", "0"]  # the data-free row reads no label
    # method, model, labelled, median error, min - max, vs data, epochs: identical (the CPU columns are not)
    assert [c[:8] for c in parallel] == [c[:8] for c in serial]
    assert serial[0][5] != serial[1][5]  # the two rows are different runs, not one result twice


def _bench(monkeypatch):
    spec = importlib.util.spec_from_file_location("physics_operators", ROOT / "benchmarks" / "physics_operators.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # its companion scripts import by name
    monkeypatch.setitem(sys.modules, spec.name, bench)  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    return bench


def test_jobs_below_one_is_refused(monkeypatch, capsys):
    with pytest.raises(SystemExit) as exit_:
        _bench(monkeypatch).main(["--families", "none", "--jobs", "0"])
    assert exit_.value.code == 2 and "--jobs must be at least 1, got 0" in capsys.readouterr().err


def test_the_command_line_set_comes_after_the_method_settings(monkeypatch):
    bench = _bench(monkeypatch)
    args = argparse.Namespace(n_train=20, n_test=10, set=["optim.lr=1e-2", "model.rank=4"])
    sets = bench.overrides("darcy", bench.METHODS["lordnet"], args)
    assert "optim.lr=5e-3" in sets and sets[-2:] == ["optim.lr=1e-2", "model.rank=4"]
    # later --set entries win in physopt's resolution, so the command line's lr is the one trained with
    config = resolve_learn("darcy", flags={"model.kind": "lordnet"}, overrides=sets)
    assert config.optim.lr == 1e-2 and config.model.rank == 4
