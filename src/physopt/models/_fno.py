"""Fourier Neural Operator (Li et al. 2021, "Fourier Neural Operator for Parametric Partial Differential
Equations", section 4 and figure 2).

    v_0 = P(a, x)                           lifting: pointwise map of the input channels and the grid
                                            coordinates x to ``width`` channels (affine, or an MLP)
    v_{l+1} = σ(K_l v_l + W_l v_l + b_l)    L Fourier layers: spectral convolution K_l (``_spectral.py``)
                                            plus a pointwise affine skip, σ = GELU (none after the last)
    u = Q(v_L)                              projection: pointwise ``width → projection → C_out`` with GELU

``mlp > 0`` uses the block of the MG-TFNO paper (Kossaifi et al. 2023, section 3.3; neuraloperator's
default) instead: ``z = σ(K_l v_l + W_l v_l + b_l)``, ``v_{l+1} = σ(M_l z + g_l ⊙ v_l)`` with a pointwise
two-layer MLP ``M_l`` of ``mlp · width`` hidden channels and a per-channel gate ``g_l`` (initially 1).

Non-periodic data can be zero-padded on the far side of each axis after the lifting (the paper pads
Darcy): the Fourier layers then see a domain the spectrum need not wrap around; the padding is cut off
before the projection. Every learnable map acts per frequency or per point, so the network takes any
grid: ``modes`` limits what it resolves, not where it is evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ._operator_spec import OperatorShape, grid_points
from ._spectral import SpectralConv, mode_shape

__all__ = ["FNO", "FNOConfig", "Pointwise", "build_fno", "fno_arguments", "fno_parameter_count", "normalise_modes"]


@dataclass(frozen=True)
class FNOConfig:
    """``[model] kind = "fno"``.

    Attributes:
        modes: kept frequencies per axis in the paper's convention (``0..m-1`` and ``-m..-1`` on all axes but
            the last, ``0..m-1`` on the last): one int for every axis or one per axis. neuraloperator's
            ``n_modes=(2m, m')`` with ``m' // 2 + 1 = m_d`` keeps the same set.
        width: channels of the Fourier layers.
        layers: number of Fourier layers.
        projection: hidden channels of the projection.
        lifting: hidden channels of a two-layer lifting MLP (0: one affine map, the paper's).
        mlp: hidden channels of the channel MLP in each Fourier layer, as a multiple of ``width`` (0: none).
        padding: zero padding after the lifting, as a fraction of each axis (0: none; ~0.1-0.25 for
            non-periodic data).
        fast: evaluate the spectral convolutions by the packed real path (else the reference einsum).
    """

    kind: str = "fno"
    modes: int | Sequence[int] = 12
    width: int = 32
    layers: int = 4
    projection: int = 128
    lifting: int = 0
    mlp: float = 0.0
    padding: float = 0.0
    fast: bool = True


def normalise_modes(modes: int | Sequence[int], dim: int) -> tuple[int, ...]:
    """``modes`` as one positive int per axis (``ValueError`` naming what was given)."""
    values = (modes,) * dim if isinstance(modes, int) and not isinstance(modes, bool) else tuple(modes)
    if len(values) != dim or any(not isinstance(m, int) or isinstance(m, bool) or m < 1 for m in values):
        raise ValueError(f"model.modes must be a positive int or {dim} positive ints (one per axis), got {modes!r}")
    return values


class Pointwise(nn.Module):
    """``(B, C_in, N) → (B, C_out, N)``: the same affine map at every grid point (a 1×1 convolution), with
    torch's default ``nn.Linear`` initialisation drawn from ``generator``."""

    def __init__(self, in_channels: int, out_channels: int, *, generator: torch.Generator, dtype: torch.dtype,
                 bias: bool = True) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(in_channels)
        self.weight = nn.Parameter((2 * torch.rand(out_channels, in_channels, generator=generator, dtype=dtype)
                                    - 1) * bound)
        self.bias = (nn.Parameter((2 * torch.rand(out_channels, 1, generator=generator, dtype=dtype) - 1) * bound)
                     if bias else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias is None:
            return torch.matmul(self.weight, x)
        return torch.baddbmm(self.bias, self.weight.expand(x.shape[0], -1, -1), x)


def _mlp(sizes: Sequence[int], **kw) -> nn.Module:
    """Pointwise layers of ``sizes`` with GELU between them."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers += [nn.GELU()] if i else []
        layers.append(Pointwise(a, b, **kw))
    return nn.Sequential(*layers)


class Gate(nn.Module):
    """``x ↦ g ⊙ x`` per channel, ``g`` initially 1 (neuraloperator's soft gating)."""

    def __init__(self, channels: int, *, dtype: torch.dtype) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels, 1, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * x


def _padding(grid: tuple[int, ...], fraction: float) -> tuple[int, ...]:
    return tuple(round(fraction * n) for n in grid)


class FNO(nn.Module):
    """The Fourier Neural Operator: ``a (B, C_in, *grid) → u (B, C_out, *grid)`` for any ``grid``.

    Args:
        in_channels / out_channels: channels of the input and output functions.
        modes: kept frequencies per axis (see :class:`FNOConfig`); ``len(modes)`` is the dimension.
        width / layers / projection / lifting / mlp / padding: see :class:`FNOConfig`.
        periodic: the data's grid convention for the coordinate channels (:func:`grid_points`).
        positional: append the grid coordinates to the input (else the input carries its own).
        spectral_weight: ``(C_in, C_out, modes, *, generator, dtype) -> nn.Module`` returning the dense spectral weight
            of a layer (a factorisation); ``None`` for dense weights.
        generator / dtype: initial weights.
        fast: the packed real spectral path (else the reference).
    """

    def __init__(self, *, in_channels: int, out_channels: int, modes: tuple[int, ...], width: int, layers: int,
                 projection: int, padding: float, periodic: bool, generator: torch.Generator, dtype: torch.dtype,
                 lifting: int = 0, mlp: float = 0.0, positional: bool = True,
                 spectral_weight: Callable[..., nn.Module] | None = None, fast: bool = True) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels), ("width", width),
                        ("layers", layers), ("projection", projection)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"FNO {name} must be a positive int, got {v!r}")
        if isinstance(lifting, bool) or not isinstance(lifting, int) or lifting < 0:
            raise ValueError(f"model.lifting must be an int >= 0 (hidden channels; 0: affine), got {lifting!r}")
        if isinstance(mlp, bool) or not isinstance(mlp, int | float) or mlp < 0 or (mlp and round(mlp * width) < 1):
            raise ValueError(f"model.mlp must be 0 or a positive multiple of width, got {mlp!r}")
        if not isinstance(padding, int | float) or not 0.0 <= padding <= 1.0:
            raise ValueError(f"model.padding must be a fraction in [0, 1], got {padding!r}")
        self.dim, self.periodic, self.positional, self.padding = len(modes), periodic, positional, float(padding)
        kw = {"generator": generator, "dtype": dtype}
        c_in = in_channels + (self.dim if positional else 0)
        self.lift = _mlp([c_in, lifting, width] if lifting else [c_in, width], **kw)
        self.spectral = nn.ModuleList(
            SpectralConv(width, width, modes, fast=fast, weight=None if spectral_weight is None
                         else spectral_weight(width, width, modes, **kw), **kw) for _ in range(layers))
        self.skip = nn.ModuleList(Pointwise(width, width, **kw) for _ in range(layers))
        hidden = round(mlp * width)
        self.mlp = nn.ModuleList(_mlp([width, hidden, width], **kw) for _ in range(layers)) if mlp else None
        self.gate = nn.ModuleList(Gate(width, dtype=dtype) for _ in range(layers)) if mlp else None
        self.project = _mlp([width, projection, out_channels], **kw)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if a.dim() != self.dim + 2:
            raise ValueError(f"FNO over {self.dim}-D grids takes (B, C, *grid) with {self.dim} grid axes, "
                             f"got shape {tuple(a.shape)}")
        b, _, *grid = a.shape
        grid = tuple(grid)
        h = a.flatten(2)
        if self.positional:
            coords = grid_points(grid, periodic=self.periodic, device=a.device, dtype=a.dtype)
            h = torch.cat([h, coords.T.expand(b, -1, -1)], dim=1)
        h = self.lift(h)
        pad = _padding(grid, self.padding)
        inner = grid
        if any(pad):
            h = F.pad(h.view(b, -1, *grid), [p for q in reversed(pad) for p in (0, q)])
            inner = tuple(h.shape[2:])
            h = h.flatten(2)
        last = len(self.spectral) - 1
        for i, (conv, skip) in enumerate(zip(self.spectral, self.skip, strict=True)):
            z = conv(h.view(b, -1, *inner)).flatten(2) + skip(h)
            if self.mlp is not None:
                z = self.mlp[i](F.gelu(z)) + self.gate[i](h)
            h = F.gelu(z) if i < last else z
        if any(pad):
            h = h.view(b, -1, *inner)[(slice(None), slice(None), *(slice(0, n) for n in grid))].flatten(2)
        return self.project(h).view(b, -1, *grid)


def fno_parameter_count(*, in_channels: int, out_channels: int, modes: tuple[int, ...], width: int, layers: int,
                        projection: int, lifting: int = 0, mlp: float = 0.0, positional: bool = True) -> int:
    """Real parameters of a dense :class:`FNO` (``c = C_in + d``, ``h = mlp · w``): lifting ``(c + 1) w`` or
    ``(c + 1) l + (l + 1) w``; per layer ``2 w² Π(mode shape)`` (complex weights count twice) ``+ w² + w``,
    plus ``(w + 1) h + (h + 1) w + w`` with a channel MLP; projection ``(w + 1) p + (p + 1) C_out``."""
    c = in_channels + (len(modes) if positional else 0)
    lift = (c + 1) * lifting + (lifting + 1) * width if lifting else (c + 1) * width
    hidden = round(mlp * width)
    layer = 2 * width * width * math.prod(mode_shape(modes)) + width * width + width
    layer += (width + 1) * hidden + (hidden + 1) * width + width if mlp else 0
    return lift + layers * layer + (width + 1) * projection + (projection + 1) * out_channels


def fno_arguments(options: FNOConfig, shape: OperatorShape) -> dict:
    """The :class:`FNO` keyword arguments of ``options`` (and of its TFNO/MG-TFNO extensions) for ``shape``."""
    return {"in_channels": shape.in_channels, "out_channels": shape.out_channels,
            "modes": normalise_modes(options.modes, shape.dim), "width": options.width, "layers": options.layers,
            "projection": options.projection, "lifting": options.lifting, "mlp": options.mlp,
            "padding": options.padding, "periodic": shape.periodic, "fast": options.fast}


def build_fno(options: FNOConfig, *, shape: OperatorShape, generator: torch.Generator, dtype: torch.dtype) -> FNO:
    """The :class:`FNO` of ``options`` for data of ``shape``."""
    return FNO(**fno_arguments(options, shape), generator=generator, dtype=dtype)
