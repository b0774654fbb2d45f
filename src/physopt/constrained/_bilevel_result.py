"""Result values of :func:`physopt.constrained.bilevel.minimize_bilevel`: status, history, result.

Like :mod:`._result` for :func:`minimize`, every value is immutable and built once, at the end of a
run, so that every stop carries the same diagnostics (upper value, lower-level residual, value gap)
whatever the method and whatever the reason for stopping.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from torch import Tensor

__all__ = ["BilevelRecord", "BilevelResult", "BilevelStatus", "build_bilevel_result"]


# (str, Enum) as MinimizeStatus, for the same reason: str() of a member stays "BilevelStatus.X"
class BilevelStatus(str, enum.Enum):  # noqa: UP042
    """Why a bilevel run stopped. The value is the human-readable name used in messages.

    - ``CONVERGED``: the upper step ``‖x_{k+1} − x_k‖∞ / step`` and the lower-level residual are both at
      most ``tol`` (deterministic methods only).
    - ``MAX_ITER``: the iteration budget ran out (always the case for the stochastic method, whose
      noisy steps never certify a tolerance; read ``lower_residual`` and ``value_gap``).
    - ``STALLED``: a function or gradient returned NaN or Inf; ``x``, ``y`` are the last finite iterate.
    """

    CONVERGED = "converged"
    MAX_ITER = "max_iter"
    STALLED = "stalled"


@dataclass(frozen=True)
class BilevelRecord:
    """One line of the history, recorded every ``record_every`` iterations and at the last one.

    Attributes:
        iteration: outer iteration index (0 = the start point after the first evaluation).
        upper: ``F(x, y)`` at the iterate.
        value_gap: the method's estimate of ``f(x, y) − min_θ f(x, θ)`` (LV-HBA: against the proximal
            Lagrangian value function; penalty: against the auxiliary lower iterate ``z``).
        lower_residual: lower-level optimality residual at ``(x, y)`` (see :class:`BilevelResult`).
        penalty: the method's current penalty (LV-HBA ``c_k``; penalty methods ``1/σ_k``).
    """

    iteration: int
    upper: float
    value_gap: float
    lower_residual: float
    penalty: float


@dataclass(frozen=True)
class BilevelResult:
    """Outcome of :func:`physopt.constrained.bilevel.minimize_bilevel`.

    Attributes:
        x: upper-level solution estimate, shape of ``x0`` (detached).
        y: lower-level solution estimate ``≈ y*(x)``, shape of ``y0`` (detached).
        upper: ``F(x, y)``.
        lower: ``f(x, y)``.
        value_gap: ``f(x, y) − min_θ f(x, θ)`` as estimated by the method (non-negative up to the
            accuracy of that estimate; see :class:`BilevelRecord`).
        lower_residual: KKT residual of the lower level at ``(x, y)``, infinity norms:
            ``‖y − P(y − ∇_y L)‖∞`` with ``L = f + λᵀg`` and ``P`` the projection on ``y``'s bounds, the
            worst violation ``‖max(g, 0)‖∞`` and the complementarity ``max|min(λ, −g)|`` (``λ`` the
            method's multiplier estimate; without ``g`` only the first term).
        multipliers: lower-level multiplier estimate for ``g(x, y) <= 0`` (empty without ``g``).
        success: ``status is BilevelStatus.CONVERGED``.
        status: why the run stopped.
        message: one sentence with the reason and the numbers behind it.
        method: ``"lv-hba"``, ``"penalty"`` or ``"penalty-sgd"``.
        nit: outer iterations.
        nupper: gradient evaluations of ``F`` (one reverse pass each).
        nlower: gradient evaluations of ``f`` (with ``g`` when given; one reverse pass each).
        penalty: final penalty (LV-HBA ``c_k``; penalty methods ``1/σ``).
        history: :class:`BilevelRecord` lines, oldest first.
    """

    x: Tensor
    y: Tensor
    upper: float
    lower: float
    value_gap: float
    lower_residual: float
    multipliers: Tensor
    success: bool
    status: BilevelStatus
    message: str
    method: str
    nit: int
    nupper: int
    nlower: int
    penalty: float
    history: tuple[BilevelRecord, ...]


def build_bilevel_result(
    *,
    x: Tensor,
    y: Tensor,
    x_shape: object,
    y_shape: object,
    upper: float,
    lower: float,
    value_gap: float,
    lower_residual: float,
    multipliers: Tensor,
    status: BilevelStatus,
    reason: str,
    method: str,
    nit: int,
    nupper: int,
    nlower: int,
    penalty: float,
    history: list[BilevelRecord],
) -> BilevelResult:
    """Assemble a result from flat tensors at the final point; the message carries the diagnostics."""
    message = (
        f"{status.value}: {reason} (upper {upper:.6e}, lower-level residual {lower_residual:.3e}, "
        f"value gap {value_gap:.3e}, {nit} iterations, {nupper} upper / {nlower} lower gradients)"
    )
    return BilevelResult(
        x=x.detach().clone().reshape(x_shape),  # type: ignore[arg-type]
        y=y.detach().clone().reshape(y_shape),  # type: ignore[arg-type]
        upper=float(upper),
        lower=float(lower),
        value_gap=float(value_gap),
        lower_residual=float(lower_residual),
        multipliers=multipliers.detach().clone(),
        success=status is BilevelStatus.CONVERGED,
        status=status,
        message=message,
        method=method,
        nit=nit,
        nupper=nupper,
        nlower=nlower,
        penalty=float(penalty),
        history=tuple(history),
    )
