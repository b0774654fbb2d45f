"""Spectral-Refiner's fine-tuning: only the last layer, a negative-Sobolev norm of the PDE residual as the loss.

Cao, Brarda, Li & Xi, "Spectral-Refiner: Accurate Fine-Tuning of Spatiotemporal Fourier Neural Operator for
Turbulent Flows" (ICLR 2025, arXiv 2405.17211): after a short end-to-end training, freeze every parameter but
the last (untruncated) spectral layer and minimise a functional a posteriori error estimator, the
``H^{-1}`` norm of the Navier–Stokes residual, evaluated exactly in Fourier space by Parseval::

    ‖r‖²_{H^{-s}} = Σ_k (1 + 4π²|k|²)^{-s} |r̂_k|²,   r̂_k the Fourier coefficients of r on [0, 1]^2

No solution data enter the refinement: only the inputs (the initial snapshots) and the PDE.

The residual of a predicted vorticity trajectory ``w_1..w_T`` (snapshots ``Δt`` apart, ``w_0`` the last
input snapshot) is the Crank–Nicolson one of ``w_t = G(w) = −u·∇w + νΔw + f`` (``u = (ψ_y, −ψ_x)``,
``−Δψ = w``)::

    r_n = (w_n − w_{n−1}) / Δt − (G(w_n) + G(w_{n−1})) / 2,   n = 1..T

with ``G`` pseudo-spectral and its products dealiased exactly by 3/2 zero padding (our choice of time
discretisation: second order in ``Δt``, so the reference data's own residual is the floor the refinement
can reach; ``benchmarks/operators_seeds.py --part refiner`` prints it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["RefineResult", "VorticityResidual", "negative_sobolev_norm", "refine_last_layer"]


def _frequencies(n: int, *, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    k = torch.fft.fftfreq(n, 1.0 / n, device=device, dtype=dtype)
    return k[:, None], k[None, :]


def negative_sobolev_norm(r: torch.Tensor, *, order: float = 1.0) -> torch.Tensor:
    """``‖r‖²_{H^{-order}}`` over the last two (periodic, unit-square) axes of ``r``, per leading index."""
    n1, n2 = r.shape[-2:]
    if n1 != n2:
        raise ValueError(f"negative_sobolev_norm takes square periodic grids, got {n1}x{n2}")
    c = torch.fft.fft2(r) / (n1 * n2)  # Fourier coefficients: r = Σ c_k e^{2πi k·x}
    kx, ky = _frequencies(n1, device=r.device, dtype=r.real.dtype)
    weight = (1.0 + 4 * math.pi**2 * (kx**2 + ky**2)) ** (-order)
    return (weight * c.abs() ** 2).sum(dim=(-2, -1))


def _common(n: int, m: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions of the frequencies ``|k| < n/2`` in an ``n``-point and an ``m``-point FFT (``m ≥ n``); an even
    grid's Nyquist frequency has no unique place on the other grid and is dropped."""
    k = torch.fft.fftfreq(n, 1.0 / n, device=device).round().long()
    coarse = torch.nonzero(k.abs() * 2 < n).flatten()
    return coarse, k[coarse] % m


def _pad(c: torch.Tensor, m: int) -> torch.Tensor:
    """Full-FFT coefficients of an ``n × n`` grid embedded in an ``m × m`` spectrum."""
    coarse, fine = _common(c.shape[-1], m, c.device)
    out = c.new_zeros(*c.shape[:-2], m, m)
    out[..., fine[:, None], fine[None, :]] = c[..., coarse[:, None], coarse[None, :]]
    return out


def _truncate(c: torch.Tensor, n: int) -> torch.Tensor:
    """The ``n × n`` low-frequency block of an ``m × m`` spectrum (the inverse of :func:`_pad`)."""
    coarse, fine = _common(n, c.shape[-1], c.device)
    out = c.new_zeros(*c.shape[:-2], n, n)
    out[..., coarse[:, None], coarse[None, :]] = c[..., fine[:, None], fine[None, :]]
    return out


@dataclass(frozen=True)
class VorticityResidual:
    """The Crank–Nicolson residual of 2-D vorticity trajectories (see the module docstring).

    Attributes:
        nu: viscosity.
        dt: time between snapshots.
        forcing: ``f`` on the ``n × n`` periodic grid (a tensor on the data's device).
    """

    nu: float
    dt: float
    forcing: torch.Tensor

    def rhs(self, w: torch.Tensor) -> torch.Tensor:
        """``G(w) = −u·∇w + νΔw + f`` of ``w`` ``(..., n, n)``, products on the 3/2-padded grid."""
        n = w.shape[-1]
        m = 3 * n // 2 + (3 * n // 2) % 2
        c = torch.fft.fft2(w)
        kx, ky = _frequencies(n, device=w.device, dtype=w.dtype)
        kx, ky = 2 * math.pi * kx, 2 * math.pi * ky
        k2 = kx**2 + ky**2
        psi = c / torch.where(k2 > 0, k2, torch.ones_like(k2)) * (k2 > 0)

        def fine(spectrum: torch.Tensor) -> torch.Tensor:
            return torch.fft.ifft2(_pad(spectrum, m)).real * (m * m / (n * n))

        u, v = fine(1j * ky * psi), fine(-1j * kx * psi)
        wx, wy = fine(1j * kx * c), fine(1j * ky * c)
        adv = _truncate(torch.fft.fft2(u * wx + v * wy), n) * (n * n / (m * m))
        return torch.fft.ifft2(-adv - self.nu * k2 * c).real + self.forcing

    def __call__(self, w0: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """``r_1..r_T`` ``(B, T, n, n)`` of the trajectory ``w`` ``(B, T, n, n)`` started from ``w0`` ``(B, n, n)``."""
        traj = torch.cat([w0[:, None], w], dim=1)
        g = self.rhs(traj)
        return (traj[:, 1:] - traj[:, :-1]) / self.dt - 0.5 * (g[:, 1:] + g[:, :-1])


@dataclass(frozen=True)
class RefineResult:
    """What :func:`refine_last_layer` returns: the loss per step and the process CPU seconds spent."""

    losses: list[float]
    cpu_s: float


def refine_last_layer(model: nn.Module, parameters: Sequence[nn.Parameter], inputs: torch.Tensor,
                      loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], *, steps: int, lr: float,
                      batch_size: int, generator: torch.Generator) -> RefineResult:
    """Minimise ``loss(a, model(a))`` over ``parameters`` only (all others frozen, restored afterwards) by Adam.

    ``inputs`` ``(N, C_in, *grid)`` are drawn in shuffled mini-batches of ``batch_size`` from ``generator``;
    a non-finite loss raises ``FloatingPointError`` naming the step."""
    if steps < 1 or batch_size < 1 or not lr > 0:
        raise ValueError(f"refinement needs steps >= 1, batch_size >= 1 and lr > 0, got {steps}, {batch_size}, {lr}")
    chosen = {id(p) for p in parameters}
    frozen = [(p, p.requires_grad) for p in model.parameters() if id(p) not in chosen]
    for p, _ in frozen:
        p.requires_grad_(False)
    opt = torch.optim.Adam(list(parameters), lr=lr)
    losses, start = [], time.process_time()
    try:
        order = torch.empty(0, dtype=torch.long)
        for step in range(steps):
            if order.numel() < batch_size:
                order = torch.cat([order, torch.randperm(inputs.shape[0], generator=generator)])
            idx, order = order[:batch_size], order[batch_size:]
            a = inputs[idx.to(inputs.device)]
            value = loss(a, model(a))
            if not torch.isfinite(value):
                raise FloatingPointError(f"refinement loss is {value.item()} at step {step}")
            opt.zero_grad(set_to_none=True)
            value.backward()
            opt.step()
            losses.append(float(value.detach()))
    finally:
        for p, flag in frozen:
            p.requires_grad_(flag)
    return RefineResult(losses, time.process_time() - start)
