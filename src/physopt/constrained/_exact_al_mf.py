"""Matrix-free Newton steps on the exact augmented Lagrangian: the engine of ``method="newton"``.

The method of Hong, Na, Mahoney & Kolar (ICML 2023; dense version in :mod:`._exact_al`) for
``min F(z) s.t. c(z) = 0`` with ``L = F + λᵀc`` and the merit in ``(z, λ)`` jointly::

    ℒ_{μ,ν}(z, λ) = L + μ/2 ‖c‖² + ν/2 ‖∇_z L‖²
    ∇ℒᵀ(Δz, Δλ) = (∇L + ν H∇L + μ Jᵀc)ᵀΔz + (c + ν J∇L)ᵀΔλ,    H = ∇²_z L,  J = ∂c/∂z.

Each iteration solves the Newton–KKT system ``[[H + tI, Jᵀ], [J, 0]] (Δz, Δλ) = −(∇L, c)`` by MINRES
(:mod:`._krylov`) from products ``Hv`` (reverse-over-reverse autograd), ``Jv`` (double vector-Jacobian
trick on the same graph) and ``Jᵀw``: no ``n × n`` or ``m × n`` matrix exists, memory is that of a few
autograd graphs. The inexact solve is what the exact merit tolerates well: its slope degrades with the
*residual* of the linear system in the units of the KKT residual, unlike a penalty merit, whose
Hessian ``H + ρJᵀJ`` amplifies residuals by ``ρ‖J‖²`` (``‖J‖ ~ 1/h²`` for PDE constraints).

Differences from the paper (ours, because the paper's test needs ``‖K‖``, ``λ_min(JJᵀ)`` and the
reduced-Hessian spectrum, which a matrix-free method does not have):

- Accuracy: relative residual ``η = min(0.1, √‖b‖)`` (Eisenstat–Walker forcing, which the paper's
  "sharpened" condition amounts to: superlinear local convergence), tightened ×0.01 while the descent
  test ``∇ℒᵀΔ ≤ −ν/2 ‖b‖²`` fails, down to ``1e-10``; then ``μ ← ϑ²μ, ν ← ν/ϑ`` (``ϑ = 1.5``, the
  paper's rule) up to ``μ ≤ 1e8, ν ≥ 1e-8``; then the shift ``t = 1e-4, 1e-2, 1 · max(1, ‖∇L‖∞)``
  replaces the reduced-Hessian test (negative curvature shows up as a failed descent test).
- Diagonal preconditioner ``M⁻¹ = diag(1/(|diag H| + 1), 1/(Σⱼ Jᵢⱼ² mⱼ + 1e-12))`` (variables and
  constraint rows scaled; the ranges are reported), diagonals estimated from 4 Rademacher probes.
- A step-length cap ``max_step(z, Δz)`` (the fraction-to-boundary rule of the interior-point caller).
- ``μ₀ = 1, ν₀ = 0.1``, Armijo ``β = 0.1`` with halving (the paper's values).
- An interior-point caller's log barrier comes as a :class:`._barrier.LogBarrier` added in closed form,
  and a solve may start from the previous solve's last point (``start=``): a new barrier parameter
  or multiplier estimate at the same ``z`` costs no evaluation of the user's functions.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ._barrier import LogBarrier
from ._krylov import minres
from ._schur import ColoredJacobian, colored_jacobian, schur_preconditioner

__all__ = ["NewtonStats", "SubResult", "solve_equality"]

_BETA, _VARTHETA = 0.1, 1.5
_PROBES = 4
_MAX_BACKTRACKS = 40


@dataclass
class NewtonStats:
    """Counters shared by all subproblem solves of one run (mutable, owned by the caller)."""

    nfev: int = 0
    ngev: int = 0
    nhvp: int = 0
    newton_steps: int = 0
    krylov_iterations: int = 0
    scale_x: list[float] = field(default_factory=lambda: [math.inf, 0.0])
    scale_c: list[float] = field(default_factory=lambda: [math.inf, 0.0])
    jvps: int = 0
    # the sparsity pattern of J, found once per run (None until then; False where it is unavailable)
    pattern: ColoredJacobian | None | bool = None
    schur_steps: int = 0

    def record(self, which: list[float], m: Tensor) -> None:
        if m.numel():
            which[0], which[1] = min(which[0], float(m.min())), max(which[1], float(m.max()))


class _Local:
    """Values, ``∇L`` (with graph) and the operator products at one ``(z, λ)``.

    ``fn`` gives the user-level ``(F, c)`` with autograd graphs; a :class:`._barrier.LogBarrier`, if
    any, is added in closed form, so :meth:`rebased` can change ``λ`` and the barrier at the same ``z``
    without calling ``fn`` again (one vector-Jacobian product of ``c`` for a new ``λ``)."""

    def __init__(self, fn: Callable[[Tensor], tuple[Tensor, Tensor]], z: Tensor, lam: Tensor,
                 stats: NewtonStats, barrier: LogBarrier | None = None) -> None:
        self.stats = stats
        self.z = z.detach().clone().requires_grad_(True)
        stats.nfev += 1
        self.f, self.c = fn(self.z)
        lag = self.f + lam @ self.c
        stats.ngev += 1
        gl = torch.autograd.grad(lag, self.z, create_graph=True, allow_unused=True)[0] if lag.requires_grad else None
        self.gl = gl if gl is not None else torch.zeros_like(self.z)
        cd = self.c.detach()
        self.w0 = torch.zeros_like(cd).requires_grad_(True)
        self.jt = None
        if cd.numel() and self.c.requires_grad:
            jt = torch.autograd.grad(self.c, self.z, self.w0, create_graph=True, allow_unused=True)[0]
            self.jt = jt if jt is not None and jt.requires_grad else None
        self._settle(lam, barrier)

    def _settle(self, lam: Tensor, barrier: LogBarrier | None) -> None:
        """The parts that depend on ``λ`` and the barrier, from the user-level graph ``self.gl``."""
        self.lam, self.barrier = lam, barrier
        zd, cd = self.z.detach(), self.c.detach()
        lag = float(self.f.detach()) + float(lam @ cd)
        self.g = self.gl.detach()
        self.hdiag: Tensor | None = None
        if barrier is not None:
            lag += barrier.value(zd)
            self.g = self.g + barrier.grad(zd)
            self.hdiag = barrier.hess_diag(zd)
        self.parts = (lag, float(cd @ cd), float(self.g @ self.g))

    def rebased(self, lam: Tensor, barrier: LogBarrier | None) -> _Local:
        """The same point with multipliers ``lam`` and ``barrier`` (no new evaluation of ``fn``)."""
        new = copy.copy(self)
        dl = lam - self.lam
        if bool((dl != 0).any()) and self.c.requires_grad:
            extra = torch.autograd.grad(self.c, self.z, dl, create_graph=True, allow_unused=True)[0]
            if extra is not None:
                new.gl = self.gl + extra
        new._settle(lam, barrier)
        return new

    def finite(self) -> bool:
        return all(math.isfinite(v) for v in self.parts)

    def merit(self, mu: float, nu: float) -> float:
        return self.parts[0] + 0.5 * mu * self.parts[1] + 0.5 * nu * self.parts[2]

    def hvp(self, v: Tensor) -> Tensor:
        self.stats.nhvp += 1
        out = None
        if self.gl.requires_grad:
            out = torch.autograd.grad(self.gl, self.z, v, retain_graph=True, allow_unused=True)[0]
        out = torch.zeros_like(v) if out is None else out
        return out if self.hdiag is None else out + self.hdiag * v

    def jvp(self, v: Tensor) -> Tensor:
        self.stats.jvps += 1
        if self.jt is None:
            return self.w0.new_zeros(self.w0.shape)
        out = torch.autograd.grad(self.jt, self.w0, v, retain_graph=True, allow_unused=True)[0]
        return self.w0.new_zeros(self.w0.shape) if out is None else out

    def vjp(self, w: Tensor) -> Tensor:
        if self.jt is None:
            return torch.zeros_like(self.g)
        out = torch.autograd.grad(self.c, self.z, w, retain_graph=True, allow_unused=True)[0]
        return torch.zeros_like(self.g) if out is None else out

    def _pattern(self, gen: torch.Generator) -> ColoredJacobian | None:
        n, m = self.g.numel(), self.w0.numel()
        known = self.stats.pattern
        if isinstance(known, ColoredJacobian) and known.shape == (m, n):
            return known
        if known is False or self.jt is None or not m:
            return None
        found = colored_jacobian(self.jvp, m, n, self.g, gen)
        # J counts as sparse when colouring saves at least 4× over n products; otherwise (small dense
        # problems such as the Hock–Schittkowski set, where the diagonal scaling needs fewer
        # evaluations: 51 vs 53 median) the diagonal preconditioner stays
        self.stats.pattern = found if found is not None and 4 * found.n_colors <= n else False
        return self.stats.pattern or None

    def schur(self, d: Tensor, gen: torch.Generator) -> Callable[[Tensor], Tensor] | None:
        """``v ↦ (v_x / d, S⁻¹ v_c)``, ``S = J diag(d)⁻¹ Jᵀ`` (:mod:`._schur`); ``None`` if unavailable."""
        pattern = self._pattern(gen)
        if pattern is None:
            return None
        apply = schur_preconditioner(pattern, pattern.values(self.jvp, self.vjp, self.g), d)
        if apply is not None:
            self.stats.schur_steps += 1
            self.stats.record(self.stats.scale_x, 1.0 / d)
        return apply

    def preconditioner(self, gen: torch.Generator) -> Tensor | Callable[[Tensor], Tensor]:
        """``diag(D)⁻¹ ⊕ S⁻¹`` (:mod:`._schur`) when ``J`` is sparse and banded, else the diagonal of the
        module docstring; ``D = |diag H|`` estimated from Rademacher probes (exact for diagonal ``H``)."""
        n = self.g.numel()
        dh = torch.zeros_like(self.g)
        sq = self.w0.new_zeros(self.w0.shape)
        probes = [torch.randint(0, 2, (n,), generator=gen).to(self.g) * 2.0 - 1.0 for _ in range(_PROBES)]
        for v in probes:
            dh += v * self.hvp(v) / _PROBES
        apply = self.schur(dh.abs() + 1e-8 * max(1.0, float(dh.abs().max())), gen)
        if apply is not None:
            return apply
        mx = 1.0 / (dh.abs() + 1.0)
        for v in probes:
            sq += self.jvp(v * mx.sqrt()) ** 2 / _PROBES
        mc = 1.0 / (sq + 1e-12)
        self.stats.record(self.stats.scale_x, mx)
        self.stats.record(self.stats.scale_c, mc)
        return torch.cat([mx, mc])


@dataclass(frozen=True)
class SubResult:
    """End of one equality-constrained solve: the final local state, why it stopped, penalties."""

    z: Tensor
    lam: Tensor
    grad_lagrangian: Tensor
    c: Tensor
    f: float
    converged: bool
    reason: str
    mu: float
    nu: float
    state: _Local  # the final point with its graphs: the start of the next solve at the same ``z``


def solve_equality(
    fn: Callable[[Tensor], tuple[Tensor, Tensor]],
    z0: Tensor,
    lam0: Tensor,
    *,
    tol: float,
    max_iter: int,
    max_step: Callable[[Tensor, Tensor], float],
    stats: NewtonStats,
    generator: torch.Generator,
    mu: float = 1.0,
    nu: float = 0.1,
    estimate_multipliers: bool = False,
    barrier: LogBarrier | None = None,
    start: _Local | None = None,
) -> SubResult:
    """Newton on ``ℒ_{μ,ν}`` until ``max(‖∇L‖∞, ‖c‖∞) ≤ tol`` (see the module docstring), for
    ``F = fn(z)[0] + barrier(z)``.

    ``estimate_multipliers`` replaces ``lam0`` by the least-squares estimate ``argmin ‖∇F + Jᵀλ‖``
    (MINRES on ``[[I, Jᵀ], [J, 0]]``), as the dense method does. ``start``: the ``state`` of a previous
    solve of the same ``fn`` that ended at ``z0``, re-used instead of evaluating ``fn`` there again."""
    loc = _Local(fn, z0, lam0, stats, barrier) if start is None else start.rebased(lam0, barrier)
    if estimate_multipliers and lam0.numel() and loc.finite():
        n0 = loc.g.numel()

        def ls_op(v: Tensor) -> Tensor:
            return torch.cat([v[:n0] + loc.vjp(v[n0:]), loc.jvp(v[:n0])])

        grad_f = loc.g - loc.vjp(lam0)
        sol = minres(ls_op, torch.cat([-grad_f, torch.zeros_like(lam0)]), rtol=1e-8,
                     max_iter=min(max(50, 10 * (n0 + lam0.numel())), 50000),
                     precond=loc.schur(torch.ones_like(loc.g), generator))
        stats.krylov_iterations += sol.iterations
        if bool(torch.isfinite(sol.x).all()):
            loc = loc.rebased(sol.x[n0:].detach(), barrier)

    def done(ok: bool, reason: str) -> SubResult:
        return SubResult(loc.z.detach(), loc.lam, loc.g, loc.c.detach(), float(loc.f.detach()), ok, reason, mu, nu,
                         loc)

    if not loc.finite():
        return done(False, "a function returned NaN or Inf at the start point")
    n, m = loc.g.numel(), loc.lam.numel()
    for _ in range(max_iter):
        b = torch.cat([loc.g, loc.c.detach()])
        kkt = float(b.abs().max())
        if kkt <= tol:
            return done(True, "converged")
        if float(loc.f.detach()) < -1e20:
            return done(False, "unbounded")
        stats.newton_steps += 1
        b_norm = float(b.norm())
        precond = loc.preconditioner(generator)
        hg, jtc, jg = loc.hvp(loc.g), loc.vjp(loc.c.detach()), loc.jvp(loc.g)
        scale = max(1.0, float(loc.g.abs().max()))
        step, slope = None, 0.0
        for shift in (0.0, 1e-4 * scale, 1e-2 * scale, scale):
            def op(v: Tensor, t: float = shift, at: _Local = loc) -> Tensor:
                dz, dl = v[:n], v[n:]
                return torch.cat([at.hvp(dz) + t * dz + at.vjp(dl), at.jvp(dz)])

            eta = min(0.1, math.sqrt(b_norm))
            krylov_max = min(max(50, 10 * (n + m)), 50000)
            while True:
                sol = minres(op, -b, rtol=eta, max_iter=krylov_max, precond=precond)
                stats.krylov_iterations += sol.iterations
                d = sol.x
                # a solve that ran out of iterations is not helped by a tighter η (a singular or
                # inconsistent system, e.g. a variable that enters only linearly with its bound dropped
                # in the active-set polish: 36 000 MINRES iterations on a 108-variable L1 problem)
                if sol.residual <= 0.5 or eta <= 1e-10 or sol.iterations > krylov_max:
                    break
                eta = max(eta * 1e-2, 1e-10)
            dz, dl = d[:n], d[n:]
            if not bool(torch.isfinite(d).all()):
                continue
            # negative or zero curvature along the step (the matrix-free stand-in for the paper's
            # reduced-Hessian test): shift H and solve again
            if float(dz @ loc.hvp(dz)) + shift * float(dz @ dz) <= 1e-10 * scale * float(dz @ dz):
                continue
            base = float(loc.g @ dz + loc.c.detach() @ dl)
            corr_nu, corr_mu = float(hg @ dz + jg @ dl), float(jtc @ dz)
            for _adapt in range(40):
                slope = base + nu * corr_nu + mu * corr_mu
                if slope <= -0.5 * nu * b_norm**2 or mu > 1e8 or nu < 1e-8:
                    break
                mu, nu = mu * _VARTHETA**2, nu / _VARTHETA
            if slope < 0.0:
                step = d
                break
        if step is None:
            return done(False, "no descent direction for the exact augmented Lagrangian")
        dz, dl = step[:n], step[n:]
        merit0 = loc.merit(mu, nu)
        # a step of more than 10 max(1, ‖z‖∞) is cut back first (nearly singular KKT systems far from
        # a solution); the Armijo test would reach it by halving, one evaluation per halving
        cap = 10.0 * max(1.0, float(loc.z.detach().abs().max())) / max(float(dz.abs().max()), 1e-300)
        alpha = min(1.0, cap, max_step(loc.z.detach(), dz))
        accepted = None
        for _ in range(_MAX_BACKTRACKS):
            cand = _Local(fn, loc.z.detach() + alpha * dz, loc.lam + alpha * dl, stats, barrier)
            value = cand.merit(mu, nu)
            if cand.finite() and value <= merit0 + _BETA * alpha * min(slope, 0.0):
                accepted = cand
                break
            if cand.finite() and abs(value - merit0) <= 1e-14 * max(1.0, abs(merit0)):
                accepted = cand  # the decrease drowns in rounding: the KKT test decides next
                break
            alpha *= 0.5
        if accepted is None:
            return done(False, f"no Armijo step on the exact augmented Lagrangian (slope {slope:.2e})")
        loc = accepted
    b = torch.cat([loc.g, loc.c.detach()])
    if float(b.abs().max()) <= tol:
        return done(True, "converged")
    return done(False, f"{max_iter} Newton steps without meeting tol={tol:.1e}")
