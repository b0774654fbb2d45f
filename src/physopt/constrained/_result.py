"""Result values of :func:`physopt.constrained.minimize`: status, multipliers, result.

Everything here is an immutable value. The solvers build a :class:`MinimizeResult` once, at the end
of a run, through :func:`build_result`, so that every stop carries the same diagnostics (KKT
residual, worst violation, complementarity) whatever the method and whatever the reason for stopping.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["KKTMultipliers", "MinimizeResult", "MinimizeStatus", "build_result"]


# Kept as (str, Enum), not StrEnum: StrEnum would change str()/format() of a member from
# "MinimizeStatus.CONVERGED" to "converged" for callers of this public type.
class MinimizeStatus(str, enum.Enum):  # noqa: UP042
    """Why a run stopped. The value is the human-readable name used in messages and reports.

    - ``CONVERGED``: stationarity, worst violation and complementarity are all at most ``tol``.
    - ``MAX_ITER``: the outer-iteration (or evaluation) budget ran out before convergence.
    - ``INFEASIBLE``: the constraint violation stopped decreasing at a point that is stationary for
      the violation itself (a local minimizer of infeasibility): the problem looks infeasible.
    - ``UNBOUNDED``: the objective fell below ``-1e20`` at a (nearly) feasible point.
    - ``STALLED``: no further progress is possible (line searches fail, a function returned NaN or
      Inf, the constraint Jacobian is rank deficient for ``exact-al``); the message says which.
    - ``MULTIPLIERS_DIVERGING``: the point is (nearly) feasible but the multiplier estimates grow
      without bound; a constraint qualification most likely fails (HS13 is the textbook case), so
      ``x`` may be a minimizer without a KKT certificate.
    """

    CONVERGED = "converged"
    MAX_ITER = "max_iter"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    STALLED = "stalled"
    MULTIPLIERS_DIVERGING = "multipliers diverging"


@dataclass(frozen=True)
class KKTMultipliers:
    """Lagrange multipliers in the convention ``L = f + eqᵀh + ineqᵀg − lowerᵀ(x−lo) + upperᵀ(x−hi)``.

    Attributes:
        eq: ``(m_eq,)`` multipliers of the equality constraints ``h(x) = 0``, in the order of the
            ``eq`` list (vector-valued constraints contribute consecutive entries). Any sign.
        ineq: ``(m_ineq,)`` multipliers of ``g(x) <= 0``; non-negative.
        lower: ``(n,)`` multipliers of the lower bounds (``x0``'s flattened order); non-negative,
            zero where the bound is inactive.
        upper: ``(n,)`` multipliers of the upper bounds; non-negative.
    """

    eq: Tensor
    ineq: Tensor
    lower: Tensor
    upper: Tensor


@dataclass(frozen=True)
class MinimizeResult:
    """Outcome of :func:`physopt.constrained.minimize`.

    Attributes:
        x: solution estimate, same shape as ``x0`` (detached, float64 unless ``dtype`` said otherwise).
        fun: objective value at ``x``.
        multipliers: :class:`KKTMultipliers` at ``x``.
        kkt_residual: ``max(stationarity, max_violation, complementarity)`` (infinity norms, unscaled).
        stationarity: ``‖x − P(x − ∇ₓL)‖∞`` with ``P`` the projection on the bounds.
        max_violation: worst violation ``max(‖h‖∞, ‖max(g, 0)‖∞)`` (iterates always satisfy bounds).
        complementarity: ``max_i |min(μ_i, −g_i)|``.
        success: ``status is MinimizeStatus.CONVERGED``.
        status: why the run stopped.
        message: one sentence with the reason and the numbers behind it.
        method: the method that produced ``x`` (``"penalty"``, ``"alm"``, ``"newton"``, ``"exact-al"``).
        nit: outer iterations (penalty/multiplier updates, or Newton steps for ``exact-al``).
        nfev: objective evaluations (each also evaluates every constraint once).
        ngev: gradient evaluations (one reverse-mode pass through objective and constraints).
        nhev: Hessian evaluations of the Lagrangian (``exact-al`` only; 0 otherwise).
        nhvp: Hessian-vector products of the Lagrangian (``newton`` only; each MINRES step does one,
            with one Jacobian and one transposed-Jacobian product of the constraints).
        penalty: final penalty parameter (``ρ`` for penalty/alm, ``μ`` for ``exact-al``).
    """

    x: Tensor
    fun: float
    multipliers: KKTMultipliers
    kkt_residual: float
    stationarity: float
    max_violation: float
    complementarity: float
    success: bool
    status: MinimizeStatus
    message: str
    method: str
    nit: int
    nfev: int
    ngev: int
    nhev: int
    penalty: float
    nhvp: int = 0


def _inf_norm(t: Tensor) -> float:
    return float(t.abs().max()) if t.numel() else 0.0


def build_result(
    *,
    x: Tensor,
    shape: torch.Size,
    fun: float,
    grad_lagrangian: Tensor,
    h: Tensor,
    g: Tensor,
    lam: Tensor,
    mu: Tensor,
    lower: Tensor,
    upper: Tensor,
    status: MinimizeStatus,
    reason: str,
    method: str,
    nit: int,
    nfev: int,
    ngev: int,
    nhev: int,
    penalty: float,
    nhvp: int = 0,
) -> MinimizeResult:
    """Assemble a result from flat tensors at the final point and attach the KKT diagnostics.

    ``grad_lagrangian`` is ``∇f + Jₕᵀλ + J_gᵀμ`` (without bound terms). Bound multipliers are read off
    it where a bound is active: ``lower = max(r, 0)`` at ``x = lo``, ``upper = max(−r, 0)`` at
    ``x = hi``. Non-finite diagnostics are reported as ``inf`` and can never yield success.
    """
    r = grad_lagrangian
    at_lo = x <= lower
    at_hi = x >= upper
    z_lo = torch.where(at_lo, r.clamp(min=0.0), torch.zeros_like(r))
    z_hi = torch.where(at_hi, (-r).clamp(min=0.0), torch.zeros_like(r))
    stationarity = _inf_norm(x - torch.minimum(torch.maximum(x - r, lower), upper))
    violation = max(_inf_norm(h), _inf_norm(g.clamp(min=0.0)))
    compl = _inf_norm(torch.minimum(mu, -g)) if g.numel() else 0.0
    values = [stationarity, violation, compl]
    values = [v if not math.isnan(v) else float("inf") for v in values]  # NaN -> inf
    kkt = max(values)
    if status is MinimizeStatus.CONVERGED and not kkt < float("inf"):
        status = MinimizeStatus.STALLED
    message = (
        f"{status.value}: {reason} (KKT residual {kkt:.3e}: stationarity {values[0]:.3e}, "
        f"worst violation {values[1]:.3e}, complementarity {values[2]:.3e})"
    )
    return MinimizeResult(
        x=x.detach().clone().reshape(shape),
        fun=float(fun),
        multipliers=KKTMultipliers(
            eq=lam.detach().clone(),
            ineq=mu.detach().clone(),
            lower=z_lo.detach(),
            upper=z_hi.detach(),
        ),
        kkt_residual=kkt,
        stationarity=values[0],
        max_violation=values[1],
        complementarity=values[2],
        success=status is MinimizeStatus.CONVERGED,
        status=status,
        message=message,
        method=method,
        nit=nit,
        nfev=nfev,
        ngev=ngev,
        nhev=nhev,
        penalty=float(penalty),
        nhvp=nhvp,
    )
