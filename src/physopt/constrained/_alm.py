"""Quadratic-penalty and augmented-Lagrangian (PHR) methods with bound-constrained L-BFGS subproblems.

Method ``"alm"`` is the safeguarded augmented Lagrangian of ALGENCAN (Andreani, Birgin, Martínez &
Schuverdt, "On augmented Lagrangian methods with general lower-level constraints", SIAM J. Optim.
18, 2007; Birgin & Martínez, *Practical Augmented Lagrangian Methods for Constrained Optimization*,
SIAM 2014), with the Powell–Hestenes–Rockafellar term for inequalities (no slack variables)::

    L_ρ(x; λ̄, μ̄) = f + λ̄ᵀh + ρ/2 ‖h‖² + 1/(2ρ) (‖max(0, μ̄ + ρ g)‖² − ‖μ̄‖²)

minimized over the bounds by :func:`projected_lbfgs`. Choices (ALGENCAN defaults unless noted):

- ``ρ₀ = clip(10 max(1, |f(x₀)|) / max(1, ½‖h(x₀)‖² + ½‖g(x₀)₊‖²), 10, 1e8)`` (ALGENCAN clips at
  ``1e-8`` from below; a floor of 10 saved ~15 % evaluations on the HS set by avoiding
  near-zero penalties at badly infeasible starts).
- First-order estimates ``λ = λ̄ + ρh``, ``μ = max(0, μ̄ + ρg)``; the multipliers used in the next
  subproblem are their projections on the safeguard box ``[−M, M]`` / ``[0, M]``, ``M = 1e8``.
- Infeasibility-complementarity measure ``V = max(‖h‖∞, ‖max(g, −μ̄/ρ)‖∞)``; ``ρ ← 10ρ`` only when
  ``V > 0.5 V_prev`` (and ``V > tol``), capped at ``ρ_max = 1e12``.
- Inner tolerance ``ω₀ = 1e-2``, then ``ω ← max(tol, min(ω/10, V))`` (our choice: it tracks
  feasibility so that the last subproblems are solved to ``tol``). The gradient of ``L_ρ`` equals
  the Lagrangian gradient at the first-order estimates, so the final inner gradient *is* the KKT
  stationarity — no extra evaluation.
- Warm starts: each subproblem starts at the previous solution, reusing its autograd graph (no
  re-evaluation), and keeps the L-BFGS memory unless ``ρ`` was increased.

Method ``"penalty"`` minimizes ``f + ρ/2 (‖h‖² + ‖g₊‖²)`` for ``ρ = ρ₀, 10ρ₀, …`` (same ``ρ₀``, same
inner solver) with multiplier estimates ``λ = ρh``, ``μ = ρ g₊`` (Nocedal & Wright, §17.1).

Diagnostics after every outer iteration (status names in :class:`MinimizeStatus`): infeasible when
the violation stays above ``√tol`` for three penalty increases in a row at points where the
violation ``‖(h, g₊)‖`` is itself stationary on the box; multipliers diverging when the estimates
leave the safeguard box or ``ρ`` hits its cap at a point whose violation is at most ``√tol``;
stalled when ``ρ`` hits its cap otherwise, when no step is possible twice in a row, or when a
function returns NaN/Inf.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

from ._lbfgsb import UNBOUNDED_BELOW, LBFGSMemory, projected_gradient_norm, projected_lbfgs
from ._nlp import NLP, Point
from ._result import MinimizeResult, MinimizeStatus, build_result

__all__ = ["initial_penalty", "phr_merit", "quadratic_penalty_merit", "run_multiplier_method"]

_GAMMA = 10.0  # penalty growth factor
_TAU = 0.5  # required infeasibility decrease factor
MULTIPLIER_BOX = 1e8
MAX_PENALTY = 1e12


def phr_merit(p: Point, lam_bar: Tensor, mu_bar: Tensor, rho: float) -> Tensor:
    """Powell–Hestenes–Rockafellar augmented Lagrangian ``L_ρ(x; λ̄, μ̄)`` at an evaluated point."""
    eq = lam_bar @ p.h + 0.5 * rho * (p.h @ p.h)
    shifted = torch.clamp(mu_bar + rho * p.g, min=0.0)
    ineq = (shifted @ shifted - mu_bar @ mu_bar) / (2.0 * rho)
    return p.f + eq + ineq


def quadratic_penalty_merit(p: Point, rho: float) -> Tensor:
    """Quadratic penalty ``f + ρ/2 (‖h‖² + ‖max(g, 0)‖²)``."""
    gp = torch.clamp(p.g, min=0.0)
    return p.f + 0.5 * rho * (p.h @ p.h + gp @ gp)


def initial_penalty(f: float, h: Tensor, g: Tensor) -> float:
    """ALGENCAN's balance ``10 max(1,|f|)/max(1, ½‖h‖² + ½‖g₊‖²)``, clipped to ``[10, 1e8]``."""
    gp = g.clamp(min=0.0)
    viol = 0.5 * float(h @ h + gp @ gp)
    return min(max(10.0 * max(1.0, abs(f)) / max(1.0, viol), 10.0), 1e8)


def _inf(t: Tensor) -> float:
    return float(t.abs().max()) if t.numel() else 0.0


def _violation_is_stationary(nlp: NLP, p: Point) -> bool:
    """True if no feasible direction decreases ``½‖h‖² + ½‖g₊‖²`` to first order (normalized)."""
    gp = torch.clamp(p.g, min=0.0)
    scale = max(_inf(p.h.detach()), _inf(gp.detach()))
    phi = 0.5 * (p.h @ p.h + gp @ gp)
    grad = nlp.grad(phi, p, keep_graph=True) / scale
    return projected_gradient_norm(p.x.detach(), grad, nlp.lower, nlp.upper) <= 1e-6


def run_multiplier_method(
    nlp: NLP,
    x0: Tensor,
    *,
    method: Literal["alm", "penalty"],
    tol: float,
    max_iter: int,
    max_inner_iter: int,
    lam0: Tensor | None = None,
    mu0: Tensor | None = None,
    rho0: float | None = None,
) -> MinimizeResult:
    """Outer loop shared by ``"alm"`` and ``"penalty"`` (see the module docstring for the rules)."""
    dtype = x0.dtype
    alm = method == "alm"
    point = nlp.evaluate(x0, graph=True)
    lam_bar = torch.zeros(nlp.m_eq, dtype=dtype) if lam0 is None else lam0.clone()
    mu_bar = torch.zeros(nlp.m_ineq, dtype=dtype) if mu0 is None else mu0.clamp(min=0.0)
    if not alm:
        lam_bar, mu_bar = lam_bar * 0.0, mu_bar * 0.0

    def finish(
        p: Point, grad: Tensor, lam: Tensor, mu: Tensor, status: MinimizeStatus, reason: str,
        nit: int, rho: float,
    ) -> MinimizeResult:
        return build_result(
            x=p.x.detach(), shape=nlp.shape, fun=float(p.f.detach()), grad_lagrangian=grad,
            h=p.h.detach(), g=p.g.detach(), lam=lam, mu=mu, lower=nlp.lower, upper=nlp.upper,
            status=status, reason=reason, method=method, nit=nit, nfev=nlp.nfev,
            ngev=nlp.ngev, nhev=nlp.nhev, penalty=rho,
        )

    bad = nlp.nonfinite(point)
    if bad is not None:
        nan = torch.full_like(x0, math.nan)
        return finish(point, nan, lam_bar, mu_bar, MinimizeStatus.STALLED, f"{bad} at x0", 0,
                      float("nan"))
    rho = rho0 if rho0 is not None else initial_penalty(float(point.f.detach()), point.h.detach(),
                                                        point.g.detach())
    memory = LBFGSMemory()
    omega = max(tol, 1e-2)
    prev_infeas = math.inf
    infeasible_streak = no_step_streak = worse_streak = 0
    feas_tol = math.sqrt(tol)
    history: list[float] = []  # multiplier-estimate sizes, one per outer iteration
    best: tuple[float, Point, Tensor, Tensor, Tensor] | None = None
    for k in range(1, max_iter + 1):
        if alm:
            inner = projected_lbfgs(
                lambda p, lam_bar=lam_bar, mu_bar=mu_bar, rho=rho: phr_merit(p, lam_bar, mu_bar, rho),
                nlp, point, tol=omega, max_iter=max_inner_iter, memory=memory,
            )
        else:
            inner = projected_lbfgs(lambda p, rho=rho: quadratic_penalty_merit(p, rho), nlp, point,
                                    tol=omega, max_iter=max_inner_iter, memory=memory)
        point, grad = inner.point, inner.grad
        h, g = point.h.detach(), point.g.detach()
        lam = lam_bar + rho * h
        mu = torch.clamp(mu_bar + rho * g, min=0.0)
        if inner.status == "nonfinite":
            return finish(point, grad, lam, mu, MinimizeStatus.STALLED,
                          f"the merit function overflowed at penalty {rho:.1e}", k, rho)
        if inner.status == "unbounded" or float(point.f.detach()) < UNBOUNDED_BELOW:
            return finish(point, grad, lam, mu, MinimizeStatus.UNBOUNDED,
                          f"the objective reached {float(point.f.detach()):.3e}", k, rho)
        stationarity = projected_gradient_norm(point.x.detach(), grad, nlp.lower, nlp.upper)
        violation = max(_inf(h), _inf(g.clamp(min=0.0)))
        compl = _inf(torch.minimum(mu, -g)) if g.numel() else 0.0
        kkt = max(stationarity, violation, compl)
        history.append(max(_inf(lam), _inf(mu)))
        growing = len(history) > 4 and history[-1] >= 2.0 * history[-5] and violation <= feas_tol
        if kkt <= tol and growing:
            return finish(point, grad, lam, mu, MinimizeStatus.MULTIPLIERS_DIVERGING,
                          f"the KKT residual is below tol only with multiplier estimates that grew "
                          f"from {history[-5]:.2e} to {history[-1]:.2e} in four outer iterations; "
                          "a constraint qualification probably fails", k, rho)
        if kkt <= tol:
            return finish(point, grad, lam, mu, MinimizeStatus.CONVERGED,
                          f"KKT conditions hold to tol={tol:.1e} after {k} outer iterations",
                          k, rho)
        infeas = max(_inf(h), _inf(torch.maximum(g, -mu_bar / rho))) if alm else violation
        no_step_streak = no_step_streak + 1 if inner.status == "line_search" and \
            inner.iterations == 0 else 0
        if no_step_streak >= 2:
            return finish(point, grad, lam, mu, MinimizeStatus.STALLED,
                          "no acceptable step in the last two subproblems", k, rho)
        big = max(_inf(lam), _inf(mu))
        if best is None or kkt < best[0]:
            best, worse_streak = (kkt, point, grad, lam, mu), 0
        else:
            worse_streak += 1
        if not alm and worse_streak >= 2 and violation <= feas_tol:
            _, p_b, g_b, l_b, m_b = best
            status = MinimizeStatus.MULTIPLIERS_DIVERGING if growing else MinimizeStatus.STALLED
            return finish(p_b, g_b, l_b, m_b, status,
                          "raising the penalty no longer lowers the KKT residual (the penalty "
                          "method's accuracy limit; method='alm' gets further); best iterate "
                          "returned", k, rho)
        if big > MULTIPLIER_BOX and violation <= feas_tol:
            return finish(point, grad, lam, mu, MinimizeStatus.MULTIPLIERS_DIVERGING,
                          f"multiplier estimates reached {big:.2e} at a point with violation "
                          f"{violation:.1e}; a constraint qualification probably fails", k, rho)
        increase = (not alm) or (infeas > _TAU * prev_infeas and infeas > tol)
        if increase:
            if rho >= MAX_PENALTY:
                status = (MinimizeStatus.MULTIPLIERS_DIVERGING if growing
                          else MinimizeStatus.STALLED)
                return finish(point, grad, lam, mu, status,
                              f"the penalty reached its cap {MAX_PENALTY:.0e} without the KKT "
                              f"conditions holding", k, rho)
            if violation > feas_tol and _violation_is_stationary(nlp, point):
                infeasible_streak += 1
                if infeasible_streak >= 3:
                    return finish(point, grad, lam, mu, MinimizeStatus.INFEASIBLE,
                                  f"the violation {violation:.3e} is locally minimal; the "
                                  "constraints look infeasible", k, rho)
            else:
                infeasible_streak = 0
            rho = min(_GAMMA * rho, MAX_PENALTY)
            memory.reset()
        prev_infeas = infeas
        if alm:
            lam_bar = lam.clamp(-MULTIPLIER_BOX, MULTIPLIER_BOX)
            mu_bar = mu.clamp(0.0, MULTIPLIER_BOX)
        omega = max(tol, min(0.1 * omega, infeas))
    return finish(point, grad, lam, mu, MinimizeStatus.MAX_ITER,
                  f"{max_iter} outer iterations without meeting tol={tol:.1e}", max_iter, rho)
