"""MT-DeepONet: one DeepONet for several tasks and geometries (Kumar, Goswami, Kontolati, Shields &
Karniadakis 2025, "Synergistic learning with multi-task DeepONet for efficient PDE problem solving",
Neural Networks; arXiv 2408.02198).

The tasks share the branch and the trunk. What tells them apart reaches the branch as extra inputs,
as in the paper: a binary geometry mask over the sensors (its Darcy and heat examples) and a task
indicator (the paper encodes the functional form of a source term as coefficients fed to the branch;
a one-hot over the tasks is the simplest such code).

How tasks show up in :class:`~physopt.operators.OperatorData`: the inputs of every task are
zero-padded to a common sensor set (the grid) and a common number of channels, then

    inputs  (N, C + 1 + T, *grid): channels 0..C-1 the input functions (0 where the mask is 0),
                                   channel C the mask (1 on the task's sensors, 0 on padded ones),
                                   channels C+1..C+T a one-hot task indicator (constant on the grid);
    outputs (N, C_out, *grid):     the task's outputs, 0 outside its mask.

:func:`multitask_data` builds this from single-task data on one grid. The branch reads
``[a · mask, mask, task]``: the input channels are multiplied by the mask first, so padded sensors
cannot influence a prediction whatever values they hold. Mask and task channels must be exactly 0 or
1 (a normalised mask is refused, not reinterpreted). The zero outputs outside a task's mask make
the plain loss the paper's masked one plus a penalty on predictions outside the geometry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..operators import OperatorData
from ._deeponet import DeepONet
from ._operator_spec import OperatorShape

__all__ = ["MTDeepONet", "MTDeepONetConfig", "build_mtdeeponet", "multitask_data"]


@dataclass(frozen=True)
class MTDeepONetConfig:
    """``[model] kind = "mtdeeponet"``: a :class:`~physopt.models.DeepONetConfig` network whose inputs
    carry ``tasks`` one-hot channels after one mask channel (the layout of :func:`multitask_data`)."""

    kind: str = "mtdeeponet"
    tasks: int = 2
    width: int = 128
    depth: int = 3
    basis: int = 64
    activation: str = "gelu"
    trunk_features: str = "raw"
    features: int = 16
    fourier_scale: float = 1.0


def _binary(name: str, values: torch.Tensor) -> None:
    bad = (values != 0) & (values != 1)
    if bool(bad.any()):
        raise ValueError(f"MT-DeepONet {name} must hold only 0 and 1, got {values[bad].flatten()[0].item():.6g} "
                         "(mask and task channels must not be normalised)")


class MTDeepONet(DeepONet):
    """A :class:`DeepONet` whose branch reads ``[a · mask, mask, one-hot task]`` (module docstring).

    ``shape.in_channels`` is ``C + 1 + tasks``; the model predicts ``shape.out_channels`` outputs."""

    def __init__(self, *, shape: OperatorShape, tasks: int, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32, **network: object) -> None:
        if not isinstance(tasks, int) or isinstance(tasks, bool) or tasks < 0:
            raise ValueError(f"MT-DeepONet tasks must be an int >= 0, got {tasks!r}")
        fields = shape.in_channels - 1 - tasks
        if fields < 1:
            raise ValueError(f"MT-DeepONet with {tasks} task channel(s) needs at least {tasks + 2} input channels "
                             f"(fields, mask, tasks), got {shape.in_channels}")
        super().__init__(shape=shape, branch_in=(fields + 1) * math.prod(shape.grid) + tasks, generator=generator,
                         dtype=dtype, **network)
        self.fields, self.tasks = fields, tasks

    def branch_input(self, a: torch.Tensor) -> torch.Tensor:
        b, c = a.shape[0], self.fields
        mask = a[:, c].reshape(b, -1)
        task = a[:, c + 1:].reshape(b, self.tasks, -1)
        _binary("mask channel", mask)
        _binary("task channels", task)
        if self.tasks and (bool((task != task[..., :1]).any()) or bool((task[..., 0].sum(dim=1) != 1).any())):
            raise ValueError("MT-DeepONet task channels must be one-hot per sample and constant on the grid")
        masked = a[:, :c].reshape(b, c, -1) * mask[:, None]
        return torch.cat([masked.reshape(b, -1), mask, task[..., 0]], dim=1)


def build_mtdeeponet(options: MTDeepONetConfig, *, shape: OperatorShape, generator: torch.Generator,
                     dtype: torch.dtype) -> MTDeepONet:
    """The registry factory of ``kind = "mtdeeponet"``."""
    return MTDeepONet(shape=shape, tasks=options.tasks, width=options.width, depth=options.depth,
                      basis=options.basis, activation=options.activation, trunk_features=options.trunk_features,
                      features=options.features, fourier_scale=options.fourier_scale, generator=generator,
                      dtype=dtype)


def mask_and_task_channels(options: MTDeepONetConfig, shape: OperatorShape) -> tuple[int, ...]:
    """The input channels normalisation must leave alone: the mask and the ``tasks`` one-hot channels (last)."""
    return tuple(range(shape.in_channels - 1 - options.tasks, shape.in_channels))


def multitask_data(tasks: Sequence[OperatorData], *, masks: Sequence[np.ndarray | None] | None = None,
                   name: str | None = None) -> OperatorData:
    """One :class:`OperatorData` holding the samples of every task, in the MT-DeepONet layout.

    Args:
        tasks: single-task data on one grid with one convention; channel counts may differ (fewer
            channels are zero-padded).
        masks: per task ``None`` (every sensor is the task's) or a boolean array of the grid's shape
            (the task's geometry: inputs and outputs are zeroed outside it).
        name: of the result (default: the task names joined by ``+``).

    Returns:
        The samples of task 0, then task 1, ...; inputs ``(N, C + 1 + T, *grid)``, outputs
        ``(N, C_out, *grid)`` with ``C`` / ``C_out`` the largest channel counts.
    """
    tasks = list(tasks)
    if len(tasks) < 2 or not all(isinstance(t, OperatorData) for t in tasks):
        raise ValueError(f"multitask_data needs at least two OperatorData, got {[type(t).__name__ for t in tasks]}")
    grid, periodic = tasks[0].grid, tasks[0].periodic
    for i, t in enumerate(tasks):
        if t.grid != grid or t.periodic != periodic:
            raise ValueError(f"task {i} is on grid {t.grid} (periodic={t.periodic}); task 0 on {grid} "
                             f"(periodic={periodic}): tasks must share the grid")
    masks = [None] * len(tasks) if masks is None else list(masks)
    if len(masks) != len(tasks):
        raise ValueError(f"multitask_data got {len(masks)} masks for {len(tasks)} tasks")
    c_in = max(t.in_channels for t in tasks)
    c_out = max(t.out_channels for t in tasks)
    dtype = np.result_type(np.float32, *[t.inputs.dtype for t in tasks], *[t.outputs.dtype for t in tasks])
    inputs, outputs = [], []
    for i, (t, m) in enumerate(zip(tasks, masks, strict=True)):
        if m is not None and (not isinstance(m, np.ndarray) or m.dtype != bool or m.shape != grid):
            got = f"{m.dtype} of shape {m.shape}" if isinstance(m, np.ndarray) else type(m).__name__
            raise ValueError(f"mask of task {i} must be a boolean array of shape {grid}, got {got}")
        mask = np.ones(grid, dtype=dtype) if m is None else m.astype(dtype)
        x = np.zeros((t.n, c_in + 1 + len(tasks), *grid), dtype=dtype)
        x[:, : t.in_channels] = t.inputs * mask
        x[:, c_in] = mask
        x[:, c_in + 1 + i] = 1.0
        y = np.zeros((t.n, c_out, *grid), dtype=dtype)
        y[:, : t.out_channels] = t.outputs * mask
        inputs.append(x)
        outputs.append(y)
    label = name if name is not None else "+".join(t.name or f"task{i}" for i, t in enumerate(tasks))
    return OperatorData(np.concatenate(inputs), np.concatenate(outputs), periodic, label)
