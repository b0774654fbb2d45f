"""Channel-wise normalisation around an operator, so training sees unit-scale data and users see physical units."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Normalized"]


class Normalized(nn.Module):
    """``model(a, *rest) = inner((a − μ_in) / σ_in, *rest) · σ_out + μ_out`` per channel.

    The statistics are per channel over samples and grid points (not per grid point as in the
    FNO paper's ``UnitGaussianNormalizer``): per-point statistics are tied to one resolution,
    per-channel ones carry over to any grid, which zero-shot evaluation needs. They are buffers,
    so a checkpoint holds them and :func:`physopt.load` predicts in physical units. ``rest``
    passes query points through to DeepONet-like models (outputs ``(B, C_out, Q)``).
    """

    def __init__(self, inner: nn.Module, *, in_mean: torch.Tensor, in_std: torch.Tensor, out_mean: torch.Tensor,
                 out_std: torch.Tensor) -> None:
        super().__init__()
        for name, t in (("in_std", in_std), ("out_std", out_std)):
            if not bool((t > 0).all()):
                raise ValueError(f"{name} must be positive per channel, got {t.tolist()} (a constant channel? "
                                 "set data.normalize = false or drop the channel)")
        self.inner = inner
        self.register_buffer("in_mean", in_mean.detach().clone())
        self.register_buffer("in_std", in_std.detach().clone())
        self.register_buffer("out_mean", out_mean.detach().clone())
        self.register_buffer("out_std", out_std.detach().clone())

    @staticmethod
    def _shape(stat: torch.Tensor, ndim: int) -> torch.Tensor:
        return stat.view(1, -1, *([1] * (ndim - 2)))

    def forward(self, a: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        z = (a - self._shape(self.in_mean, a.ndim)) / self._shape(self.in_std, a.ndim)
        y = self.inner(z, *rest)
        return y * self._shape(self.out_std, y.ndim) + self._shape(self.out_mean, y.ndim)

    @staticmethod
    def scale(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
        """``(x − μ) / σ`` per channel of ``x`` ``(N, C, *grid)``: what the inner model sees."""
        return (x - Normalized._shape(mean, x.ndim)) / Normalized._shape(std, x.ndim)

    @staticmethod
    def channel_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation per channel of ``x`` ``(N, C, *grid)`` (σ of a constant channel is 1)."""
        flat = x.transpose(0, 1).reshape(x.shape[1], -1)
        mean, std = flat.mean(1), flat.std(1)
        return mean, torch.where(std > 0, std, torch.ones_like(std))
