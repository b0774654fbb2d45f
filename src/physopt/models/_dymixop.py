"""DyMixOp ("DyMixOp: Guiding Neural Operator Design for PDEs from a Complex Dynamics Perspective with
Local-Global-Mixing", 2025; the authors' code: Lain-PY/DyMixOp, ``Models/DyMixOp.py``).

The input is lifted and reduced to a latent state ``c`` of ``width`` channels (the inertial-manifold
coordinates), evolved by the dynamics-informed architecture, and mapped back::

    c = R(L(a, x)),   c ← DyIA(c),   u = L⁻(R⁻(c))             L, R, R⁻, L⁻: ``kernel``-wide convolutions

Local-Global-Mixing, the paper's model of a convective term ``u·∇u``: the Hadamard product of
a global transformation (FNO's spectral convolution ``G``) and a local one (a convolution ``Λ``)::

    LGM(c) = G(c) ⊙ Λ(c)

One LGM layer approximates ``dc/dt = linear + nonlinear``::

    F(c) = Λ_1(c) + D(c) + A(LGM(c)),   A: ``width → 2 width → width`` convolutions

with ``D`` a difference stencil (a ``stencil``-wide convolution whose weights sum to zero, so ``D``
annihilates constants like a derivative). The dynamics-informed architecture (DyIA) chains
``layers`` of them sequentially and sums them in parallel::

    F_i = GELU(F_i(c_i)),   c_{i+1} = c_i + σ(λ) F_i  (i < layers - 1),   DyIA(c_0) = c_0 + Σ_i e_i F_i + e_0

with a learned step ``σ(λ)`` (``λ`` starts at ``width``, as in the authors' code) and learned weights
``e_i``. Like the authors' code there is no activation inside ``L``/``R`` and ``A``.

Decisions (ours). Periodic data pad the stencils circularly (the authors' choice for all data);
non-periodic data replicate the edge value, so ``D`` sees no jump at the boundary. ``D`` is divided by
the grid spacing relative to the training grid, so with ``kernel = 1`` (the authors' default: every
other map is pointwise or spectral) the network means the same at any resolution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ._fno import normalise_modes
from ._gridconv import GridConv
from ._operator_spec import OperatorShape, grid_points
from ._spectral import SpectralConv

__all__ = ["DifferenceStencil", "DyMixOp", "DyMixOpConfig", "LGMLayer", "LocalGlobalMixing", "build_dymixop"]


@dataclass(frozen=True)
class DyMixOpConfig:
    """``[model] kind = "dymixop"``.

    Attributes:
        modes: kept frequencies of the global transformation (as FNO's ``modes``).
        width: latent channels ``c`` (the lifting has ``2 width``).
        layers: LGM layers of the dynamics-informed architecture.
        kernel: stencil width of the local transformations and the lifting/reduction (odd; 1: pointwise).
        stencil: width of the difference stencil ``D`` (odd, at least 3).
        fast: the packed real spectral path (else the reference).
    """

    kind: str = "dymixop"
    modes: int | Sequence[int] = 12
    width: int = 32
    layers: int = 4
    kernel: int = 1
    stencil: int = 3
    fast: bool = True


class DifferenceStencil(nn.Module):
    """``D(c) = (h_ref / h) · (w̃ * c)`` with ``w̃ = w - (Σ w) δ_centre``: a learned stencil summing to zero.

    ``h_ref / h`` is the ratio of grid points to the training grid's (per axis equal for square grids; the
    first axis is used), so a smooth input gives the same derivative-like output at any resolution."""

    def __init__(self, channels: int, *, stencil: int, dim: int, padding: str, reference: int,
                 generator: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        if isinstance(stencil, bool) or not isinstance(stencil, int) or stencil < 3 or stencil % 2 == 0:
            raise ValueError(f"model.stencil must be an odd int >= 3, got {stencil!r}")
        self.conv = GridConv(channels, channels, stencil, dim=dim, padding=padding, generator=generator,
                             dtype=dtype, bias=False)
        self.reference = reference

    def stencil(self) -> torch.Tensor:
        """The zero-sum weight ``(C, C, s, .., s)``."""
        w = self.conv.weight
        dim = w.dim() - 2
        centre = torch.zeros_like(w)
        centre[(slice(None), slice(None), *([w.shape[-1] // 2] * dim))] = 1.0
        return w - w.sum(dim=tuple(range(2, w.dim())), keepdim=True) * centre

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        return self.conv(c, self.stencil()) * (c.shape[2] / self.reference)


class LocalGlobalMixing(nn.Module):
    """``LGM(c) = G(c) ⊙ Λ(c)``: spectral convolution times a local convolution, channel by channel."""

    def __init__(self, channels: int, *, modes: tuple[int, ...], kernel: int, padding: str, fast: bool,
                 generator: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        kw = {"generator": generator, "dtype": dtype}
        self.glob = SpectralConv(channels, channels, modes, fast=fast, **kw)
        self.local = GridConv(channels, channels, kernel, dim=len(modes), padding=padding, **kw)

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        return self.glob(c) * self.local(c)


class LGMLayer(nn.Module):
    """``F(c) = Λ_1(c) + D(c) + A(LGM(c))`` (linear and nonlinear dynamics of the latent state)."""

    def __init__(self, channels: int, *, modes: tuple[int, ...], kernel: int, stencil: int, padding: str,
                 reference: int, fast: bool, generator: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        kw = {"generator": generator, "dtype": dtype}
        dim = len(modes)
        self.mixing = LocalGlobalMixing(channels, modes=modes, kernel=kernel, padding=padding, fast=fast, **kw)
        self.linear = GridConv(channels, channels, kernel, dim=dim, padding=padding, **kw)
        self.difference = DifferenceStencil(channels, stencil=stencil, dim=dim, padding=padding, reference=reference,
                                            **kw)
        self.a = nn.Sequential(GridConv(channels, 2 * channels, 1, dim=dim, padding=padding, **kw),
                               GridConv(2 * channels, channels, 1, dim=dim, padding=padding, **kw))

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        return self.linear(c) + self.difference(c) + self.a(self.mixing(c))


class DyMixOp(nn.Module):
    """``a (B, C_in, *grid) → u (B, C_out, *grid)`` (see the module docstring)."""

    def __init__(self, *, in_channels: int, out_channels: int, modes: tuple[int, ...], width: int, layers: int,
                 kernel: int, stencil: int, periodic: bool, reference: int, generator: torch.Generator,
                 dtype: torch.dtype, fast: bool = True) -> None:
        super().__init__()
        for name, v in (("width", width), ("layers", layers)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"DyMixOp {name} must be a positive int, got {v!r}")
        self.dim, self.periodic = len(modes), periodic
        kw = {"generator": generator, "dtype": dtype}
        padding = "circular" if periodic else "replicate"
        conv = {"dim": self.dim, "padding": padding, **kw}
        self.lift = GridConv(in_channels + self.dim, 2 * width, kernel, **conv)
        self.reduce = GridConv(2 * width, width, kernel, **conv)
        self.layers = nn.ModuleList(LGMLayer(width, modes=modes, kernel=kernel, stencil=stencil, padding=padding,
                                             reference=reference, fast=fast, **kw) for _ in range(layers))
        self.step = nn.Parameter(torch.tensor(float(width), dtype=dtype))  # λ: σ(λ) ≈ 1 at the start
        bound = 1.0 / layers**0.5  # a 1×1 convolution over the layer axis, torch's default scale
        self.evolution = nn.Parameter((2 * torch.rand(layers, generator=generator, dtype=dtype) - 1) * bound)
        self.evolution_bias = nn.Parameter((2 * torch.rand((), generator=generator, dtype=dtype) - 1) * bound)
        self.unreduce = GridConv(width, 2 * width, kernel, **conv)
        self.unlift = GridConv(2 * width, out_channels, kernel, **conv)

    def dyia(self, c: torch.Tensor) -> torch.Tensor:
        """The dynamics-informed architecture: sequential steps, parallel weighted sum of every layer's output."""
        c0, total = c, self.evolution_bias
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            f = F.gelu(layer(c))
            if i < last:
                c = c + torch.sigmoid(self.step) * f
            total = total + self.evolution[i] * f
        return c0 + total

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if a.dim() != self.dim + 2:
            raise ValueError(f"DyMixOp over {self.dim}-D grids takes (B, C, *grid) with {self.dim} grid axes, "
                             f"got shape {tuple(a.shape)}")
        b, _, *grid = a.shape
        coords = grid_points(tuple(grid), periodic=self.periodic, device=a.device, dtype=a.dtype)
        x = torch.cat([a, coords.T.reshape(1, self.dim, *grid).expand(b, -1, *grid)], dim=1)
        c = self.dyia(self.reduce(self.lift(x)))
        return self.unlift(self.unreduce(c))


def build_dymixop(options: DyMixOpConfig, *, shape: OperatorShape, generator: torch.Generator,
                  dtype: torch.dtype) -> DyMixOp:
    """The :class:`DyMixOp` of ``options`` for data of ``shape`` (the training grid sets ``D``'s reference spacing)."""
    return DyMixOp(in_channels=shape.in_channels, out_channels=shape.out_channels,
                   modes=normalise_modes(options.modes, shape.dim), width=options.width, layers=options.layers,
                   kernel=options.kernel, stencil=options.stencil, periodic=shape.periodic, reference=shape.grid[0],
                   generator=generator, dtype=dtype, fast=options.fast)
