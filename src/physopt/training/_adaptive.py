"""Residual-based adaptive sampling: RAD (redistribution) and RAR-G (greedy refinement).

Wu, Zhu, Tan, Kartha & Lu, "A comprehensive study of non-adaptive and residual-based adaptive
sampling for physics-informed neural networks" (CMAME 2023, arXiv 2207.10289). Both score a large
candidate set ``S`` by the current PDE residual ``ε(x) = |r(x)|``:

* RAD: draw the ``n`` training points from ``S`` with probability

      p(x) ∝ ε(x)^k / E[ε^k] + c,

  ``E`` the mean over ``S``; ``k`` sharpens the density, ``c`` keeps a uniform floor
  (their recommended default is k = 1, c = 1);
* RAR-G: add the ``m`` candidates with the largest residual to the training set.

Details decided here: for a vector residual ``ε`` is the Euclidean norm over components; RAD draws
without replacement (no duplicated points; the candidate set is much larger than ``n``); a
candidate set with zero residual everywhere falls back to the uniform density. Residuals of the
candidates are evaluated in chunks to bound memory.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["powered_norms", "rad_probabilities", "rad_select", "rar_select", "residual_norms"]

ResidualFn = Callable[[torch.Tensor], torch.Tensor]


def residual_norms(residual: ResidualFn, x: torch.Tensor, *, chunk: int = 4096) -> torch.Tensor:
    """``|r(x)|`` ``(n,)`` for points ``x`` ``(n, d)``, detached, evaluated ``chunk`` points at a time."""
    out = [residual(x[i : i + chunk]).detach().norm(dim=1) for i in range(0, x.shape[0], chunk)]
    return torch.cat(out)


def rad_probabilities(norms: torch.Tensor, *, k: float, c: float, mean: torch.Tensor | None = None) -> torch.Tensor:
    """The RAD density ``ε^k / mean(ε^k) + c`` over the candidates, normalised to sum to 1.

    ``mean`` replaces ``mean(ε^k)`` of these candidates, e.g. by the mean over every rank's
    candidates (a distributed run's global statistic); see :func:`powered_norms`.
    """
    if not k >= 0:
        raise ValueError(f"RAD exponent k must be >= 0, got {k!r}")
    if not c >= 0:
        raise ValueError(f"RAD floor c must be >= 0, got {c!r}")
    powered = powered_norms(norms, k=k)
    mean = powered.mean() if mean is None else mean
    if not torch.isfinite(mean) or mean <= 0:
        return torch.full_like(powered, 1.0 / powered.numel())  # no residual information: uniform
    density = powered / mean + c
    return density / density.sum()


def powered_norms(norms: torch.Tensor, *, k: float) -> torch.Tensor:
    """``ε^k`` in float64, the quantity whose mean normalises the RAD density."""
    return norms.double() ** k


def rad_select(
    candidates: torch.Tensor, norms: torch.Tensor, n: int, *, k: float, c: float, generator: torch.Generator,
    mean: torch.Tensor | None = None,
) -> torch.Tensor:
    """``n`` of the ``candidates`` ``(N, d)`` drawn without replacement with the RAD density."""
    if not 0 < n <= candidates.shape[0]:
        raise ValueError(f"cannot draw {n} RAD points from {candidates.shape[0]} candidates")
    p = rad_probabilities(norms, k=k, c=c, mean=mean)
    idx = torch.multinomial(p, n, replacement=False, generator=generator)
    return candidates[idx]


def rar_select(candidates: torch.Tensor, norms: torch.Tensor, m: int) -> torch.Tensor:
    """The ``m`` candidates with the largest residual norm (RAR-G)."""
    if not 0 < m <= candidates.shape[0]:
        raise ValueError(f"cannot add {m} RAR points from {candidates.shape[0]} candidates")
    return candidates[torch.topk(norms, m).indices]
