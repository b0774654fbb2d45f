"""The Spectral-Refiner's operator: an FNO ending in an untruncated linear spectral layer (Cao, Brarda, Li & Xi,
"Spectral-Refiner: Accurate Fine-Tuning of Spatiotemporal Fourier Neural Operator for Turbulent Flows",
ICLR 2025, arXiv 2405.17211).

    v = FNO(a)                      a trajectory of ``C_out`` snapshots (snapshots as channels)
    u = v + S(v),   S(v) = F⁻¹(W · F(v))   W: one ``C_out × C_out`` complex matrix at EVERY frequency of the grid

``S`` mixes the snapshots per frequency, like the paper's final spatiotemporal spectral convolution, and
keeps all frequencies of the training grid (no mode truncation: it can correct the high-frequency error
the truncated layers cannot). ``W`` starts at zero, so before refinement the model is its FNO. The paper
trains end to end for a few epochs, then freezes everything but the last layer and fine-tunes it with a
physics loss (:func:`physopt.training.refine_last_layer` with
:class:`physopt.training.VorticityResidual`); :meth:`SpectralRefiner.last_layer` names those weights.

Decisions (ours). The time axis stays the channel axis (our Navier–Stokes family's snapshots) instead of
the paper's FFT in time; ``S`` is added to the FNO's output (a residual correction) rather than replacing
its projection.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ._fno import FNO, FNOConfig, fno_arguments
from ._operator_spec import OperatorShape
from ._spectral import SpectralConv

__all__ = ["RefinerConfig", "SpectralRefiner", "build_refiner", "full_modes"]


@dataclass(frozen=True)
class RefinerConfig(FNOConfig):
    """``[model] kind = "spectral-refiner"``: the FNO options (see :class:`FNOConfig`); the last layer has none."""

    kind: str = "spectral-refiner"


def full_modes(grid: tuple[int, ...]) -> tuple[int, ...]:
    """The modes that keep every frequency of an even grid: ``n/2`` on the first axes, ``n/2 + 1`` on the last."""
    return tuple(max(n // 2, 1) for n in grid[:-1]) + (grid[-1] // 2 + 1,)


class SpectralRefiner(nn.Module):
    """``u = v + S(v)``, ``v = base(a)``, with ``S`` the untruncated spectral layer of ``grid`` (initially zero)."""

    def __init__(self, base: nn.Module, *, channels: int, grid: tuple[int, ...], generator: torch.Generator,
                 dtype: torch.dtype, fast: bool = True) -> None:
        super().__init__()
        self.base = base
        self.last = SpectralConv(channels, channels, full_modes(grid), generator=generator, dtype=dtype, fast=fast)
        with torch.no_grad():
            self.last.weight.zero_()  # S = 0: before refinement the model is its base

    def last_layer(self) -> list[nn.Parameter]:
        """The parameters the refinement fine-tunes (``W``)."""
        return list(self.last.parameters())

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        v = self.base(a)
        return v + self.last(v)


def build_refiner(options: RefinerConfig, *, shape: OperatorShape, generator: torch.Generator,
                  dtype: torch.dtype) -> SpectralRefiner:
    """An :class:`FNO` of ``options`` followed by the untruncated last layer of the training grid."""
    base = FNO(**fno_arguments(options, shape), generator=generator, dtype=dtype)
    return SpectralRefiner(base, channels=shape.out_channels, grid=shape.grid, generator=generator, dtype=dtype,
                           fast=options.fast)
