"""NeuralStagger: the fine grid as ``s^d`` staggered coarse sub-grids, each solved by its own small network
(Huang et al. 2023, "NeuralStagger: accelerating physics-constrained neural PDE solver with
spatial-temporal decomposition", ICML).

For a factor ``s``, sub-grid ``p = (p_1, .., p_d)`` (``0 <= p_i < s``) of a field ``v`` on an
``n_1 x .. x n_d`` grid is ``v[p_1::s, .., p_d::s]``. Every coarse solver ``G_p`` (a small FNO) sees
all ``s^d`` sub-grids of the input stacked as channels and returns its own sub-grid of the output;
the fine prediction interleaves them back:

    u[p::s] = G_p( stack_q a[q::s] )      for every p,

so the ``s^d`` solvers are independent given the input (run in parallel, the prediction takes the
time of one coarse solver) and are trained jointly by any loss on the reassembled fine field —
the paper's physics-constrained loss (see ``benchmarks/physics_operators_stagger.py``) or data.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from torch import nn

from ._fno import FNOConfig, build_fno
from ._operator_spec import OperatorShape

__all__ = ["NeuralStagger", "StaggerConfig", "build_stagger"]


@dataclass(frozen=True)
class StaggerConfig:
    """``[model] kind = "stagger"``: ``factor`` ``s`` per axis; each of the ``s^d`` coarse solvers is an
    FNO with these options (see :class:`~physopt.models.FNOConfig`)."""

    kind: str = "stagger"
    factor: int = 2
    modes: int = 8
    width: int = 16
    layers: int = 4
    projection: int = 32
    lifting: int = 0
    mlp: float = 0.0


class NeuralStagger(nn.Module):
    """``s^d`` coarse solvers on the staggered sub-grids of the fine grid (module docstring)."""

    def __init__(self, *, shape: OperatorShape, factor: int, solver: FNOConfig, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise ValueError(f"NeuralStagger factor must be a positive int, got {factor!r}")
        if any(n % factor for n in shape.grid):
            raise ValueError(f"NeuralStagger factor {factor} must divide every grid axis, got grid {shape.grid}")
        self.shape, self.factor = shape, factor
        coarse = tuple(n // factor for n in shape.grid)
        self.offsets = list(itertools.product(range(factor), repeat=shape.dim))
        sub = OperatorShape(shape.in_channels * len(self.offsets), shape.out_channels, coarse, shape.periodic)
        self.solvers = nn.ModuleList(build_fno(solver, shape=sub, generator=generator, dtype=dtype)
                                     for _ in self.offsets)

    def _index(self, p: tuple[int, ...]) -> tuple[slice, ...]:
        return (slice(None), slice(None), *(slice(o, None, self.factor) for o in p))

    def split(self, a: torch.Tensor) -> torch.Tensor:
        """``(B, C, *grid)`` -> ``(B, C s^d, *grid / s)``: the sub-grids stacked as channels."""
        return torch.cat([a[self._index(p)] for p in self.offsets], dim=1)

    def solve(self, k: int, coarse: torch.Tensor) -> torch.Tensor:
        """Coarse solver ``k`` alone (its sub-grid of the output): one parallel worker's job."""
        return self.solvers[k](coarse)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if tuple(a.shape[2:]) != self.shape.grid:
            raise ValueError(f"NeuralStagger was built for grid {self.shape.grid}, got {tuple(a.shape[2:])}")
        coarse = self.split(a)
        out = a.new_empty((a.shape[0], self.shape.out_channels, *self.shape.grid))
        for k, p in enumerate(self.offsets):
            out[self._index(p)] = self.solve(k, coarse)
        return out


def build_stagger(options: StaggerConfig, *, shape: OperatorShape, generator: torch.Generator,
                  dtype: torch.dtype) -> NeuralStagger:
    """The registry factory of ``kind = "stagger"``."""
    solver = FNOConfig(modes=options.modes, width=options.width, layers=options.layers,
                       projection=options.projection, lifting=options.lifting, mlp=options.mlp)
    return NeuralStagger(shape=shape, factor=options.factor, solver=solver, generator=generator, dtype=dtype)
