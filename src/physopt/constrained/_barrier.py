"""The log barrier of ``method="newton"``'s interior-point loop, in closed form.

For ``z = (x, s)`` (variables, then the slacks of the inequalities) and barrier parameter ``τ > 0``::

    B_τ(z) = −τ (Σ_{lo finite} log(x − lo) + Σ_{hi finite} log(hi − x) + Σ log s)
    ∇B_τ   = −τ (1/(x − lo) − 1/(hi − x), 1/s)
    ∇²B_τ  = τ diag(1/(x − lo)² + 1/(hi − x)², 1/s²)

(Fiacco & McCormick; terms of absent bounds are left out). The Newton engine (:mod:`._exact_al_mf`)
adds these to the autograd values of the user's functions instead of differentiating them, so that a
change of ``τ`` re-uses the last evaluation of the user's functions instead of calling them again
(the barrier loop changes ``τ`` about seven times per run: on the Hock–Schittkowski set that was a
pair of function and gradient evaluations each time, a fifth of all of them).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["LogBarrier"]


@dataclass(frozen=True)
class LogBarrier:
    """``B_τ`` of the module docstring for ``n`` variables with bounds ``lower``/``upper`` (``±inf`` where
    absent); every coordinate of ``z`` past the first ``n`` is a slack."""

    tau: float
    lower: Tensor
    upper: Tensor

    def __post_init__(self) -> None:
        if not self.tau > 0.0:
            raise ValueError(f"LogBarrier needs tau > 0; got {self.tau!r}")

    def _gaps(self, z: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        n = self.lower.numel()
        x, s = z[:n], z[n:]
        has_lo, has_hi = torch.isfinite(self.lower), torch.isfinite(self.upper)
        # absent bounds get a gap of 1 (log 1 = 0) and are masked out of the derivatives
        gap_lo = torch.where(has_lo, x - torch.where(has_lo, self.lower, 0.0), 1.0)
        gap_hi = torch.where(has_hi, torch.where(has_hi, self.upper, 0.0) - x, 1.0)
        return gap_lo, gap_hi, s, has_lo, has_hi

    def value(self, z: Tensor) -> float:
        """``B_τ(z)`` (NaN or ``±inf`` outside the interior, which the line search rejects)."""
        gap_lo, gap_hi, s, _, _ = self._gaps(z)
        return -self.tau * float(torch.log(gap_lo).sum() + torch.log(gap_hi).sum() + torch.log(s).sum())

    def grad(self, z: Tensor) -> Tensor:
        gap_lo, gap_hi, s, has_lo, has_hi = self._gaps(z)
        gx = torch.where(has_lo, 1.0 / gap_lo, 0.0) - torch.where(has_hi, 1.0 / gap_hi, 0.0)
        return -self.tau * torch.cat([gx, 1.0 / s])

    def hess_diag(self, z: Tensor) -> Tensor:
        gap_lo, gap_hi, s, has_lo, has_hi = self._gaps(z)
        hx = torch.where(has_lo, gap_lo**-2, 0.0) + torch.where(has_hi, gap_hi**-2, 0.0)
        return self.tau * torch.cat([hx, s**-2])
