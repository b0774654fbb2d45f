"""Public entry point :func:`minimize` for small and medium nonlinear programs."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import Tensor

from ._alm import run_multiplier_method
from ._bounds import Bounds
from ._exact_al import run_exact_al
from ._interior import run_newton
from ._nlp import NLP, build_nlp
from ._result import MinimizeResult, MinimizeStatus

__all__ = ["minimize"]

Method = Literal["auto", "penalty", "alm", "newton", "exact-al"]
_METHODS = ("auto", "penalty", "alm", "newton", "exact-al")
_DEFAULT_MAX_ITER = {"penalty": 30, "alm": 50, "newton": 200, "exact-al": 200}
# "auto" runs "newton" and, only if it ends stalled (no descent direction, no Armijo step, a barrier
# that cannot close the gap: typically no KKT point, as in HS13), "alm" from x0, whose diagnostics
# (infeasible, multipliers diverging) are the ones a user needs then
_FALLBACK = {MinimizeStatus.STALLED}


def _check_positive(name: str, value: object, *, integer: bool = False) -> None:
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or not (value > 0) or not math.isfinite(value):  # type: ignore[operator, arg-type]
        kind = "a positive integer" if integer else "a positive finite number"
        raise ValueError(f"{name} must be {kind}; got {value!r}")


def minimize(
    fun: Callable[[Tensor], Tensor],
    x0: Tensor | Sequence[float],
    *,
    eq: Sequence[Callable[[Tensor], Tensor]] | None = None,
    ineq: Sequence[Callable[[Tensor], Tensor]] | None = None,
    bounds: Bounds | Sequence[object] | None = None,
    method: Method = "auto",
    tol: float = 1e-8,
    max_iter: int | None = None,
    max_inner_iter: int = 2000,
    warm_start: MinimizeResult | None = None,
    dtype: torch.dtype = torch.float64,
    seed: int = 0,
) -> MinimizeResult:
    """Minimize ``fun(x)`` subject to ``h(x) = 0`` for ``h`` in ``eq``, ``g(x) <= 0`` for ``g`` in
    ``ineq`` and ``lower <= x <= upper``.

    Args:
        fun: objective; takes a tensor shaped like ``x0`` and returns a scalar tensor. Derivatives
            come from autograd, so build every value with torch operations.
        x0: start point (any shape; it is projected onto the bounds first).
        eq: equality constraints ``h(x) = 0``, each returning a scalar or a 1-D tensor.
        ineq: inequality constraints ``g(x) <= 0``, each returning a scalar or a 1-D tensor.
        bounds: :class:`Bounds` ``(lower=..., upper=...)``, ``scipy.optimize.Bounds``, a pair
            ``(lower, upper)`` (each a scalar, ``None`` or an array of ``x0``'s shape, ``±inf`` allowed)
            or SciPy's list of ``n`` per-variable ``(low, high)`` pairs (``None`` = unbounded). A value
            that is a valid box both ways (``n = 2``, e.g. ``[(0, 2), (0, 2)]``) raises ``ValueError``.
        method: ``"auto"`` (default: ``"newton"``, then ``"alm"`` from ``x0`` if Newton ends
            ``stalled``), ``"newton"`` (matrix-free exact-augmented-Lagrangian Newton steps with MINRES
            inside a log-barrier interior-point loop, :mod:`._interior`; all constraint kinds; robust
            under ill-conditioning such as PDE constraints), ``"alm"`` (safeguarded PHR augmented
            Lagrangian with projected L-BFGS subproblems; general constraints and bounds), ``"penalty"``
            (quadratic penalty with an increasing penalty; a baseline, accurate only to about ``1e-7``),
            or ``"exact-al"`` (Newton steps on the exact augmented Lagrangian with randomized sketching,
            Hong, Na, Mahoney & Kolar, ICML 2023; equality constraints only, no bounds, dense Hessians —
            for small ``n``).
        tol: tolerance on stationarity, worst violation and complementarity (infinity norms).
        max_iter: outer iterations (penalty/multiplier updates, or Newton steps for ``exact-al``);
            default 30 / 50 / 200 / 200 for penalty / alm / newton (total Newton steps) / exact-al.
        max_inner_iter: L-BFGS iterations per subproblem (penalty and alm).
        warm_start: a previous result whose multipliers and penalty start this run (``x0`` is still
            the start point); use it for continuation over a sequence of related problems.
        dtype: floating dtype of the computation (float64 by default).
        seed: seed of the sketching random generator (``exact-al``).

    Returns:
        A :class:`MinimizeResult`; ``success`` is true only for status ``converged``. Failure modes
        (infeasible, unbounded, no KKT point, NaN from a function) are reported through ``status``
        and ``message``, never raised.

    Raises:
        ValueError: on bad input, naming what was given (non-callable ``fun`` or constraint, ``x0``
            not a finite real array, bounds of the wrong shape or with ``lower > upper``, a function
            returning a non-tensor or a tensor of the wrong shape, unknown ``method``, bad options,
            inequalities or bounds with ``exact-al``).
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}")
    _check_positive("tol", tol)
    if max_iter is not None:
        _check_positive("max_iter", max_iter, integer=True)
    _check_positive("max_inner_iter", max_inner_iter, integer=True)
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"dtype must be a floating torch.dtype; got {dtype!r}")
    if warm_start is not None and not isinstance(warm_start, MinimizeResult):
        raise ValueError(f"warm_start must be a MinimizeResult; got {type(warm_start).__name__}")
    nlp, start = build_nlp(fun, x0, eq, ineq, bounds, dtype)
    lam0 = mu0 = None
    rho0 = None
    if warm_start is not None:
        lam0 = warm_start.multipliers.eq.to(dtype)
        mu0 = warm_start.multipliers.ineq.to(dtype)
        if lam0.numel() != nlp.m_eq or mu0.numel() != nlp.m_ineq:
            raise ValueError(
                f"warm_start has {lam0.numel()} equality and {mu0.numel()} inequality multipliers, "
                f"but the problem has {nlp.m_eq} and {nlp.m_ineq}"
            )
        if math.isfinite(warm_start.penalty) and warm_start.penalty > 0:
            rho0 = warm_start.penalty
    if method == "auto":
        first = _run(nlp, start, "newton", tol, max_iter, max_inner_iter, lam0, mu0, rho0, seed, bounds)
        if first.status not in _FALLBACK:
            return first
        nlp.nfev = nlp.ngev = nlp.nhvp = 0
        return _run(nlp, start, "alm", tol, max_iter, max_inner_iter, lam0, mu0, rho0, seed, bounds)
    return _run(nlp, start, method, tol, max_iter, max_inner_iter, lam0, mu0, rho0, seed, bounds)


def _run(nlp: NLP, start: Tensor, method: str, tol: float, max_iter: int | None, max_inner_iter: int,
         lam0: Tensor | None, mu0: Tensor | None, rho0: float | None, seed: int, bounds: object) -> MinimizeResult:
    max_iter = _DEFAULT_MAX_ITER[method] if max_iter is None else max_iter
    if method == "exact-al":
        if nlp.m_ineq or bool(torch.isfinite(nlp.lower).any() | torch.isfinite(nlp.upper).any()):
            raise ValueError(
                f"method='exact-al' handles equality constraints only; got {nlp.m_ineq} inequality "
                f"values and bounds={bounds!r} (use method='alm')"
            )
        return run_exact_al(nlp, start, tol=tol, max_iter=max_iter, lam0=lam0, seed=seed)
    if method == "newton":
        return run_newton(nlp, start, tol=tol, max_iter=max_iter, lam0=lam0, mu0=mu0, seed=seed)
    return run_multiplier_method(
        nlp, start, method=method, tol=tol, max_iter=max_iter, max_inner_iter=max_inner_iter,
        lam0=lam0, mu0=mu0, rho0=rho0,
    )
