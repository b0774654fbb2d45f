"""What a neural-operator kind is: its shape contract and its registry entry.

An operator model maps input functions on a uniform grid of ``[0, 1]^d`` to output functions:

- every kind: ``model(a)`` with ``a`` of shape ``(B, C_in, *grid)`` returns ``(B, C_out, *grid)``;
- ``any_grid`` kinds (the FNO family) accept any grid, not only the training one (zero-shot);
- ``queries`` kinds (the DeepONet family) also take ``model(a, points)`` with ``points`` of shape
  ``(Q, d)`` in ``[0, 1]^d`` and return ``(B, C_out, Q)``: predictions anywhere.

Grid coordinates follow the data's convention (:func:`grid_points`: ``i/n`` on periodic grids,
``i/(n-1)`` otherwise). To add a kind, write its module (network + options dataclass + factory)
and add one :class:`OperatorSpec` to :data:`physopt.models.OPERATORS`
(``_operator_registry.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = ["OperatorShape", "OperatorSpec", "grid_points"]


@dataclass(frozen=True)
class OperatorShape:
    """What a factory needs to know about the data: channels, the training grid and its convention."""

    in_channels: int
    out_channels: int
    grid: tuple[int, ...]
    periodic: bool

    @property
    def dim(self) -> int:
        return len(self.grid)


@dataclass(frozen=True)
class OperatorSpec:
    """How to build one operator kind.

    Attributes:
        factory: ``(options, *, shape, generator, dtype) -> nn.Module``; ``options`` is an instance
            of ``config``; ``generator`` is the CPU generator of the initial weights (models are
            built on the CPU and moved to the run's device afterwards).
        config: the options dataclass of the ``[model]`` table (its ``kind`` field names the spec).
        summary: one line for listings.
        dims: the spatial dimensions the kind supports.
        any_grid: predictions at any grid resolution (else only at the training grid).
        queries: ``model(a, points)`` evaluates at arbitrary query points.
        unscaled_inputs: ``(options, shape) -> channel indices`` that normalisation must leave as they
            are (categorical channels: masks, one-hot task indicators); ``None``: none.
        fit: ``(net, inputs, outputs) -> None`` for kinds built from the training set (EquiNO's POD basis):
            called once after the factory with the training tensors in the units the network sees
            (normalised when ``data.normalize``); not called when a checkpoint restores the model.
        normalizable: ``data.normalize`` may wrap the kind in :class:`~physopt.models.Normalized` (``False``
            for kinds whose constraints act on physical units, e.g. a PDE solved inside the model).
        latent: the network has a latent code of its input (``encode`` / ``decode`` / ``decode_field``, DGNO):
            it can train on ``physics.form = "weak"`` (:class:`physopt.training.DGNOLoss`).
    """

    factory: Callable[..., nn.Module]
    config: type
    summary: str
    dims: tuple[int, ...]
    any_grid: bool
    queries: bool = False
    unscaled_inputs: Callable[[Any, OperatorShape], tuple[int, ...]] | None = None
    fit: Callable[[nn.Module, torch.Tensor, torch.Tensor], None] | None = None
    normalizable: bool = True
    latent: bool = False



def grid_points(grid: tuple[int, ...], *, periodic: bool, device: torch.device | str | None = None,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The ``(prod(grid), d)`` coordinates of a uniform grid of ``[0, 1]^d`` in C order (last axis fastest)."""
    axes = []
    for n in grid:
        if n < (1 if periodic else 2):
            raise ValueError(f"a grid axis needs at least {1 if periodic else 2} points, got {n}")
        axes.append(torch.arange(n, device=device, dtype=dtype) / n if periodic
                    else torch.linspace(0.0, 1.0, n, device=device, dtype=dtype))
    mesh = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([m.reshape(-1) for m in mesh], dim=-1)
