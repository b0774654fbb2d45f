"""LV-HBA: the single-loop, Hessian-free method of Yao, Yu, Zeng, Zhang & Zhang, "Constrained Bi-Level
Optimization: Proximal Lagrangian Value Function Approach and Hessian-free Algorithm" (ICLR 2024,
arXiv:2401.16164).

The lower level ``min_θ f(x, θ) s.t. g(x, θ) <= 0`` is replaced by its proximal Lagrangian value function

    v_γ(x, y, z) = min_θ max_{λ >= 0} f(x, θ) + λᵀg(x, θ) + ‖θ − y‖²/(2γ₁) − ‖λ − z‖²/(2γ₂),

which is smooth in ``(x, y, z)`` and lies below ``f`` at feasible ``y``; the bilevel problem becomes
``min F(x, y) s.t. f(x, y) − v_γ(x, y, z) <= 0, (x, y) ∈ C = {g <= 0}``, solved by penalty: minimise
``F/c_k + f − v_γ`` with ``c_k = c̲ (k + 1)^p``, ``p ∈ (0, 1/2)``. One iteration (all gradients first
order; Danskin gives ``∇v_γ`` from the inner saddle point, tracked by one step of ``(θ, λ)``):

    θ⁺ = P_Y(θ − η (∇_y f(x, θ) + ∇_y g(x, θ)ᵀλ + (θ − y)/γ₁))
    λ⁺ = P_Z(z + γ₂ g(x, θ))                       (the exact maximiser in λ at θ)
    d_x = ∇ₓF(x, y)/c_k + ∇ₓf(x, y) − ∇ₓf(x, θ⁺) − ∇ₓg(x, θ⁺)ᵀλ⁺
    d_y = ∇_yF(x, y)/c_k + ∇_yf(x, y) − (y − θ⁺)/γ₁
    d_z = (z − λ⁺)/γ₂
    (x, y)⁺ = P_C((x, y) − α (d_x, d_y)),   z⁺ = P_Z(z − β d_z)

with ``Z = [0, z_max]``. Each iteration costs one gradient of ``F`` and three of ``f`` (with ``g``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import Tensor

from ._bilevel_problem import BilevelProblem, finite, inf_norm
from ._bilevel_result import BilevelRecord, BilevelResult, BilevelStatus, build_bilevel_result

__all__ = ["LVHBAOptions", "run_lv_hba"]


@dataclass(frozen=True)
class LVHBAOptions:
    """Step sizes and constants of LV-HBA (names as in the paper).

    Attributes:
        alpha: step of ``(x, y)``; should be below ``1/L`` of ``F/c + f − v_γ`` (``~1/L_f``).
        beta: step of ``z``.
        eta: step of the inner variable ``θ``; below ``1/(L_f + 1/γ₁)``.
        gamma1: proximal parameter ``γ₁`` in ``y``: large values make ``v_γ`` closer to the value function.
        gamma2: proximal parameter ``γ₂`` in the multipliers.
        c0: ``c̲``, the initial penalty.
        p: penalty growth exponent, ``c_k = c̲ (k + 1)^p``; the paper's theory asks ``p ∈ (0, 1/2)``.
        z_max: upper bound ``r`` of the multiplier box ``Z = [0, r]``.
    """

    alpha: float = 0.1
    beta: float = 0.1
    eta: float = 0.1
    gamma1: float = 10.0
    gamma2: float = 1.0
    c0: float = 10.0
    p: float = 0.49
    z_max: float = 1e3

    def __post_init__(self) -> None:
        for name in ("alpha", "beta", "eta", "gamma1", "gamma2", "c0", "z_max"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v > 0) or not math.isfinite(v):
                raise ValueError(f"LVHBAOptions.{name} must be a positive finite number; got {v!r}")
        if isinstance(self.p, bool) or not isinstance(self.p, (int, float)) or not (0 <= self.p < 1):
            raise ValueError(f"LVHBAOptions.p must be in [0, 1); got {self.p!r}")


def run_lv_hba(problem: BilevelProblem, x: Tensor, y: Tensor, *, options: LVHBAOptions, tol: float,
               max_iter: int, record_every: int) -> BilevelResult:
    o = options
    m = problem.constraint_values(x, y).numel()
    z = x.new_zeros(m)
    lam = x.new_zeros(m)
    theta = y.clone()
    history: list[BilevelRecord] = []
    status, reason = BilevelStatus.MAX_ITER, f"reached max_iter={max_iter}"
    c = o.c0
    upper = lower = gap = residual = math.inf
    lam_out = lam
    k = 0
    for k in range(max_iter):
        c = o.c0 * (k + 1) ** o.p
        inner = problem.lower_grads(x, theta, lam)
        theta_new = problem.project_y(theta - o.eta * (inner.gy + (theta - y) / o.gamma1))
        lam_new = (z + o.gamma2 * inner.constraint).clamp(0.0, o.z_max) if m else lam
        lam_out = lam_new
        at_theta = problem.lower_grads(x, theta_new, lam_new)
        up = problem.upper_grads(x, y)
        at_y = problem.lower_grads(x, y)
        d_x = up.gx / c + at_y.gx - at_theta.gx
        d_y = up.gy / c + at_y.gy - (y - theta_new) / o.gamma1
        d_z = (z - lam_new) / o.gamma2
        # proximal Lagrangian value at (x, y, z) through the current saddle estimate (θ⁺, λ⁺)
        v = (at_theta.value + (float((lam_new * at_theta.constraint).sum()) if m else 0.0)
             + float(((theta_new - y) ** 2).sum()) / (2 * o.gamma1)
             - (float(((lam_new - z) ** 2).sum()) / (2 * o.gamma2) if m else 0.0))
        if not finite(d_x, d_y, d_z, up.value, at_y.value, v):
            status, reason = BilevelStatus.STALLED, f"a non-finite value or gradient at iteration {k}"
            break
        upper, lower, gap = up.value, at_y.value, at_y.value - v
        check = (k + 1) % record_every == 0 or k == max_iter - 1
        if check:
            # the lower-level KKT residual needs ∇_y(f + λᵀg) at y: one extra pass (without g, at_y has it)
            gy_l, g_y = (problem.lower_grads(x, y, lam_new).gy, problem.constraint_values(x, y)) if m \
                else (at_y.gy, at_y.constraint)
            residual = problem.lower_residual(y, gy_l, g_y.detach(), lam_new)
            history.append(BilevelRecord(k, upper, gap, residual, c))
        x_new, y_new = problem.project_xy(x - o.alpha * d_x, y - o.alpha * d_y)
        step = max(inf_norm(x_new - x), inf_norm(y_new - y)) / o.alpha
        if check and step <= tol and residual <= tol:
            status, reason = BilevelStatus.CONVERGED, f"step {step:.3e} and lower residual at most tol={tol:g}"
            break
        if k == max_iter - 1:
            break  # keep the evaluated iterate, so that x, y and the reported values belong together
        z = (z - o.beta * d_z).clamp(0.0, o.z_max) if m else z
        x, y, theta, lam = x_new, y_new, theta_new, lam_new
    return build_bilevel_result(
        x=x, y=y, x_shape=problem.x_shape, y_shape=problem.y_shape, upper=upper, lower=lower,
        value_gap=gap, lower_residual=residual, multipliers=lam_out, status=status, reason=reason,
        method="lv-hba", nit=k + 1, nupper=problem.nupper, nlower=problem.nlower, penalty=c,
        history=history,
    )


