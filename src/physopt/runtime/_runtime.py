"""The :class:`Runtime` value and device parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from ._distributed import gather_to_main, max_over_ranks, sum_over_ranks

__all__ = ["DEVICE_KINDS", "Runtime", "parse_device"]

DEVICE_KINDS = ("cpu", "cuda", "cuda:N", "mps")
_CUDA_INDEX = re.compile(r"cuda:(\d+)")


def parse_device(text: str) -> torch.device:
    """``cpu``, ``cuda``, ``cuda:N`` or ``mps`` as a :class:`torch.device` that exists here.

    Raises ``ValueError`` naming the device for an unknown spelling or a device this machine does
    not have (``cuda`` without a GPU, ``cuda:3`` on a two-GPU machine), so a run never silently
    falls back to another device.
    """
    if not isinstance(text, str):
        raise ValueError(f"device must be a string such as 'cpu' or 'cuda:0', got {text!r}")
    name = text.strip().lower()
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError("device 'mps' is not available on this machine (no Apple-silicon GPU backend)")
        return torch.device("mps")
    match = _CUDA_INDEX.fullmatch(name)
    if name == "cuda" or match:
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device {text!r} is not available: this machine has no CUDA GPU")
        index = int(match.group(1)) if match else 0
        if index >= count:
            raise ValueError(
                f"device {text!r} is not available: this machine has {count} CUDA GPU(s) (cuda:0..{count - 1})"
            )
        return torch.device("cuda", index)
    raise ValueError(f"unknown device {text!r}; use one of {', '.join(DEVICE_KINDS)}")


@dataclass(frozen=True)
class Runtime:
    """Device, dtype, rank, world size and seed of one run process.

    Generators: :meth:`model_generator` seeds network initialisation and is the same on every rank
    (every rank must start from the same weights); it lives on the CPU, and models are built there
    and moved to :attr:`device`, so a model initialises identically on every device.
    :meth:`sampling_generator` draws collocation points on :attr:`device`; its seed is the given one
    on rank 0 and a mix of (seed, rank) on the others (``numpy.random.SeedSequence``), so ranks draw
    independent points and rank 0 of a multi-process run draws what a single process would.
    A *shard* (a fixed share of a run's points, see :class:`physopt.training.ShardedSampler`) can be
    named instead of the rank, so one process can draw what several ranks would.

    Collectives (:meth:`sum_over_ranks`, :meth:`max_over_ranks`, :meth:`gather_to_main`) use the
    default process group when :attr:`world_size` > 1 and are identities for one process.
    """

    device: torch.device = torch.device("cpu")
    dtype: torch.dtype = torch.float64
    seed: int = 0
    rank: int = 0
    world_size: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.device, torch.device):
            raise ValueError(f"Runtime.device must be a torch.device, got {self.device!r} (use parse_device)")
        if self.dtype not in (torch.float32, torch.float64):
            raise ValueError(f"Runtime.dtype must be torch.float32 or torch.float64, got {self.dtype}")
        if not (isinstance(self.world_size, int) and self.world_size >= 1):
            raise ValueError(f"world_size must be an int >= 1, got {self.world_size!r}")
        if not (isinstance(self.rank, int) and 0 <= self.rank < self.world_size):
            raise ValueError(f"rank must be an int in [0, world_size = {self.world_size}), got {self.rank!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"seed must be an int, got {self.seed!r}")

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files (run directory, metrics, plots, checkpoints)."""
        return self.rank == 0

    def model_generator(self) -> torch.Generator:
        """A fresh CPU generator seeded with :attr:`seed` (the same on every rank)."""
        return torch.Generator().manual_seed(self.seed)

    def sampling_generator(self, seed: int, *, shard: int | None = None) -> torch.Generator:
        """A generator on :attr:`device` for drawing points, seeded by ``seed`` and ``shard``
        (default: this rank); shard 0 uses ``seed`` itself."""
        index = self.rank if shard is None else shard
        if not (isinstance(index, int) and index >= 0):
            raise ValueError(f"shard must be an int >= 0, got {shard!r}")
        if index:  # kept below 2**62 like the seeds build() draws
            seed = int(
                np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint64)[0] >> 2
            )
        return torch.Generator(device=self.device).manual_seed(seed)

    def sum_over_ranks(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over the ranks (all-reduce; ``tensor`` itself for one process)."""
        return sum_over_ranks(tensor, self.world_size)

    def max_over_ranks(self, tensor: torch.Tensor) -> torch.Tensor:
        """The elementwise maximum of ``tensor`` over the ranks."""
        return max_over_ranks(tensor, self.world_size)

    def gather_to_main(self, obj: object) -> list[object] | None:
        """Every rank's ``obj`` (tensors moved to the CPU) on rank 0, ``None`` elsewhere."""
        return gather_to_main(obj, self.world_size)

    def tensor(self, data: object) -> torch.Tensor:
        """``data`` as a tensor of this runtime's dtype on its device."""
        return torch.as_tensor(data, dtype=self.dtype, device=self.device)
