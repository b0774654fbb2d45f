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

**A general density.** ``Energy(density=L)`` takes the user's energy density ``L(x, u, ∇u)``
(``(n, 1)`` from ``x (n, d)``, ``u (n, 1)``, ``∇u (n, d)``) in place of the p-Laplacian form:

    E(u) = ∫_Ω L(x, u, ∇u) dx,   Euler–Lagrange residual  ∂L/∂u - div(∂L/∂∇u),

the partial derivatives taken by autograd with ``u`` and ``∇u`` as independent slots (zero
perturbations ``a``, ``B`` added to them, ``∂L/∂u = ∂L/∂a`` at ``a = 0``, so the network's own
dependence of ∇u on u never leaks into ∂L/∂u). ``source`` and ``p`` then stay at their defaults
(``f`` belongs in ``L``), so one energy is never read two ways. Nonlinear variational energies of
this kind are the "beyond linearity" cases of Marwah et al. (2023).

A problem declares it in ``Problem.energy``; WoS (``--method wos``) reads ``source`` from it when
``p == 2``. Decided here: p is restricted to p >= 2 so that the density and the flux
``|∇u|^{p-2}∇u`` stay differentiable where ∇u = 0; the volume ``|Ω|`` travels in the batch so the
estimate is of the integral, not of the mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from ._conditions import Batch, Condition, Model, Value, _value
from ._domain import SpaceTime
from ._ops import div, grad
from ._points import Points

__all__ = ["Density", "Energy"]

Density = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Energy(Condition):
    """``E(u) = ∫ (1/p)|∇u|^p - f u dx`` with source ``f`` (a number or ``f(x) -> (n,)|(n, 1)``)."""

    source: Value = 0.0
    p: float = 2.0
    density: Density | None = None
    kind: str = "interior"

    def __post_init__(self) -> None:
        if self.density is not None and (not callable(self.density) or self.source != 0.0 or self.p != 2.0):
            raise ValueError("Energy(density=L) takes the whole density L(x, u, ∇u) (a callable, with the source "
                             f"inside it); got density={self.density!r}, source={self.source!r}, p={self.p!r}")
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

    @property
    def is_p_laplacian(self) -> bool:
        """True for the built-in form ``(1/p)|∇u|^p - f u`` (no user density)."""
        return self.density is None

    def _density(self, x: torch.Tensor, u: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        if self.density is None:
            return self._flux_norm(g) / self.p - _value(self.source, x.detach()) * u
        out = self.density(x, u, g)
        if not isinstance(out, torch.Tensor) or out.shape not in ((x.shape[0],), (x.shape[0], 1)):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(f"Energy density must return shape ({x.shape[0]},) or ({x.shape[0]}, 1), got {shape}")
        return out.reshape(-1, 1)

    def _flux_norm(self, g: torch.Tensor) -> torch.Tensor:
        s = (g * g).sum(dim=1, keepdim=True)
        return s if self.p == 2 else s ** (self.p / 2)

    def energy(self, model: Model, batch: Batch, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Monte Carlo estimate of ``E(u)`` on the batch's points (a scalar with a graph)."""
        x = batch["x"].detach().requires_grad_(True)
        u = model(x)[:, :1]
        return (batch["volume"] * self._density(x, u, grad(u, x))).mean()

    def residual(self, model, batch, params):  # type: ignore[override]
        x = batch["x"].detach().requires_grad_(True)
        u = model(x)[:, :1]
        g = grad(u, x)
        if self.density is not None:
            a = torch.zeros_like(u, requires_grad=True)  # independent slots for u and ∇u (module docstring)
            b = torch.zeros_like(g, requires_grad=True)
            dl_du, dl_dg = torch.autograd.grad(self._density(x, u + a, g + b).sum(), (a, b), create_graph=True,
                                               allow_unused=True)
            dl_du = torch.zeros_like(u) if dl_du is None else dl_du
            dl_dg = torch.zeros_like(g) if dl_dg is None else dl_dg
            return dl_du - div(dl_dg, x)
        flux = g if self.p == 2 else (g * g).sum(dim=1, keepdim=True) ** ((self.p - 2) / 2) * g
        return -div(flux, x) - _value(self.source, x.detach())
