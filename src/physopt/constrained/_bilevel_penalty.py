"""Value-function penalty methods of Kwon, Kwon, Wright & Nowak, "On Penalty Methods for Nonconvex
Bilevel Optimization and First-Order Stochastic Approximation" (ICLR 2024, arXiv:2309.01753).

With ``σ > 0`` the bilevel problem is replaced by the penalty (hyper-)function

    ψ_σ(x) = (1/σ) [ min_y (σF(x, y) + f(x, y)) − min_z f(x, z) ],

whose minimisers approach those of ``F(x, y*(x))`` as ``σ → 0`` (the paper shows ``O(σ)`` closeness of
values and stationary points under a proximal error bound, without lower-level convexity). Its gradient
is first order (Danskin), at the two inner minimisers ``y_σ`` and ``z``:

    ∇ψ_σ(x) = ∇ₓF(x, y_σ) + (∇ₓf(x, y_σ) − ∇ₓf(x, z))/σ.

``"penalty"`` (the paper's deterministic first-order method) solves both inner problems by projected
gradient descent, warm-started, to an accuracy ``σ·tol`` — an inner error ``δ`` costs ``L δ/σ`` in the
gradient — then steps ``x ← P_X(x − lr_x ∇ψ_σ)``; ``σ_k = max(σ_min, σ₀ ρᵏ)``. ``"penalty-sgd"`` is its
stochastic variant: ``inner_iter`` simultaneous SGD steps of ``y`` and ``z``, then one of ``x`` with step
``lr_x/√(k+1)``, ``σ_k = max(σ_min, σ₀ (k+1)^{−q})``; each step draws a fresh minibatch and uses it for
every gradient of that step (common random numbers), so that the ``1/σ`` difference in ``∇ψ_σ``
does not amplify independent noise.

The result's ``y`` is the lower-level iterate ``z ≈ argmin f(x, ·)`` (``y_σ`` is biased by ``O(σ)``).

Lower-level constraints ``g(x, y) <= 0`` (``"penalty"``): both inner problems keep them,
``ψ_σ(x) = (1/σ)[min_{g<=0} (σF + f) − min_{g<=0} f]``, and Danskin's theorem for constrained
parametric problems (at KKT points with multipliers ``μ_y``, ``μ_z``, under LICQ) gives

    ∇ψ_σ(x) = ∇ₓF(x, y_σ) + (∇ₓ(f + μ_yᵀg)(x, y_σ) − ∇ₓ(f + μ_zᵀg)(x, z))/σ.

Each inner problem is solved by projected gradient descent–ascent on its Lagrangian, the
multiplier step being the augmented-Lagrangian update ``μ ← max(0, μ + κ g)`` (``κ`` =
``dual_step``), warm-started across outer iterations, and stopped on the KKT residual at ``σ·tol``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from ._bilevel_problem import BilevelProblem, Grads, finite, inf_norm
from ._bilevel_result import BilevelRecord, BilevelResult, BilevelStatus, build_bilevel_result

__all__ = ["PenaltyOptions", "run_penalty"]


def _positive(owner: str, name: str, v: object) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v > 0) or not math.isfinite(v):
        raise ValueError(f"{owner}.{name} must be a positive finite number; got {v!r}")


@dataclass(frozen=True)
class PenaltyOptions:
    """Constants of the penalty methods.

    Attributes:
        lr_x: step of ``x`` on ``∇ψ_σ`` (below ``1/L`` of ``x ↦ F(x, y*(x))``).
        lr_y: step of the inner gradient descents on ``σF + f`` and ``f`` (below ``1/L_f``).
        sigma0: initial penalty parameter ``σ₀`` (the weight of ``F`` against the lower level).
        sigma_min: smallest ``σ``; the solution is ``O(σ_min)`` away from the bilevel one. Inner errors
            are amplified by ``1/σ``: in float32 keep ``σ_min ≳ 1e-2``.
        decay: ``ρ`` in ``σ_k = σ₀ ρᵏ`` (``"penalty"``).
        power: ``q`` in ``σ_k = σ₀ (k+1)^{−q}`` (``"penalty-sgd"``).
        inner_iter: most inner steps per outer step (``"penalty"``), or exactly that many (``"penalty-sgd"``).
        dual_step: ``κ`` of the inner multiplier update ``μ ← max(0, μ + κ g)`` (with ``lower_ineq``).
    """

    lr_x: float = 0.1
    lr_y: float = 0.1
    sigma0: float = 0.1
    sigma_min: float = 1e-4
    decay: float = 0.7
    power: float = 0.5
    inner_iter: int = 200
    dual_step: float = 1.0

    def __post_init__(self) -> None:
        for name in ("lr_x", "lr_y", "sigma0", "sigma_min", "power", "dual_step"):
            _positive("PenaltyOptions", name, getattr(self, name))
        if not (0 < self.decay <= 1):
            raise ValueError(f"PenaltyOptions.decay must be in (0, 1]; got {self.decay!r}")
        if isinstance(self.inner_iter, bool) or not isinstance(self.inner_iter, int) or self.inner_iter < 1:
            raise ValueError(f"PenaltyOptions.inner_iter must be a positive integer; got {self.inner_iter!r}")
        if self.sigma_min > self.sigma0:
            raise ValueError(f"PenaltyOptions.sigma_min={self.sigma_min!r} exceeds sigma0={self.sigma0!r}")


def _penalized(problem: BilevelProblem, x: Tensor, y: Tensor, sigma: float) -> tuple[Grads, Grads, Tensor]:
    """Gradients of ``F`` and ``f`` at ``(x, y)`` and ``∇_y(σF + f)``: one pass of each."""
    up = problem.upper_grads(x, y)
    lo = problem.lower_grads(x, y)
    return up, lo, sigma * up.gy + lo.gy


def _constrained_inner(problem: BilevelProblem, x: Tensor, y: Tensor, mu: Tensor, sigma: float,
                       o: PenaltyOptions, tol: float) -> tuple[Grads, Grads, Tensor, Tensor]:
    """``min_y σF + f s.t. g <= 0`` (``σ = 0``: ``f`` alone) by projected gradient descent–ascent on
    ``σF + f + μᵀg``, stopped on the KKT residual; returns ``(F grads, grads of f + μᵀg, y, μ)``."""
    for j in range(o.inner_iter + 1):
        mu = (mu + o.dual_step * problem.constraint_values(x, y).detach()).clamp(min=0.0)
        lo = problem.lower_grads(x, y, mu)
        up = problem.upper_grads(x, y) if sigma else lo
        gy = sigma * up.gy + lo.gy if sigma else lo.gy
        kkt = max(inf_norm(y - problem.project_y(y - gy)), inf_norm(lo.constraint.clamp(min=0.0)),
                  inf_norm(torch.minimum(mu, -lo.constraint)))
        if j == o.inner_iter or kkt <= tol:
            break
        y = problem.project_y(y - o.lr_y * gy)
    return up, lo, y, mu


def run_penalty(problem: BilevelProblem, x: Tensor, y: Tensor, *, options: PenaltyOptions, tol: float,
                max_iter: int, record_every: int, stochastic: bool,
                draw: Callable[[], None]) -> BilevelResult:
    o = options
    z = y.clone()
    method = "penalty-sgd" if stochastic else "penalty"
    history: list[BilevelRecord] = []
    status, reason = BilevelStatus.MAX_ITER, f"reached max_iter={max_iter}"
    sigma = o.sigma0
    upper = lower = gap = residual = math.inf
    m = problem.constraint_values(x, y).numel()
    mu_y, mu_z = x.new_zeros(m), x.new_zeros(m)
    k = 0
    for k in range(max_iter):
        sigma = max(o.sigma_min, o.sigma0 * ((k + 1) ** -o.power if stochastic else o.decay ** k))
        # σ·tol may lie below round-off (float32): inner solves then stop at a few ulps of the gradient
        inner_tol = max(sigma * tol, 64 * torch.finfo(x.dtype).eps)
        if stochastic:
            # y_σ ≈ argmin σF + f and z ≈ argmin f: inner_iter steps, both on the same fresh minibatch
            # each time, so that their noise cancels in the 1/σ difference of ∇ψ_σ
            for _ in range(o.inner_iter):
                draw()
                _, _, gy = _penalized(problem, x, y, sigma)
                gz = problem.lower_grads(x, z).gy
                y, z = problem.project_y(y - o.lr_y * gy), problem.project_y(z - o.lr_y * gz)
            draw()  # one minibatch for the three gradients of the outer step
            up, lo_y, _ = _penalized(problem, x, y, sigma)
            lo_z = problem.lower_grads(x, z)
        elif m:
            (up, lo_y, y, mu_y), (_, lo_z, z, mu_z) = (
                _constrained_inner(problem, x, y, mu_y, sigma, o, inner_tol),
                _constrained_inner(problem, x, z, mu_z, 0.0, o, inner_tol))
        else:
            # warm-started projected gradient descents, stopped on the projected gradient at σ·tol
            for j in range(o.inner_iter + 1):
                up, lo_y, gy = _penalized(problem, x, y, sigma)
                if j == o.inner_iter or inf_norm(y - problem.project_y(y - gy)) <= inner_tol:
                    break
                y = problem.project_y(y - o.lr_y * gy)
            for j in range(o.inner_iter + 1):
                lo_z = problem.lower_grads(x, z)
                if j == o.inner_iter or inf_norm(z - problem.project_y(z - lo_z.gy)) <= inner_tol:
                    break
                z = problem.project_y(z - o.lr_y * lo_z.gy)
        # with constraints, lo_y / lo_z hold the gradients of f + μᵀg at the inner multipliers
        grad = up.gx + (lo_y.gx - lo_z.gx) / sigma
        if not finite(grad, up.value, lo_y.value, lo_z.value):
            status, reason = BilevelStatus.STALLED, f"a non-finite value or gradient at iteration {k}"
            break
        upper, lower, gap = up.value, lo_z.value, lo_y.value - lo_z.value
        residual = problem.lower_residual(z, lo_z.gy, lo_z.constraint, mu_z)
        lr = o.lr_x / math.sqrt(k + 1) if stochastic else o.lr_x
        x_new, _ = problem.project_xy(x - lr * grad, y)
        step = inf_norm(x_new - x) / lr
        done = not stochastic and sigma <= o.sigma_min and step <= tol and residual <= tol
        if done or (k + 1) % record_every == 0 or k == max_iter - 1:
            history.append(BilevelRecord(k, upper, gap, residual, 1.0 / sigma))
        if done:
            status, reason = BilevelStatus.CONVERGED, f"step {step:.3e} and lower residual at most tol={tol:g}"
            break
        if k == max_iter - 1:
            break
        x = x_new
    # the reported upper value is F at (x, z), the lower-level solution estimate
    upper = problem.upper_grads(x, z).value if math.isfinite(upper) else upper
    return build_bilevel_result(
        x=x, y=z, x_shape=problem.x_shape, y_shape=problem.y_shape, upper=upper, lower=lower,
        value_gap=gap, lower_residual=residual, multipliers=mu_z, status=status, reason=reason,
        method=method, nit=k + 1, nupper=problem.nupper, nlower=problem.nlower, penalty=1.0 / sigma,
        history=history,
    )


