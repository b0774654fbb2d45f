"""Running the cells: one ``physopt solve`` subprocess per cell, resumable, with a progress line.

Why subprocesses and not in-process runs: a cell that segfaults, is killed for memory or hangs in
a library must not take the grid down; ``torch.set_num_threads`` is process-wide, so parallel
cells (``jobs > 1``) need separate processes anyway; and each cell then gets exactly the
``physopt solve`` command a user would type, recorded next to its result. The price is the
interpreter start and ``import torch`` per cell (about 3 s of CPU, measured with
``time.process_time`` around the imports), outside the cell's own timer and budget.

Resume rules, per cell directory: a ``report.json`` whose status is finished (``completed``,
``time budget``, ``converged`` or ``diverged``) is kept as is; a checkpoint without such a report
(an interrupted or crashed run) is continued with ``physopt resume``; anything else starts fresh.
Ctrl-C reaches only this process (cells run in their own sessions); it forwards one SIGINT to
each running cell, which checkpoints and exits, so a rerun resumes them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..training import RunStatus
from ._grid import CONFIG_FILE, Cell

__all__ = ["FINISHED", "cell_state", "run_cells"]

FINISHED = (RunStatus.COMPLETED, RunStatus.TIME_BUDGET, RunStatus.CONVERGED, RunStatus.DIVERGED)
SPEC_FILE = "bench_cell.json"
_LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "GROUP_WORLD_SIZE",
                     "ROLE_RANK", "ROLE_WORLD_SIZE", "ROLE_NAME", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RUN_ID",
                     "TORCHELASTIC_RESTART_COUNT", "TORCHELASTIC_MAX_RESTARTS", "TORCHELASTIC_USE_AGENT_STORE",
                     "TORCH_NCCL_ASYNC_ERROR_HANDLING")
_GRACE_S = 120.0  # time a cell gets to finish its step and checkpoint after SIGINT
_POLL_S = 0.5


def cell_state(directory: Path) -> str:
    """``"done"`` (finished report), ``"resume"`` (checkpoint, no finished report) or ``"new"``."""
    report = directory / "report.json"
    if report.is_file():
        try:
            if json.loads(report.read_text()).get("status") in FINISHED:
                return "done"
        except (OSError, ValueError):
            pass  # a torn report: the checkpoint decides
    if (directory / "checkpoint.pt").is_file() and (directory / "config.toml").is_file():
        return "resume"
    return "new"


def _config_changes(cell: Cell, directory: Path) -> list[str]:
    """Keys whose value in the cell's ``config.toml`` differs from what the cell would run now
    (e.g. the problem's defaults changed since): resuming or keeping it would mix settings."""
    from ..config import from_dict, read_toml, resolve, to_dict

    s = cell.settings
    flags = {"optim.name": cell.optimizer, "constraints": cell.constraints, "steps": s.steps,
             "time_budget": s.time_budget, "seed": cell.seed}
    now = to_dict(resolve(cell.problem, flags=flags, overrides=s.run_overrides))
    then = to_dict(from_dict(read_toml(directory / "config.toml")))
    # `problem` is stored resolved (a user file's absolute path), so it is compared via the cell key.
    return sorted(k for k in now if k != "problem" and now[k] != then.get(k))


def check_stale(cells: Sequence[Cell], runs: Path) -> None:
    """Refuse to mix results: an existing cell directory must hold the same spec and configuration."""
    from ..config import ConfigError

    for cell in cells:
        d = runs / cell.key
        spec_file = d / SPEC_FILE
        if spec_file.is_file():
            try:
                stored = json.loads(spec_file.read_text())
            except ValueError:
                stored = None
            if stored != cell.spec():
                raise ConfigError(f"{d} was run with other settings ({stored}); use a new --out or remove it")
            changed = _config_changes(cell, d) if (d / "config.toml").is_file() else []
            if changed:
                raise ConfigError(f"{d}: its config.toml differs from the current settings in "
                                  f"{', '.join(changed)} (changed problem defaults?); use a new --out or remove it")
        elif (d / "config.toml").exists():
            raise ConfigError(f"{d} holds a run that physopt bench did not start; use a new --out")


@dataclass
class _Job:
    cell: Cell
    directory: Path
    action: str  # "ran" or "resumed"
    proc: subprocess.Popen[bytes]
    log: Any
    started: float


def _launch(cell: Cell, directory: Path, action: str, threads: int) -> _Job:
    from ..config import dumps_toml

    directory.mkdir(parents=True, exist_ok=True)
    (directory / SPEC_FILE).write_text(json.dumps(cell.spec()) + "\n")
    if cell.config is not None and action == "ran":
        (directory / CONFIG_FILE).write_text(dumps_toml(cell.config))
    args = cell.solve_args(directory) if action == "ran" else ["resume", str(directory), "--quiet"]
    # A cell is a single-process run even when the bench runs under torchrun: without the launcher's
    # variables it does not try to join the bench's process group.
    env = {k: v for k, v in os.environ.items() if k not in _LAUNCH_VARIABLES}
    env |= {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    log = (directory / "stderr.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "physopt.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=log, env=env, start_new_session=True)
    return _Job(cell, directory, action, proc, log, time.monotonic())


def _last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_bytes().decode(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def _peek(directory: Path) -> tuple[int | None, int | None, float | None]:
    """Current step, planned steps and last evaluated error of a running cell, from its files."""
    step = total = err = None
    try:
        total = int(tomllib.loads((directory / "config.toml").read_text())["steps"])
    except (OSError, ValueError, KeyError):
        pass
    try:
        with (directory / "metrics.jsonl").open("rb") as f:
            f.seek(max(0, f.seek(0, 2) - 8192))
            tail = f.read().decode(errors="replace").splitlines()
    except OSError:
        tail = []
    for line in tail:
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a partial first line or one being written
        step = rec.get("step", step)
        err = rec.get("rel_l2", err)
    return step, total, err


class _Progress:
    """One status line on stderr (redrawn in place on a terminal, every 10 s otherwise) and one
    line per finished cell."""

    def __init__(self, stream: TextIO | None, total: int) -> None:
        self.stream, self.total = stream, total
        self.tty = stream is not None and stream.isatty()
        self._last = 0.0

    def _write(self, text: str, *, status: bool) -> None:
        if self.stream is None:
            return
        if self.tty:
            self.stream.write("\r\033[K" + text + ("" if status else "\n"))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def status(self, jobs: list[_Job], index: dict[str, int], eta: float | None, *, force: bool = False) -> None:
        now = time.monotonic()
        if not jobs or (not force and now - self._last < (0.5 if self.tty else 10.0)):
            return
        self._last = now
        parts = []
        for job in jobs:
            step, total, err = _peek(job.directory)
            e = "-" if err is None else f"{err:.2e}"
            parts.append(f"[{index[job.cell.key]}/{self.total}] {job.cell.key}: step {step or 0}/{total or '?'} "
                         f"rel_l2 {e} {now - job.started:.0f}s")
        eta_text = "?" if eta is None else f"{eta / 60:.1f} min"
        self._write("bench " + " | ".join(parts) + f" | ETA {eta_text}", status=True)

    def done(self, i: int, cell: Cell, action: str, summary: str) -> None:
        self._write(f"bench [{i}/{self.total}] {cell.key}: {action}: {summary}", status=False)


def _summary(directory: Path) -> str:
    try:
        rep = json.loads((directory / "report.json").read_text())
    except (OSError, ValueError):
        return "no report"
    err = "n/a" if rep.get("rel_l2") is None else f"{rep['rel_l2']:.3e}"
    return f"{rep.get('status')}, rel_l2 {err}, {rep.get('steps')} steps, {rep.get('wall_time_s', 0):.1f} s"


def _finish(job: _Job, code: int) -> tuple[str, str]:
    """(outcome, reason) of an exited cell process."""
    job.log.close()
    if code in (0, 3) and cell_state(job.directory) == "done":
        return job.action, ""
    if code == 130:
        return RunStatus.INTERRUPTED, ""
    line = _last_line(job.directory / "stderr.log")
    return "failed", f"exit status {code}: {line}" if line else f"exit status {code}"


def _stop(jobs: list[_Job]) -> None:
    """Forward one SIGINT to every running cell, wait for their checkpoints; kill stragglers."""
    for job in jobs:
        if job.proc.poll() is None:
            job.proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + _GRACE_S
    try:
        for job in jobs:
            job.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        pass  # a second Ctrl-C or a stuck cell: kill now; the last checkpoint stays valid
    for job in jobs:
        if job.proc.poll() is None:
            job.proc.kill()
            job.proc.wait()
        job.log.close()


def run_cells(
    cells: Sequence[Cell],
    runs: Path,
    *,
    jobs: int,
    threads: int,
    progress: TextIO | None,
    on_cell: Callable[[Cell, str], None] | None = None,
) -> tuple[dict[str, str], dict[str, str], bool]:
    """Run every valid cell not yet finished under ``runs``.

    Returns ``(outcome, reason, interrupted)``: per cell key what happened now (``skipped``,
    ``ran``, ``resumed``, ``failed``, ``interrupted``, ``n/a`` or ``pending`` if never started) and
    the reason of failures. ``on_cell(cell, outcome)`` is called after each cell (a hook for
    tests; a ``KeyboardInterrupt`` it raises stops the grid exactly as Ctrl-C does).
    """
    index = {c.key: i + 1 for i, c in enumerate(cells)}
    outcome = {c.key: ("n/a" if c.reason else "pending") for c in cells}
    reason = {c.key: c.reason for c in cells if c.reason}
    queue: list[tuple[Cell, str]] = []
    for cell in cells:
        if cell.reason:
            continue
        state = cell_state(runs / cell.key)
        if state == "done":
            outcome[cell.key] = "skipped"
        else:
            queue.append((cell, "resumed" if state == "resume" else "ran"))
    show = _Progress(progress, len(cells))
    durations: list[float] = []
    running: list[_Job] = []
    restore = None
    if threading.current_thread() is threading.main_thread():
        # `kill PID` of the bench: stop the cells like Ctrl-C instead of orphaning them.
        restore = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while queue or running:
            while queue and len(running) < jobs:
                cell, action = queue.pop(0)
                running.append(_launch(cell, runs / cell.key, action, threads))
            time.sleep(_POLL_S)
            for job in [j for j in running if j.proc.poll() is not None]:
                running.remove(job)
                durations.append(time.monotonic() - job.started)
                result, why = _finish(job, job.proc.returncode)
                outcome[job.cell.key] = result
                if why:
                    reason[job.cell.key] = why
                show.done(index[job.cell.key], job.cell, result, why or _summary(job.directory))
                if on_cell is not None:
                    on_cell(job.cell, result)
            eta = None
            if durations:  # mean duration of the cells run so far, spread over the parallel slots
                left = sum(durations) / len(durations) * (len(queue) + len(running))
                eta = max(0.0, left - sum(time.monotonic() - j.started for j in running)) / jobs
            show.status(running, index, eta)
    except KeyboardInterrupt:
        _stop(running)
        for job in running:
            outcome[job.cell.key] = RunStatus.INTERRUPTED
        return outcome, reason, True
    except BaseException:
        _stop(running)  # never leave cells running behind an error of our own
        raise
    finally:
        if restore is not None:
            signal.signal(signal.SIGTERM, restore)
    return outcome, reason, False


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt
