r"""Closure-based quasi-Newton optimizers: SSBroyden, SSBFGS (dense) and LBFGS.

All three follow the ``torch.optim.LBFGS`` closure contract::

    def closure():
        opt.zero_grad()
        loss = loss_fn(model)
        loss.backward()
        return loss

    opt = SSBroyden(model.parameters())
    for _ in range(n_iter):
        loss = opt.step(closure)
        if opt.status.finished:
            break

and differ from it in four deliberate ways:

* ``step(closure)`` performs ``max_iter`` quasi-Newton iterations (default 1), each
  one a direction computation + strong-Wolfe line search + inverse-Hessian update.
  It returns the loss at the *new* iterate (a detached 0-d tensor).
* The loss and gradient at the current iterate are cached in the optimizer state and
  re-used by the next ``step`` as long as the parameters were not changed from the
  outside (checked bit-exactly).  A quasi-Newton iteration therefore costs only the
  line-search evaluations (usually one).  If the *objective* changes (e.g. collocation
  points are resampled), call :meth:`invalidate` so that the next step re-evaluates.
* ``opt.status`` reports why the optimizer stopped, an :class:`~physopt.optim.OptimizerStatus`
  (``str`` values ``"running"``, ``"converged: gradient tolerance"``, ``"no progress"``,
  ``"max evaluations"``).  Once ``opt.status.finished``, ``step`` is a no-op
  that returns the cached loss (:meth:`invalidate` resets it to ``RUNNING``).
* ``state_dict()`` returns a deep copy and ``load_state_dict()`` deep-copies its input,
  so a checkpoint taken mid-run and loaded into a fresh optimizer (with the model
  parameters restored from the same checkpoint) continues on a bit-identical
  trajectory.

The pieces live in their own modules and are re-exported here: the line search in
:mod:`._line_search`, the shared iteration in :mod:`._quasi_newton_base` (with the choice of the
initial trial step), the dense self-scaled family in :mod:`._self_scaled` and, below, L-BFGS.

LBFGS
-----
Standard limited-memory BFGS (Nocedal & Wright Algorithm 7.4, two-loop recursion) with
:math:`H_k^0 = (s^\top y / y^\top y) I` from the newest pair, the same strong-Wolfe line
search, skipping of pairs with :math:`y^\top s \le \epsilon_c\|y\|\|s\|`, and first trial
step :math:`\min(1, 1/\|g\|_2)` only when the memory is empty (``lr`` otherwise).
Unlike ``torch.optim.LBFGS`` there is no absolute ``tolerance_change`` test on the
first iteration, so it does not stop after one iteration when started from an Adam
iterate with a large gradient.
"""

from __future__ import annotations

from collections.abc import Iterable

from torch import Tensor

from ._closure import STATUSES
from ._line_search import LineSearchResult, LineSearchStatus, cubic_minimizer, strong_wolfe_line_search
from ._quasi_newton_base import QuasiNewtonBase
from ._self_scaled import SSBFGS, SSBroyden, dense_inverse_update, ss_bfgs_coefficients, ss_broyden_coefficients

__all__ = [
    "LBFGS",
    "SSBFGS",
    "STATUSES",
    "LineSearchResult",
    "LineSearchStatus",
    "SSBroyden",
    "cubic_minimizer",
    "dense_inverse_update",
    "ss_bfgs_coefficients",
    "ss_broyden_coefficients",
    "strong_wolfe_line_search",
    "two_loop_direction",
]


def two_loop_direction(
    g: Tensor, s_hist: list[Tensor], y_hist: list[Tensor], rho_hist: list[float], gamma: float
) -> Tensor:
    r"""L-BFGS direction :math:`-H_k g` by the two-loop recursion (N&W Alg. 7.4).

    ``s_hist``/``y_hist`` are ordered oldest first, ``rho_hist[i] = 1/(y_i.s_i)`` and the
    initial matrix is ``gamma * I``.
    """
    q = g.neg()
    m = len(s_hist)
    alphas = [0.0] * m
    for i in range(m - 1, -1, -1):
        alphas[i] = rho_hist[i] * float(s_hist[i].dot(q))
        q.add_(y_hist[i], alpha=-alphas[i])
    r = q.mul_(gamma)
    for i in range(m):
        beta = rho_hist[i] * float(y_hist[i].dot(r))
        r.add_(s_hist[i], alpha=alphas[i] - beta)
    return r


class LBFGS(QuasiNewtonBase):
    r"""Limited-memory BFGS with strong-Wolfe line search (N&W Alg. 7.4/7.5).

    Direction by the two-loop recursion with ``H0 = (s^T y / y^T y) I`` from the newest
    stored pair; pairs with ``y.s <= curvature_eps |y||s|`` are skipped; at most
    ``history_size`` pairs are kept.  With an empty memory the direction is ``-g`` and
    the first trial step ``min(1, 1/|g|_2) * lr``.  A failed line search clears the
    memory and retries from steepest descent; a second consecutive failure sets
    ``status = "no progress"``.  Other arguments as for :class:`SSBroyden`.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        *,
        lr: float = 1.0,
        max_iter: int = 1,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-11,
        c1: float = 1e-4,
        c2: float = 0.9,
        max_ls: int = 25,
        curvature_eps: float = 1e-10,
        initial_step: str = "unit",
        history_size: int = 100,
    ) -> None:
        if history_size < 1:
            raise ValueError("history_size must be >= 1")
        super().__init__(
            params, lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
            c1=c1, c2=c2, max_ls=max_ls, curvature_eps=curvature_eps, initial_step=initial_step,
        )
        self.param_groups[0]["history_size"] = history_size

    def _direction(self, g: Tensor) -> tuple[Tensor, float]:
        st = self._st
        s_hist = st.setdefault("s_hist", [])
        if not s_hist:
            return self._steepest_descent(g)
        d = two_loop_direction(g, s_hist, st["y_hist"], st["rho_hist"], st["gamma"])
        if not self._is_descent(d, g):
            self._reset_curvature()
            return self._steepest_descent(g)
        return d, self.param_groups[0]["lr"]

    def _update(self, s: Tensor, y: Tensor, g: Tensor, alpha: float) -> None:
        st = self._st
        ys = self._pair_curvature(s, y)
        if ys is None:
            return
        s_hist = st.setdefault("s_hist", [])
        y_hist = st.setdefault("y_hist", [])
        rho_hist = st.setdefault("rho_hist", [])
        if len(s_hist) >= self.param_groups[0]["history_size"]:
            s_hist.pop(0)
            y_hist.pop(0)
            rho_hist.pop(0)
        s_hist.append(s.clone())
        y_hist.append(y.clone())
        rho_hist.append(1.0 / ys)
        st["gamma"] = ys / float(y.dot(y))

    def _reset_curvature(self) -> bool:
        st = self._st
        had = bool(st.get("s_hist"))
        st["s_hist"], st["y_hist"], st["rho_hist"] = [], [], []
        st["gamma"] = 1.0
        return had
