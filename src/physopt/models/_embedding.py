"""Exact periodicity through the inputs: a Fourier embedding of the periodic coordinates."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["PeriodicEmbedding", "periodic_features"]


def periodic_features(
    x: torch.Tensor, *, axes: Sequence[int], periods: Sequence[float], harmonics: int = 1
) -> torch.Tensor:
    """Replace each coordinate ``x_a`` (``a`` in ``axes``, period ``P_a``) by
    ``cos(k ω_a x_a), sin(k ω_a x_a)`` for ``k = 1..harmonics``, ``ω_a = 2π / P_a``.

    The other coordinates pass through unchanged and keep their order; the features of each periodic
    axis follow them in the order of ``axes`` (cosines of all ``k`` first, then sines). Any function
    of the result is ``P_a``-periodic in ``x_a`` with all its derivatives, so periodic boundary
    conditions hold to round-off (Dong & Ni 2021, "A method for representing periodic functions and
    enforcing exactly periodic boundary conditions with deep neural networks", J. Comput. Phys. 435).
    """
    rest = [i for i in range(x.shape[1]) if i not in set(axes)]
    k = torch.arange(1, harmonics + 1, dtype=x.dtype, device=x.device)
    parts = [x[:, rest]]
    for a, p in zip(axes, periods, strict=True):
        phase = x[:, a : a + 1] * (k * (2 * math.pi / p))  # (n, harmonics)
        parts += [torch.cos(phase), torch.sin(phase)]
    return torch.cat(parts, dim=1)


class PeriodicEmbedding(nn.Module):
    """``net(periodic_features(x))``: a network exactly periodic along ``axes``.

    ``net`` must take :meth:`features` inputs (``in_dim - len(axes) + 2 · harmonics · len(axes)``);
    :meth:`feature_bounds` gives the box those features live in, for the input scaling of
    :class:`physopt.models.MLP`. Wrapped in a hard-constraint ansatz ``lift + distance · N`` the
    result stays periodic when ``lift`` and ``distance`` are (``u0 + t · N`` with a periodic ``u0``).

    Args:
        net: the network applied to the features.
        in_dim: number of raw input coordinates.
        axes: indices of the periodic coordinates.
        periods: their periods (``hi - lo`` of the domain along each axis).
        harmonics: ``K``, the number of frequencies per axis. One is enough in principle (the map
            to the circle is one-to-one); more give the first layer higher frequencies directly.
    """

    def __init__(
        self, net: nn.Module, *, in_dim: int, axes: Sequence[int], periods: Sequence[float], harmonics: int = 1
    ) -> None:
        super().__init__()
        axes, periods = tuple(int(a) for a in axes), tuple(float(p) for p in periods)
        if not axes or len(axes) != len(periods):
            raise ValueError(f"PeriodicEmbedding needs one period per axis, got axes={axes}, periods={periods}")
        if len(set(axes)) != len(axes) or not all(0 <= a < in_dim for a in axes):
            raise ValueError(f"PeriodicEmbedding axes must be distinct indices in [0, {in_dim}), got {axes}")
        if not all(math.isfinite(p) and p > 0 for p in periods):
            raise ValueError(f"PeriodicEmbedding periods must be finite and > 0, got {periods}")
        if not isinstance(harmonics, int) or harmonics < 1:
            raise ValueError(f"PeriodicEmbedding harmonics must be a positive int, got {harmonics!r}")
        self.net = net
        self.in_dim, self.axes, self.periods, self.harmonics = in_dim, axes, periods, harmonics

    @staticmethod
    def features(*, in_dim: int, axes: Sequence[int], harmonics: int = 1) -> int:
        """Number of features the wrapped network receives."""
        return in_dim - len(axes) + 2 * harmonics * len(axes)

    @staticmethod
    def feature_bounds(
        bounds: tuple[Sequence[float], Sequence[float]], *, axes: Sequence[int], harmonics: int = 1
    ) -> tuple[list[float], list[float]]:
        """The box of the features: the other coordinates keep ``bounds``, cos/sin lie in [-1, 1]."""
        rest = [i for i in range(len(bounds[0])) if i not in set(axes)]
        n = 2 * harmonics * len(axes)
        return [float(bounds[0][i]) for i in rest] + [-1.0] * n, [float(bounds[1][i]) for i in rest] + [1.0] * n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_dim:
            raise ValueError(f"PeriodicEmbedding expects inputs of shape (n, {self.in_dim}), got {tuple(x.shape)}")
        return self.net(periodic_features(x, axes=self.axes, periods=self.periods, harmonics=self.harmonics))
