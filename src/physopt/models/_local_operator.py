"""The local baseline operator: one MLP applied at every grid point to the input channels and
the point's coordinates. It sees no neighbours, so whatever a non-local operator (FNO, DeepONet)
gains over it is what mixing across the domain buys — the baseline every operator table needs."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ._mlp import MLP
from ._operator_spec import OperatorShape, grid_points

__all__ = ["LocalConfig", "LocalOperator", "build_local"]


@dataclass(frozen=True)
class LocalConfig:
    """``--model local``: ``u(x) = MLP(a(x), x)`` with ``depth`` hidden layers of ``width`` units."""

    kind: str = "local"
    width: int = 64
    depth: int = 3
    activation: str = "gelu"


class LocalOperator(nn.Module):
    """``(B, C_in, *grid) → (B, C_out, *grid)`` pointwise: ``u_c(x) = MLP([a(x), x])_c`` on any grid."""

    def __init__(self, *, in_channels: int, out_channels: int, dim: int, periodic: bool, width: int, depth: int,
                 activation: str, generator: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        self.dim, self.periodic = dim, periodic
        self.net = MLP(in_dim=in_channels + dim, out_dim=out_channels, width=width, depth=depth,
                       activation=activation, bounds=None, generator=generator, dtype=dtype)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if a.ndim != 2 + self.dim:
            raise ValueError(f"expected input of shape (B, C_in, {self.dim} grid axes), got {tuple(a.shape)}")
        batch, grid = a.shape[0], tuple(a.shape[2:])
        x = grid_points(grid, periodic=self.periodic, device=a.device, dtype=a.dtype)
        feats = torch.cat([a.flatten(2).transpose(1, 2), x.expand(batch, -1, -1)], dim=-1)
        return self.net(feats).transpose(1, 2).reshape(batch, -1, *grid)


def build_local(options: LocalConfig, *, shape: OperatorShape, generator: torch.Generator,
                dtype: torch.dtype) -> LocalOperator:
    return LocalOperator(in_channels=shape.in_channels, out_channels=shape.out_channels, dim=shape.dim,
                         periodic=shape.periodic, width=options.width, depth=options.depth,
                         activation=options.activation, generator=generator, dtype=dtype)
