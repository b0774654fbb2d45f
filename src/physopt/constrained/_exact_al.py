"""Newton method on the exact augmented Lagrangian with randomized iterative sketching (``"exact-al"``).

Hong, Na, Mahoney & Kolar, "Constrained Optimization via Exact Augmented Lagrangian and Randomized
Iterative Sketching", ICML 2023 (arXiv:2305.18379), building on the differentiable exact augmented
Lagrangian of Na, Anitescu & Kolar (Math. Prog. 2022). For ``min f(x) s.t. c(x) = 0`` with
``L = f + λᵀc`` and ``G = ∇c``, the merit function of ``(x, λ)`` jointly is::

    ℒ_{μ,ν}(x, λ) = f + λᵀc + μ/2 ‖c‖² + ν/2 ‖∇ₓL‖²
    ∇ₓℒ = ∇ₓL + ν ∇²ₓL ∇ₓL + μ Gᵀc,        ∇_λℒ = c + ν G ∇ₓL

Each iteration solves the Newton–KKT system ``[[B, Gᵀ], [G, 0]] (Δx, Δλ) = −(∇ₓL, c)`` inexactly by
sketching (:func:`sketch_solve`) and moves ``(x, λ)`` together with Armijo backtracking on ``ℒ``.
Choices, following the paper and its released code (``IlgeeHong/AdaSketch-Newton``) unless noted:

- ``B = ∇²ₓL + t I`` with ``t = ξ_B + ‖∇²ₓL‖₂`` (``ξ_B = 0.1``) when the reduced Hessian ``Zᵀ∇²ₓL Z``
  (``Z`` from a QR of ``Gᵀ``) has an eigenvalue below ``1e-6``, else ``t = 0``; spectral norms.
- Adaptive accuracy: stop sketching when ``‖K‖ Ψ ‖r‖ ≤ θ δ ‖b‖`` with
  ``Ψ = 20 max(‖B‖², 1)/(min(λ_min(GGᵀ), 1) min(ξ_B, 1))``, ``θ = 1``,
  ``δ ← max(min(δ, δ_trial), 1e-6)``, ``δ_trial = (½ − β) ν / ((1 + μ + ν) Υ² Ψ²)``,
  ``Υ = max(‖G‖, ‖∇²ₓL‖, 1)``; ``δ₀ = 0.1``.
- Adaptive penalties: accept the direction if ``∇ℒᵀΔ ≤ −ν/2 ‖(∇ₓL, c)‖²``; otherwise
  ``μ ← ϑ²μ``, ``ν ← ν/ϑ`` (``ϑ = 1.5``), ``δ ← max(min(δ/ϑ⁴, δ_trial), 1e-6)`` and re-solve if the
  residual misses the tighter accuracy; accept anyway once ``μ > 1e8`` or ``ν < 1e-8``.
  ``μ₀ = 1``, ``ν₀ = 0.1``, Armijo ``β = 0.1`` with step halving.
- The merit uses the exact Lagrangian Hessian (the paper; the released code uses ``∇²f``).
- ``λ₀`` is the least-squares estimate ``argmin ‖∇f + Gᵀλ‖`` (our choice; the code starts from the
  CUTEst ``y0``), or the warm-start multipliers.
- Stopping: ``max(‖∇ₓL‖∞, ‖c‖∞) ≤ tol`` (the code uses the 2-norm with ``1e-4``). A Jacobian with
  ``λ_min(GGᵀ) ≤ 1e-12 max(1, ‖G‖²)`` (LICQ fails) stops with status ``stalled`` — the paper
  requires full row rank; the code aborts below ``1e-2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ._lbfgsb import UNBOUNDED_BELOW
from ._nlp import NLP, Point
from ._result import MinimizeResult, MinimizeStatus, build_result
from ._sketch import sketch_solve

__all__ = ["exact_al_merit_gradient", "run_exact_al"]

_XI_B, _BETA, _VARTHETA = 0.1, 0.1, 1.5
_MU0, _NU0, _DELTA0, _DELTA_MIN = 1.0, 0.1, 0.1, 1e-6
_MAX_BACKTRACKS = 50


@dataclass(frozen=True)
class _Local:
    """Values and first derivatives at ``(x, λ)``: ``grad_l = ∇ₓL`` keeps its graph for the Hessian."""

    point: Point
    lam: Tensor
    grad_l: Tensor
    merit_parts: tuple[float, float, float]  # f + λᵀc, ‖c‖², ‖∇ₓL‖²


def _local(nlp: NLP, x: Tensor, lam: Tensor, point: Point | None = None) -> _Local:
    p = nlp.evaluate(x, graph=True) if point is None else point
    lag = p.f + lam @ p.h
    nlp.ngev += 1
    if lag.requires_grad:
        (gl,) = torch.autograd.grad(lag, p.x, create_graph=True, allow_unused=True)
    else:
        gl = None
    gl = torch.zeros_like(p.x) if gl is None else gl
    parts = (float(lag.detach()), float((p.h @ p.h).detach()), float((gl @ gl).detach()))
    return _Local(p, lam, gl, parts)


def _batched_jacobian(out: Tensor, x: Tensor) -> Tensor:
    """``∂out/∂x`` as an ``(len(out), n)`` matrix (zeros where ``out`` does not depend on ``x``)."""
    if out.numel() == 0 or not out.requires_grad:
        return torch.zeros(out.numel(), x.numel(), dtype=x.dtype)
    eye = torch.eye(out.numel(), dtype=out.dtype)
    (jac,) = torch.autograd.grad(out, x, grad_outputs=eye, is_grads_batched=True,
                                 retain_graph=True, allow_unused=True)
    return torch.zeros(out.numel(), x.numel(), dtype=x.dtype) if jac is None else jac.detach()


def exact_al_merit_gradient(
    grad_l: Tensor, hess_l: Tensor, jac: Tensor, c: Tensor, mu: float, nu: float
) -> Tensor:
    """``(∇ₓℒ, ∇_λℒ)`` of the exact augmented Lagrangian, stacked into one ``(n + m,)`` vector."""
    gx = grad_l + nu * (hess_l @ grad_l) + mu * (jac.T @ c)
    gl = c + nu * (jac @ grad_l)
    return torch.cat([gx, gl])


def _merit(parts: tuple[float, float, float], mu: float, nu: float) -> float:
    return parts[0] + 0.5 * mu * parts[1] + 0.5 * nu * parts[2]


def _spectral(a: Tensor) -> float:
    return float(torch.linalg.matrix_norm(a, ord=2)) if a.numel() else 0.0


def run_exact_al(
    nlp: NLP, x0: Tensor, *, tol: float, max_iter: int, lam0: Tensor | None, seed: int
) -> MinimizeResult:
    """AdaSketch-Newton for equality-constrained problems (see the module docstring)."""
    n, m = nlp.n, nlp.m_eq
    gen = torch.Generator().manual_seed(seed)
    mu, nu, delta = _MU0, _NU0, _DELTA0
    point = nlp.evaluate(x0, graph=True)
    lam = torch.zeros(m, dtype=x0.dtype)

    def finish(loc: _Local, status: MinimizeStatus, reason: str, nit: int) -> MinimizeResult:
        p = loc.point
        return build_result(
            x=p.x.detach(), shape=nlp.shape, fun=float(p.f.detach()), grad_lagrangian=loc.grad_l.detach(),
            h=p.h.detach(), g=p.g.detach(), lam=loc.lam, mu=p.g.detach() * 0.0, lower=nlp.lower,
            upper=nlp.upper, status=status, reason=reason, method="exact-al", nit=nit,
            nfev=nlp.nfev, ngev=nlp.ngev, nhev=nlp.nhev, penalty=mu,
        )

    bad = nlp.nonfinite(point)
    if bad is not None or (lam0 is not None and not bool(torch.isfinite(lam0).all())):
        loc = _Local(point, lam, torch.full_like(x0, math.nan), (math.nan,) * 3)
        return finish(loc, MinimizeStatus.STALLED, f"{bad or 'warm-start multipliers'} at x0", 0)
    if lam0 is not None:
        lam = lam0.clone()
    elif m:
        loc0 = _local(nlp, x0, lam, point)
        jac0 = _batched_jacobian(point.h, point.x)
        lam = -torch.linalg.lstsq(jac0.T, loc0.grad_l.detach().unsqueeze(1)).solution.squeeze(1)
    loc = _local(nlp, x0, lam, point)
    for k in range(max_iter + 1):
        p, gl = loc.point, loc.grad_l.detach()
        c = p.h.detach()
        if float(p.f.detach()) < UNBOUNDED_BELOW:
            return finish(loc, MinimizeStatus.UNBOUNDED, f"the objective reached {float(p.f.detach()):.3e}", k)
        kkt = max(float(gl.abs().max()), float(c.abs().max()) if m else 0.0)
        if kkt <= tol:
            return finish(loc, MinimizeStatus.CONVERGED,
                          f"KKT conditions hold to tol={tol:.1e} after {k} Newton steps", k)
        if k == max_iter:
            break
        nlp.nhev += 1
        hess = _batched_jacobian(loc.grad_l, p.x)
        hess = 0.5 * (hess + hess.T)
        jac = _batched_jacobian(p.h, p.x)
        xi_g = float(torch.linalg.eigvalsh(jac @ jac.T)[0]) if m else 1.0
        if m and xi_g <= 1e-12 * max(1.0, _spectral(jac) ** 2):
            return finish(loc, MinimizeStatus.STALLED,
                          f"the constraint Jacobian is rank deficient (λ_min(GGᵀ) = {xi_g:.1e}); "
                          "exact-al needs linearly independent constraint gradients", k)
        t = 0.0
        if m < n:
            q, _ = torch.linalg.qr(jac.T, mode="complete") if m else (torch.eye(n, dtype=x0.dtype), None)
            z = q[:, m:]
            if float(torch.linalg.eigvalsh(z.T @ hess @ z)[0]) < 1e-6:
                t = _XI_B + _spectral(hess)
        bmat = hess + t * torch.eye(n, dtype=x0.dtype)
        kmat = torch.cat([torch.cat([bmat, jac.T], 1),
                          torch.cat([jac, torch.zeros(m, m, dtype=x0.dtype)], 1)], 0)
        rhs = -torch.cat([gl, c])
        psi = 20.0 * max(_spectral(bmat) ** 2, 1.0) / (min(xi_g, 1.0) * min(_XI_B, 1.0))
        upsilon = max(_spectral(jac), _spectral(hess), 1.0)
        k_norm, b_norm = _spectral(kmat), float(rhs.norm())

        def trial_delta(mu_: float, nu_: float, upsilon: float = upsilon, psi: float = psi) -> float:
            return (0.5 - _BETA) * nu_ / ((1.0 + mu_ + nu_) * upsilon**2 * psi**2)

        delta = max(min(delta, trial_delta(mu, nu)), _DELTA_MIN)
        sol = None
        while True:
            threshold = delta * b_norm / (k_norm * psi)
            if sol is None or sol.residual > threshold:
                sol = sketch_solve(kmat, rhs, threshold=threshold, generator=gen,
                                   delta0=None if sol is None else sol.delta)
            grad_merit = exact_al_merit_gradient(gl, hess, jac, c, mu, nu)
            slope = float(grad_merit @ sol.delta)
            if mu > 1e8 or nu < 1e-8 or slope <= -0.5 * nu * b_norm**2:
                break
            mu, nu = mu * _VARTHETA**2, nu / _VARTHETA
            delta = max(min(delta / _VARTHETA**4, trial_delta(mu, nu)), _DELTA_MIN)
        dx, dlam = sol.delta[:n], sol.delta[n:]
        merit0 = _merit(loc.merit_parts, mu, nu)
        alpha, accepted = 1.0, None
        for _ in range(_MAX_BACKTRACKS):
            cand = _local(nlp, p.x.detach() + alpha * dx, loc.lam + alpha * dlam)
            value = _merit(cand.merit_parts, mu, nu)
            if value == value and value <= merit0 + alpha * _BETA * min(slope, 0.0):
                accepted = cand
                break
            alpha *= 0.5
        if accepted is None:
            return finish(loc, MinimizeStatus.STALLED,
                          f"no Armijo step on the exact augmented Lagrangian (slope {slope:.2e})", k)
        loc = accepted
    return finish(loc, MinimizeStatus.MAX_ITER,
                  f"{max_iter} Newton steps without meeting tol={tol:.1e}", max_iter)
