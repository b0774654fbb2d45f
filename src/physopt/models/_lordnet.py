"""LordNet (Huang et al. 2022, "LordNet: an efficient neural network for learning to solve parametric
partial differential equations without simulated data").

The discretised PDE couples every grid point with every other one ("long-range entanglement"): a
solver's inverse matrix is dense. A fully connected layer over the ``N = n_1 ⋯ n_d`` points would model
it with ``N²`` weights; LordNet's Lord layer keeps a low-rank (Kronecker-factored) decomposition of it,
a sum of ``rank`` terms, each a product of one dense matrix per grid axis and a channel mixing:

    v_0 = P(a, x)                                              lifting: pointwise, input channels and x
    v_{l+1} = σ( Σ_{r=1..rank} M_{l,r} (A^{(1)}_{l,r} ×_1 ⋯ A^{(d)}_{l,r} ×_d v_l) + W_l v_l + b_l )
    u = Q(v_L)                                                 projection: pointwise MLP, GELU

``A^{(k)}_{l,r}`` is ``n_k × n_k`` (acts along grid axis ``k``, shared by the channels), ``M_{l,r}``
and ``W_l`` are ``width × width`` pointwise maps, ``σ`` = GELU (none after the last layer). One layer
costs ``O(rank · width · N · Σ_k n_k)`` instead of the dense layer's ``O(width · N²)``. The spatial
matrices belong to the training grid: the network predicts on that grid only. What we take from the
paper is the abstract's architecture (matrix products as a low-rank approximation of the dense layer
over the domain) and its training, the mean squared residual of the discretised PDE (``[physics]``,
``physics.data = false``); layer sizes and the initialisation are ours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ._fno import Pointwise, _mlp
from ._operator_spec import OperatorShape, grid_points

__all__ = ["LordNet", "LordNetConfig", "build_lordnet"]


@dataclass(frozen=True)
class LordNetConfig:
    """``[model] kind = "lordnet"``: ``width`` channels, ``layers`` Lord layers of ``rank`` Kronecker
    terms each, a ``projection``-wide output MLP, and a ``lifting``-wide input MLP (0: affine). The defaults
    were the best of four settings on Darcy 32×32 data-free at 45 CPU s (docs/operators.md)."""

    kind: str = "lordnet"
    width: int = 24
    layers: int = 4
    rank: int = 2
    projection: int = 64
    lifting: int = 0


def _along(v: torch.Tensor, matrix: torch.Tensor, axis: int) -> torch.Tensor:
    """``matrix`` (``(R, n, n)``) applied along grid ``axis`` of ``v`` ``(B, R, C, *grid)``, per term ``R``."""
    moved = v.movedim(3 + axis, -1)  # (B, R, C, ..., n)
    shape = moved.shape
    out = torch.matmul(moved.reshape(shape[0], shape[1], -1, shape[-1]), matrix.transpose(1, 2).unsqueeze(0))
    return out.reshape(shape).movedim(-1, 3 + axis)


class LordLayer(nn.Module):
    """One Lord layer without its activation: ``v ↦ Σ_r M_r (⊗_k A^{(k)}_r) v + W v + b`` (module docstring)."""

    def __init__(self, width: int, grid: tuple[int, ...], rank: int, *, generator: torch.Generator,
                 dtype: torch.dtype) -> None:
        super().__init__()
        self.grid, self.rank = grid, rank
        # uniform(-1, 1) / sqrt(n): each axis product keeps the variance of v, as a Linear layer's default
        self.spatial = nn.ParameterList(
            nn.Parameter((2 * torch.rand(rank, n, n, generator=generator, dtype=dtype) - 1) * math.sqrt(3.0 / n))
            for n in grid)
        bound = 1.0 / math.sqrt(width * rank)
        self.mix = nn.Parameter((2 * torch.rand(width, rank * width, generator=generator, dtype=dtype) - 1) * bound)
        self.skip = Pointwise(width, width, generator=generator, dtype=dtype)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        b, c = v.shape[:2]
        terms = v.unsqueeze(1).expand(b, self.rank, *v.shape[1:])
        for axis, matrix in enumerate(self.spatial):
            terms = _along(terms, matrix, axis)
        mixed = torch.matmul(self.mix, terms.reshape(b, self.rank * c, -1))  # Σ_r M_r (...): one channel matmul
        return mixed + self.skip(v.flatten(2))


class LordNet(nn.Module):
    """``a (B, C_in, *grid) → u (B, C_out, *grid)`` on the training ``grid`` (see the module docstring)."""

    def __init__(self, *, in_channels: int, out_channels: int, grid: tuple[int, ...], periodic: bool, width: int,
                 layers: int, rank: int, projection: int, lifting: int, generator: torch.Generator,
                 dtype: torch.dtype) -> None:
        super().__init__()
        for name, value in (("width", width), ("layers", layers), ("rank", rank), ("projection", projection)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"model.{name} must be a positive int, got {value!r}")
        if not isinstance(lifting, int) or isinstance(lifting, bool) or lifting < 0:
            raise ValueError(f"model.lifting must be an int >= 0 (hidden channels; 0: affine), got {lifting!r}")
        self.grid, self.periodic = tuple(grid), periodic
        kw = {"generator": generator, "dtype": dtype}
        c_in = in_channels + len(grid)
        self.lift = _mlp([c_in, lifting, width] if lifting else [c_in, width], **kw)
        self.blocks = nn.ModuleList(LordLayer(width, self.grid, rank, **kw) for _ in range(layers))
        self.project = _mlp([width, projection, out_channels], **kw)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if tuple(a.shape[2:]) != self.grid:
            raise ValueError(f"LordNet was built for the grid {self.grid} (its spatial matrices), got input "
                             f"shape {tuple(a.shape)}")
        b = a.shape[0]
        coords = grid_points(self.grid, periodic=self.periodic, device=a.device, dtype=a.dtype)
        h = self.lift(torch.cat([a.flatten(2), coords.T.expand(b, -1, -1)], dim=1))
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            z = block(h.view(b, -1, *self.grid))
            h = F.gelu(z) if i < last else z
        return self.project(h).view(b, -1, *self.grid)


def build_lordnet(options: LordNetConfig, *, shape: OperatorShape, generator: torch.Generator,
                  dtype: torch.dtype) -> LordNet:
    return LordNet(in_channels=shape.in_channels, out_channels=shape.out_channels, grid=shape.grid,
                   periodic=shape.periodic, width=options.width, layers=options.layers, rank=options.rank,
                   projection=options.projection, lifting=options.lifting, generator=generator, dtype=dtype)
