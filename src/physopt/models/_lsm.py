"""Latent Spectral Models (Wu, Hu, Luo, Wang & Long, "Solving High-Dimensional PDEs with Latent Spectral
Models", ICML 2023, arXiv 2301.12664; the authors' code: thuml/Latent-Spectral-Models).

    v_0 = P(a, x)                                 pointwise lifting of the input channels and coordinates
    v_l = Down_l(v_{l-1}),  l = 1..L              hierarchical projection: a U-Net encoder (max-pool, two
                                                  3^d convolutions with batch norm and ReLU)
    z_l = NSB_l(v_l)                              a neural spectral block at every scale
    h_L = z_L, h_l = Up_l(h_{l+1}, z_l)           U-Net decoder (interpolate ×2, concatenate, two convolutions)
    u = Q(h_0)                                    pointwise projection

The neural spectral block on each patch of ``p^d`` points with features ``x_i ∈ R^C``:

    encoder   T = softmax(T_0 K(x)ᵀ) V(x) + T_0          T_0: ``tokens`` learned latent tokens, per head
    spectral  T ← T + Σ_{k<B} w_{c,k}^s sin(k π T_c / B) + w_{c,k}^c cos(k π T_c / B)   per channel c
    decoder   x ← softmax(Q(x) Tᵀ) T + x

so the PDE is solved in a latent space of ``tokens`` vectors per patch whose cost is linear in the
number of points (attention from a fixed number of tokens), and the latent operator is a learned
combination of ``2B`` basis operators (sines and cosines of the token values, the "spectral" part).
As in the authors' code the attention scores are not scaled by ``1/√(C/H)`` and the basis frequencies
are ``kπ/B``.

Decisions (ours). ``levels`` downsamplings (the paper's U-Net has 4; small grids need fewer);
each grid axis is zero-padded on its far side to the smallest multiple of ``2^levels · patch`` holding
``(1 + padding) n`` points, so every scale splits into whole patches of ``patch^d`` points; the padding
is cut off before the projection. The convolutions act in grid units, so LSM predicts on its training
grid (not zero-shot at other resolutions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ._fno import Pointwise
from ._gridconv import GridConv, batch_norm, max_pool
from ._operator_spec import OperatorShape, grid_points

__all__ = ["LSM", "LSMConfig", "NeuralSpectralBlock", "build_lsm", "patchify", "unpatchify"]

_INTERPOLATION = {1: "linear", 2: "bilinear", 3: "trilinear"}


@dataclass(frozen=True)
class LSMConfig:
    """``[model] kind = "lsm"``.

    Attributes:
        width: channels at the finest scale (doubled at each coarser one, as in the U-Net).
        levels: downsamplings of the hierarchical projection.
        tokens: latent tokens per patch.
        basis: sine/cosine pairs of the latent spectral operator.
        heads: attention heads (must divide ``width``).
        patch: points per axis of a patch.
        projection: hidden channels of the output projection.
        padding: extra zero padding as a fraction of each axis (beyond what patching needs).
    """

    kind: str = "lsm"
    width: int = 16
    levels: int = 3
    tokens: int = 4
    basis: int = 12
    heads: int = 4
    patch: int = 2
    projection: int = 64
    padding: float = 0.0


def patchify(x: torch.Tensor, patch: int) -> torch.Tensor:
    """``(B, C, *grid) → (B · Π(n/p), C, p^d)``: the non-overlapping patches of ``patch`` points per axis."""
    b, c, *grid = x.shape
    d = len(grid)
    split = [v for n in grid for v in (n // patch, patch)]
    x = x.reshape(b, c, *split)
    order = [0, *range(2, 2 + 2 * d, 2), 1, *range(3, 3 + 2 * d, 2)]  # B, blocks..., C, within...
    return x.permute(order).reshape(-1, c, patch**d)


def unpatchify(x: torch.Tensor, patch: int, batch: int, grid: tuple[int, ...]) -> torch.Tensor:
    """The inverse of :func:`patchify`: ``(B · Π(n/p), C, p^d) → (B, C, *grid)``."""
    d, c = len(grid), x.shape[1]
    x = x.reshape(batch, *(n // patch for n in grid), c, *([patch] * d))
    order = [0, d + 1]
    for a in range(d):
        order += [1 + a, d + 2 + a]
    return x.permute(order).reshape(batch, c, *grid)


class NeuralSpectralBlock(nn.Module):
    """``(B, C, *grid) → (B, C, *grid)``: attention to latent tokens per patch, a latent spectral operator, back.

    See the module docstring for the three steps; ``grid`` axes must be multiples of ``patch``.
    """

    def __init__(self, channels: int, *, basis: int, tokens: int, heads: int, patch: int, dim: int,
                 generator: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"LSM heads ({heads}) must divide the channels of every scale, got {channels}")
        self.channels, self.heads, self.patch, self.basis = channels, heads, patch, basis
        kw = {"generator": generator, "dtype": dtype}
        scale = 1.0 / channels  # the authors' initial scale of the latent tokens and spectral weights
        self.latent = nn.Parameter(scale * torch.rand(heads, tokens, channels // heads, **kw))
        self.weights = nn.Parameter(scale * torch.rand(channels, 2 * basis, **kw))
        self.encode = Pointwise(channels, 2 * channels, **kw)  # keys and values
        self.decode = Pointwise(channels, channels, **kw)  # queries
        self.register_buffer("frequencies", math.pi * torch.arange(basis, dtype=dtype) / basis, persistent=False)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, L) → (B, H, L, C/H)
        b, c, n = x.shape
        return x.view(b, self.heads, c // self.heads, n).transpose(2, 3)

    def spectral(self, t: torch.Tensor) -> torch.Tensor:
        """``t + Σ_k w^s_{c,k} sin(ω_k t) + w^c_{c,k} cos(ω_k t)`` per channel ``c`` of ``t`` ``(B, C, T)``."""
        angle = t[..., None] * self.frequencies
        return t + torch.einsum("bctk,ck->bct", torch.cat([torch.sin(angle), torch.cos(angle)], dim=-1), self.weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, *grid = x.shape
        p = patchify(x, self.patch)  # (P, C, L)
        k, v = self.encode(p).chunk(2, dim=1)
        q0 = self.latent.expand(p.shape[0], -1, -1, -1)  # (P, H, T, C/H)
        attn = torch.softmax(q0 @ self._heads(k).transpose(2, 3), dim=-1)  # (P, H, T, L): tokens attend to points
        t = attn @ self._heads(v) + q0
        t = self.spectral(t.transpose(2, 3).reshape(p.shape[0], c, -1))  # (P, C, T)
        th = self._heads(t)  # (P, H, T, C/H)
        attn = torch.softmax(self._heads(self.decode(p)) @ th.transpose(2, 3), dim=-1)  # (P, H, L, T)
        y = (attn @ th).transpose(2, 3).reshape(p.shape) + p
        return unpatchify(y, self.patch, b, tuple(grid))


class _DoubleConv(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, c_mid: int, *, dim: int, generator: torch.Generator,
                 dtype: torch.dtype) -> None:
        kw = {"dim": dim, "padding": "zeros", "generator": generator, "dtype": dtype, "bias": False}
        super().__init__(GridConv(c_in, c_mid, 3, **kw), batch_norm(c_mid, dim=dim, dtype=dtype), nn.ReLU(),
                         GridConv(c_mid, c_out, 3, **kw), batch_norm(c_out, dim=dim, dtype=dtype), nn.ReLU())


class LSM(nn.Module):
    """The Latent Spectral Model: ``a (B, C_in, *grid) → u (B, C_out, *grid)`` (see the module docstring)."""

    def __init__(self, *, in_channels: int, out_channels: int, dim: int, periodic: bool, width: int, levels: int,
                 tokens: int, basis: int, heads: int, patch: int, projection: int, padding: float,
                 generator: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        for name, v in (("width", width), ("levels", levels), ("tokens", tokens), ("basis", basis),
                        ("heads", heads), ("patch", patch), ("projection", projection)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"LSM {name} must be a positive int, got {v!r}")
        if not isinstance(padding, int | float) or not 0.0 <= padding <= 1.0:
            raise ValueError(f"model.padding must be a fraction in [0, 1], got {padding!r}")
        self.dim, self.periodic, self.levels, self.patch, self.padding = dim, periodic, levels, patch, float(padding)
        kw = {"generator": generator, "dtype": dtype}
        ch = [width * 2**min(level, levels - 1) for level in range(levels + 1)]  # the coarsest keeps its parent's
        self.lift = Pointwise(in_channels + dim, width, **kw)
        self.inc = _DoubleConv(width, width, width, dim=dim, **kw)
        self.down = nn.ModuleList(_DoubleConv(ch[i - 1], ch[i], ch[i], dim=dim, **kw) for i in range(1, levels + 1))
        self.up = nn.ModuleList(_DoubleConv(2 * ch[i], ch[max(i - 1, 0)], ch[i], dim=dim, **kw)
                                for i in range(levels - 1, -1, -1))
        self.blocks = nn.ModuleList(NeuralSpectralBlock(c, basis=basis, tokens=tokens, heads=heads, patch=patch,
                                                        dim=dim, **kw) for c in ch)
        self.out = Pointwise(width, width, **kw)
        self.project = nn.Sequential(Pointwise(width, projection, **kw), nn.GELU(),
                                     Pointwise(projection, out_channels, **kw))

    def padded(self, grid: tuple[int, ...]) -> tuple[int, ...]:
        """Each axis rounded up to a multiple of ``2^levels · patch`` holding ``(1 + padding) n`` points."""
        m = 2**self.levels * self.patch
        return tuple(m * math.ceil(math.ceil(n * (1 + self.padding)) / m) for n in grid)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if a.dim() != self.dim + 2:
            raise ValueError(f"LSM over {self.dim}-D grids takes (B, C, *grid) with {self.dim} grid axes, "
                             f"got shape {tuple(a.shape)}")
        b, _, *grid = a.shape
        grid = tuple(grid)
        coords = grid_points(grid, periodic=self.periodic, device=a.device, dtype=a.dtype)
        h = self.lift(torch.cat([a.flatten(2), coords.T.expand(b, -1, -1)], dim=1)).view(b, -1, *grid)
        full = self.padded(grid)
        h = F.pad(h, [p for n, m in zip(reversed(grid), reversed(full), strict=True) for p in (0, m - n)])
        skips = [self.inc(h)]
        for down in self.down:
            skips.append(down(max_pool(skips[-1], dim=self.dim)))
        z = [block(s) for block, s in zip(self.blocks, skips, strict=True)]
        h = z[-1]
        for up, skip in zip(self.up, reversed(z[:-1]), strict=True):
            h = F.interpolate(h, size=skip.shape[2:], mode=_INTERPOLATION[self.dim], align_corners=True)
            h = up(torch.cat([skip, h], dim=1))
        h = h[(slice(None), slice(None), *(slice(0, n) for n in grid))].flatten(2)
        return self.project(self.out(h)).view(b, -1, *grid)


def build_lsm(options: LSMConfig, *, shape: OperatorShape, generator: torch.Generator, dtype: torch.dtype) -> LSM:
    """The :class:`LSM` of ``options`` for data of ``shape``."""
    return LSM(in_channels=shape.in_channels, out_channels=shape.out_channels, dim=shape.dim,
               periodic=shape.periodic, width=options.width, levels=options.levels, tokens=options.tokens,
               basis=options.basis, heads=options.heads, patch=options.patch, projection=options.projection,
               padding=options.padding, generator=generator, dtype=dtype)
