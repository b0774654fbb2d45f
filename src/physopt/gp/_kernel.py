"""The GP-HM covariance of one input dimension: a spectral mixture with closed-form derivatives.

Fang, Cooley, Long, Li, Kirby & Zhe (2024), "Solving High Frequency and Multi-Scale PDEs with
Gaussian Processes" (ICLR 2024, arXiv 2311.04465) model the power spectrum of the solution along
one axis as a mixture of Q symmetric bumps at frequencies ``±μ_q``; by Wiener–Khinchin the
covariance is the inverse Fourier transform

    k(x, x') = Σ_q w_q g_q(τ) cos(2π μ_q τ),   τ = x - x',

with ``g_q`` the transform of one bump. A Gaussian bump gives the spectral mixture kernel (their
GP-HM-GM, ``g = exp(-½ ρ² τ²)``); a Student-t bump with ν = 5/2 gives a Matérn-5/2 envelope (their
GP-HM-StM, ``g = (1 + a + a²/3) e^{-a}``, ``a = √5 ρ |τ|``). ``ρ`` is an inverse length scale (the
width of the bump), ``μ`` is in cycles per unit length. The weights are learned in the log domain:
a flat prior on ``log w`` is the Jeffreys prior ``p(w) ∝ 1/w`` on ``w``, which is what lets
unneeded components' weights decay to zero (the paper's frequency pruning).

The PDE operator is applied to the kernel analytically, so :meth:`SpectralMixture.matrix` returns
``∂ⁿk/∂xⁿ`` for n = 0, 1, 2 in closed form (product rule on envelope × cosine; the envelopes'
derivatives are written out in :data:`ENVELOPES`). Since ``k`` depends on ``τ`` only,
``∂k/∂x' = -∂k/∂x`` and ``∂²k/∂x'² = ∂²k/∂x²``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import torch
from torch import nn

__all__ = ["ENVELOPES", "Envelope", "EnvelopeSpec", "SpectralMixture"]

# (τ, ρ) -> (g, g', g''), derivatives with respect to τ; τ (..., 1), ρ (Q,), results (..., Q).
EnvelopeDerivatives = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


class Envelope(Enum):
    """The shape of one spectral bump, named by its covariance envelope."""

    GAUSSIAN = "gaussian"
    MATERN52 = "matern52"


@dataclass(frozen=True)
class EnvelopeSpec:
    """One envelope: its derivatives in τ up to order 2 and the spectral family it stands for."""

    derivatives: EnvelopeDerivatives
    spectrum: str


def _gaussian(tau: torch.Tensor, rho: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # g = exp(-½ρ²τ²), g' = -ρ²τ g, g'' = (ρ⁴τ² - ρ²) g.
    r2 = rho * rho
    g = torch.exp(-0.5 * r2 * tau * tau)
    return g, -r2 * tau * g, (r2 * r2 * tau * tau - r2) * g


def _matern52(tau: torch.Tensor, rho: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # a = √5ρ|τ|: g = (1 + a + a²/3)e^{-a}, g' = -(5ρ²/3) τ (1 + a) e^{-a}, g'' = -(5ρ²/3)(1 + a - a²) e^{-a}
    # (g' carries τ, not |τ|: the kernel is twice differentiable at τ = 0, where g'' = -5ρ²/3).
    a = math.sqrt(5.0) * rho * tau.abs()
    e = torch.exp(-a)
    c = (5.0 / 3.0) * rho * rho
    return (1 + a + a * a / 3) * e, -c * tau * (1 + a) * e, -c * (1 + a - a * a) * e


ENVELOPES: dict[Envelope, EnvelopeSpec] = {
    Envelope.GAUSSIAN: EnvelopeSpec(_gaussian, "Gaussian mixture (the spectral mixture kernel, GP-HM-GM)"),
    Envelope.MATERN52: EnvelopeSpec(_matern52, "Student-t mixture, ν = 5/2 (Matérn-5/2 × cosine, GP-HM-StM)"),
}


class SpectralMixture(nn.Module):
    """``k(x, x') = Σ_q w_q g(τ; ρ_q) cos(2π μ_q τ)`` on one axis, Q components.

    Parameters (learned): ``log_weight`` (Q,), ``log_rho`` (Q,) and ``frequency`` (Q,). The
    initialisation is the paper's: ``w_q = 1/Q``, ``ρ_q = 1`` and frequencies evenly spaced on
    ``[0, max_frequency]`` (cycles per unit length), so the mixture starts by covering the band.
    """

    def __init__(self, *, components: int, max_frequency: float, envelope: Envelope = Envelope.MATERN52,
                 dtype: torch.dtype = torch.float64, device: torch.device | str | None = None) -> None:
        super().__init__()
        if isinstance(components, bool) or not isinstance(components, int) or components < 1:
            raise ValueError(f"components must be an integer >= 1, got {components!r}")
        if not math.isfinite(max_frequency) or max_frequency <= 0:
            raise ValueError(f"max_frequency must be a positive number, got {max_frequency!r}")
        if not isinstance(envelope, Envelope):
            raise ValueError(f"envelope must be one of {[e.value for e in Envelope]}, got {envelope!r}")
        self.envelope = envelope
        kw = {"dtype": dtype, "device": device}
        self.log_weight = nn.Parameter(torch.full((components,), -math.log(components), **kw))
        self.log_rho = nn.Parameter(torch.zeros(components, **kw))
        self.frequency = nn.Parameter(torch.linspace(0.0, max_frequency, components, **kw))

    def of_lag(self, tau: torch.Tensor, derivative: int = 0) -> torch.Tensor:
        """``dⁿk/dτⁿ`` at lags ``tau`` (any shape), n = ``derivative`` ∈ {0, 1, 2}; same shape as ``tau``."""
        if derivative not in (0, 1, 2):
            raise ValueError(f"derivative must be 0, 1 or 2 (the kernel's closed forms), got {derivative!r}")
        t = tau[..., None]
        g, g1, g2 = ENVELOPES[self.envelope].derivatives(t, self.log_rho.exp())
        omega = 2 * math.pi * self.frequency
        phase = omega * t
        cos, sin = torch.cos(phase), torch.sin(phase)
        if derivative == 0:
            parts = g * cos
        elif derivative == 1:
            parts = g1 * cos - omega * g * sin
        else:  # (g c)'' = g'' c + 2 g' c' + g c'' with c = cos(ωτ)
            parts = g2 * cos - 2 * omega * g1 * sin - omega * omega * g * cos
        return parts @ self.log_weight.exp()

    def matrix(self, x1: torch.Tensor, x2: torch.Tensor, derivative: int = 0) -> torch.Tensor:
        """``∂ⁿk(x1_i, x2_j)/∂x1ⁿ`` for 1-D point sets ``x1`` (m,), ``x2`` (n,): an ``(m, n)`` matrix."""
        if x1.ndim != 1 or x2.ndim != 1:
            raise ValueError(f"matrix takes 1-D point sets, got shapes {tuple(x1.shape)} and {tuple(x2.shape)}")
        return self.of_lag(x1[:, None] - x2[None, :], derivative)

    def rows(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        """``k(x_i, nodes_j)`` (m, n) for prediction, differentiable in ``x`` (not in the kernel's
        parameters) through the closed-form derivatives: autograd through the transcendental
        ``(m, n, Q)`` intermediates would hold them all for a Laplacian of the prediction."""
        return _KernelRows.apply(x, nodes, self, 0)

    def toeplitz(self, n: int, spacing: float, derivative: int = 0) -> torch.Tensor:
        """:meth:`matrix` of a uniform grid of ``n`` nodes ``spacing`` apart, from its ``2n - 1`` lags.

        The matrix is Toeplitz (``τ_ij = (i - j) h``), so the kernel is evaluated ``2n - 1`` times
        instead of ``n²``: the training step's cost is then the per-axis solves, not the ``n² Q``
        transcendental evaluations.
        """
        if n < 1 or not spacing > 0:
            raise ValueError(f"toeplitz needs n >= 1 nodes and a spacing > 0, got n={n!r}, spacing={spacing!r}")
        steps = torch.arange(-(n - 1), n, device=self.frequency.device)
        lags = self.of_lag(steps.to(self.frequency.dtype) * spacing, derivative)
        index = torch.arange(n, device=steps.device)
        return lags[index[:, None] - index[None, :] + n - 1]


class _KernelRows(torch.autograd.Function):
    """``∂ⁿk(x_i - node_j)/∂xⁿ`` with backward ``grad · ∂ⁿ⁺¹k``, itself differentiable: two levels
    of autograd (a Laplacian of the prediction) reach the closed-form ``n = 2``."""

    @staticmethod
    def forward(ctx, x, nodes, kernel, order):  # type: ignore[override]
        ctx.save_for_backward(x, nodes)
        ctx.kernel, ctx.order = kernel, order
        with torch.no_grad():
            return kernel.of_lag(x[:, None] - nodes[None, :], order)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        x, nodes = ctx.saved_tensors
        return (grad * _KernelRows.apply(x, nodes, ctx.kernel, ctx.order + 1)).sum(1), None, None, None
