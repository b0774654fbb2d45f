"""Shape-fitted quintic Newton–Schulz coefficients for ROOT, for any matrix shape.

ROOT (He et al., arXiv:2511.20626) uses coefficients ``(a, b, c)`` "tailored to specific matrix
sizes" and publishes them for four shapes only; how they were fitted is not recoverable from the
paper or the authors' code. This module fits them the way the paper motivates them, stated as our
choice: Newton–Schulz acts on each singular value separately,

    σ ↦ p(σ) = aσ + bσ³ + cσ⁵,   NS_k(X) = U p^{∘k}(Σ) Vᵀ,

so its orthogonalisation error ``‖NS_k(X) - UVᵀ‖_F² / min(m, n)`` is the mean of
``(p^{∘k}(σ_i) - 1)²`` over the singular values of the Frobenius-normalised input. For an
``(m, n)`` shape we draw Gaussian ``m × n`` matrices (whose normalised spectrum — Marchenko–Pastur
with ratio min/max — is what makes square matrices the hard case, the seed's "dimensional
fragility"), take their singular values once, and minimise that mean over ``(a, b, c)`` from
Keller's coefficients with L-BFGS. Cost: one SVD per sample plus a scalar fit (milliseconds).
Real momentum spectra are heavier-tailed than Gaussian ones: the fit targets the shape, not the
training run.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._newton_schulz import KELLER_COEFFS

__all__ = ["fit_root_coeffs", "ns_singular_error", "shape_singular_values"]

Coeffs = tuple[float, float, float]


def shape_singular_values(m: int, n: int, *, samples: int, generator: torch.Generator) -> Tensor:
    """Singular values of ``samples`` Frobenius-normalised Gaussian ``m × n`` matrices, float64."""
    for name, v in (("m", m), ("n", n), ("samples", samples)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"shape_singular_values: {name} must be a positive integer, got {v!r}")
    g = torch.randn(samples, min(m, n), max(m, n), generator=generator, dtype=torch.float64,
                    device=generator.device)
    g = g / torch.linalg.matrix_norm(g, keepdim=True)
    return torch.linalg.svdvals(g).reshape(-1)


def ns_singular_error(coeffs: Coeffs | Tensor, sigma: Tensor, *, steps: int) -> Tensor:
    """Mean ``(p^{∘steps}(σ) - 1)²``: NS's relative orthogonalisation error on spectrum ``sigma``."""
    a, b, c = (coeffs[0], coeffs[1], coeffs[2])
    s = sigma
    for _ in range(steps):
        s2 = s * s
        s = s * (a + s2 * (b + c * s2))
    return ((s - 1.0) ** 2).mean()


def fit_root_coeffs(m: int, n: int, *, steps: int = 5, samples: int = 4, generator: torch.Generator,
                    start: Coeffs = KELLER_COEFFS) -> Coeffs:
    """Quintic coefficients minimising NS's error on Gaussian ``m × n`` spectra (see module docstring)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"fit_root_coeffs: steps must be a positive integer, got {steps!r}")
    sigma = shape_singular_values(m, n, samples=samples, generator=generator)
    theta = torch.tensor(start, dtype=torch.float64, device=sigma.device, requires_grad=True)
    opt = torch.optim.LBFGS([theta], lr=1.0, max_iter=200, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-12, tolerance_change=1e-14)

    def closure() -> Tensor:
        opt.zero_grad()
        loss = ns_singular_error(theta, sigma, steps=steps)
        loss.backward()
        return loss

    opt.step(closure)
    fitted = tuple(float(v) for v in theta.detach())
    start_err = float(ns_singular_error(start, sigma, steps=steps))
    fit_err = float(ns_singular_error(fitted, sigma, steps=steps))
    if not fit_err == fit_err or fit_err > start_err:  # NaN or a worse fit: keep the start
        return tuple(start)  # type: ignore[return-value]
    return fitted  # type: ignore[return-value]
