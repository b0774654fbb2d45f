"""Build an operator run from its :class:`LearnConfig`: data splits, model, loss, batches, optimizer plan.

Registry lookups only (families, operator kinds, optimizers); what is built is the same set of
parts a ``solve`` run hands the :class:`~physopt.training.Trainer` (a batch source, a loss, phases).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .. import optim as optim_pkg
from ..models import Normalized, OperatorShape, OperatorSpec, operator_spec
from ..operators import OperatorData
from ..runtime import Runtime
from ..training import BUDGET_CLOCKS, SCHEDULES, DatasetBatches, OperatorLoss, Pairs, Phase
from ._build import make_runtime
from ._learn import LearnConfig
from ._physics import labelled_rows, operator_loss, uses_labels
from ._schema import ConfigError
from ._sources import Splits, load_splits

__all__ = ["LearnBuilt", "build_learn", "operator_model", "pairs_of"]


@dataclass(frozen=True)
class LearnBuilt:
    """What :func:`build_learn` returns. ``steps`` = ``epochs`` × ``steps_per_epoch``."""

    splits: Splits
    shape: OperatorShape
    spec: OperatorSpec
    model: nn.Module
    loss: OperatorLoss
    batches: DatasetBatches
    phases: list[Phase]
    steps: int
    steps_per_epoch: int
    runtime: Runtime


def pairs_of(data: OperatorData, runtime: Runtime) -> Pairs:
    """``data`` as tensors of the run's dtype on its device."""
    return Pairs(runtime.tensor(data.inputs), runtime.tensor(data.outputs))


def _check(cfg: LearnConfig) -> None:
    for key in ("epochs", "batch_size"):
        v = getattr(cfg, key)
        if v < 1:
            raise ConfigError(f"{key} must be >= 1, got {v}")
    for key in ("log_every", "eval_every", "checkpoint_every", "plots", "threads"):
        if getattr(cfg, key) < 0:
            raise ConfigError(f"{key} must be >= 0, got {getattr(cfg, key)}")
    if cfg.budget_clock not in BUDGET_CLOCKS:
        raise ConfigError(f"budget_clock must be one of {', '.join(BUDGET_CLOCKS)}, got {cfg.budget_clock!r}")
    if cfg.time_budget < 0:
        raise ConfigError(f"time_budget must be >= 0 seconds (0: none), got {cfg.time_budget}")


def _phases(cfg: LearnConfig, steps: int, steps_per_epoch: int) -> list[Phase]:
    o = cfg.optim
    if "+" in o.name:
        raise ConfigError(f"operator runs take one optimizer, got the chain {o.name!r}")
    try:
        spec = optim_pkg.spec(o.name)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if spec.needs_residuals:
        raise ConfigError(f"optimizer {o.name!r} is a least-squares method (it needs a residual per point); operator "
                          "losses are relative errors per sample: choose another (physopt list optimizers)")
    if o.schedule not in SCHEDULES:
        raise ConfigError(f"optim.schedule must be one of {', '.join(SCHEDULES)}, got {o.schedule!r}")
    if not (o.lr > 0 and math.isfinite(o.lr)):
        raise ConfigError(f"optim.lr must be a finite number > 0, got {o.lr!r}")
    if o.schedule == "step" and o.step_epochs < 1:
        raise ConfigError(f"optim.schedule = 'step' needs optim.step_epochs >= 1, got {o.step_epochs}")
    return [Phase(o.name, steps, o.lr, o.options, o.schedule, o.decay, period=max(o.step_epochs, 0) * steps_per_epoch)]


def operator_model(cfg: LearnConfig, shape: OperatorShape, runtime: Runtime, train: OperatorData | None) -> nn.Module:
    """The registered kind of ``cfg.model`` for ``shape``, inside :class:`Normalized` when
    ``data.normalize`` and the kind allows it (statistics from ``train``; ``None``: placeholders a checkpoint
    overwrites; a data-free run scales inputs only), built on the CPU from the runtime's model generator and
    moved to its device."""
    try:
        spec = operator_spec(cfg.model.kind)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if shape.dim not in spec.dims:
        raise ConfigError(f"model {cfg.model.kind!r} takes {'/'.join(f'{d}-D' for d in spec.dims)} grids, the data is "
                          f"on a {shape.dim}-D grid {shape.grid}")
    try:
        net = spec.factory(cfg.model, shape=shape, generator=runtime.model_generator(), dtype=runtime.dtype)
    except ValueError as err:
        raise ConfigError(f"model: {err}") from None
    normalize = cfg.data.normalize and spec.normalizable  # e.g. hc-moe solves its PDE in physical units
    if normalize:
        if train is None:
            stats = [torch.zeros(shape.in_channels), torch.ones(shape.in_channels),
                     torch.zeros(shape.out_channels), torch.ones(shape.out_channels)]
        else:
            k = labelled_rows(cfg.physics, train.n)  # physics.labelled: the labels' scale from those rows only
            x, y = torch.from_numpy(train.inputs).double(), torch.from_numpy(train.outputs[:k]).double()
            # data-free (or no labelled row): the labels' scale is not known either
            unknown = (torch.zeros(shape.out_channels, dtype=torch.float64),
                       torch.ones(shape.out_channels, dtype=torch.float64))
            stats = [*Normalized.channel_stats(x), *(Normalized.channel_stats(y) if uses_labels(cfg.physics)
                                                     else unknown)]
        raw = spec.unscaled_inputs(cfg.model, shape) if spec.unscaled_inputs is not None else ()
        for c in raw:  # categorical channels (masks, task indicators) pass through unscaled
            stats[0][c], stats[1][c] = 0.0, 1.0
    if spec.fit is not None and train is not None:  # kinds built from the training set (EquiNO's POD basis)
        x, y = torch.from_numpy(train.inputs).double(), torch.from_numpy(train.outputs).double()
        if normalize:
            x, y = Normalized.scale(x, stats[0], stats[1]), Normalized.scale(y, stats[2], stats[3])
        try:
            spec.fit(net, x.to(runtime.dtype), y.to(runtime.dtype))
        except ValueError as err:
            raise ConfigError(f"model: {err}") from None
    if normalize:
        in_mean, in_std, out_mean, out_std = (s.to(runtime.dtype) for s in stats)
        net = Normalized(net, in_mean=in_mean, in_std=in_std, out_mean=out_mean, out_std=out_std)
    return net.to(runtime.device)


def build_learn(cfg: LearnConfig, *, runtime: Runtime | None = None) -> LearnBuilt:
    """Data, model, loss, batches and optimizer plan of ``cfg`` in ``runtime`` (default: from ``cfg``)."""
    _check(cfg)
    runtime = runtime if runtime is not None else make_runtime(cfg)  # type: ignore[arg-type]
    splits = load_splits(cfg)
    train = splits.train
    shape = OperatorShape(train.in_channels, train.out_channels, train.grid, train.periodic)
    spec = operator_spec(cfg.model.kind) if cfg.model.kind else None
    model = operator_model(cfg, shape, runtime, train)
    labelled = labelled_rows(cfg.physics, train.n)
    for label, test in splits.tests.items():
        if test.grid != train.grid and not spec.any_grid:  # type: ignore[union-attr]
            raise ConfigError(f"model {cfg.model.kind!r} predicts only on its training grid {train.grid}; test set "
                              f"{label!r} is on {test.grid} (use a resolution-invariant model, e.g. fno)")
    try:
        loss = operator_loss(source=cfg.source, family=cfg.family, loss=cfg.loss, physics=cfg.physics, train=train,
                             model=spec, seed=cfg.seed)  # type: ignore[arg-type]
    except ValueError as err:
        raise ConfigError(f"loss: {err}") from None
    pairs = pairs_of(train, runtime)
    if labelled < train.n:  # the losses skip NaN rows' data term (they train on the physics term alone)
        pairs = Pairs(pairs.inputs, pairs.outputs.clone().index_fill_(0, torch.arange(
            labelled, train.n, device=pairs.outputs.device), float("nan")))
    batches = DatasetBatches(pairs, batch_size=min(cfg.batch_size, train.n), seed=cfg.seed,
                             rank=runtime.rank, world_size=runtime.world_size)
    steps = cfg.epochs * batches.steps_per_epoch
    phases = _phases(cfg, steps, batches.steps_per_epoch)
    return LearnBuilt(splits, shape, spec, model, loss, batches, phases, steps,  # type: ignore[arg-type]
                      batches.steps_per_epoch, runtime)
