"""How many CPU threads a run should use: as many as there are idle cores when it starts.

torch's default is one thread per core. On a machine that other busy processes share, that default
degrades far worse than the share of the cores explains: OpenMP's worker threads spin at every
barrier, a step of a small PINN is thousands of small parallel regions, and whenever one of the
threads is descheduled the others wait for its next time slice (``python
benchmarks/threads_under_load.py`` measures it: docs/solve.md, "Threads"). One thread has no barrier.
Two remedies, both measured there: passive OpenMP threads (``OMP_WAIT_POLICY=PASSIVE``, which the
``physopt`` program sets before torch loads unless the user chose a policy) sleep instead of spinning,
and then torch's default count was the fastest even on busy cores; with spinning threads (a library
user's process), one thread per idle core. So ``threads = 0`` (the default) means torch's default
under a passive policy, else the idle cores counted over a short window (at least one, at most
torch's default). The count is written to the report and reused on
resume, so a resumed run computes with the thread count it started with.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

_STAT = Path("/proc/stat")


def _cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies over all cores from /proc/stat, or None where it does not exist."""
    try:
        first = _STAT.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    values = [int(v) for v in first[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return idle, sum(values[:8])  # guest time is already counted in user


def idle_cores(*, window: float = 0.1) -> float | None:
    """The number of cores that were idle during the next ``window`` seconds (None if unknown).

    Linux: the idle share of /proc/stat's CPU time over the window times the core count. Elsewhere,
    None: the caller falls back to the load average.
    """
    if window <= 0:
        raise ValueError(f"window must be > 0 seconds, got {window!r}")
    before = _cpu_times()
    if before is None:
        return None
    time.sleep(window)
    after = _cpu_times()
    if after is None or after[1] == before[1]:
        return None
    share = (after[0] - before[0]) / (after[1] - before[1])
    return share * (os.cpu_count() or 1)


def idle_threads(*, window: float = 0.1) -> int:
    """Threads for a run starting now: round(idle cores), at least 1, at most torch's default.

    Without /proc/stat the idle cores are the core count minus the 1-minute load average.
    """
    most = torch.get_num_threads()
    idle = idle_cores(window=window)
    if idle is None:
        try:
            idle = (os.cpu_count() or 1) - os.getloadavg()[0]
        except OSError:  # no load average either (Windows): torch's default
            return most
    return max(1, min(most, int(idle + 0.5)))


def resolve_threads(requested: int, *, world_size: int = 1) -> int:
    """The thread count a run uses: ``requested`` when > 0; for 0, torch's default when OpenMP's
    threads wait passively (``OMP_WAIT_POLICY=PASSIVE``), else the idle cores (one process), or an
    equal share of the cores per rank under ``torchrun`` (ranks on one machine share its cores,
    and every rank must compute with the same count for ranks to agree with one process)."""
    if requested < 0:
        raise ValueError(f"threads must be >= 0 (0 = as many as idle cores), got {requested!r}")
    if requested > 0:
        return requested
    if world_size > 1:
        return max(1, (os.cpu_count() or 1) // world_size)
    if os.environ.get("OMP_WAIT_POLICY", "").strip().upper() == "PASSIVE":
        return torch.get_num_threads()
    return idle_threads()
