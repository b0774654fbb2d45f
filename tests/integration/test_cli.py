"""The command line: listings, --json, and one clear line + exit status for bad input."""

import json
import subprocess
import sys

import pytest

from physopt.cli import main

FAST = ["--steps", "5", "--quiet"]


def _err_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # exactly one line, no traceback
    return err[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["solve", "no-such-problem"], "unknown problem"),
        (["solve", "burgers", "--optimizer", "nope"], "unknown optimizer"),
        (["solve", "burgers", "--set", "model.nope=3"], "unknown config key"),
        (["solve", "burgers", "--set", "steps=abc"], "steps: expected an integer"),
        (["solve", "burgers", "--set", "optim.lr=fast"], "optim.lr: expected a number"),
        (["solve", "burgers", "--set", "novalue"], "key=value"),
        (["solve", "burgers", "--constraints", "magic"], "constraints must be one of"),
        (["solve", "burgers", "--config", "/nonexistent/x.toml"], "config file not found"),
        (["solve", "burgers", "--steps", "-3"], "steps must be"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle, capsys, tmp_path):
    assert main([*args, "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert needle in _err_line(capsys)


def test_invalid_toml_and_bad_factory(capsys, tmp_path, user_problem):
    bad = tmp_path / "bad.toml"
    bad.write_text("steps = = 3\n")
    assert main(["solve", "burgers", "--config", str(bad), "--out", str(tmp_path / "a"), *FAST]) == 2
    assert "not valid TOML" in _err_line(capsys)
    assert main(["solve", f"{user_problem}:not_a_problem", "--out", str(tmp_path / "b"), *FAST]) == 2
    assert "returned int, expected physopt.problems.Problem" in _err_line(capsys)
    assert main(["solve", f"{user_problem}:missing", "--out", str(tmp_path / "c"), *FAST]) == 2
    assert "no callable 'missing'" in _err_line(capsys)


def test_argparse_errors_also_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["solve"])
    assert exc.value.code == 2


def test_diverged_run_exits_3_names_step_and_term(capsys, tmp_path, user_problem):
    out = tmp_path / "nan"
    code = main(["solve", f"{user_problem}:nan_problem", "--constraints", "penalty", "--out", str(out), *FAST])
    assert code == 3
    err = capsys.readouterr().err
    assert "step 0" in err and "'pde'" in err
    assert (out / "checkpoint.pt").exists()  # the last good state (the initial one here) is kept
    assert json.loads((out / "report.json").read_text())["status"] == "diverged"


def test_list_commands(capsys):
    assert main(["list", "problems"]) == 0
    assert "burgers" in capsys.readouterr().out
    assert main(["list", "optimizers"]) == 0
    names = capsys.readouterr().out.split()
    assert {"adam", "lbfgs", "muon", "ssbroyden"} <= set(names)
    assert main(["list", "constraints"]) == 0
    assert set(capsys.readouterr().out.split()) >= {"penalty", "hard"}


def test_json_prints_only_the_report(tmp_path, user_problem):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "physopt.cli", "solve", f"{user_problem}:problem", "--steps", "20",
         "--constraints", "penalty", "--out", str(out), "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # stdout is exactly one JSON object
    for key in ("problem", "optimizer", "constraints", "steps", "wall_time_s", "rel_l2", "max_abs_error",
                "constraint_violation", "status", "versions"):
        assert key in report
    assert report["steps"] == 20 and report["status"] == "completed"
    assert set(report["constraint_violation"]) == {"bc"}
    for name in ("report.json", "report.md", "metrics.jsonl", "checkpoint.pt", "config.toml", "training.png"):
        assert (out / name).exists(), name
    assert "step" in proc.stderr  # the progress bar went to stderr


def test_problem_options_via_set(capsys, tmp_path):
    out = tmp_path / "nd"
    assert main(["solve", "poisson-nd", "--set", "problem.dim=7", "--steps", "2", "--out", str(out), "--quiet"]) == 0
    assert "problem_options = {dim = 7}" in (out / "config.toml").read_text()
    import physopt

    assert physopt.load(out).problem.input_dim == 7
    capsys.readouterr()
    assert main(["solve", "poisson-nd", "--set", "problem.dimm=7", "--out", str(tmp_path / "x"), *FAST]) == 2
    assert "does not take options ['dimm']" in _err_line(capsys)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without a CUDA GPU")
@pytest.mark.parametrize(("device", "needle"), [("cuda", "no CUDA GPU"), ("cuda:1", "no CUDA GPU"),
                                                ("tpu", "unknown device 'tpu'")])
def test_missing_or_unknown_device_exits_2_with_one_line(device, needle, capsys, tmp_path):
    assert main(["solve", "burgers", "--device", device, "--out", str(tmp_path / "run"), *FAST]) == 2
    assert needle in _err_line(capsys)


def _history(run_dir):
    clocks = ("wall_time_s", "cpu_time_s")
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(ln).items() if k not in clocks} for ln in lines]


def test_device_cpu_equals_the_run_without_the_flag(tmp_path, capsys):
    short = ["--steps", "12", "--quiet", "--set", "log_every=4", "--set", "optim.switch_at=6",
             "--set", "sampler.sizes.pde=200", "--set", "model.depth=2"]
    assert main(["solve", "burgers", "--out", str(tmp_path / "a"), *short]) == 0
    assert main(["solve", "burgers", "--device", "cpu", "--out", str(tmp_path / "b"), *short]) == 0
    assert _history(tmp_path / "a") == _history(tmp_path / "b")  # bit-identical, float64
