"""Integral constraints: ``∫_Ω f(x, u, params) dx = value`` (or ``>=`` / ``<=``).

Used for normalisations (``∫ψ² = 1`` of an eigenfunction), conserved quantities (mass) and
mean-value gauges (``∫p = 0`` for a pressure). The integral is a quadrature sum over the points the
condition samples, so the residual is a single number per output column, shape ``(1, k)``.

Quadrature rules:

* ``"gauss"`` (default): tensor-product Gauss–Legendre on a box (a :class:`Box`, or a
  :class:`SpaceTime` over a box, integrating over space and time). Deterministic: the generator
  is not used and resampling returns the same nodes. ``n`` requested points become
  ``m = round(n ** (1/dim))`` nodes per axis (``m**dim`` points), exact for polynomials of degree
  ``2m - 1`` in each variable.
* ``"monte-carlo"``: ``n`` uniform interior points with equal weights ``measure / n`` on any
  domain; unbiased but noisy (error ~ n^-1/2).

Example — normalise an eigenfunction on [0, 1]::

    Integral(lambda x, u, p: u**2, value=1.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from ._conditions import Batch, Condition, ResidualFn, _as_2d
from ._domain import Box, Domain, SpaceTime
from ._points import Points

__all__ = ["Integral"]

_SENSES = ("eq", "ge", "le")
_RULES = ("gauss", "monte-carlo")


def _box_bounds(domain: Domain | SpaceTime) -> tuple[tuple[float, ...], tuple[float, ...]]:
    space = domain.space if isinstance(domain, SpaceTime) else domain
    if not isinstance(space, Box):
        raise ValueError(
            f"Gauss quadrature needs a Box-shaped domain, got {type(space).__name__}; "
            "use quadrature='monte-carlo'"
        )
    return domain.bounds


@dataclass(frozen=True)
class Integral(Condition):
    """``∫_Ω fn(x, u, params) dx`` compared with ``value``.

    ``sense`` is ``"eq"`` (residual ``I - value``), ``"ge"`` (``I >= value``; residual
    ``min(I - value, 0)``) or ``"le"`` (``max(I - value, 0)``): zero exactly when the condition holds.
    ``fn`` is called like a PDE residual, with ``x`` requiring grad, so it may use derivatives
    (energy functionals).
    """

    fn: ResidualFn
    value: float = 0.0
    sense: str = "eq"
    quadrature: str = "gauss"
    kind: str = "integral"

    def __post_init__(self) -> None:
        if self.sense not in _SENSES:
            raise ValueError(f"Integral sense must be one of {list(_SENSES)}, got {self.sense!r}")
        if self.quadrature not in _RULES:
            raise ValueError(f"Integral quadrature must be one of {list(_RULES)}, got {self.quadrature!r}")

    def sample(self, domain, n, *, generator, dtype):  # type: ignore[override]
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"Integral needs a positive number of points, got {n!r}")
        if self.quadrature == "monte-carlo":
            x = domain.sample_interior(n, generator=generator, dtype=dtype)
            return Points(x, {"weights": torch.full((n, 1), domain.measure / n, dtype=dtype, device=x.device)})
        lo, hi = _box_bounds(domain)
        dim = len(lo)
        m = max(1, round(n ** (1.0 / dim)))
        nodes, weights = np.polynomial.legendre.leggauss(m)
        axes_x, axes_w = [], []
        for a, b in zip(lo, hi, strict=True):
            axes_x.append(0.5 * (b - a) * nodes + 0.5 * (a + b))
            axes_w.append(0.5 * (b - a) * weights)
        grids = np.meshgrid(*axes_x, indexing="ij")
        wgrid = np.prod(np.meshgrid(*axes_w, indexing="ij"), axis=0)
        dev = generator.device
        x = torch.as_tensor(np.stack([g.ravel() for g in grids], axis=1), dtype=dtype, device=dev)
        return Points(x, {"weights": torch.as_tensor(wgrid.reshape(-1, 1), dtype=dtype, device=dev)})

    def integral(self, model, batch: Batch, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The quadrature value of the integral, ``(1, k)``."""
        x = batch["x"].detach().requires_grad_(True)
        f = _as_2d(self.fn(x, model(x), params), "integral")
        return (batch["weights"].to(f.dtype) * f).sum(dim=0, keepdim=True)

    def residual(self, model, batch, params):  # type: ignore[override]
        r = self.integral(model, batch, params) - self.value
        if self.sense == "ge":
            return torch.clamp(r, max=0.0)
        if self.sense == "le":
            return torch.clamp(r, min=0.0)
        return r
