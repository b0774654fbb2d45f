r"""The strong-Wolfe line search of the quasi-Newton family (pure functions).

:func:`strong_wolfe_line_search` is the bracketing/zoom algorithm of Nocedal & Wright,
*Numerical Optimization* (2006), Algorithms 3.5/3.6, with safeguarded cubic
interpolation (eq. 3.59).  A trial step whose loss or directional derivative is not
finite is treated as "too long": it becomes the upper end of the bracket and the next
trial is ``lo + 0.25 (hi - lo)``, so the search shrinks and never accepts a non-finite
point.  If the evaluation budget runs out before the strong Wolfe conditions hold, the
best point satisfying the sufficient-decrease (Armijo) condition is accepted; if there
is none, the result is ``FAILED`` (what the optimizers do then is in
:mod:`physopt.optim._quasi_newton_base`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

__all__ = ["LineSearchResult", "LineSearchStatus", "cubic_minimizer", "strong_wolfe_line_search"]


class LineSearchStatus(enum.StrEnum):
    """How a line search ended (a ``str`` enum: ``LineSearchStatus.WOLFE == "wolfe"``).

    - ``WOLFE``: the strong Wolfe conditions hold at the accepted step.
    - ``ARMIJO``: only sufficient decrease holds (budget exhausted or bracket collapsed).
    - ``FAILED``: no finite point with sufficient decrease was found; ``alpha`` is 0.
    """

    WOLFE = "wolfe"
    ARMIJO = "armijo"
    FAILED = "failed"


@dataclass
class LineSearchResult:
    """Outcome of :func:`strong_wolfe_line_search`.

    ``alpha`` is the accepted step (0.0 if ``status`` is ``FAILED``), ``f``/``g`` the loss
    and flat gradient there (the starting values if failed), ``n_evals`` the number of
    objective evaluations, ``status`` a :class:`LineSearchStatus`.
    """

    alpha: float
    f: float
    g: Tensor
    n_evals: int
    status: LineSearchStatus


def cubic_minimizer(
    x1: float, f1: float, d1: float, x2: float, f2: float, d2: float, lo: float, hi: float
) -> float:
    """Minimizer of the cubic interpolating (f, f') at x1 and x2, clamped to [lo, hi].

    Nocedal & Wright eq. (3.59).  Falls back to the midpoint of [lo, hi] if the cubic
    has no real minimizer or the inputs are not finite.
    """
    mid = 0.5 * (lo + hi)
    vals = (x1, f1, d1, x2, f2, d2)
    if not all(math.isfinite(v) for v in vals) or x1 == x2:
        return mid
    e1 = d1 + d2 - 3.0 * (f1 - f2) / (x1 - x2)
    disc = e1 * e1 - d1 * d2
    if disc < 0.0:
        return mid
    e2 = math.copysign(math.sqrt(disc), x2 - x1)
    denom = d2 - d1 + 2.0 * e2
    if denom == 0.0:
        return mid
    x = x2 - (x2 - x1) * (d2 + e2 - e1) / denom
    if not math.isfinite(x):
        return mid
    return min(max(x, lo), hi)


def strong_wolfe_line_search(
    evaluate: Callable[[float], tuple[float, Tensor]],
    f0: float,
    g0: Tensor,
    direction: Tensor,
    alpha0: float = 1.0,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_evals: int = 25,
    extrapolation: float = 10.0,
) -> LineSearchResult:
    """Find ``alpha`` with ``f(x+alpha d) <= f0 + c1 alpha g0.d`` and
    ``|g(x+alpha d).d| <= c2 |g0.d|`` (strong Wolfe), Nocedal & Wright Alg. 3.5/3.6.

    ``evaluate(alpha)`` must return ``(f, g)`` (python float, flat gradient tensor) at
    ``x + alpha * direction``.  ``direction`` must be a descent direction
    (``g0.d < 0``).  Non-finite trial values are treated as a too-long step
    (shrink towards the last good point by a factor 4); a non-finite point is never
    returned.  Bracketing extrapolates by cubic interpolation, safeguarded to
    ``[1.01 alpha, extrapolation * alpha]``; zoom trials are safeguarded to the inner
    80% of the bracket.
    """
    d0 = float(g0.dot(direction))
    if not d0 < 0.0:
        return LineSearchResult(0.0, f0, g0, 0, LineSearchStatus.FAILED)
    n_evals = 0

    def finite(f: float, d: float) -> bool:
        return math.isfinite(f) and math.isfinite(d)

    def armijo(a: float, f: float) -> bool:
        return f <= f0 + c1 * a * d0

    # best point satisfying sufficient decrease so far
    best_a, best_f, best_g = 0.0, f0, g0

    def note(a: float, f: float, g: Tensor, d: float) -> None:
        nonlocal best_a, best_f, best_g
        if finite(f, d) and armijo(a, f) and f < best_f:
            best_a, best_f, best_g = a, f, g

    def done(status: LineSearchStatus) -> LineSearchResult:
        if best_a > 0.0:
            return LineSearchResult(best_a, best_f, best_g, n_evals, status)
        return LineSearchResult(0.0, f0, g0, n_evals, LineSearchStatus.FAILED)

    def zoom(a_lo: float, f_lo: float, d_lo: float, a_hi: float, f_hi: float, d_hi: float) -> LineSearchResult:
        nonlocal n_evals
        while n_evals < max_evals:
            left, right = min(a_lo, a_hi), max(a_lo, a_hi)
            width = right - left
            if width <= 1e-12 * right:
                break
            if finite(f_hi, d_hi):
                a = cubic_minimizer(
                    a_lo, f_lo, d_lo, a_hi, f_hi, d_hi, left + 0.1 * width, right - 0.1 * width
                )
            else:
                a = a_lo + 0.25 * (a_hi - a_lo)
            f, g = evaluate(a)
            n_evals += 1
            d = float(g.dot(direction)) if math.isfinite(f) else math.nan
            note(a, f, g, d)
            if not finite(f, d) or not armijo(a, f) or f >= f_lo:
                a_hi, f_hi, d_hi = a, f, d
            else:
                if abs(d) <= -c2 * d0:
                    return LineSearchResult(a, f, g, n_evals, LineSearchStatus.WOLFE)
                if d * (a_hi - a_lo) >= 0.0:
                    a_hi, f_hi, d_hi = a_lo, f_lo, d_lo
                a_lo, f_lo, d_lo = a, f, d
        return done(LineSearchStatus.ARMIJO)

    a_prev, f_prev, d_prev = 0.0, f0, d0
    a = alpha0
    first = True
    while n_evals < max_evals:
        f, g = evaluate(a)
        n_evals += 1
        d = float(g.dot(direction)) if math.isfinite(f) else math.nan
        note(a, f, g, d)
        if not finite(f, d) or not armijo(a, f) or (not first and f >= f_prev):
            return zoom(a_prev, f_prev, d_prev, a, f, d)
        if abs(d) <= -c2 * d0:
            return LineSearchResult(a, f, g, n_evals, LineSearchStatus.WOLFE)
        if d >= 0.0:
            return zoom(a, f, d, a_prev, f_prev, d_prev)
        a_next = cubic_minimizer(
            a_prev, f_prev, d_prev, a, f, d, a + 0.01 * (a - a_prev), a * extrapolation
        )
        a_prev, f_prev, d_prev = a, f, d
        a = a_next
        first = False
    return done(LineSearchStatus.ARMIJO)

