"""``torchrun -m physopt solve`` on 2 gloo processes equals one process holding both ranks' points.

A 2-rank run draws shard r's points on rank r (``sampler.shards = 2`` is recorded in its config);
one process with ``--set sampler.shards=2`` draws the same two shards and trains on their
concatenation. The two runs differ only in the order of floating-point sums (the 1-process mean
over 2N points against the average of two means over N), so the final metrics agree to rounding
amplified by the optimizer's trajectory: about 1e-15 relative for Adam; SSBroyden's line searches
amplify it about tenfold every three steps on this problem (1e-12 after 12 steps, 1e-9 after 40:
measured by comparing metrics.jsonl step by step), hence the short quasi-Newton runs below.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

PROBLEM = str(Path(__file__).resolve().parent / "poisson1d.py") + ":problem"
SRC = str(Path(__file__).resolve().parents[2] / "src")
# Final metrics of the two runs agree to this relative tolerance (the bound; see the docstring
# for the measured size of the rounding differences it covers).
RTOL = 1e-10


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def torchrun(*args: str, nproc: int = 2, check: bool = True) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node nproc -m physopt args`` (a free rendezvous port each time)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           "-m", "physopt", *args]
    # a hang guard, not a speed test: the kill-and-resume test takes 57 s idle, but one resume under load 4-14
    # (other jobs on the 2 cores) passed 300 s
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=900)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def physopt(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "physopt", *args], env=_env(), capture_output=True, text=True,
                          timeout=300)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def _report(run: Path) -> dict:
    return json.loads((run / "report.json").read_text())


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= RTOL * max(abs(a), abs(b))


def _solve_both(tmp_path: Path, *args: str) -> tuple[Path, Path]:
    one, two = tmp_path / "one", tmp_path / "two"
    common = ["solve", PROBLEM, "--quiet", "--set", "log_every=1", *args]
    torchrun(*common, "--out", str(two))
    physopt(*common, "--out", str(one), "--set", "sampler.shards=2")
    return one, two


def _assert_same_metrics(one: Path, two: Path) -> None:
    a, b = _report(one), _report(two)
    for key in ("rel_l2", "max_abs_error", "final_loss"):
        assert _close(a[key], b[key]), (key, a[key], b[key])
    assert a["steps"] == b["steps"]


def _checkpoint(run: Path) -> dict:
    return torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=False)["trainer"]


@pytest.mark.slow
def test_adam_two_ranks_equal_one_process_on_both_shards(tmp_path):
    one, two = _solve_both(tmp_path, "--optimizer", "adam", "--steps", "60")
    _assert_same_metrics(one, two)
    assert "shards = 2" in (two / "config.toml").read_text()  # recorded: a resume draws the same points
    states = _checkpoint(two)["sampler"]["states"]
    assert sorted(states) == [0, 1]  # rank 0's checkpoint holds rank 1's sampler state too
    ref = _checkpoint(one)["sampler"]["states"]
    for s in (0, 1):
        assert torch.equal(states[s]["batch"]["pde"]["x"], ref[s]["batch"]["pde"]["x"])
    assert not torch.equal(states[0]["batch"]["pde"]["x"], states[1]["batch"]["pde"]["x"])  # distinct shards


@pytest.mark.slow
def test_ssbroyden_two_ranks_equal_one_process(tmp_path):
    one, two = _solve_both(tmp_path, "--optimizer", "ssbroyden", "--steps", "12")
    _assert_same_metrics(one, two)
    assert _report(one)["final_loss"] < 0.5 * json.loads((one / "metrics.jsonl").read_text().splitlines()[0])["loss"]


@pytest.mark.slow
def test_alm_pointwise_multipliers_two_ranks_equal_one_process(tmp_path):
    one, two = _solve_both(tmp_path, "--optimizer", "adam", "--constraints", "alm", "--steps", "40")
    _assert_same_metrics(one, two)
    lam = {r: _checkpoint(r)["objective"]["duals"]["constraints"]["bc"]["multiplier"] for r in (one, two)}
    # One multiplier per boundary point of both shards, in global (shard-major) order on both runs.
    assert lam[one].shape == lam[two].shape == (8,)  # 2 shards x 4 points, 1 component
    assert lam[one].abs().max() > 0
    torch.testing.assert_close(lam[two], lam[one], rtol=RTOL, atol=0.0)  # the same rounding bound as the metrics


@pytest.mark.slow
def test_killed_two_rank_run_resumes_to_the_uninterrupted_result(tmp_path):
    args = ["solve", PROBLEM, "--quiet", "--optimizer", "adam", "--steps", "3000", "--set", "checkpoint_every=50"]
    full, cut = tmp_path / "full", tmp_path / "cut"
    torchrun(*args, "--out", str(full))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "physopt",
           *args, "--out", str(cut)]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            ckpt = cut / "checkpoint.pt"
            if ckpt.is_file() and _checkpoint(cut)["step"] >= 100:
                break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both ranks, mid-run
        proc.wait()
    step = _checkpoint(cut)["step"]
    assert 0 < step < 3000, step  # killed part-way (a finished run would prove nothing)
    torchrun("resume", str(cut), "--quiet")
    a, b = _report(full), _report(cut)
    assert b["steps"] == 3000
    # Same world size, same shards: the resumed run repeats the same reductions, bit for bit.
    assert (a["rel_l2"], a["final_loss"]) == (b["rel_l2"], b["final_loss"])


@pytest.mark.slow
def test_resume_on_another_world_size(tmp_path):
    run = tmp_path / "run"
    torchrun("solve", PROBLEM, "--quiet", "--optimizer", "adam", "--steps", "30", "--out", str(run))
    # One process draws both shards: it says so and continues (same points, rounding-level differences).
    again = physopt("resume", str(run))
    assert "resuming on 1 process(es), each drawing 2 of them" in again.stderr
    # A 1-shard run cannot be split over 2 processes: one line, exit status 2.
    single = tmp_path / "single"
    physopt("solve", PROBLEM, "--quiet", "--steps", "5", "--out", str(single))
    bad = torchrun("resume", str(single), "--quiet", check=False)
    assert bad.returncode != 0
    assert "resume it on a number of processes that divides 1, not 2" in bad.stderr


LEARN = ["learn", "antiderivative", "--model", "fno", "--epochs", "3", "--quiet", "--dtype", "float64",
         "--set", "data.n_train=16", "--set", "data.n_val=4", "--set", "data.n_test=4", "--set", "data.resolution=32"]


@pytest.mark.slow
def test_learn_two_ranks_equal_one_process_with_the_same_global_batch(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    torchrun(*LEARN, "--batch-size", "4", "--out", str(two))  # 2 ranks x 4 = a global batch of 8
    physopt(*LEARN, "--batch-size", "8", "--out", str(one))
    a, b = _report(one), _report(two)
    assert a["steps"] == b["steps"] == 3 * 2  # 16 samples / global batch 8, three epochs
    assert _close(a["final_loss"], b["final_loss"]), (a["final_loss"], b["final_loss"])
    for k in a["tests"]:
        assert _close(a["tests"][k]["mean"], b["tests"][k]["mean"]), k
    # batch_size is per process: another world size would change the global batch, so resume refuses.
    bad = physopt("resume", str(two), check=False)
    assert bad.returncode == 2 and "launch 2 process(es)" in bad.stderr


@pytest.mark.slow
def test_bench_on_two_ranks_gives_the_same_leaderboard_and_resumes(tmp_path):
    from test_bench import COMPARED, PROBLEMS, TINY  # the bench tests' 1-D problems and tiny settings

    (tmp_path / "probs.py").write_text(PROBLEMS)
    args = ["bench", "--problems", "probs.py:dirichlet", "--optimizers", "adam", "adamw", "--constraints",
            "penalty", "--seeds", "2", "--steps", "6", "--time-budget", "0", "--threads", "1", "--quiet",
            *(x for kv in TINY for x in ("--set", kv))]

    def run(launcher, out):
        cmd = [sys.executable, "-m", *launcher, "-m", "physopt", *args, "--out", out] if launcher else \
            [sys.executable, "-m", "physopt", *args, "--out", out]
        done = subprocess.run(cmd, env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    launcher = ["torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    run(launcher, "two")
    run(None, "one")
    cells = {d: json.loads((tmp_path / d / "results.json").read_text())["cells"] for d in ("one", "two")}
    strip = lambda cs: [{k: c[k] for k in COMPARED} for c in cs]  # noqa: E731
    assert len(cells["two"]) == 4 and strip(cells["two"]) == strip(cells["one"])  # same seeds and steps: bit for bit
    assert (tmp_path / "two" / "leaderboard.md").is_file()
    again = run(launcher, "two")  # resumable: every cell is finished, nothing reruns
    assert "bench: 4 cells (4 skipped)" in again.stdout


@pytest.mark.slow
def test_rad_resampling_and_causal_weights_use_global_statistics(tmp_path):
    # RAD's density normaliser and the causal bin losses come from both shards: a rank using only its
    # own candidates or points would move away from the one process that holds both.
    args = ["burgers", "--optimizer", "adam", "--steps", "12", "--set", "sampler.sizes.pde=128", "--set",
            "model.width=8", "--set", "model.depth=2", "--set", "causal.epsilon=1.0", "--set", "sampler.method=rad",
            "--set", "sampler.resample_every=4", "--set", "sampler.candidates=512", "--set", "eval_every=6"]
    one, two = tmp_path / "one", tmp_path / "two"
    common = ["solve", *args, "--quiet", "--set", "log_every=1"]
    torchrun(*common, "--out", str(two))
    physopt(*common, "--out", str(one), "--set", "sampler.shards=2")
    _assert_same_metrics(one, two)
    rows = [[json.loads(line) for line in (r / "metrics.jsonl").read_text().splitlines()] for r in (one, two)]
    for a, b in zip(*rows, strict=True):
        assert _close(a["loss"], b["loss"]) and _close(a["causal/min_weight"], b["causal/min_weight"]), a["step"]
    assert _checkpoint(two)["sampler"]["states"][1]["drawn_at"] == 8  # RAD redrew at steps 4 and 8


@pytest.mark.slow
def test_engd_two_ranks_sum_the_gram_blocks(tmp_path):
    # ENGD solves (G + μI) d = -b with G = Σ_ranks J_rᵀJ_r / 2: the same system as one process, whose
    # rounding (1e-16) the solve amplifies by cond(G + μI) ≈ 1/damping = 1e6, so one step agrees to
    # about 1e-10 (measured 3.9e-10 relative on the loss); 1e-8 leaves room and still fails on any
    # missing or doubled rank factor (which would change the step by O(1)).
    args = ["--optimizer", "engd", "--steps", "1", "--set", "sampler.sizes.pde=1024", "--set", "model.width=16",
            "--set", "model.depth=2"]
    one, two = _solve_both(tmp_path, *args)
    a, b = _report(one), _report(two)
    assert abs(a["final_loss"] - b["final_loss"]) <= 1e-8 * a["final_loss"], (a["final_loss"], b["final_loss"])
    assert a["steps"] == b["steps"] == 1 and b["status"] == "completed"


@pytest.mark.slow
def test_time_budget_stops_every_rank_at_the_same_step(tmp_path):
    # Each rank's clock differs; the stop is decided from the maximum over the ranks, so no rank is left
    # waiting in a collective (a hang would fail the subprocess timeout).
    run = tmp_path / "run"
    torchrun("solve", PROBLEM, "--quiet", "--optimizer", "adam", "--steps", "100000", "--time-budget", "1",
             "--out", str(run))
    report = _report(run)
    assert report["status"] == "time budget" and 0 < report["steps"] < 100000
