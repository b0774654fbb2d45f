"""The process group of a ``torchrun`` launch: reading its environment, creating the group, collectives.

``torchrun --nproc_per_node N -m physopt ...`` starts N processes with ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` in their environment. :func:`launch_from_env`
reads them (``None`` outside such a launch) and :func:`init_process_group` creates PyTorch's default
process group with the backend the device needs: ``gloo`` on CPU, ``nccl`` with one GPU per rank
(``cuda:LOCAL_RANK``). Nothing here runs at import time; the group is created by the command line
(or by a user's own script) and torn down by :func:`destroy_process_group`.

The collectives (:func:`sum_over_ranks`, :func:`gather_to_main`, :func:`broadcast_from_main`) are
no-ops for a world of one process, so callers never branch on whether a group exists.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

__all__ = [
    "Launch",
    "broadcast_from_main",
    "destroy_process_group",
    "gather_to_main",
    "init_process_group",
    "launch_from_env",
    "process_group_ranks",
    "sum_over_ranks",
]

_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class Launch:
    """This process's place in a ``torchrun`` launch."""

    rank: int
    world_size: int
    local_rank: int


def launch_from_env(environ: Mapping[str, str] | None = None) -> Launch | None:
    """The launch described by torchrun's variables, or ``None`` when they are absent.

    Raises ``ValueError`` naming the variable for a partial or malformed set (a hand-made
    environment), rather than silently running as a single process.
    """
    env = os.environ if environ is None else environ
    present = [k for k in _ENV if k in env]
    if not present:
        return None
    if len(present) != len(_ENV):
        missing = [k for k in _ENV if k not in env]
        raise ValueError(f"torchrun environment is incomplete: {', '.join(present)} set but {', '.join(missing)} "
                         "missing (launch with torchrun)")
    try:
        rank, world, local = (int(env[k]) for k in _ENV)
    except ValueError:
        raise ValueError(f"torchrun environment must hold integers, got "
                         f"{', '.join(f'{k}={env[k]!r}' for k in _ENV)}") from None
    if not (world >= 1 and 0 <= rank < world and local >= 0):
        raise ValueError(f"torchrun environment is inconsistent: RANK={rank}, WORLD_SIZE={world}, LOCAL_RANK={local}")
    return Launch(rank, world, local)


def init_process_group(launch: Launch, device: str, *, timeout_s: float = 1800.0) -> str:
    """Create the default process group for ``launch`` on ``device`` and return the device to use.

    ``device`` is the run's ``--device`` text: ``cpu`` uses ``gloo``; ``cuda`` uses ``nccl`` with this
    rank's GPU ``cuda:LOCAL_RANK`` (made current), which is returned. A device with an explicit index
    (``cuda:1``) would put every rank on one GPU, so it is refused (``ValueError``). A group that
    already exists (a user's script created it) is kept.
    """
    name = device.strip().lower()
    if name.startswith("cuda"):
        if name != "cuda":
            raise ValueError(f"under torchrun give --device cuda (each rank uses cuda:LOCAL_RANK), got {device!r}")
        if not torch.cuda.is_available() or launch.local_rank >= torch.cuda.device_count():
            count = torch.cuda.device_count() if torch.cuda.is_available() else 0
            raise ValueError(f"--device cuda under torchrun needs one GPU per local rank: LOCAL_RANK="
                             f"{launch.local_rank}, this node has {count} GPU(s)")
        torch.cuda.set_device(launch.local_rank)
        backend, chosen = "nccl", "cuda"
    elif name in ("cpu", ""):
        backend, chosen = "gloo", "cpu"
    else:
        raise ValueError(f"torchrun runs on --device cpu (gloo) or cuda (nccl), got {device!r}")
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=launch.rank, world_size=launch.world_size,
                                timeout=timedelta(seconds=timeout_s))
    return chosen


def destroy_process_group(*, barrier: bool = True) -> None:
    """Tear the default group down (a no-op without one).

    With ``barrier`` the ranks first wait for each other: a rank that finished early (rank 0 still
    writes plots) and tore its group down while a peer still used it aborted in gloo's threads
    ("terminate called without an active exception", seen about once in ten 2-rank runs). Pass
    ``barrier=False`` on an error path, where a peer may never arrive.
    """
    if dist.is_available() and dist.is_initialized():
        if barrier:
            dist.barrier()
        dist.destroy_process_group()


def process_group_ranks() -> tuple[int, int]:
    """``(rank, world_size)`` of the default process group, ``(0, 1)`` without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def sum_over_ranks(tensor: torch.Tensor, world_size: int) -> torch.Tensor:
    """The sum of ``tensor`` over the ranks (a new tensor; ``tensor`` itself for one process)."""
    return _all_reduce(tensor, world_size, dist.ReduceOp.SUM)


def max_over_ranks(tensor: torch.Tensor, world_size: int) -> torch.Tensor:
    """The elementwise maximum of ``tensor`` over the ranks (``tensor`` itself for one process)."""
    return _all_reduce(tensor, world_size, dist.ReduceOp.MAX)


def _all_reduce(tensor: torch.Tensor, world_size: int, op: Any) -> torch.Tensor:
    if world_size == 1:
        return tensor
    out = tensor.detach().clone()
    dist.all_reduce(out, op=op)
    return out


def gather_to_main(obj: Any, world_size: int) -> list[Any] | None:
    """Every rank's ``obj`` in rank order on rank 0, ``None`` on the others (``[obj]`` for one process).

    Tensors inside ``obj`` are moved to the CPU first (the pickled objects travel through gloo or
    NCCL's object collectives; CPU tensors load on any device).
    """
    if world_size == 1:
        return [obj]
    rank = dist.get_rank()
    out: list[Any] | None = [None] * world_size if rank == 0 else None
    dist.gather_object(_to_cpu(obj), out, dst=0)
    return out


def broadcast_from_main(obj: Any, world_size: int) -> Any:
    """Rank 0's ``obj`` on every rank (a run directory name chosen once, say)."""
    if world_size == 1:
        return obj
    box = [obj if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj
