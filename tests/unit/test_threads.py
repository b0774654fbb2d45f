"""threads = 0 picks the idle cores at the start of a run, records the count, and a resume reuses it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch

from physopt.runtime import idle_cores, idle_threads, resolve_threads


def test_explicit_counts_are_kept_and_bad_ones_refused():
    assert resolve_threads(3) == 3
    assert resolve_threads(0, world_size=2) == max(1, (os.cpu_count() or 1) // 2)
    with pytest.raises(ValueError, match="threads must be >= 0.*-1"):
        resolve_threads(-1)
    with pytest.raises(ValueError, match="window"):
        idle_cores(window=0)


def test_idle_threads_is_within_one_and_torchs_default():
    assert 1 <= idle_threads() <= torch.get_num_threads()


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="idle cores are read from /proc/stat (Linux)")
def test_busy_cores_are_not_counted_idle():
    cores = os.cpu_count() or 1
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        time.sleep(0.3)  # let the spinners get scheduled
        idle = idle_cores(window=0.3)
    finally:
        for p in hogs:
            p.kill()
            p.wait()
    # one spinner per core leaves (nearly) nothing idle; a broken count would report ~all cores idle.
    # Half a core of slack: this test process itself and the scheduler's share of the window.
    assert idle is not None and idle < 0.5 + 0.25 * cores


def test_a_run_records_the_count_it_used_and_resume_keeps_it(tmp_path):
    import physopt
    from physopt.config import read_toml

    out = tmp_path / "run"
    physopt.solve("poisson2d", steps=3, out=out)
    used = read_toml(out / "config.toml")["threads"]
    assert 1 <= used <= torch.get_num_threads()
    result = physopt.resume(out)
    assert result.config.threads == used


def test_a_passive_wait_policy_keeps_torchs_default(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "passive")
    assert resolve_threads(0) == torch.get_num_threads()


def test_the_program_makes_openmp_passive_unless_the_user_chose(monkeypatch):
    from physopt.cli import passive_openmp

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    passive_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    passive_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
