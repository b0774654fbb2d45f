"""A small dense linear program solver in torch: ``min cᵀx s.t. G x ≤ h, lower ≤ x ≤ upper``.

Used by :func:`~physopt.constrained.relax` for the Kelley cutting-plane master problem (tens to a few
hundred variables and rows). Mehrotra's predictor–corrector primal–dual interior-point method on the
inequality form (Mehrotra, SIAM J. Optim. 2, 1992; Nocedal & Wright, *Numerical Optimization*, §14.2):
finite bounds become rows of ``G``, slacks ``s = h − G x > 0`` and multipliers ``z > 0`` satisfy

    c + Gᵀz = 0,   G x + s − h = 0,   s ∘ z = σ μ e,   μ = sᵀz / p,

each step solves the normal equations ``Gᵀ diag(z/s) G Δx = r`` (dense Cholesky, ``n × n``) twice — the
affine predictor, then the corrector with centering ``σ = (μ_aff/μ)³`` and the second-order term
``Δs_aff ∘ Δz_aff`` — and moves ``0.99`` of the way to the boundary (one step length for primal and dual: separate ones
let ``μ`` collapse before the dual residual did on random tests). The
iterates need not be feasible (infeasible-start IPM); the run stops when the primal and dual residuals
and the duality gap, each relative to the data, are below ``tol``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["LPResult", "solve_lp"]


@dataclass(frozen=True)
class LPResult:
    """Solution of :func:`solve_lp`: ``x``, the multipliers ``z ≥ 0`` of the rows of ``G`` (bounds not
    included), the objective ``fun``, ``converged`` (residuals and gap ``≤ tol``) and ``nit``."""

    x: Tensor
    z: Tensor
    fun: float
    converged: bool
    nit: int


def _max_step(v: Tensor, dv: Tensor) -> float:
    """Largest ``α ∈ (0, 1]`` with ``v + α dv ≥ 0`` (``v > 0``)."""
    neg = dv < 0
    if not bool(neg.any()):
        return 1.0
    return min(1.0, float((-v[neg] / dv[neg]).min()))


def solve_lp(c: Tensor, g: Tensor, h: Tensor, *, lower: Tensor, upper: Tensor, tol: float = 1e-9,
             max_iter: int = 100) -> LPResult:
    """Solve ``min cᵀx s.t. g x ≤ h, lower ≤ x ≤ upper`` (``±inf`` bounds allowed) by Mehrotra's method.

    The problem must have a bounded optimum (the Kelley master does: its multipliers live in a box and
    the model value is bounded by any cut); an infeasible or unbounded one ends with
    ``converged=False`` after ``max_iter`` steps.
    """
    n = c.numel()
    eye = torch.eye(n, dtype=c.dtype, device=c.device)
    up, lo = torch.isfinite(upper), torch.isfinite(lower)
    big_g = torch.cat([g, eye[up], -eye[lo]])
    big_h = torch.cat([h, upper[up], -lower[lo]])
    p = big_h.numel()
    x = torch.where(lo & up, 0.5 * (lower + upper), torch.where(lo, lower + 1, torch.where(up, upper - 1, 0 * c)))
    x = torch.nan_to_num(x)
    s = (big_h - big_g @ x).clamp(min=1.0)
    z = torch.ones(p, dtype=c.dtype, device=c.device)
    scale_p, scale_d = 1.0 + float(big_h.abs().max()), 1.0 + float(c.abs().max())
    converged, nit = False, 0
    for nit in range(1, max_iter + 1):  # noqa: B007 (reported as nit)
        r_d = c + big_g.T @ z
        r_p = big_g @ x + s - big_h
        mu = float(s @ z) / p
        gap = abs(float(c @ x + big_h @ z))
        if (float(r_p.abs().max()) <= tol * scale_p and float(r_d.abs().max()) <= tol * scale_d
                and gap <= tol * (1.0 + abs(float(c @ x)))):
            converged = True
            break
        w = z / s
        m = big_g.T @ (w[:, None] * big_g)
        # a tiny shift keeps the factorisation defined when a variable has no active row yet
        factor = torch.linalg.cholesky(m + 1e-14 * (1.0 + float(m.diagonal().max())) * eye)

        def direction(rc: Tensor, r_d: Tensor = r_d, r_p: Tensor = r_p, w: Tensor = w, factor: Tensor = factor,
                      s: Tensor = s, z: Tensor = z) -> tuple[Tensor, Tensor, Tensor]:
            # Z ds + S dz = rc, G dx + ds = −r_p, Gᵀ dz = −r_d  ⇒  Gᵀ W G dx = −r_d − Gᵀ(rc/s + W r_p)
            rhs = -r_d - big_g.T @ (rc / s + w * r_p)
            dx = torch.cholesky_solve(rhs[:, None], factor)[:, 0]
            ds = -r_p - big_g @ dx
            dz = (rc - z * ds) / s
            for _ in range(2):  # iterative refinement of Gᵀ dz = −r_d: W spans 1e±20 near the end
                e = -r_d - big_g.T @ dz
                fix = torch.cholesky_solve(e[:, None], factor)[:, 0]
                dx, ds, dz = dx + fix, ds - big_g @ fix, dz + w * (big_g @ fix)
            return dx, ds, dz

        dx, ds, dz = direction(-s * z)
        a_p, a_d = _max_step(s, ds), _max_step(z, dz)
        mu_aff = float((s + a_p * ds) @ (z + a_d * dz)) / p
        sigma = (mu_aff / max(mu, 1e-300)) ** 3
        dx, ds, dz = direction(-s * z + sigma * mu - ds * dz)
        alpha = 0.99 * min(_max_step(s, ds), _max_step(z, dz))  # one step: separate ones stalled the dual
        x, s, z = x + alpha * dx, s + alpha * ds, z + alpha * dz
    return LPResult(x, z[: h.numel()], float(c @ x), converged, nit)
