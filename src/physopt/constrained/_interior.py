"""``method="newton"``: a log-barrier interior-point loop around matrix-free exact-AL Newton steps.

Inequalities get slacks ``s`` and bounds a logarithmic barrier, so that every subproblem is
equality constrained and goes to :func:`._exact_al_mf.solve_equality`::

    min_{x,s}  f(x) − τ (Σ log(x − lo) + Σ log(hi − x) + Σ log s)   s.t.  h(x) = 0,  g(x) + s = 0

(sums over finite bounds; Fiacco & McCormick; the update rules are IPOPT's, Wächter & Biegler, Math.
Prog. 106, 2006): start ``τ₀ = 0.1`` (0 without bounds and inequalities: one solve), bound push
``κ₁ = 1e-2`` (``x₀`` moved ``1e-2 max(1, |bound|)`` inside, at most a third of the box width), slack
``s₀ = max(−g(x₀), 1e-2)``, subproblem tolerance ``max(10 τ, tol/2)``, ``τ ← min(τ/5, τ^1.5)`` down to
``tol/100``, fraction to the boundary ``max(0.99, 1 − τ)``. The multiplier of ``g + s = 0`` is the
inequality multiplier (``≈ τ/s ≥ 0``).

After each subproblem with ``τ ≤ 1e-2`` an active set is guessed (IPOPT's rule: a bound is active
where its multiplier exceeds its gap, i.e. ``x − lo < r`` with ``r = ∇f + Jₕᵀλ + J_gᵀμ > 0``; an
inequality where ``μ > s``) and refined by the primal-dual active set method (semismooth Newton for
``x = P(x − r)``; Hintermüller, Ito & Kunisch, SIAM J. Optim. 13, 2002): the active bounds and
inequalities are fixed, the rest solved without a barrier by at most 5 Newton steps, then a fixed
bound whose multiplier has the wrong sign is freed and a free variable past a bound fixed at it (the
same for inequalities, by ``μ`` and the sign of the slack), at most 12 times, until the sets repeat.
It ends the run when it yields a KKT point of the original problem to ``tol``; otherwise the barrier
path goes on. A barrier alone would need ``τ ~ tol²`` at weakly active bounds, where the barrier
Hessian ``τ/(x − lo)²`` makes the linear systems ill-conditioned: on the boxed PDE problems with 10⁴
variables it stalled at stationarity 7e-6 / 2e-5, which the active-set iteration reaches from
``τ ≈ 3e-3`` in a few steps.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._barrier import LogBarrier
from ._exact_al_mf import NewtonStats, SubResult, solve_equality
from ._nlp import NLP, project
from ._result import MinimizeResult, MinimizeStatus, build_result
from ._schur import ColoredJacobian

__all__ = ["run_newton"]

_TAU0, _KAPPA_PUSH, _KAPPA_EPS = 0.1, 1e-2, 10.0
_POLISH_BELOW = 1e-2  # barrier values at which an active-set guess is tried
# primal-dual active set iterations per attempt, Newton steps per reduced solve (one is exact for a
# linear-quadratic problem whose KKT system MINRES solves to the tolerance; the rest for nonlinear ones)
_PDAS_ITER, _PDAS_NEWTON = 12, 5


def _push_inside(x: Tensor, lo: Tensor, hi: Tensor) -> Tensor:
    fin_lo, fin_hi = torch.isfinite(lo), torch.isfinite(hi)
    width = torch.where(fin_lo & fin_hi, hi - lo, torch.full_like(x, math.inf))
    push_lo = torch.minimum(_KAPPA_PUSH * torch.where(fin_lo, lo.abs(), 0.0).clamp(min=1.0), width / 3)
    push_hi = torch.minimum(_KAPPA_PUSH * torch.where(fin_hi, hi.abs(), 0.0).clamp(min=1.0), width / 3)
    x = torch.where(fin_lo, torch.maximum(x, lo + push_lo), x)
    return torch.where(fin_hi, torch.minimum(x, hi - push_hi), x)


def run_newton(
    nlp: NLP, x0: Tensor, *, tol: float, max_iter: int, lam0: Tensor | None, mu0: Tensor | None, seed: int
) -> MinimizeResult:
    """Interior-point loop (module docstring); ``max_iter`` bounds the total number of Newton steps."""
    n, me, mi = nlp.n, nlp.m_eq, nlp.m_ineq
    lo, hi = nlp.lower, nlp.upper
    has_lo, has_hi = torch.isfinite(lo), torch.isfinite(hi)
    barrier = bool(has_lo.any() or has_hi.any()) or mi > 0
    stats, gen = NewtonStats(), torch.Generator().manual_seed(seed)
    lo0, hi0 = torch.where(has_lo, lo, torch.zeros_like(lo)), torch.where(has_hi, hi, torch.zeros_like(hi))
    x = _push_inside(x0, lo, hi) if barrier else x0
    p0 = nlp.evaluate(x, graph=False)
    bad = nlp.nonfinite(p0)
    if bad is not None:  # name the function, as the other methods do
        nan = torch.full_like(x, math.nan)
        empty = torch.zeros(me + mi, dtype=x.dtype, device=x.device)
        return _finish(nlp, (x, nan, math.inf), stats, MinimizeStatus.STALLED, f"{bad} at x0", empty, math.nan)
    z = torch.cat([x, (-p0.g).clamp(min=1e-2)])
    lam = torch.zeros(me + mi, dtype=x.dtype, device=x.device)
    if lam0 is not None:
        lam[:me] = lam0
    if mu0 is not None:
        lam[me:] = mu0.clamp(min=0.0)
    tau = _TAU0 if barrier else 0.0
    tau_min = tol / 100.0

    def fn(zz: Tensor) -> tuple[Tensor, Tensor]:  # the barrier is added by the engine (LogBarrier)
        f, h, g = nlp.values(zz[:n])
        return f, torch.cat([h, g + zz[n:]])

    def max_step(zz: Tensor, dz: Tensor, t: float) -> float:
        frac = max(0.99, 1.0 - t)
        gaps = torch.cat([torch.where(has_lo, zz[:n] - lo0, math.inf), torch.where(has_hi, hi0 - zz[:n], math.inf),
                          zz[n:]])
        moves = torch.cat([-dz[:n], dz[:n], -dz[n:]])
        limits = torch.where(moves > 0, frac * gaps / moves.clamp(min=1e-300), math.inf)
        return float(limits.min()) if limits.numel() else math.inf

    mu_pen, nu_pen = 1.0, 0.1
    steps_left = max_iter
    first = True
    sub: SubResult | None = None
    failed_polish_at = -1
    while True:
        sub_tol = max(_KAPPA_EPS * tau, 0.5 * tol)
        before = stats.newton_steps
        sub = solve_equality(fn, z, lam, tol=sub_tol, max_iter=max(steps_left, 1),
                             max_step=lambda zz, dz, t=tau: max_step(zz, dz, t), stats=stats, generator=gen,
                             mu=mu_pen, nu=nu_pen, estimate_multipliers=first and lam0 is None and mu0 is None,
                             barrier=LogBarrier(tau, lo, hi) if tau > 0.0 else None,
                             start=None if sub is None else sub.state)
        first = False
        steps_left -= stats.newton_steps - before
        z, lam, mu_pen, nu_pen = sub.z, sub.lam, sub.mu, sub.nu
        final = _kkt_of(nlp, sub, n, me)
        if final[2] <= tol:
            return _finish(nlp, final, stats, MinimizeStatus.CONVERGED,
                           f"KKT conditions hold to tol={tol:.1e} (barrier τ = {tau:.1e})", lam, mu_pen)
        # the polish is retried only from a point the barrier path has moved since its last failure: the
        # same point gives the same guess (a warm start already within the subproblem tolerance takes no
        # Newton step, and the failed polish cost thousands of MINRES iterations at every smaller τ)
        if sub.converged and barrier and tau <= _POLISH_BELOW and stats.newton_steps != failed_polish_at:
            polished = _polish(nlp, z, lam, final[1], tol=tol, stats=stats, gen=gen)
            if polished is not None:
                return _finish(nlp, polished[:3], stats, MinimizeStatus.CONVERGED,
                               f"KKT conditions hold to tol={tol:.1e} on the active set guessed at barrier "
                               f"τ = {tau:.1e}", polished[3], mu_pen)
            failed_polish_at = stats.newton_steps
        if not sub.converged:
            status = MinimizeStatus.UNBOUNDED if sub.reason == "unbounded" else (
                MinimizeStatus.MAX_ITER if steps_left <= 0 else MinimizeStatus.STALLED)
            return _finish(nlp, final, stats, status, f"{sub.reason} (barrier τ = {tau:.1e})", lam, mu_pen)
        if tau <= tau_min or not barrier:
            return _finish(nlp, final, stats, MinimizeStatus.STALLED,
                           f"the barrier reached τ = {tau:.1e} without the KKT conditions holding", lam, mu_pen)
        if steps_left <= 0:
            return _finish(nlp, final, stats, MinimizeStatus.MAX_ITER,
                           f"{max_iter} Newton steps without meeting tol={tol:.1e}", lam, mu_pen)
        tau = max(tau_min, min(tau / 5.0, tau**1.5))


def _kkt_at(nlp: NLP, x: Tensor, lam_h: Tensor, mu: Tensor) -> tuple[Tensor, Tensor, float]:
    p = nlp.evaluate(x, graph=True)
    r = nlp.grad(p.f + lam_h @ p.h + mu @ p.g, p)
    return _kkt_parts(nlp, p.x.detach(), r, p.h.detach(), p.g.detach(), mu)


def _kkt_of(nlp: NLP, sub: SubResult, n: int, me: int) -> tuple[Tensor, Tensor, float]:
    """:func:`_kkt_at` from the graphs of the subproblem's last point (no new evaluation): the state's
    ``∇ₓ(f + λᵀ(h, g + s))`` corrected by ``J_gᵀ(μ − λ_g)`` for ``μ = max(λ_g, 0)``."""
    st = sub.state
    lam_g = sub.lam[me:]
    mu = lam_g.clamp(min=0.0)
    r = st.gl.detach()
    if bool((mu != lam_g).any()):
        r = r + st.vjp(torch.cat([torch.zeros_like(sub.lam[:me]), mu - lam_g]))
    c = sub.c
    return _kkt_parts(nlp, sub.z[:n], r[:n], c[:me], c[me:] - sub.z[n:], mu)


def _kkt_parts(nlp: NLP, xs: Tensor, r: Tensor, h: Tensor, g: Tensor, mu: Tensor) -> tuple[Tensor, Tensor, float]:
    parts = [float((xs - project(xs - r, nlp.lower, nlp.upper)).abs().max())]
    parts += [float(t.abs().max()) for t in (h, g.clamp(min=0.0)) if t.numel()]
    if mu.numel():
        parts.append(float(torch.minimum(mu, -g).abs().max()))
    kkt = max(parts)
    return xs, r, kkt if math.isfinite(kkt) else math.inf


def _polish(nlp: NLP, z: Tensor, lam: Tensor, r: Tensor, *, tol: float, stats: NewtonStats,
            gen: torch.Generator) -> tuple[Tensor, Tensor, float, Tensor] | None:
    """Primal-dual active set iteration from the barrier point (see the module docstring); ``None`` if
    it does not reach a KKT point of the original problem."""
    n, me = nlp.n, nlp.m_eq
    x, s = z[:n], z[n:]
    at_lo = (x - nlp.lower < r) & (r > 0)
    at_hi = (nlp.upper - x < -r) & (r < 0) & ~at_lo
    active = lam[me:] > s
    zc, lamc = z, lam
    for _ in range(_PDAS_ITER):
        bound = torch.where(at_lo, nlp.lower, torch.where(at_hi, nlp.upper, torch.zeros_like(x)))
        fixed = at_lo | at_hi
        z0 = torch.cat([torch.where(fixed, bound, zc[:n]), torch.where(active, 0.0, zc[n:])])

        def fn(zz: Tensor, fixed: Tensor = fixed, bound: Tensor = bound, active: Tensor = active
               ) -> tuple[Tensor, Tensor]:
            xx, ss = torch.where(fixed, bound, zz[:n]), torch.where(active, 0.0, zz[n:])
            f, h, g = nlp.values(xx)
            # the fixed coordinates get a unit Hessian (their gradient is 0 at the bound), so the
            # reduced KKT matrix stays nonsingular and the preconditioner's diagonal stays O(1)
            pin = 0.5 * (torch.where(fixed, zz[:n] - bound, 0.0) ** 2).sum() + 0.5 * (
                torch.where(active, zz[n:], 0.0) ** 2).sum()
            return f + pin, torch.cat([h, g + ss])

        sub = solve_equality(fn, z0, lamc, tol=0.5 * tol, max_iter=_PDAS_NEWTON, max_step=lambda zz, dz: math.inf,
                             stats=stats, generator=gen)
        if not sub.converged:
            return None
        xs = torch.where(fixed, bound, sub.z[:n])
        ss = torch.where(active, 0.0, sub.z[n:])
        zc, lamc = torch.cat([xs, ss]), sub.lam
        xs, r2, kkt = _kkt_at(nlp, xs, sub.lam[:me], sub.lam[me:].clamp(min=0.0))
        # the PDAS update (Hintermüller, Ito & Kunisch 2002): a fixed bound stays while its multiplier
        # has the right sign, a free variable past a bound is fixed there; the same for inequalities
        # (active while μ ≥ 0, activated where the slack went negative, i.e. g > 0)
        new_lo = torch.where(at_lo, r2 > 0, xs < nlp.lower)
        new_hi = torch.where(at_hi, r2 < 0, xs > nlp.upper) & ~new_lo
        new_active = torch.where(active, sub.lam[me:] >= 0, ss < 0)
        if kkt <= tol:
            return xs, r2, kkt, sub.lam
        if bool((new_lo == at_lo).all() & (new_hi == at_hi).all() & (new_active == active).all()):
            return None  # the sets repeat without a KKT point: the barrier path goes on
        at_lo, at_hi, active = new_lo, new_hi, new_active
    return None


def _finish(nlp: NLP, final: tuple[Tensor, Tensor, float], stats: NewtonStats, status: MinimizeStatus,
            reason: str, lam: Tensor, penalty: float) -> MinimizeResult:
    x, r, _ = final
    f, h, g = (t.detach() for t in nlp.values(x))
    me = nlp.m_eq
    work = (f"; {stats.newton_steps} Newton steps, {stats.krylov_iterations} MINRES iterations, scaling of "
            f"variables {stats.scale_x[0]:.1e}..{stats.scale_x[1]:.1e}")
    if math.isfinite(stats.scale_c[0]):
        work += f", of constraint rows {stats.scale_c[0]:.1e}..{stats.scale_c[1]:.1e}"
    if isinstance(stats.pattern, ColoredJacobian):
        work += (f"; Schur-complement preconditioner in {stats.schur_steps} steps (J: {stats.pattern.rows.numel()} "
                 f"nonzeros, {stats.pattern.n_colors} colours)")
    return build_result(
        x=x, shape=nlp.shape, fun=float(f), grad_lagrangian=r, h=h, g=g, lam=lam[:me],
        mu=lam[me:].clamp(min=0.0), lower=nlp.lower, upper=nlp.upper, status=status, reason=reason + work,
        method="newton", nit=stats.newton_steps, nfev=stats.nfev + nlp.nfev, ngev=stats.ngev + nlp.ngev,
        nhev=0, penalty=penalty, nhvp=stats.nhvp,
    )
