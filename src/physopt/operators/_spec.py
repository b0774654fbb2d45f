"""What a PDE family is: the registry entry of one generator of operator-learning data.

The contract of ``FamilySpec.generate`` makes caching and zero-shot tests exact: instance ``i``
depends only on ``(seed, i)`` and the options — not on ``n`` and not on the resolution — so ``n``
instances are the first ``n`` of any larger draw, and the same instance solved at two resolutions is
the same physical problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._data import OperatorData
from ._residuals import Residual

__all__ = ["FamilySpec"]


@dataclass(frozen=True)
class FamilySpec:
    """How to generate one family.

    Attributes:
        generate: ``(options, *, n, resolution, seed) -> OperatorData``; ``options`` is an instance
            of ``config``; instance ``i`` depends on ``(seed, i)`` and ``options`` only.
        config: the family's options dataclass (``--set family.nu=1e-3``).
        summary: one line for listings (the PDE and the map learned).
        dim: spatial dimension of the grid.
        resolution: the default training resolution (points per axis).
        periodic: the grid convention of its data (see :func:`physopt.operators.axis_coordinates`).
        residual: ``(options, inputs, outputs) -> Residual``, the discretised PDE on the output grid
            (torch tensors, physical units; ``_residuals.py``); ``None``: no physics loss for this family.
        instances: ``(options, *, seed, indices) -> list`` of instances as NumPy point functions
            (``distance``, ``source``, ``boundary``, ``mask`` of ``x`` ``(m, d)``) for mesh-free
            labels (``data.labels = "wos"``); ``None``: the family has none.
    """

    generate: Callable[..., OperatorData]
    config: type
    summary: str
    dim: int
    resolution: int
    periodic: bool
    residual: Callable[..., Residual] | None = None
    instances: Callable[..., list[Any]] | None = None
