"""The variational (energy) form of an elliptic problem, for the Deep Ritz method.

:class:`Energy` is the functional

    E(u) = ∫_Ω (1/p) |∇u|^p - f u dx,   p >= 2,

whose minimiser over functions with the problem's Dirichlet data solves the Euler–Lagrange
equation -div(|∇u|^{p-2} ∇u) = f (p = 2: the Poisson equation -Δu = f; p > 2: the p-Laplacian).
E, W. & Yu, B. (2018), "The Deep Ritz method", Commun. Math. Stat. 6, 1–12 (arXiv 1710.00211);
the p-Laplacian as a nonlinear variational test case as in Marwah, Lipton, Lu & Risteski (2023),
"Neural network approximations of PDEs beyond linearity: a representational perspective"
(ICML 2023), whose nonlinear variational elliptic PDEs include p-Laplacian-type energies.

It is a :class:`~physopt.problems.Condition` on interior points, so the sampler draws its points
like any residual's. Two readings of the same points:

- :meth:`Energy.energy`: the Monte Carlo estimate ``|Ω| · mean((1/p)|∇u|^p - f u)`` (the loss of
  ``--method ritz``; it is not a square and can be negative);
- :meth:`Energy.residual`: the strong-form residual ``-div(|∇u|^{p-2}∇u) - f`` by autograd (used in
  reports, and if a run trains the energy condition as a plain residual).

A problem declares it in ``Problem.energy``; WoS (``--method wos``) reads ``source`` from it when
``p == 2``. Decided here: p is restricted to p >= 2 so that the density and the flux
``|∇u|^{p-2}∇u`` stay differentiable where ∇u = 0; the volume ``|Ω|`` travels in the batch so the
estimate is of the integral, not of the mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from ._conditions import Batch, Condition, Model, Value, _value
from ._domain import SpaceTime
from ._ops import div, grad
from ._points import Points

__all__ = ["Energy"]


@dataclass(frozen=True)
class Energy(Condition):
    """``E(u) = ∫ (1/p)|∇u|^p - f u dx`` with source ``f`` (a number or ``f(x) -> (n,)|(n, 1)``)."""

    source: Value = 0.0
    p: float = 2.0
    kind: str = "interior"

    def __post_init__(self) -> None:
        if isinstance(self.p, bool) or not isinstance(self.p, int | float) or not 2 <= self.p < math.inf:
            raise ValueError(f"Energy needs a finite exponent p >= 2, got p={self.p!r}")

    def sample(self, domain, n, *, generator, dtype):  # type: ignore[override]
        if isinstance(domain, SpaceTime):
            raise ValueError("Energy is a functional over a spatial domain, got a space-time domain")
        x = domain.sample_interior(n, generator=generator, dtype=dtype)
        # The volume rides along so the loss estimates the integral, one copy per point so that
        # slicing a batch by points (a warm-up prefix) keeps it; a Sobol stand-in domain keeps the
        # real domain's measure.
        volume = float(getattr(domain, "domain", domain).measure)
        return Points(x, {"volume": torch.full((x.shape[0], 1), volume, dtype=dtype, device=x.device)})

    def _flux_norm(self, g: torch.Tensor) -> torch.Tensor:
        s = (g * g).sum(dim=1, keepdim=True)
        return s if self.p == 2 else s ** (self.p / 2)

    def energy(self, model: Model, batch: Batch, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Monte Carlo estimate of ``E(u)`` on the batch's points (a scalar with a graph)."""
        x = batch["x"].detach().requires_grad_(True)
        u = model(x)[:, :1]
        density = self._flux_norm(grad(u, x)) / self.p - _value(self.source, x.detach()) * u
        return (batch["volume"] * density).mean()

    def residual(self, model, batch, params):  # type: ignore[override]
        x = batch["x"].detach().requires_grad_(True)
        u = model(x)[:, :1]
        g = grad(u, x)
        flux = g if self.p == 2 else (g * g).sum(dim=1, keepdim=True) ** ((self.p - 2) / 2) * g
        return -div(flux, x) - _value(self.source, x.detach())
