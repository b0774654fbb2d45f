"""Projected L-BFGS for the bound-constrained subproblems of the penalty and ALM methods.

A light L-BFGS-B: the search direction is the L-BFGS two-loop recursion (Nocedal & Wright,
*Numerical Optimization*, 2nd ed., Alg. 7.4) applied to the gradient restricted to the *free*
variables, i.e. all but those sitting at a bound with the gradient pushing outward (the
"binding" set of Bertsekas' projected Newton method, SIAM J. Control Optim. 20, 1982). Steps follow
the projected path ``x(α) = P(x + α d)`` with Armijo backtracking on ``φ(x(α)) ≤ φ(x) + c₁ ∇φᵀ(x(α) − x)``
(safeguarded quadratic interpolation). Near a solution the decrease of ``φ`` drowns in rounding; when
the Armijo test is inconclusive at that level, a step is accepted if it lowers the projected-gradient
norm instead (in the spirit of Hager & Zhang's approximate Wolfe test, SIAM J. Optim. 16, 2005).

Curvature pairs are stored only when ``sᵀy > 1e-12 ‖s‖‖y‖``. The memory object is owned by the
caller, so that an outer method can warm-start consecutive subproblems (and reset it when the
subproblem changes a lot, e.g. after a penalty increase).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ._nlp import NLP, Point, project

__all__ = ["InnerResult", "LBFGSMemory", "projected_gradient_norm", "projected_lbfgs"]

_C1 = 1e-4  # Armijo constant (Nocedal & Wright's customary value)
_MAX_BACKTRACKS = 40
_ROUNDING = 1e-12  # relative size of a decrease we treat as rounding noise
_STAGNATION = 50  # iterations without a 10 % better projected gradient before giving up
UNBOUNDED_BELOW = -1e20


@dataclass
class LBFGSMemory:
    """The last ``size`` curvature pairs ``(s, y)``; mutable state owned by the outer solver."""

    size: int = 10
    s: list[Tensor] = field(default_factory=list)
    y: list[Tensor] = field(default_factory=list)

    def reset(self) -> None:
        self.s.clear()
        self.y.clear()

    def push(self, s: Tensor, y: Tensor) -> None:
        sy = float(s @ y)
        if sy > 1e-12 * float(s.norm()) * float(y.norm()):
            self.s.append(s)
            self.y.append(y)
            if len(self.s) > self.size:
                self.s.pop(0)
                self.y.pop(0)

    def apply(self, q: Tensor) -> Tensor:
        """Approximate inverse Hessian times ``q`` (two-loop recursion)."""
        q = q.clone()
        alphas = []
        for s, y in zip(reversed(self.s), reversed(self.y), strict=True):
            a = float(s @ q) / float(s @ y)
            alphas.append(a)
            q -= a * y
        if self.s:
            q *= float(self.s[-1] @ self.y[-1]) / float(self.y[-1] @ self.y[-1])
        for (s, y), a in zip(zip(self.s, self.y, strict=True), reversed(alphas), strict=True):
            b = float(y @ q) / float(s @ y)
            q += (a - b) * s
        return q


@dataclass(frozen=True)
class InnerResult:
    """Final state of one subproblem solve.

    ``status`` is one of ``"converged"``, ``"max_iter"``, ``"line_search"`` (no acceptable step),
    ``"stagnated"`` (50 iterations without lowering the projected gradient by 10 %: the accuracy
    floor set by rounding, typical of large penalties),
    ``"unbounded"`` (merit below ``-1e20``) or ``"nonfinite"`` (NaN/Inf at the start point).
    ``point`` keeps its autograd graph so that the caller can re-differentiate a new merit there.
    """

    point: Point
    value: float
    grad: Tensor
    status: str
    iterations: int
    pg_norm: float


def projected_gradient_norm(x: Tensor, grad: Tensor, lower: Tensor, upper: Tensor) -> float:
    """``‖x − P(x − ∇φ)‖∞``: zero exactly at first-order points of ``min φ`` on the box (pure)."""
    return float((x - project(x - grad, lower, upper)).abs().max())


def projected_lbfgs(
    merit: Callable[[Point], Tensor],
    nlp: NLP,
    start: Point,
    *,
    tol: float,
    max_iter: int,
    memory: LBFGSMemory,
) -> InnerResult:
    """Minimize ``merit(nlp.evaluate(x))`` over the box ``[nlp.lower, nlp.upper]`` from ``start``.

    ``start`` must carry an autograd graph (``nlp.evaluate(x, graph=True)``); its values are reused,
    only the gradient of the new merit is computed. Stops when the projected-gradient norm is at most
    ``tol``, after ``max_iter`` iterations, or when no acceptable step exists.
    """
    lo, hi = nlp.lower, nlp.upper
    point = start
    value_t = merit(point)
    value = float(value_t.detach())
    if not value == value or abs(value) == float("inf"):
        return InnerResult(point, value, torch.zeros_like(point.x), "nonfinite", 0, float("inf"))
    grad = nlp.grad(value_t, point, keep_graph=True)
    x = point.x.detach()
    best_pg, since_best = math.inf, 0
    last_step = 0.0
    for it in range(max_iter + 1):
        pg = projected_gradient_norm(x, grad, lo, hi)
        if pg <= tol:
            return InnerResult(point, value, grad, "converged", it, pg)
        if pg < 0.9 * best_pg:
            best_pg, since_best = pg, 0
        else:
            since_best += 1
        if since_best >= _STAGNATION:
            return InnerResult(point, value, grad, "stagnated", it, pg)
        if value < UNBOUNDED_BELOW:
            return InnerResult(point, value, grad, "unbounded", it, pg)
        if it == max_iter:
            return InnerResult(point, value, grad, "max_iter", it, pg)
        binding = ((x <= lo) & (grad > 0)) | ((x >= hi) & (grad < 0))
        free_grad = torch.where(binding, torch.zeros_like(grad), grad)
        d = -memory.apply(free_grad)
        d = torch.where(binding, torch.zeros_like(d), d)
        if not float(free_grad @ d) < 0.0:
            memory.reset()
            d = -free_grad
        d_inf = max(float(d.abs().max()), 1e-300)
        # without curvature pairs: a unit-length first step, then twice the last step length, so
        # that negative curvature (or an unbounded objective) is followed at a growing pace
        alpha = 1.0 if memory.s else max(min(1.0, 1.0 / d_inf), 2.0 * last_step / d_inf)
        accepted = None
        for _ in range(_MAX_BACKTRACKS):
            xt = project(x + alpha * d, lo, hi)
            step = xt - x
            if not bool((step != 0).any()):
                break
            trial = nlp.evaluate(xt, graph=True)
            vt_t = merit(trial)
            vt = float(vt_t.detach())
            slope = float(grad @ step)
            if vt == vt and abs(vt) != float("inf"):
                gt = None
                if vt <= value + _C1 * slope or vt < UNBOUNDED_BELOW:
                    gt = nlp.grad(vt_t, trial, keep_graph=True)
                elif vt <= value + _ROUNDING * max(1.0, abs(value)):
                    gt = nlp.grad(vt_t, trial, keep_graph=True)
                    if not projected_gradient_norm(xt, gt, lo, hi) < pg:
                        gt = None
                if gt is not None and bool(torch.isfinite(gt).all()):
                    accepted = (trial, vt, gt)
                    break
                denom = vt - value - slope
                shrink = 0.5 if denom <= 0 else -slope / (2.0 * denom)
                alpha *= min(max(shrink, 0.1), 0.5)
            else:
                alpha *= 0.1
        if accepted is None:
            return InnerResult(point, value, grad, "line_search", it, pg)
        trial, vt, gt = accepted
        xt = trial.x.detach()
        step = xt - x
        last_step = float(step.abs().max())
        # curvature only in the subspace that moved: variables held at a bound would otherwise
        # inject cross-derivative noise into y and shrink the scaling sᵀy/yᵀy
        memory.push(step, torch.where(step == 0, torch.zeros_like(gt), gt - grad))
        point, value, grad, x = trial, vt, gt, xt
    return InnerResult(point, value, grad, "max_iter", max_iter, pg)  # pragma: no cover
