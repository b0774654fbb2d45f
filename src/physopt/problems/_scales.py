"""The size of a problem's solution, read from the values its conditions prescribe.

A network starts with outputs of order one; a solution of size 30 then costs the first optimizer
thousands of steps just to grow the last layer. :func:`output_scales` gives, per output, the root
mean square of everything the problem states about that output — Dirichlet and initial values on
sampled boundary/initial points, observations of :class:`Data` — so a model can start at the
right size (``[model] scale_outputs``). The reference solution is never read: it is what the run
is scored against.
"""

from __future__ import annotations

import torch

from ._conditions import Data, Dirichlet, Initial, value_at
from ._problem import Problem

__all__ = ["output_scales"]


def _prescribed(problem: Problem, n: int, generator: torch.Generator, dtype: torch.dtype
                ) -> list[tuple[tuple[int, ...], torch.Tensor]]:
    """``(output columns, values (m, k))`` of every condition that prescribes output values."""
    out_dim = len(problem.output_names)
    found: list[tuple[tuple[int, ...], torch.Tensor]] = []
    for cond in problem.conditions.values():
        if isinstance(cond, Data):
            cols = cond.components if cond.components is not None else tuple(range(out_dim))
            found.append((tuple(cols), cond.values.to(dtype)))
        elif isinstance(cond, Dirichlet | Initial) and not (isinstance(cond, Initial) and cond.order != 0):
            x = cond.sample(problem.domain, n, generator=generator, dtype=dtype)["x"]
            given = cond.components if isinstance(cond, Dirichlet) else None
            cols = given if given is not None else tuple(range(out_dim))
            v = value_at(cond.value, x)
            found.append((tuple(cols), v.expand(x.shape[0], len(cols)) if v.shape[1] == 1 else v))
    return found


def output_scales(problem: Problem, *, generator: torch.Generator, dtype: torch.dtype = torch.float64,
                  points: int = 256) -> tuple[float, ...]:
    """Per output: RMS of the values the conditions prescribe for it (on ``points`` sampled points
    per Dirichlet/initial condition, drawn from ``generator``), or 1.0 where none is prescribed or
    all prescribed values vanish (a homogeneous condition says nothing about the size)."""
    out_dim = len(problem.output_names)
    sums, counts = [0.0] * out_dim, [0] * out_dim
    for cols, values in _prescribed(problem, points, generator, dtype):
        for j, col in enumerate(cols):
            sums[col] += float(values[:, j].double().pow(2).sum())
            counts[col] += values.shape[0]
    return tuple((s / c) ** 0.5 if c and s > 0 else 1.0 for s, c in zip(sums, counts, strict=True))
