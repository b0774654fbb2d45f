"""The batch source of operator runs: shuffled mini-batches of (input, output) function pairs.

A batch is ``{"data": Pairs}``; the shuffle of epoch ``e`` is a pure function of ``(seed, e)``, so
``batch(step)`` depends on the step alone and a resumed run draws exactly the batches the
uninterrupted run would have (no sampler state to save). Under ``torch.distributed`` each rank
takes its own slice of every epoch's permutation (rank ``r`` of ``w``: every ``w``-th sample).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["DatasetBatches", "Pairs"]


@dataclass(frozen=True, eq=False)
class Pairs:
    """A batch of function pairs: ``inputs`` ``(B, C_in, *grid)`` and ``outputs`` ``(B, C_out, *grid)``."""

    inputs: torch.Tensor
    outputs: torch.Tensor

    def __post_init__(self) -> None:
        if self.inputs.shape[0] != self.outputs.shape[0] or self.inputs.shape[2:] != self.outputs.shape[2:]:
            raise ValueError(f"Pairs need the same samples and grid, got inputs {tuple(self.inputs.shape)} and "
                             f"outputs {tuple(self.outputs.shape)}")

    @property
    def n(self) -> int:
        return int(self.inputs.shape[0])

    def take(self, index: slice | torch.Tensor) -> Pairs:
        return Pairs(self.inputs[index], self.outputs[index])

    def prefix(self, n: int) -> Pairs:
        """The first ``n`` pairs (all of them if there are fewer)."""
        return self if n >= self.n else self.take(slice(0, n))


class DatasetBatches:
    """Mini-batches of ``batch_size`` pairs, reshuffled every epoch (the last batch may be smaller).

    Implements :class:`~physopt.training.BatchSource`. ``steps_per_epoch`` is
    ``ceil(n / (batch_size · world_size))``; the permutation of epoch ``e`` comes from a CPU
    generator seeded with ``(seed, e)`` (the same on every rank and every device).
    """

    def __init__(self, data: Pairs, *, batch_size: int, seed: int, rank: int = 0, world_size: int = 1) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, world_size), got rank {rank} of {world_size}")
        self.data, self.batch_size, self.seed = data, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.steps_per_epoch = max(1, math.ceil(data.n / (batch_size * world_size)))
        self._epoch, self._order = -1, torch.empty(0, dtype=torch.long)
        self._drawn = 0

    def _permutation(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            mixed = int(np.random.SeedSequence([self.seed, epoch]).generate_state(1)[0])
            gen = torch.Generator().manual_seed(mixed)
            order = torch.randperm(self.data.n, generator=gen, device="cpu")[self.rank::self.world_size]  # moved below
            self._epoch, self._order = epoch, order.to(self.data.inputs.device)
        return self._order

    @property
    def drawn_at(self) -> int:
        return self._drawn

    def batch(self, step: int) -> dict[str, Pairs]:
        epoch, k = divmod(step, self.steps_per_epoch)
        order = self._permutation(epoch)
        self._drawn = step  # every step is a new batch: cached closure evaluations are stale
        return {"data": self.data.take(order[k * self.batch_size:(k + 1) * self.batch_size])}

    def adapt(self, step: int, residual: Callable[..., torch.Tensor]) -> None:
        return None  # data batches do not move

    def prefix(self, batch: dict[str, Pairs], sizes: Mapping[str, int]) -> dict[str, Pairs]:
        """The first ``sizes[name]`` samples of each named entry."""
        return {name: b.prefix(sizes[name]) if name in sizes else b for name, b in batch.items()}

    def state_dict(self) -> dict[str, Any]:
        return {"n": self.data.n, "batch_size": self.batch_size, "seed": self.seed}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        mine = self.state_dict()
        if dict(state) != mine:
            raise ValueError(f"the checkpoint's batches were drawn with {dict(state)}, this run has {mine}")
