"""Operator-run orchestration: ``learn`` (train and report), and ``resume`` / ``load`` of its run directories.

The same pipeline as ``solve`` (``_run.py``): a config resolves, :func:`physopt.config.build_learn`
builds data, model, loss and batches, the one :class:`~physopt.training.Trainer` trains (with its
checkpoints, budgets, divergence checks and progress bar), and an
:class:`~physopt.evaluation.OperatorReport` lands in the run directory.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch
from torch import nn

from .config import (
    ConfigError,
    LearnBuilt,
    LearnConfig,
    build_learn,
    dumps_toml,
    grid_label,
    learn_from_dict,
    make_optimizer,
    make_runtime,
    operator_model,
    pairs_of,
    read_toml,
    resolve_learn,
    to_dict,
)
from .evaluation import OperatorReport, TestError, plot_operator_samples, plot_training, versions
from .models import OperatorShape, operator_spec
from .operators import OperatorData
from .runtime import Runtime, process_group_ranks, resolve_threads
from .training import Callback, FitResult, ProgressBar, Trainer, relative_h1, relative_l2, run_directory_callbacks

__all__ = ["LearnResult", "OperatorSolution", "is_learn_run", "learn", "load_learn", "resume_learn"]


@dataclass(frozen=True)
class LearnResult:
    """What :func:`learn` returns: the report, the training history and the trained model."""

    report: OperatorReport
    history: list[dict[str, Any]]
    model: nn.Module
    config: LearnConfig
    out: Path | None

    @property
    def status(self) -> str:
        return self.report.status

    @property
    def metrics(self) -> dict[str, Any]:
        r = self.report
        return {"rel_l2": r.rel_l2, "val_rel_l2": r.val_rel_l2, "final_loss": r.final_loss, "params": r.params,
                "epoch_s": r.epoch_s, **{f"rel_l2/{k}": t.mean for k, t in r.tests.items()}}


def _predict(model: nn.Module, inputs: torch.Tensor, batch: int, *rest: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([model(inputs[i:i + batch], *rest) for i in range(0, inputs.shape[0], batch)])


def _errors(model: nn.Module, data: OperatorData, runtime: Runtime, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample relative L2 and H¹ errors of ``model`` on ``data``."""
    pairs = pairs_of(data, runtime)
    pred = _predict(model, pairs.inputs, batch)
    l2 = relative_l2(pred, pairs.outputs).double().cpu().numpy()
    h1 = relative_h1(pred, pairs.outputs, periodic=data.periodic).double().cpu().numpy()
    return l2, h1


def _evaluator(b: LearnBuilt, batch: int):
    val = b.splits.val
    if val is None or val.n == 0:
        return None

    def evaluate(model: nn.Module) -> dict[str, float]:
        was = model.training
        model.eval()
        try:
            return {"rel_l2": float(_errors(model, val, b.runtime, batch)[0].mean())}
        finally:
            model.train(was)

    return evaluate


def _inference_seconds(model: nn.Module, data: OperatorData, runtime: Runtime, batch: int) -> float:
    """Seconds per instance of batched prediction (median of 3 passes after a warm-up)."""
    x = pairs_of(data, runtime).inputs
    _predict(model, x[:batch], batch)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        out = _predict(model, x, batch)
        if out.device.type == "cuda":
            torch.cuda.synchronize(out.device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / data.n


def _param_count(model: nn.Module) -> int:
    """Trainable real numbers (a complex weight counts twice)."""
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters() if p.requires_grad)


def _report(b: LearnBuilt, cfg: LearnConfig, fit: FitResult, out: Path | None) -> OperatorReport:
    model, runtime, splits = b.model, b.runtime, b.splits
    model.eval()
    batch = cfg.batch_size
    tests: dict[str, TestError] = {}
    for label, data in splits.tests.items():
        l2, h1 = _errors(model, data, runtime, batch)
        tests[label] = TestError(list(data.grid), data.n, float(l2.mean()), float(np.median(l2)), float(l2.max()),
                                 float(h1.mean()), data.grid != splits.train.grid)
    first_label, first = next(iter(splits.tests.items()))
    val = _errors(model, splits.val, runtime, batch)[0].mean() if splits.val is not None and splits.val.n else None
    epochs_done = fit.steps / b.steps_per_epoch
    plots: list[str] = []
    if out is not None:
        k = min(cfg.plots, first.n)
        if k:
            pairs = pairs_of(first.take(slice(0, k)), runtime)
            pred = _predict(model, pairs.inputs, batch).double().cpu().numpy()
            p = plot_operator_samples(inputs=first.inputs[:k].astype(np.float64), truth=first.outputs[:k].astype(
                np.float64), prediction=pred, labels=[f"test {i} ({first_label})" for i in range(k)],
                path=out / "samples.png")
            plots += [p.name] if p is not None else []
        p = plot_training(fit.history, out / "training.png")
        plots += [p.name] if p is not None else []
    same_grid = [d for d in splits.tests.values() if d.grid == splits.train.grid]
    return OperatorReport(
        source=cfg.source, model=cfg.model.kind, optimizer=cfg.optim.name, loss=cfg.loss, epochs=cfg.epochs,
        steps=fit.steps, status=fit.status, message=fit.message, params=_param_count(model),
        n_train=splits.train.n, n_val=0 if splits.val is None else splits.val.n, train_grid=list(splits.train.grid),
        rel_l2=tests[first_label].mean if first.grid == splits.train.grid else None, tests=tests,
        val_rel_l2=None if val is None else float(val), final_loss=fit.final.get("loss"),
        wall_time_s=round(fit.wall_time_s, 3), cpu_time_s=round(fit.cpu_time_s, 3),
        epoch_s=round(fit.wall_time_s / epochs_done, 4) if epochs_done else 0.0,
        inference_s=_inference_seconds(model, same_grid[0], runtime, batch) if same_grid else None,
        solver_s=same_grid[0].solve_time_s if same_grid else None, seed=cfg.seed, dtype=cfg.dtype,
        device=str(runtime.device), versions=versions(), config=to_dict(cfg), plots=plots,
    )


def _run(cfg: LearnConfig, b: LearnBuilt, out: Path | None, *, state: dict[str, Any] | None,
         progress: TextIO | None, callbacks: Sequence[Callback] = ()) -> LearnResult:
    callbacks = list(callbacks)
    checkpointer = None
    per_epoch = b.steps_per_epoch
    if not b.runtime.is_main:
        out = None  # rank 0 alone writes the run directory
    if out is not None:
        extra = {"config": to_dict(cfg), "shape": dataclasses.asdict(b.shape),  # load() needs no data
                 "world_size": b.runtime.world_size}  # batch_size is per rank: the global batch depends on it
        try:
            made, checkpointer = run_directory_callbacks(out, state=state, extra=extra, tensorboard=cfg.tensorboard,
                                                         every=cfg.checkpoint_every or 10 * per_epoch)
        except ValueError as err:  # the optional tensorboard package is missing: bad input, exit status 2
            raise ConfigError(f"tensorboard = true: {err}") from None
        callbacks += made
    if progress is not None and b.runtime.is_main:
        callbacks.append(ProgressBar(total=b.steps, stream=progress))
    trainer = Trainer(
        model=b.model, objective=b.loss, sampler=b.batches, phases=b.phases, make_optimizer=make_optimizer,
        params={}, steps=b.steps, time_budget=cfg.time_budget or None, budget_clock=cfg.budget_clock,
        evaluator=_evaluator(b, cfg.batch_size), eval_every=cfg.eval_every or per_epoch,
        log_every=cfg.log_every or per_epoch, callbacks=callbacks, runtime=b.runtime,
    )
    if state is not None:
        trainer.load_state_dict(state)
    elif checkpointer is not None:
        checkpointer.save(trainer)  # step 0: a run that diverges at once still has a good checkpoint
    previous = torch.get_num_threads()
    torch.set_num_threads(resolve_threads(cfg.threads, world_size=b.runtime.world_size))
    try:
        fit = trainer.run()
        report = _report(b, cfg, fit, out)
    finally:
        torch.set_num_threads(previous)
    if out is not None:
        report.save(out)
    return LearnResult(report=report, history=fit.history, model=b.model, config=cfg, out=out)


def learn(
    source: str = "darcy",
    *,
    model: str | None = None,
    epochs: int | None = None,
    optimizer: str | None = None,
    batch_size: int | None = None,
    loss: str | None = None,
    test: str | None = None,
    time_budget: float | None = None,
    seed: int | None = None,
    dtype: str | None = None,
    device: str | None = None,
    out: str | Path | None = None,
    config: str | Path | None = None,
    overrides: Sequence[str] = (),
    progress: TextIO | None = None,
    callbacks: Sequence[Callback] = (),
) -> LearnResult:
    """Train a neural operator on ``source`` (a family, ``data.npz`` or ``file.py:make``) and report.

    With ``out`` the run directory gets ``config.toml``, ``metrics.jsonl``, ``checkpoint.pt``,
    ``report.json``, ``report.md``, ``samples.png`` and ``training.png``; :func:`physopt.load`
    reopens it and :func:`physopt.resume` continues it.

    Example::

        result = physopt.learn("darcy", model="fno", epochs=20, overrides=["data.n_train=200"])
        result.report.tests["32x32"].mean
    """
    spec = source
    if ".py:" in source:
        path, factory = source.rsplit(":", 1)
        spec = f"{Path(path).expanduser().resolve()}:{factory}"  # resumable from any directory
    elif source.endswith(".npz"):
        spec = str(Path(source).expanduser().resolve())
    flags = {"model.kind": model, "epochs": epochs, "optim.name": optimizer, "batch_size": batch_size, "loss": loss,
             "data.test": None if test is None else str(Path(test).expanduser().resolve()),
             "time_budget": time_budget, "seed": seed, "dtype": dtype, "device": device}
    cfg = resolve_learn(spec, config_file=config, flags=flags, overrides=list(overrides))
    b = build_learn(cfg, runtime=_runtime(cfg))
    # threads = 0: the idle cores now; recorded, so a resume computes with the same count
    cfg = dataclasses.replace(cfg, threads=resolve_threads(cfg.threads, world_size=b.runtime.world_size))
    out_dir = None
    if out is not None:
        out_dir = Path(out)
    if out_dir is not None and b.runtime.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.toml").write_text(dumps_toml(to_dict(cfg)))
    return _run(cfg, b, out_dir, state=None, progress=progress, callbacks=callbacks)


def is_learn_run(directory: str | Path) -> bool:
    """Whether ``directory`` holds an operator run (its config names a ``source``, not a ``problem``)."""
    path = Path(directory) / "config.toml"
    return path.is_file() and "source" in read_toml(path)


def _read(directory: str | Path, device: str | None) -> tuple[Path, LearnConfig, dict[str, Any]]:
    d = Path(directory)
    if not (d / "config.toml").is_file() or not (d / "checkpoint.pt").is_file():
        raise ConfigError(f"{d} is not a physopt run directory (needs config.toml and checkpoint.pt)")
    data = read_toml(d / "config.toml")
    if device is not None:
        data["device"] = device
    cfg = learn_from_dict(data)
    try:
        ckpt = torch.load(d / "checkpoint.pt", map_location="cpu", weights_only=False)
    except Exception as err:  # a truncated or foreign file: one clear line
        raise ConfigError(f"cannot read checkpoint {d / 'checkpoint.pt'}: {err}") from err
    return d, cfg, ckpt


def resume_learn(directory: str | Path, *, device: str | None = None, progress: TextIO | None = None,
                 callbacks: Sequence[Callback] = ()) -> LearnResult:
    """Continue an operator run from its checkpoint; the result equals an uninterrupted run's."""
    d, cfg, ckpt = _read(directory, device)
    runtime = _runtime(cfg)
    saved = int(ckpt.get("world_size", 1))
    if saved != runtime.world_size:
        raise ConfigError(f"{d} was trained on {saved} process(es) with batch_size {cfg.batch_size} per process; "
                          f"resuming on {runtime.world_size} would change the global batch: launch {saved} process(es)")
    return _run(cfg, build_learn(cfg, runtime=runtime), d, state=ckpt["trainer"], progress=progress,
                callbacks=callbacks)


def _runtime(cfg: LearnConfig) -> Runtime:
    """This process's runtime: rank and world size of the ``torchrun`` process group, if any."""
    rank, world = process_group_ranks()
    return make_runtime(cfg, rank=rank, world_size=world)  # type: ignore[arg-type]


class OperatorSolution:
    """A trained operator loaded from a run directory (see :func:`load_learn`)."""

    def __init__(self, model: nn.Module, config: LearnConfig, report: OperatorReport | None, runtime: Runtime,
                 shape: Any, any_grid: bool, queries: bool) -> None:
        self.model, self.config, self.report, self._runtime = model, config, report, runtime
        self.shape, self._any_grid, self._queries = shape, any_grid, queries

    def predict(self, inputs: np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
        """NumPy ``(n, C_in, *grid)`` → ``(n, C_out, *grid)`` (float64) at any grid the model supports;
        with ``points`` ``(Q, d)`` in ``[0, 1]^d`` (query-point models: DeepONet) → ``(n, C_out, Q)``."""
        x = np.asarray(inputs)
        s = self.shape
        if x.ndim != 2 + s.dim or x.shape[1] != s.in_channels:
            raise ValueError(f"inputs must have shape (n, {s.in_channels}, {s.dim} grid axes), got {x.shape}")
        if not self._any_grid and tuple(x.shape[2:]) != s.grid:
            raise ValueError(f"model {self.config.model.kind!r} takes inputs on its training grid "
                             f"{grid_label(s.grid)}, got {grid_label(tuple(x.shape[2:]))}")
        if not np.isfinite(x).all():
            raise ValueError("inputs have non-finite values")
        rest = []
        if points is not None:
            if not self._queries:
                raise ValueError(f"model {self.config.model.kind!r} predicts on grids, not at query points")
            q = np.asarray(points, dtype=np.float64)
            if q.ndim != 2 or q.shape[1] != s.dim:
                raise ValueError(f"points must have shape (Q, {s.dim}), got {q.shape}")
            rest = [self._runtime.tensor(q)]
        pred = _predict(self.model, self._runtime.tensor(x), self.config.batch_size, *rest)
        return pred.double().cpu().numpy()


def load_learn(directory: str | Path, *, device: str | None = None) -> OperatorSolution:
    """Load a finished (or checkpointed) operator run without regenerating its data."""
    d, cfg, ckpt = _read(directory, device)
    runtime = make_runtime(cfg)  # type: ignore[arg-type]
    meta = ckpt.get("shape")
    if meta is None:
        raise ConfigError(f"{d}/checkpoint.pt does not record the data shape; it was written by an older physopt")
    shape = OperatorShape(int(meta["in_channels"]), int(meta["out_channels"]), tuple(meta["grid"]),
                          bool(meta["periodic"]))
    model = operator_model(cfg, shape, runtime, None)
    model.load_state_dict(ckpt["trainer"]["model"])
    model.eval()
    report = (OperatorReport.from_dict(json.loads((d / "report.json").read_text()))
              if (d / "report.json").is_file() else None)
    spec = operator_spec(cfg.model.kind)
    return OperatorSolution(model, cfg, report, runtime, shape, spec.any_grid, spec.queries)
