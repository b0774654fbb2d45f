"""A run's collocation points as ``S`` shards, spread over the ranks of a ``torchrun`` launch.

Shard ``s`` is a :class:`~physopt.training.Sampler` of its own, drawing ``size / S`` points per
condition with the generator seeded by ``(seed, s)`` (:meth:`physopt.runtime.Runtime.sampling_generator`).
Rank ``r`` of ``w`` owns the contiguous shards ``r·S/w … (r+1)·S/w − 1`` and trains on their points
concatenated; the run's *global* point set is every shard's points in shard order, so a point's
global identity is ``offset(r) + position on r`` (what pointwise multipliers are indexed by). One
process with ``S`` shards therefore trains on exactly the points of an ``S``-rank run, and a
checkpoint (which holds every shard's state) resumes on any number of processes that divides ``S``.

Residual-based resampling (RAD) uses the global statistic: the normaliser ``E[ε^k]`` of the density
is the mean over every shard's candidates (one all-reduce of a sum and a count); each shard then
draws its ``size / S`` points from its own candidates. RAR-G (add the globally worst candidates)
would give shards unequal sizes, and equal sizes are what lets the ranks' mean losses average to
the global one, so it is refused with more than one shard.

After every draw the shards' states are gathered on rank 0 (one ``gather_object`` of the drawn points
and generator states; draws are rare unless ``resample_every`` is small), so rank 0's
:meth:`state_dict` holds every rank's sampler state without a collective at checkpoint time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from ..problems import Points, Problem
from ..runtime import Runtime
from ._adaptive import powered_norms
from ._sampler import Sampler

__all__ = ["ShardedSampler", "concat_points", "owned_shards"]


def owned_shards(shards: int, *, rank: int, world_size: int) -> range:
    """The shards rank ``rank`` of ``world_size`` draws; ``ValueError`` unless ``world_size`` divides ``shards``."""
    if not (isinstance(shards, int) and shards >= 1):
        raise ValueError(f"sampler.shards must be an int >= 1, got {shards!r}")
    if shards % world_size:
        raise ValueError(f"sampler.shards = {shards} does not split over {world_size} processes; "
                         f"run on a number of processes that divides {shards}")
    per = shards // world_size
    return range(rank * per, (rank + 1) * per)


def concat_points(parts: Sequence[Points]) -> Points:
    """The points of ``parts`` one after another (per-point fields too); metadata must agree."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    for p in parts[1:]:
        same = set(p.meta) == set(first.meta) and all(torch.equal(p.meta[k], first.meta[k]) for k in first.meta)
        if not same or set(p.fields) != set(first.fields):
            raise ValueError("shards drew points with different fields or metadata (e.g. SDGD's sampled "
                             "dimensions); such a condition cannot be sharded: use sampler.shards = 1")
    return Points(torch.cat([p.x for p in parts]), {k: torch.cat([p.fields[k] for p in parts]) for k in first.fields},
                  dict(first.meta))


class ShardedSampler:
    """The shards of one rank (a :class:`~physopt.training.BatchSource`; see the module docstring).

    Args:
        problem: as for :class:`Sampler`.
        sizes: *global* points per condition; each must be divisible by ``shards``.
        shards: the run's number of shards ``S`` (a multiple of the runtime's world size).
        seed: the sampling seed; shard ``s`` draws from ``runtime.sampling_generator(seed, shard=s)``.
        runtime: rank, world size and device of this process.
        options: the remaining :class:`Sampler` keywords (``resample_every``, ``method``,
            ``candidates`` — global, split like ``sizes`` —, ``rad_k``, ``rad_c``, ``dtype``).
    """

    def __init__(self, problem: Problem, *, sizes: Mapping[str, int], shards: int, seed: int, runtime: Runtime,
                 **options: Any) -> None:
        self.runtime = runtime
        self.shards = shards
        self.owned = owned_shards(shards, rank=runtime.rank, world_size=runtime.world_size)
        uneven = {k: n for k, n in sizes.items() if n % shards}
        if uneven:
            raise ValueError(f"sizes {uneven} do not split into {shards} equal shards (sampler.shards); "
                             f"use multiples of {shards}")
        if options.get("method") == "rar":
            raise ValueError("sampling method 'rar' adds the globally worst points, which unbalances the shards; "
                             "use 'rad' or sampler.shards = 1")
        if "candidates" in options:
            options = {**options, "candidates": options["candidates"] // shards}
        local = {k: n // shards for k, n in sizes.items()}
        self.sizes = dict(sizes)
        self._parts = {s: Sampler(problem, sizes=local, generator=runtime.sampling_generator(seed, shard=s),
                                  **options) for s in self.owned}
        self._states: dict[int, dict[str, Any]] = {}  # every shard's state after the latest draw (rank 0)
        self._batch: dict[str, Points] | None = None
        self._seen = -2  # drawn_at of the concatenated batch

    @property
    def offsets(self) -> dict[str, int]:
        """Global index of this rank's first point per condition (its shards come after the earlier ranks')."""
        first = next(iter(self._parts.values()))
        return {k: self.owned.start * n for k, n in first.sizes.items()}

    @property
    def drawn_at(self) -> int:
        return next(iter(self._parts.values())).drawn_at

    def batch(self, step: int) -> dict[str, Points]:
        parts = [p.batch(step) for p in self._parts.values()]
        if self.drawn_at != self._seen:
            self._batch = {k: concat_points([b[k] for b in parts]) for k in parts[0]}
            self._seen = self.drawn_at
            self._gather()
        assert self._batch is not None
        return self._batch

    def prefix(self, batch: Mapping[str, Points], sizes: Mapping[str, int]) -> dict[str, Points]:
        """The first ``n / S`` points of every shard for each condition ``name: n`` in ``sizes`` (a
        phase's warm-up subset: the union over shards of what one shard's prefix would be)."""
        uneven = {k: n for k, n in sizes.items() if n % self.shards}
        if uneven:
            raise ValueError(f"optim.first_sizes {uneven} do not split into {self.shards} shards (sampler.shards)")
        out = dict(batch)
        parts = len(self.owned)
        for name, n in sizes.items():
            if name not in batch:
                continue
            b, keep = batch[name], n // self.shards
            each = b.n // parts
            index = torch.cat([torch.arange(j * each, j * each + min(keep, each), device=b.x.device)
                               for j in range(parts)])
            out[name] = b.take(index)
        return out

    def adapt(self, step: int, residual: Callable[[str, Points], torch.Tensor]) -> None:
        """RAD with the mean of ``ε^k`` over every shard's candidates (see the module docstring)."""
        parts = list(self._parts.values())
        due = [p.adapt_due(step) for p in parts]
        if not any(due):
            return
        old = [dict(p.points) for p in parts]
        new = [p.begin_adapt() for p in parts]
        for name in parts[0].adaptive_conditions():
            scored = [p.score(name, residual) for p in parts]
            powered = [powered_norms(norms, k=p.rad_k) for p, (_, norms) in zip(parts, scored, strict=True)]
            total = torch.stack([sum(q.sum() for q in powered), torch.tensor(float(sum(q.numel() for q in powered)),
                                                                               dtype=torch.float64,
                                                                               device=powered[0].device)])
            total = self.runtime.sum_over_ranks(total)
            mean = total[0] / total[1]
            for p, n, o, (cand, norms) in zip(parts, new, old, scored, strict=True):
                n[name] = p.pick(name, cand, norms, o, mean=mean)
        for p, n in zip(parts, new, strict=True):
            p.finish_adapt(n, step)

    def _gather(self) -> None:
        gathered = self.runtime.gather_to_main({s: p.state_dict() for s, p in self._parts.items()})
        if gathered is not None:
            self._states = {s: st for part in gathered for s, st in part.items()}

    def state_dict(self) -> dict[str, Any]:
        """``{"shards": S, "states": {shard: Sampler state}}``: every shard's on rank 0, this rank's elsewhere."""
        own = {s: p.state_dict() for s, p in self._parts.items()}
        return {"shards": self.shards, "states": {**self._states, **own}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("shards") != self.shards:
            raise ValueError(f"checkpoint sampler has {state.get('shards')!r} shards, this run {self.shards}")
        states = state["states"]
        for s, p in self._parts.items():
            p.load_state_dict(states[s])
        self._states = dict(states)
        self._seen = -2

    @property
    def points(self) -> dict[str, Points]:
        """This rank's current training points per condition."""
        return dict(self._batch or {})
