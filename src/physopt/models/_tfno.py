"""Tensorised FNO: the spectral weights as a Tucker or CP factorisation (Kossaifi et al. 2023, "Multi-Grid
Tensorized Fourier Neural Operator for High-Resolution PDEs", section 3.2).

One layer's spectral weight is a complex tensor ``W`` of shape ``(C_in, C_out, 2m_1, .., m_d)`` (order
``K = d + 2``). TFNO learns it factorised:

- Tucker: ``W = G ×_1 U_1 ×_2 .. ×_K U_K``, a complex core ``G`` of shape ``(r_1, .., r_K)`` and real
  factors ``U_k (n_k × r_k)``; ``2 Π r_k + Σ n_k r_k`` real parameters. With ``r_k = n_k`` it holds any
  ``W`` (identity factors, ``G = W``), so full rank is the dense FNO.
- CP: ``W = Σ_{r<R} λ_r a^1_r ⊗ .. ⊗ a^K_r`` with complex ``λ`` and real factor columns;
  ``R (2 + Σ n_k)`` real parameters.

``rank`` is a float in ``(0, 1]`` (the fraction of the dense weight's ``2 Π n_k`` real parameters the
factorisation may use: Tucker ranks ``r_k ≈ s n_k`` with the largest common ``s`` that fits) or an int
(every Tucker rank ``min(rank, n_k)``; the CP rank). The weight is rebuilt from its factors at every
forward, so gradients reach the factors through the same spectral convolution as FNO's.

Initialisation matches the dense FNO's scale: Tucker factors have orthonormal columns and the core's
standard deviation is FNO's times ``sqrt(Π n_k / r_k)``, so the mean squared entry of ``W`` is FNO's;
CP factors are ``N(0, 1)`` and ``λ`` has FNO's variance divided by ``R``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ._fno import FNO, FNOConfig, fno_arguments
from ._operator_spec import OperatorShape
from ._spectral import mode_shape

__all__ = ["CPWeight", "TFNOConfig", "TuckerWeight", "build_tfno", "cp_rank", "tucker_ranks"]

_FACTORISATIONS = ("tucker", "cp")


@dataclass(frozen=True)
class TFNOConfig(FNOConfig):
    """``[model] kind = "tfno"``: :class:`~physopt.models.FNOConfig`'s options plus the factorisation.

    Attributes:
        factorization: ``"tucker"`` or ``"cp"``.
        rank: a fraction in ``(0, 1]`` of the dense spectral parameters, or an int rank.
    """

    kind: str = "tfno"
    factorization: str = "tucker"
    rank: float | int = 0.1


def _check_rank(rank: float | int) -> None:
    if isinstance(rank, bool) or not isinstance(rank, int | float) or not (
            (isinstance(rank, int) and rank >= 1) or (isinstance(rank, float) and 0.0 < rank <= 1.0)):
        raise ValueError(f"model.rank must be a fraction in (0, 1] or a positive int, got {rank!r}")


def tucker_count(shape: Sequence[int], ranks: Sequence[int]) -> int:
    return 2 * math.prod(ranks) + sum(n * r for n, r in zip(shape, ranks, strict=True))


def tucker_ranks(shape: Sequence[int], rank: float | int) -> tuple[int, ...]:
    """Tucker ranks of a tensor of ``shape`` for ``rank`` (see the module docstring)."""
    _check_rank(rank)
    if isinstance(rank, int):
        return tuple(min(rank, n) for n in shape)
    budget = rank * 2 * math.prod(shape)
    ranks_at = lambda s: tuple(max(1, min(n, round(s * n))) for n in shape)  # noqa: E731
    lo, hi = 0.0, 1.0  # largest common scale whose count fits the budget (the count grows with s)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if tucker_count(shape, ranks_at(mid)) <= budget else (lo, mid)
    return ranks_at(lo)


def cp_rank(shape: Sequence[int], rank: float | int) -> int:
    """CP rank of a tensor of ``shape`` for ``rank``."""
    _check_rank(rank)
    if isinstance(rank, int):
        return rank
    return max(1, math.floor(rank * 2 * math.prod(shape) / (2 + sum(shape))))


def _orthonormal(n: int, r: int, *, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    q, rr = torch.linalg.qr(torch.randn(n, r, generator=generator, dtype=torch.float64))
    return (q * torch.sign(torch.diagonal(rr))).to(dtype)  # signs fixed: a deterministic draw


class TuckerWeight(nn.Module):
    """``() → (2, *shape)``: real and imaginary parts of ``G ×_1 U_1 .. ×_K U_K``."""

    def __init__(self, shape: Sequence[int], ranks: Sequence[int], *, std: float, generator: torch.Generator,
                 dtype: torch.dtype) -> None:
        super().__init__()
        self.shape, self.ranks = tuple(shape), tuple(ranks)
        scale = std * math.sqrt(math.prod(n / r for n, r in zip(self.shape, self.ranks, strict=True)))
        self.core = nn.Parameter(scale * torch.randn(2, *self.ranks, generator=generator, dtype=dtype))
        self.factors = nn.ParameterList(_orthonormal(n, r, generator=generator, dtype=dtype)
                                        for n, r in zip(self.shape, self.ranks, strict=True))

    def forward(self) -> torch.Tensor:
        w = self.core
        for k, u in enumerate(self.factors):
            w = torch.tensordot(u, w, dims=([1], [k + 1])).movedim(0, k + 1)
        return w


class CPWeight(nn.Module):
    """``() → (2, *shape)``: real and imaginary parts of ``Σ_r λ_r a^1_r ⊗ .. ⊗ a^K_r``."""

    def __init__(self, shape: Sequence[int], rank: int, *, std: float, generator: torch.Generator,
                 dtype: torch.dtype) -> None:
        super().__init__()
        self.shape, self.rank = tuple(shape), rank
        self.weights = nn.Parameter(std / math.sqrt(rank) * torch.randn(2, rank, generator=generator, dtype=dtype))
        self.factors = nn.ParameterList(torch.randn(n, rank, generator=generator, dtype=dtype) for n in self.shape)
        letters = "abcdefghij"[:len(self.shape)]
        self._equation = "zr," + ",".join(f"{c}r" for c in letters) + f"->z{letters}"

    def forward(self) -> torch.Tensor:
        return torch.einsum(self._equation, self.weights, *self.factors)


def spectral_factorisation(factorization: str, rank: float | int):
    """The ``spectral_weight`` builder of :class:`~physopt.models.FNO` for a factorisation and rank."""
    if factorization not in _FACTORISATIONS:
        raise ValueError(f"model.factorization must be one of {', '.join(_FACTORISATIONS)}, got {factorization!r}")
    _check_rank(rank)

    def make(in_channels: int, out_channels: int, modes: tuple[int, ...], *, generator: torch.Generator,
             dtype: torch.dtype) -> nn.Module:
        shape = (in_channels, out_channels, *mode_shape(modes))
        std = math.sqrt(1.0 / (in_channels + out_channels))  # FNO's per-part scale (SpectralConv)
        if factorization == "tucker":
            return TuckerWeight(shape, tucker_ranks(shape, rank), std=std, generator=generator, dtype=dtype)
        return CPWeight(shape, cp_rank(shape, rank), std=std, generator=generator, dtype=dtype)

    return make


def build_tfno(options: TFNOConfig, *, shape: OperatorShape, generator: torch.Generator, dtype: torch.dtype) -> FNO:
    """An :class:`~physopt.models.FNO` whose spectral weights are factorised as ``options`` says."""
    return FNO(**fno_arguments(options, shape), generator=generator, dtype=dtype,
               spectral_weight=spectral_factorisation(options.factorization, options.rank))
