"""Callbacks of the training loop: metrics log, TensorBoard scalars, checkpoints, progress bar."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import torch

from ._fit import FitResult, Trainer

__all__ = ["Checkpointer", "JsonlLogger", "ProgressBar", "TensorBoardLogger", "save_checkpoint"]


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write atomically: a crash mid-write never leaves a truncated checkpoint behind."""
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


class JsonlLogger:
    """Appends one JSON line per history record to ``path`` (``metrics.jsonl``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_record(self, trainer: Trainer, record: dict[str, Any]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")

    def on_step(self, trainer: Trainer) -> None:
        pass

    def on_end(self, trainer: Trainer, result: FitResult) -> None:
        pass

    def truncate_after(self, step: int) -> None:
        """On resume: drop lines written after the checkpoint's step (they will be redone)."""
        if not self.path.exists():
            return
        lines = [ln for ln in self.path.read_text().splitlines() if ln.strip()]
        keep = [ln for ln in lines if json.loads(ln)["step"] <= step]
        self.path.write_text("".join(ln + "\n" for ln in keep))


class TensorBoardLogger:
    """Writes every logged record as TensorBoard scalars into ``directory`` (beside ``metrics.jsonl``).

    Each numeric entry of a record becomes a scalar at the record's step under its own name
    (``loss``, ``loss/pde``, ``rel_l2``, ``multiplier/bc``, ``wall_time_s``, ...), and the
    optimizer's learning rate is added as ``lr/group0``, ``lr/group1``, ... . ``purge_step``
    (on resume: the checkpoint's step) discards events a previous run wrote after it. Needs the
    ``tensorboard`` package (``pip install 'physopt[tensorboard]'``); without it the constructor
    raises ``ValueError`` saying so.
    """

    def __init__(self, directory: Path, *, purge_step: int | None = None) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter  # here: an optional dependency
        except ImportError as err:
            raise ValueError(
                f"TensorBoard logging needs the tensorboard package ({err}); pip install 'physopt[tensorboard]'"
            ) from None
        self.directory = directory
        self._writer = SummaryWriter(log_dir=str(directory), purge_step=purge_step)

    def on_record(self, trainer: Trainer, record: dict[str, Any]) -> None:
        step = int(record["step"])
        for key, value in record.items():
            if key != "step" and isinstance(value, int | float) and not isinstance(value, bool):
                self._writer.add_scalar(key, float(value), step)
        for i, group in enumerate(trainer.optimizer.param_groups):
            self._writer.add_scalar(f"lr/group{i}", float(group["lr"]), step)

    def on_step(self, trainer: Trainer) -> None:
        pass

    def on_end(self, trainer: Trainer, result: FitResult) -> None:
        self._writer.close()


class Checkpointer:
    """Saves the trainer state every ``every`` steps, every ``seconds`` of wall time, and at the end.

    A diverged run does not overwrite the last good checkpoint.
    """

    def __init__(self, path: Path, *, extra: dict[str, Any], every: int = 1000, seconds: float = 60.0) -> None:
        self.path, self.extra, self.every, self.seconds = path, extra, every, seconds
        self._last = time.monotonic()

    def save(self, trainer: Trainer) -> None:
        save_checkpoint(self.path, {**self.extra, "trainer": trainer.state_dict()})
        self._last = time.monotonic()

    def on_record(self, trainer: Trainer, record: dict[str, Any]) -> None:
        pass

    def on_step(self, trainer: Trainer) -> None:
        due = trainer.step % self.every == 0 or time.monotonic() - self._last >= self.seconds
        if due and trainer.finite():  # never overwrite the last good checkpoint with a diverged state
            self.save(trainer)

    def on_end(self, trainer: Trainer, result: FitResult) -> None:
        if result.status != "diverged":
            self.save(trainer)


def _fmt(v: float | None) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3e}"


class ProgressBar:
    """One status line on stderr: step, loss, current error, elapsed time.

    On a terminal the line is redrawn in place; otherwise a line is printed every ``seconds``.
    """

    def __init__(self, *, total: int, stream: TextIO | None = None, seconds: float = 10.0) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.seconds = 0.25 if self.tty else seconds
        self._last = 0.0
        self._loss: float | None = None
        self._err: float | None = None

    def _line(self, trainer: Trainer) -> str:
        width = 24
        frac = min(1.0, trainer.step / max(self.total, 1))
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        return (
            f"[{bar}] step {trainer.step}/{self.total} | {trainer.phase.optimizer} | "
            f"loss {_fmt(self._loss)} | rel_l2 {_fmt(self._err)} | {trainer.elapsed:.0f}s"
        )

    def on_record(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self._loss = record.get("loss", self._loss)
        self._err = record.get("rel_l2", self._err)

    def on_step(self, trainer: Trainer) -> None:
        now = time.monotonic()  # the loss shown is the last logged one: reading it every step would synchronise
        if now - self._last >= self.seconds:
            self._last = now
            self.stream.write(("\r" + self._line(trainer)) if self.tty else self._line(trainer) + "\n")
            self.stream.flush()

    def on_end(self, trainer: Trainer, result: FitResult) -> None:
        end = "\n" if self.tty else ""
        self.stream.write(("\r" if self.tty else "") + self._line(trainer) + end)
        self.stream.write(("\n" if not self.tty else "") + f"{result.status}: {result.message}\n")
        self.stream.flush()


def run_directory_callbacks(out: Path, *, state: dict[str, Any] | None, extra: dict[str, Any], every: int,
                            tensorboard: bool) -> tuple[list[Any], Checkpointer]:
    """The callbacks every run directory gets: ``metrics.jsonl`` (truncated after the checkpoint's step
    on resume), ``checkpoint.pt`` every ``every`` steps, and optionally TensorBoard scalars (a resumed
    run drops events after its checkpoint). ``ValueError`` if TensorBoard is asked for but missing."""
    logger = JsonlLogger(out / "metrics.jsonl")
    if state is None:
        logger.path.write_text("")
    else:
        logger.truncate_after(int(state["step"]))
    checkpointer = Checkpointer(out / "checkpoint.pt", extra=extra, every=every)
    callbacks: list[Any] = [logger, checkpointer]
    if tensorboard:
        purge = None if state is None else int(state["step"]) + 1
        callbacks.append(TensorBoardLogger(out / "tensorboard", purge_step=purge))
    return callbacks, checkpointer
