"""Same-size convolutions on ``(B, C, *grid)`` tensors of any dimension, drawn from an explicit generator.

``torch.nn.ConvNd`` draws its initial weights from the global RNG; physopt's models take a
``generator`` instead, so the operator kinds built on local stencils (LSM's U-Net, DyMixOp's local
transformations) use :class:`GridConv`. The weights are torch's default ``kaiming_uniform(a=√5)``
scale, ``U(-1/√fan_in, 1/√fan_in)``, like :class:`~physopt.models._fno.Pointwise`.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["PADDING_MODES", "GridConv", "batch_norm", "max_pool"]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_NORM = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
# "zeros": zero padding (a wall); "circular": periodic data; "replicate": non-periodic data a stencil should not
# see a jump at (the edge value continued).
PADDING_MODES = ("zeros", "circular", "replicate")


def _check_dim(dim: int) -> None:
    if dim not in _CONV:
        raise ValueError(f"grid convolutions take 1-, 2- or 3-D grids, got dim={dim!r}")


class GridConv(nn.Module):
    """``(B, C_in, *grid) → (B, C_out, *grid)``: a convolution with an odd ``kernel`` per axis, padded to keep the grid.

    Args:
        in_channels / out_channels: channels.
        kernel: odd stencil width per axis (1: the same affine map at every point).
        dim: grid dimension (1-3).
        padding: one of :data:`PADDING_MODES`.
        generator / dtype: initial weights.
        bias: add a learnable bias per output channel.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, *, dim: int, padding: str,
                 generator: torch.Generator, dtype: torch.dtype, bias: bool = True) -> None:
        super().__init__()
        _check_dim(dim)
        if isinstance(kernel, bool) or not isinstance(kernel, int) or kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"a grid convolution's kernel must be an odd positive int, got {kernel!r}")
        if padding not in PADDING_MODES:
            raise ValueError(f"padding must be one of {', '.join(PADDING_MODES)}, got {padding!r}")
        self.dim, self.kernel, self.padding = dim, kernel, padding
        bound = 1.0 / math.sqrt(in_channels * kernel**dim)
        shape = (out_channels, in_channels, *([kernel] * dim))
        self.weight = nn.Parameter((2 * torch.rand(shape, generator=generator, dtype=dtype) - 1) * bound)
        self.bias = (nn.Parameter((2 * torch.rand(out_channels, generator=generator, dtype=dtype) - 1) * bound)
                     if bias else None)

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` padded by ``kernel // 2`` on both sides of every grid axis in this convolution's mode."""
        p = self.kernel // 2
        if p == 0:
            return x
        if self.padding == "zeros":
            return F.pad(x, [p] * (2 * self.dim))
        return F.pad(x, [p] * (2 * self.dim), mode=self.padding)

    def forward(self, x: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """The convolution of ``x`` with this layer's weight (or ``weight``, e.g. a constrained stencil)."""
        return _CONV[self.dim](self.pad(x), self.weight if weight is None else weight, self.bias)


def max_pool(x: torch.Tensor, *, dim: int) -> torch.Tensor:
    """Halve every grid axis of ``(B, C, *grid)`` by the maximum over each ``2^dim`` block."""
    _check_dim(dim)
    return _POOL[dim](x, 2)


def batch_norm(channels: int, *, dim: int, dtype: torch.dtype) -> nn.Module:
    """Batch normalisation over ``(B, C, *grid)`` (weights 1, biases 0: nothing is drawn)."""
    _check_dim(dim)
    return _NORM[dim](channels, dtype=dtype)
