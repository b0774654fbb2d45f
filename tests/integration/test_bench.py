"""``physopt bench``: grid expansion, n/a cells, outputs, resume after interruption, bad flags.

Cells are real ``physopt solve`` subprocesses (about 3-5 s of CPU each, mostly ``import torch``),
so the grids that run cells are marked slow; the fast tests cover everything that runs no cell.
"""

import json
import math
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from physopt.bench import Block, GridSettings, rebuild, render_html, render_markdown, run_grid
from physopt.bench._grid import expand
from physopt.bench._leaderboard import settings_text
from physopt.bench._results import aggregate
from physopt.bench._runner import cell_state, check_stale
from physopt.cli import main
from physopt.config import ConfigError

# Two 1-D problems written by the test itself: the second has only a Neumann condition, so
# `--constraints hard` has nothing to enforce exactly and must show as n/a.
PROBLEMS = '''
import math
import numpy as np
import torch
from physopt.problems import Dirichlet, Interval, Neumann, Problem, Reference, Residual, ops

def _pde(x, u, params):
    return -ops.partial(u, x, 0, 0) - math.pi**2 * torch.sin(math.pi * x)

def _problem(name, bc):
    pts = np.linspace(0, 1, 101)[:, None]
    return Problem(name=name, domain=Interval(0.0, 1.0), input_names=("x",), output_names=("u",),
                   conditions={"pde": Residual(_pde), "bc": bc},
                   reference=Reference(points=pts, values=np.sin(np.pi * pts), source="sin(pi x)", error=1e-16),
                   sizes={"pde": 32, "bc": 2}, description="1-D Poisson")

def dirichlet():
    return _problem("dirichlet1d", Dirichlet(0.0))

def neumann():
    return _problem("neumann1d", Neumann(-math.pi))
'''
TINY = ("model.depth=1", "model.width=4", "eval_every=2", "log_every=2", "checkpoint_every=2")
COMPARED = ("problem", "optimizer", "constraints", "seed", "status", "rel_l2", "max_abs_error",
            "constraint_violation", "steps")


@pytest.fixture
def problems(tmp_path, monkeypatch):
    (tmp_path / "probs.py").write_text(PROBLEMS)
    monkeypatch.chdir(tmp_path)  # cells get the relative spec `probs.py:...`, as a user would type it
    return ["probs.py:dirichlet", "probs.py:neumann"]


def _err_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one clear line, no traceback
    return err[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--problems", "no-such-problem"], "unknown problem"),
        (["--problems", "burgers", "--optimizers", "nope"], "unknown optimizer 'nope'"),
        (["--problems", "burgers", "--constraints", "magic"], "unknown constraint formulation 'magic'"),
        (["--problems", "burgers", "--seeds", "0"], "seeds must be an integer >= 1"),
        (["--problems", "burgers", "--jobs", "0"], "jobs must be an integer >= 1"),
        (["--problems", "burgers", "--set", "model.nope=1"], "unknown config key"),
        (["--problems", "burgers", "--peers", "/nonexistent/peers.json"], "cannot read peers file"),
        (["--problems", "burgers", "--time-budget", "-1"], "time_budget must be > 0"),
    ],
)
def test_bad_flags_exit_2_with_one_line(args, needle, capsys, tmp_path):
    assert main(["bench", *args, "--out", str(tmp_path / "b"), "--quiet"]) == 2
    assert needle in _err_line(capsys)
    assert not (tmp_path / "b" / "runs").exists()  # nothing was started


def test_argparse_errors_exit_2():
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--seeds", "three"])
    assert exc.value.code == 2


def test_expand_resolves_defaults_and_drops_duplicates():
    cells, info = expand([Block(problems=("burgers",), optimizers=("default", "adam+ssbroyden"), seeds=2)],
                         GridSettings(time_budget=5.0))
    from physopt.config import resolve

    own = resolve("burgers")
    # "default" is burgers' own optimizer; naming it again adds no cells.
    expected = 2 if own.optim.name == "adam+ssbroyden" else 4
    assert len(cells) == expected
    assert cells[0].optimizer == own.optim.name and cells[0].constraints == own.constraints
    assert [c.seed for c in cells[:2]] == [0, 1]
    assert cells[0].key == f"burgers/{own.optim.name}/{own.constraints}/seed0"
    assert "--time-budget 5" in cells[0].command() and "threads=1" in cells[0].command()
    # Each cell carries the configuration resolved now and runs it through --config.
    assert "--config DIR/bench_config.toml" in cells[0].command()
    assert cells[0].config["optim"]["name"] == own.optim.name and cells[0].config["time_budget"] == 5.0
    assert info["burgers"]["reference"]["error"] is not None


def test_all_na_grid_writes_outputs_without_running(problems, tmp_path):
    res = run_grid(problems=[problems[1]], optimizers=["adam"], constraints=["hard"], seeds=2, steps=4,
                   overrides=TINY, out=tmp_path / "na")
    assert res.counts() == {"n/a": 2}
    assert not any((tmp_path / "na" / "runs").iterdir())  # no cell directory: nothing ran
    assert {r["status"] for r in res.cells} == {"n/a"}
    reason = res.cells[0]["reason"]
    assert "neumann1d" in reason
    md = (tmp_path / "na" / "leaderboard.md").read_text()
    assert "| physopt | adam | hard | n/a |" in md and "2 n/a: " + reason in md
    assert json.loads((tmp_path / "na" / "results.json").read_text())["cells"][1]["status"] == "n/a"
    # A peer file added afterwards: rebuild rewrites the pages from results.json, running nothing.
    peers = tmp_path / "peers.json"
    peers.write_text(json.dumps([{"problem": problems[1], "library": "other", "seed": 0, "rel_l2": 0.25,
                                  "wall_time_s": 3.0, "steps": 10, "command": "other run"}]))
    rebuild(tmp_path / "na", peers=peers, command="rebuilt")
    md = (tmp_path / "na" / "leaderboard.md").read_text()
    assert "| other | – | – | 2.50e-01 | 2.50e-01 |" in md and "`rebuilt`" in md
    peers.write_text(json.dumps([{"problem": "x"}]))
    with pytest.raises(ConfigError, match="record 0 lacks library"):
        rebuild(tmp_path / "na", peers=peers)


def _doc():
    """A results document with two seeds, one diverged seed and one peer library."""
    cells = [
        {"problem": "p", "optimizer": "adam", "constraints": "penalty", "seed": s, "status": st, "reason": "",
         "rel_l2": e, "max_abs_error": 2 * e if e else None, "constraint_violation": 1e-3, "wall_time_s": 10.0 + s,
         "steps": 100, "dir": f"runs/p/adam/penalty/seed{s}", "command": "physopt solve p",
         "curve": [[1.0, 0.5], [9.0, e or 1]]}
        for s, (st, e) in enumerate([("completed", 1e-2), ("time budget", 3e-2), ("diverged", None)])
    ]
    peers = [{"problem": "p", "library": "deepxde", "seed": s, "rel_l2": e, "wall_time_s": 30.0, "steps": 1000,
              "cpu_time_s": 20.0 + 2 * s, "command": "python burgers.py"} for s, e in enumerate([5e-3, 7e-3])]
    from physopt.bench._results import peer_groups

    rows, prows = aggregate(cells), peer_groups(peers)
    return {"command": "physopt bench x", "created": "now", "machine": "m", "note": "shared machine",
            "settings": {"steps": None, "time_budget": 10.0, "overrides": [], "threads": 1, "jobs": 1},
            "versions": {"physopt": "0"}, "cells": cells,
            "problems": {"p": {"description": "d", "reference": {"source": "s", "error": 1e-15, "note": "n"},
                               "rows": rows, "peers": prows, "peer_records": peers}}}


def test_aggregates_and_rendering():
    doc = _doc()
    (row,) = doc["problems"]["p"]["rows"]
    # Only the two scored seeds enter the mean; the sample std of (1e-2, 3e-2) is sqrt(2)·1e-2.
    assert row["scored"] == 2 and row["status"] == {"completed": 1, "time budget": 1, "diverged": 1}
    # rel=1e-12: the statistics are exact up to float64 rounding of a handful of operations.
    assert row["rel_l2_mean"] == pytest.approx(2e-2, rel=1e-12)
    assert row["rel_l2_std"] == pytest.approx(math.sqrt(2) * 1e-2, rel=1e-12)
    assert row["wall_time_s"] == pytest.approx(10.5) and row["rel_l2_best"] == 1e-2
    md = render_markdown(doc)
    assert "| physopt | adam | penalty | 2.00e-02 ± 1.4e-02 | 1.00e-02 |" in md
    assert "| deepxde | – | – | 6.00e-03 ± 1.4e-03 |" in md
    assert "| 30.0 (21.0 CPU) |" in md  # peer wall and CPU time, means over seeds
    assert "reference error 1.0e-15 (n)" in md and "shared machine" in md
    page = render_html(doc)
    assert page.count("data:image/png;base64,") == 2  # the bar chart and the error-vs-time plot
    assert "http" not in page.replace("http-equiv", "")  # no external assets
    assert "<style>" in page and "deepxde" in page


def test_cell_state_and_stale_directories(tmp_path, problems):
    d = tmp_path / "c"
    assert cell_state(d) == "new"
    d.mkdir()
    (d / "config.toml").write_text("steps = 3\n")
    (d / "checkpoint.pt").write_bytes(b"x")
    assert cell_state(d) == "resume"
    (d / "report.json").write_text(json.dumps({"status": "interrupted"}))
    assert cell_state(d) == "resume"
    (d / "report.json").write_text(json.dumps({"status": "diverged"}))
    assert cell_state(d) == "done"
    cells, _ = expand([Block(problems=(problems[0],), optimizers=("adam",), constraints=("penalty",), seeds=1)],
                      GridSettings(steps=4, overrides=TINY))
    runs = tmp_path / "runs"
    (runs / cells[0].key).mkdir(parents=True)
    (runs / cells[0].key / "bench_cell.json").write_text(json.dumps({**cells[0].spec(), "steps": 99}))
    with pytest.raises(ConfigError, match="was run with other settings"):
        check_stale(cells, runs)
    # Same spec, but the configuration it resolved to then differs from today's (e.g. changed
    # problem defaults): also refused, naming the key.
    from physopt.config import dumps_toml, resolve, to_dict

    (runs / cells[0].key / "bench_cell.json").write_text(json.dumps(cells[0].spec()))
    flags = {"optim.name": "adam", "constraints": "penalty", "steps": 4, "seed": 0}
    cfg = to_dict(resolve(problems[0], flags=flags, overrides=["threads=1", *TINY]))
    (runs / cells[0].key / "config.toml").write_text(dumps_toml(cfg))
    check_stale(cells, runs)  # identical: accepted
    (runs / cells[0].key / "config.toml").write_text(dumps_toml({**cfg, "model": {**cfg["model"], "width": 5}}))
    with pytest.raises(ConfigError, match="differs from the current settings in model"):
        check_stale(cells, runs)


def _grid(problems, out, **kw):
    return run_grid(problems=problems, optimizers=["adam", "adamw"], constraints=["penalty"], seeds=2, steps=6,
                    time_budget=None, overrides=TINY, threads=1, out=out, **kw)


@pytest.mark.slow
def test_interrupted_grid_resumes_to_the_uninterrupted_result(problems, tmp_path):
    full = _grid(problems, tmp_path / "full")
    assert full.counts() == {"ran": 8} and not full.interrupted
    for name in ("results.json", "leaderboard.md", "leaderboard.html", "plots/rel_l2.png"):
        assert (tmp_path / "full" / name).is_file(), name
    assert all((tmp_path / "full" / r["dir"] / "report.json").is_file() for r in full.cells)
    run = tmp_path / "full" / full.cells[0]["dir"]
    assert tomllib.loads((run / "bench_config.toml").read_text())["model"] == \
        tomllib.loads((run / "config.toml").read_text())["model"]  # the cell ran the expanded config

    def stop_after_first(cell, outcome):
        raise KeyboardInterrupt  # what Ctrl-C does between two cells

    part = _grid(problems, tmp_path / "part", on_cell=stop_after_first)
    assert part.interrupted and part.counts() == {"ran": 1, "pending": 7}
    first = tmp_path / "part" / part.cells[0]["dir"] / "report.json"
    stamp = first.stat().st_mtime_ns
    again = _grid(problems, tmp_path / "part")
    assert again.counts() == {"skipped": 1, "ran": 7}
    assert first.stat().st_mtime_ns == stamp  # the finished cell was not rerun
    strip = lambda res: [{k: r[k] for k in COMPARED} for r in res.cells]  # noqa: E731
    assert strip(again) == strip(full)  # same seeds, same steps: bit-for-bit the same numbers


@pytest.mark.slow
def test_ctrl_c_inside_a_cell_checkpoints_and_the_rerun_resumes_it(problems, tmp_path):
    # Checkpoints every 50 steps and a SIGINT after step 20: the resume starts from the stop step.
    sets = ("model.depth=1", "model.width=4", "eval_every=50", "log_every=10", "checkpoint_every=50")
    args = [sys.executable, "-m", "physopt.cli", "bench", "--problems", problems[0], "--optimizers", "adam",
            "--constraints", "penalty", "--seeds", "1", "--steps", "1000", "--time-budget", "0",
            *[a for kv in sets for a in ("--set", kv)], "--out"]
    ref = subprocess.run([*args, "full", "--quiet"], capture_output=True, text=True, timeout=600)
    assert ref.returncode == 0, ref.stderr
    proc = subprocess.Popen([*args, "part", "--quiet"], stderr=subprocess.PIPE, text=True)
    log = tmp_path / "part/runs/dirichlet/adam/penalty/seed0/metrics.jsonl"
    deadline = time.monotonic() + 300
    while not (log.is_file() and len(log.read_text().splitlines()) >= 2) and time.monotonic() < deadline:
        time.sleep(0.05)  # wait until the cell has trained a few steps, then press "Ctrl-C"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=300) == 130, proc.stderr.read()
    stopped = json.loads((log.parent / "report.json").read_text())
    assert stopped["status"] == "interrupted" and 0 < stopped["steps"] < 1000
    rerun = subprocess.run([*args, "part", "--quiet"], capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0 and "1 resumed" in rerun.stdout, rerun.stderr
    a, b = (json.loads((tmp_path / d / "results.json").read_text())["cells"][0] for d in ("full", "part"))
    assert {k: a[k] for k in COMPARED} == {k: b[k] for k in COMPARED}


def test_cpu_clock_reaches_every_cell_and_the_leaderboard_text(tmp_path):
    cells, _ = expand([Block(problems=("poisson2d",), optimizers=("adam",), seeds=1)],
                      GridSettings(time_budget=5.0, clock="cpu"))
    assert "--set budget_clock=cpu" in cells[0].command()
    # A finished cell's config.toml (the run writes its resolved config) is not taken for stale on resume.
    from physopt.bench._runner import _config_changes
    from physopt.config import dumps_toml

    (tmp_path / "config.toml").write_text(dumps_toml(cells[0].config))
    assert _config_changes(cells[0], tmp_path) == []
    assert cells[0].config["budget_clock"] == "cpu" and cells[0].spec()["clock"] == "cpu"
    wall, _ = expand([Block(problems=("poisson2d",), optimizers=("adam",), seeds=1)], GridSettings(time_budget=5.0))
    assert "budget_clock" not in wall[0].command() and "clock" not in wall[0].spec()  # old run dirs stay valid
    with pytest.raises(ValueError, match="clock must be 'wall' or 'cpu', got 'gpu'"):
        GridSettings(clock="gpu")
    doc = _doc()
    doc["settings"]["clock"] = "cpu"
    assert "a time budget of 10 CPU s (process time)" in settings_text(doc)


def test_quoted_peer_rows_are_marked_with_their_source(problems, tmp_path):
    res = run_grid(problems=[problems[1]], optimizers=["adam"], constraints=["hard"], seeds=1, steps=4,
                   overrides=TINY, out=tmp_path / "q")
    assert res.counts() == {"n/a": 1}
    ran = tmp_path / "ran.json"
    ran.write_text(json.dumps([{"problem": problems[1], "library": "other", "seed": 0, "rel_l2": 0.25,
                                "wall_time_s": 3.0, "steps": 10, "command": "other run"}]))
    quoted = tmp_path / "quoted.json"
    quoted.write_text(json.dumps([{"problem": problems[1], "library": "Paper PINN", "seed": None, "rel_l2": 0.0145,
                                   "wall_time_s": None, "steps": 20000, "command": None,
                                   "quoted": "Someone et al. 2024, Table 3"}]))
    rebuild(tmp_path / "q", peers=[ran, quoted])  # several files: both libraries appear
    md = (tmp_path / "q" / "leaderboard.md").read_text()
    assert "| Paper PINN (quoted) | – | – | 1.45e-02 |" in md and "| other | – | – | 2.50e-01 |" in md
    assert "Paper PINN (quoted, not run here): Someone et al. 2024, Table 3" in md
    assert "Paper PINN (quoted, not run here)" in (tmp_path / "q" / "leaderboard.html").read_text()
    quoted.write_text(json.dumps([{"problem": "x", "library": "l", "seed": None, "rel_l2": 0.1, "wall_time_s": None,
                                   "steps": None, "command": None, "quoted": ""}]))
    with pytest.raises(ConfigError, match="record 0 has quoted ''"):
        rebuild(tmp_path / "q", peers=quoted)


def test_the_committed_quoted_peers_file_loads():
    from physopt.bench import load_peers
    from physopt.problems import available

    root = Path(__file__).resolve().parents[2]
    recs = load_peers(root / "docs" / "data" / "pinnacle_quoted.json")
    assert {r["problem"] for r in recs} <= set(available()) and all(r["quoted"] for r in recs)
