"""Where a run executes: device, dtype, rank and world size, and the random generators they imply.

A :class:`Runtime` is built once per run (from ``--device``, ``--dtype``, ``--seed`` and, under
``torchrun``, the process group) and passed explicitly to every layer that creates tensors or draws
random numbers; nothing reads a global default device, dtype or generator.
"""

from ._distributed import (
    Launch,
    broadcast_from_main,
    destroy_process_group,
    gather_to_main,
    init_process_group,
    launch_from_env,
    process_group_ranks,
    sum_over_ranks,
)
from ._runtime import DEVICE_KINDS, Runtime, parse_device
from ._threads import idle_cores, idle_threads, resolve_threads

__all__ = [
    "DEVICE_KINDS",
    "Launch",
    "Runtime",
    "broadcast_from_main",
    "destroy_process_group",
    "gather_to_main",
    "idle_cores",
    "idle_threads",
    "init_process_group",
    "launch_from_env",
    "parse_device",
    "process_group_ranks",
    "resolve_threads",
    "sum_over_ranks",
]
