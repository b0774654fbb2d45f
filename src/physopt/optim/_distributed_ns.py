"""The Muon family's Newton–Schulz work spread over the ranks of a ``torch.distributed`` group.

Every rank holds the same (all-reduced) gradients and the same momentum, so every rank would
compute the same orthogonalised updates. With ``world_size > 1`` rank ``r`` instead orthogonalises
only its share of the matrices and the shares are exchanged: the pattern of the reference Muon
implementation's distributed variant (KellerJordan/Muon, which deals parameters out round-robin
and all-gathers the updates). Here the shares are balanced by cost, which matters when the shapes
differ (an MLP's ``d×d`` hidden weights beside thin input/output layers):

* cost of one matrix ``m×n`` (``m ≤ n``) per Newton–Schulz iteration ``4m²n + 2m³`` flops
  (``A = XXᵀ``, ``A²``, ``BX``);
* longest-processing-time-first: matrices by decreasing cost (ties by position) each go to the rank
  with the least load so far (ties to the lower rank) — a deterministic rule every rank computes
  identically, within 4/3 of the optimal makespan (Graham 1969);
* exchange: every rank writes its results into a zero buffer of all results (one per dtype) and the
  buffers are summed with one all-reduce. Adding exact zeros changes no bit, so every rank ends with
  exactly the updates a single process computes when it orthogonalises the same matrices the same
  way (same-shape stacking happens within a rank's share, tested equal to the per-matrix path).

Momentum, second moments and the parameter update itself stay on every rank (elementwise, cheap),
so the optimizer state is complete on every rank and rank 0's checkpoint is the whole state.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.distributed as dist
from torch import Tensor

from ..runtime import sum_over_ranks

__all__ = ["active_world_size", "assign_by_cost", "distributed_orthogonalize", "newton_schulz_cost",
           "sum_over_ranks"]


def active_world_size() -> int:
    """World size of the default process group (1 without one)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def newton_schulz_cost(shape: torch.Size | tuple[int, ...]) -> int:
    """Flops of one Newton–Schulz iteration on a matrix of ``shape`` (trailing dims flattened)."""
    rows = int(shape[0])
    cols = 1
    for d in shape[1:]:
        cols *= int(d)
    m, n = min(rows, cols), max(rows, cols)
    return 4 * m * m * n + 2 * m**3


def assign_by_cost(costs: list[int], world_size: int) -> list[int]:
    """The rank of each item: longest-processing-time-first (see the module docstring)."""
    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got {world_size}")
    load = [0] * world_size
    owner = [0] * len(costs)
    for i in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        r = min(range(world_size), key=lambda r: (load[r], r))
        owner[i] = r
        load[r] += costs[i]
    return owner


def distributed_orthogonalize(inputs: list[Tensor], orthogonalize: Callable[[list[Tensor]], list[Tensor]],
                              out_dtype: Callable[[Tensor], torch.dtype], world_size: int) -> list[Tensor]:
    """``orthogonalize(inputs)`` computed as shares on the ranks and exchanged (module docstring).

    ``orthogonalize`` maps a list of matrices to their results (same shapes); ``out_dtype(x)`` is the
    dtype of ``x``'s result (the Newton–Schulz dtype), known before the work is done.
    """
    if world_size == 1 or not inputs:
        return orthogonalize(inputs)
    rank = dist.get_rank()
    owner = assign_by_cost([newton_schulz_cost(x.shape) for x in inputs], world_size)
    mine = [i for i, r in enumerate(owner) if r == rank]
    done = dict(zip(mine, orthogonalize([inputs[i] for i in mine]), strict=True))
    # One zero buffer per (dtype, device) holds every result at a fixed offset.
    slots: dict[tuple[torch.dtype, torch.device], list[int]] = {}
    for i, x in enumerate(inputs):
        slots.setdefault((out_dtype(x), x.device), []).append(i)
    out: list[Tensor | None] = [None] * len(inputs)
    for (dtype, device), items in slots.items():
        buffer = torch.zeros(sum(inputs[i].numel() for i in items), dtype=dtype, device=device)
        views, offset = [], 0
        for i in items:
            n = inputs[i].numel()
            views.append((i, offset, n))
            if i in done:
                buffer[offset:offset + n].copy_(done[i].reshape(-1))
            offset += n
        dist.all_reduce(buffer, op=dist.ReduceOp.SUM)
        for i, start, n in views:
            out[i] = buffer[start:start + n].view(inputs[i].shape)
    return [o for o in out if o is not None]
