r"""Gradient-regularized Newton steps with approximate Hessians under gradient-normalized smoothness.

Algorithm 1 of Semenov, Jaggi & Doikov, "Gradient-Normalized Smoothness for Optimization with
Approximate Hessians" (arXiv:2506.13710, ICLR 2026). With an approximate Hessian :math:`H_k` and
the current estimate :math:`\gamma_k` of the gradient-normalized smoothness (the radius of the
ball around :math:`x_k` on which :math:`\nabla f(x_k) + H_k (y - x_k)` approximates
:math:`\nabla f(y)` to within a fraction of :math:`\|\nabla f(x_k)\|`):

.. math::

    \lambda_k = \|\nabla f(x_k)\| / \gamma_k, \qquad
    x_{k+1} = x_k - (H_k + \lambda_k I)^{-1} \nabla f(x_k),

accepted when :math:`f(x_k) - f(x_{k+1}) \ge \|\nabla f(x_{k+1})\|^2 / (8 \lambda_k)`; then
:math:`\gamma_{k+1} = 2\gamma_k`, otherwise :math:`\gamma_k \leftarrow \gamma_k / 2` and the step is
recomputed (the paper's adaptive search). The regularization vanishes with the gradient, so the
steps become Newton steps near a minimizer; far away, :math:`\lambda_k` dominates and the step is
close to a normalized gradient step of length :math:`\gamma_k`. That is why ``lr`` here is the
initial :math:`\gamma_0` (a length in parameter space).

Closure contract: the ``torch.optim.LBFGS`` one (``zero_grad``, loss, ``backward``, return the
loss), as for :class:`physopt.optim.SSBroyden`; each trial of the adaptive search costs one
closure evaluation (the acceptance test needs the gradient at the trial point).

Hessian approximations (``hessian=``), decisions of ours within what the paper's theory allows
(any :math:`H_k`; the guarantee depends on how well it linearizes the gradient):

* ``"bfgs"`` (default): a dense BFGS approximation of the Hessian itself (not its inverse),
  :math:`B_+ = B - B s s^\top B / s^\top B s + y y^\top / y^\top s`, started at
  :math:`(y^\top y / y^\top s) I` at the first pair and zero before it (so the first step is the
  normalized gradient step); pairs with :math:`y^\top s \le 10^{-10}\|y\|\|s\|` are skipped. No
  extra closure evaluations; :math:`O(n^2)` memory.
* ``"fd"``: a dense Hessian by forward differences of the gradient, :math:`n` extra closure
  evaluations per iteration (step :math:`\sqrt{\epsilon}\max(1, \|x\|_\infty)`), symmetrized. For
  small problems (an inexact Hessian in the paper's sense).
* a callable ``hessian() -> (n, n) tensor`` evaluated at the current parameters: the user's own
  approximation (Gauss–Newton, Fisher, or the exact Hessian from ``torch.autograd.functional``).

Other decisions: if :math:`H_k + \lambda_k I` is not positive definite (possible for ``"fd"`` and
user matrices) the trial counts as rejected without an evaluation (:math:`\gamma` halves, so
:math:`\lambda` doubles until it is); a non-finite trial loss is a rejection; after ``max_search``
(40, the authors' value) rejections in one iteration the step is abandoned with the parameters
unchanged and ``status = "no progress"`` (the authors' code takes the last trial instead); the
status, ``invalidate()`` and the cached evaluation are :class:`~physopt.optim.ClosureOptimizer`'s. In floating point
the decrease test cannot be met once the decrease is below the rounding of :math:`f`; a trial
whose decrease falls short by at most :math:`8\epsilon\max(1, |f|)` is accepted if it reduces
:math:`\|\nabla f\|` (without this the AL test in ``tests/unit/optim/test_gns.py`` stalled with
"no progress" before reaching ``tolerance_grad=1e-10``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch import Tensor

from ._closure import ClosureOptimizer, OptimizerStatus, check_counts, check_max_eval, check_step_length

__all__ = ["GNSNewton", "bfgs_hessian_update", "regularized_newton_step"]

_HESSIANS = ("bfgs", "fd")


def regularized_newton_step(H: Tensor, g: Tensor, lam: float) -> Tensor | None:
    r""":math:`-(H + \lambda I)^{-1} g` by Cholesky, or ``None`` if :math:`H + \lambda I` is not
    (numerically) positive definite."""
    L, info = torch.linalg.cholesky_ex(H + lam * torch.eye(H.shape[0], dtype=H.dtype, device=H.device))
    if int(info) != 0:
        return None
    return -torch.cholesky_solve(g[:, None], L)[:, 0]


def bfgs_hessian_update(B: Tensor, s: Tensor, y: Tensor, *, eps: float = 1e-10) -> bool:
    r"""In-place BFGS update of a Hessian approximation ``B`` with the pair ``(s, y)``.

    :math:`B \leftarrow B - B s s^\top B / (s^\top B s) + y y^\top / (y^\top s)`. An all-zero ``B``
    (no curvature yet) is first set to :math:`(y^\top y / y^\top s) I` (Nocedal & Wright eq. 6.20).
    Returns ``False`` (and leaves ``B``) when :math:`y^\top s \le \text{eps}\,\|y\|\|s\|`.
    """
    ys = float(y.dot(s))
    if not ys > eps * float(y.norm()) * float(s.norm()):
        return False
    if not bool(B.any()):
        B.copy_(torch.eye(B.shape[0], dtype=B.dtype, device=B.device) * (float(y.dot(y)) / ys))
    Bs = B.mv(s)
    sBs = float(s.dot(Bs))
    if sBs > 0.0:
        B.addr_(Bs, Bs, alpha=-1.0 / sBs)
    B.addr_(y, y, alpha=1.0 / ys)
    return True


class GNSNewton(ClosureOptimizer):
    r"""Gradient-regularized Newton method with an adaptive gradient-normalized-smoothness estimate.

    Update (Semenov, Jaggi & Doikov 2025, Algorithm 1):
    :math:`\lambda_k = \|g_k\|/\gamma_k`, :math:`x_{k+1} = x_k - (H_k + \lambda_k I)^{-1} g_k`,
    accepted iff :math:`f_k - f_{k+1} \ge \|g_{k+1}\|^2/(8\lambda_k)` (then
    :math:`\gamma \leftarrow 2\gamma`), else :math:`\gamma \leftarrow \gamma/2` and retry. See the
    module docstring for the Hessian options and every decision.

    Args:
        params: parameters (one group; float64 recommended).
        lr: initial :math:`\gamma_0` (a step length; 1.0).
        hessian: ``"bfgs"`` (default), ``"fd"`` or a callable returning an ``(n, n)`` tensor.
        max_iter: iterations per ``step`` call (1).
        max_eval: lifetime budget of closure evaluations (None = unlimited).
        tolerance_grad: ``"converged: gradient tolerance"`` when ``max|g| <= tolerance_grad``.
        max_search: rejections allowed per iteration before ``"no progress"`` (40).
        gamma_min: lower bound on :math:`\gamma` after an accepted step (1e-9, the authors' value).
        max_params: refuse to allocate a dense ``n x n`` Hessian beyond this size.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        *,
        lr: float = 1.0,
        hessian: str | Callable[[], Tensor] = "bfgs",
        max_iter: int = 1,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-11,
        max_search: int = 40,
        gamma_min: float = 1e-9,
        max_params: int = 10_000,
    ) -> None:
        check_step_length("lr (the initial gamma)", lr)
        if not callable(hessian) and hessian not in _HESSIANS:
            raise ValueError(f"hessian must be one of {_HESSIANS} or a callable, got {hessian!r}")
        check_counts(max_iter=max_iter, max_search=max_search)
        check_max_eval(max_eval)
        defaults = {
            "lr": lr, "max_iter": max_iter, "max_eval": max_eval, "tolerance_grad": tolerance_grad,
            "max_search": max_search, "gamma_min": gamma_min,
        }
        super().__init__(params, defaults)
        self._hessian = hessian
        if self._numel > max_params:
            raise ValueError(
                f"GNSNewton stores a dense {self._numel}x{self._numel} Hessian; raise max_params "
                f"(={max_params}) if that is intended"
            )

    # ---- state ----------------------------------------------------------------------
    @property
    def gamma(self) -> float:
        """The current gradient-normalized smoothness estimate."""
        return float(self._st.get("gamma", self.param_groups[0]["lr"]))

    def _hessian_at(self, closure: Callable[[], Tensor], x: Tensor, g: Tensor) -> Tensor:
        st = self._st
        if callable(self._hessian):
            with torch.enable_grad():
                H = self._hessian().detach().to(dtype=x.dtype)
            if H.shape != (self._numel, self._numel):
                raise ValueError(f"hessian() returned shape {tuple(H.shape)}, expected ({self._numel}, {self._numel})")
            return H
        if self._hessian == "bfgs":
            return st.setdefault("B", torch.zeros(self._numel, self._numel, dtype=x.dtype, device=x.device))
        h = math.sqrt(torch.finfo(x.dtype).eps) * max(1.0, float(x.abs().max()))
        cols = []
        for i in range(self._numel):
            e = torch.zeros_like(x)
            e[i] = h
            self._set_flat(x + e)
            cols.append((self._evaluate(closure)[1] - g) / h)
        self._set_flat(x)
        H = torch.stack(cols, dim=1)
        return 0.5 * (H + H.T)

    # ---- main loop ------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor]) -> Tensor:  # type: ignore[override]
        """Up to ``max_iter`` iterations; returns the loss at the current iterate."""
        self._start(closure)
        group, st = self.param_groups[0], self._st
        st.setdefault("gamma", float(group["lr"]))
        for x, f, g in self._iterations(closure):
            H = self._hessian_at(closure, x, g)
            st["n_iter"] += 1
            accepted = self._search(closure, x, f, g, H)
            if accepted is None:
                self._set_flat(x)
                out_of_budget = self._out_of_budget()
                self._set_status(OptimizerStatus.MAX_EVALUATIONS if out_of_budget else OptimizerStatus.NO_PROGRESS)
                break
            x_new, f_new, g_new = accepted
            if self._hessian == "bfgs":
                bfgs_hessian_update(st["B"], x_new - x, g_new - g)
            st["x"], st["f"], st["g"] = x_new, torch.tensor(f_new, dtype=x.dtype, device=x.device), g_new
        return st["f"].clone()

    def _search(
        self, closure: Callable[[], Tensor], x: Tensor, f: float, g: Tensor, H: Tensor
    ) -> tuple[Tensor, float, Tensor] | None:
        """The adaptive search for gamma; ``(x, f, g)`` of the accepted point, or None."""
        group, st = self.param_groups[0], self._st
        g_norm = float(g.norm())
        for _ in range(group["max_search"]):
            if self._out_of_budget():
                return None
            lam = g_norm / st["gamma"]
            delta = regularized_newton_step(H, g, lam)
            if delta is None or not bool(torch.isfinite(delta).all()):
                st["gamma"] *= 0.5
                continue
            x_new = x + delta
            self._set_flat(x_new)
            f_new, g_new = self._evaluate(closure)
            need = float(g_new.dot(g_new)) / (8.0 * lam)
            # float64 cannot resolve decreases below a few ulps of f: within that noise band a
            # step that shrinks the gradient is accepted (else the search stalls at |g| ~ 1e-8)
            noise = 8.0 * torch.finfo(x.dtype).eps * max(1.0, abs(f))
            if math.isfinite(f_new) and (
                f - f_new >= need or (f - f_new >= need - noise and float(g_new.norm()) < g_norm)
            ):
                st["gamma"] = max(2.0 * st["gamma"], group["gamma_min"])
                st["last_lambda"] = lam
                return x_new, f_new, g_new
            st["gamma"] *= 0.5
        return None
