"""A sign gauge fixed by the problem: the trained field is reported as ``s·u`` with ``∫ w u ≥ 0``.

An eigenproblem (``-ψ'' + Vψ = Eψ``, ``∫ψ² = 1``) determines its eigenfunction only up to sign:
ψ and -ψ have the same residual and the same normalisation. A one-sided penalty ``∫ψ ≥ 0`` in
the loss leaves the choice to the optimiser, and once a constraint method (ALM) has pushed the
norm of -ψ up to 1 the penalty cannot pull the solution back through ψ = 0 (docs' quantum-well
example with ``--set roles.norm=alm`` ended at -ψ, relative L2 1.9: issue 20).

:class:`SignGauge` fixes the sign structurally instead: the model the run trains and reports is

    ũ(x) = s · u(x),   s = +1 if ∫_Ω w(x) u(x) dx ≥ 0 else -1,

with the integral by Gauss–Legendre quadrature on fixed nodes (the problem's :class:`Integral`
rule) and ``s`` held constant under differentiation (it is piecewise constant in the weights). The
loss terms of a sign-symmetric problem are unchanged by ``s``, so training is the same as without
the gauge; every reported field satisfies ``∫ w ũ ≥ 0`` exactly, under every constraint role.
``Problem.gauge`` declares it; the build wraps the final model (after any hard-constraint ansatz).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from ._integral import Integral

__all__ = ["NormGauge", "Normalized", "SignGauge"]


def _unit(x: torch.Tensor, u: torch.Tensor, params) -> torch.Tensor:
    return u[:, :1]


@dataclass(frozen=True)
class SignGauge:
    """Fix the sign of output 0 so that ``∫ weight(x, u) dx ≥ 0`` (default weight: ``u`` itself).

    Attributes:
        points: Gauss–Legendre nodes of the sign integral (per dimension: ``points ** (1/dim)``).
        weight: ``(x, u, params) -> (n, 1)``, linear in ``u`` (so ``weight(-u) = -weight(u)``).
    """

    points: int = 32
    weight: Callable[[torch.Tensor, torch.Tensor, object], torch.Tensor] = field(default=_unit)

    def __post_init__(self) -> None:
        if isinstance(self.points, bool) or not isinstance(self.points, int) or self.points < 1:
            raise ValueError(f"SignGauge needs a positive number of points, got {self.points!r}")

    def wrap(self, model: nn.Module, domain, *, device: torch.device, dtype: torch.dtype) -> Gauged:
        """``model`` with its sign fixed by quadrature nodes on ``domain`` (on ``device``)."""
        integral = Integral(self.weight)
        batch = integral.sample(domain, self.points, generator=torch.Generator(device=device), dtype=dtype)
        return Gauged(model, batch.x, batch["weights"], self.weight)


class Gauged(nn.Module):
    """``s · model(x)`` with ``s = sign ∫ w·model`` on fixed quadrature nodes (see :class:`SignGauge`)."""

    def __init__(self, net: nn.Module, nodes: torch.Tensor, weights: torch.Tensor, weight) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("nodes", nodes)
        self.register_buffer("weights", weights)
        self._weight = weight

    def sign(self) -> torch.Tensor:
        """The gauge's sign, ``(1, 1)``: +1 where the weighted integral is >= 0 (ties: +1)."""
        x = self.nodes.detach().requires_grad_(True)  # a weight may differentiate u
        with torch.enable_grad():
            i = (self.weights * self._weight(x, self.net(x), None)).sum().detach()
        return torch.where(i >= 0, 1.0, -1.0).to(dtype=self.weights.dtype).reshape(1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = self.net(x)
        s = self.sign()
        if u.shape[1] == 1:
            return s * u
        return torch.cat([s * u[:, :1], u[:, 1:]], dim=1)


@dataclass(frozen=True)
class NormGauge(SignGauge):
    """The sign gauge plus an exact normalisation: ``ũ = s · u / √(∫ u²)`` on fixed quadrature nodes.

    An eigenproblem's loss (``-ψ'' + (V - E) ψ`` and a *penalised* ``∫ψ² = 1``) has the trivial
    minimiser ψ = 0 next to the eigenpairs: wherever the residual of the current shape is larger
    than the penalty's weight, shrinking ψ lowers the loss, and training collapses (docs/problems.md,
    the barrier). Dividing by the quadrature norm removes that direction: every nonzero network is a
    unit-norm field, ψ = 0 is not representable, and the residual is scale-invariant in the network.
    The norm is differentiated through (unlike the sign), so the gradient sees the normalisation.
    ``points`` Gauss–Legendre nodes on the domain (a box) integrate ``u²``; the sign uses the same
    nodes. Output columns after the first are passed through unchanged.

    ``even = True`` also takes the even part about the centre c of the domain's box,
    ``u(x) ← (u(x) + u(2c - x)) / 2``: the ground state of a potential symmetric about c is even (it
    is nodeless and non-degenerate, so it has the potential's symmetry), and the odd excited states
    — the nearest other eigenpairs of a double well — are then not representable. (Without it the
    barrier's training converged to the odd state, E = 43.3, instead of the ground state 33.8.)
    """

    points: int = 128
    even: bool = False

    def wrap(self, model: nn.Module, domain, *, device: torch.device, dtype: torch.dtype) -> Normalized:
        integral = Integral(self.weight)
        batch = integral.sample(domain, self.points, generator=torch.Generator(device=device), dtype=dtype)
        if self.even:
            lo, hi = (torch.tensor(b, dtype=dtype, device=device) for b in domain.bounds)
            model = _EvenPart(model, lo + hi)
        return Normalized(model, batch.x, batch["weights"], self.weight)


class _EvenPart(nn.Module):
    """``(u(x) + u(m - x)) / 2`` with ``m = 2c`` (the reflection through the centre ``c``)."""

    def __init__(self, net: nn.Module, mirror: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mirror", mirror)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (self.net(x) + self.net(self.mirror - x))


class Normalized(Gauged):
    """``s · model(x) / ‖model‖`` with ``‖u‖² = Σ_i w_i u(x_i)²`` on fixed nodes (see :class:`NormGauge`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = self.net(x)
        norm = torch.sqrt((self.weights * self.net(self.nodes)[:, :1] ** 2).sum())
        scale = (self.sign() / norm).reshape(1, 1)
        if u.shape[1] == 1:
            return scale * u
        return torch.cat([scale * u[:, :1], u[:, 1:]], dim=1)
