r"""Energy natural gradient descent (ENGD) for least-squares losses, dense, with a line search.

For a loss :math:`f(\theta) = \|r(\theta)\|^2` built from a residual vector
:math:`r \in \mathbb{R}^N` (PINN residuals at collocation points, already weighted), the energy
natural gradient of Müller & Zeinhofer, "Achieving high accuracy with PINNs via energy natural
gradient descent", ICML 2023 (arXiv:2302.13163), is the Gauss–Newton direction

.. math::

    d = -(J^\top J + \mu I)^{+} J^\top r = -J^\top (J J^\top + \mu I)^{+} r,
    \qquad J = \partial r / \partial \theta \in \mathbb{R}^{N \times P},

(the energy Gram matrix of a quadratic PDE energy is :math:`J^\top J`), followed by a step
:math:`\theta \leftarrow \theta + \alpha d` with :math:`\alpha` from a line search.

Closure contract (``needs_residuals=True`` in :mod:`physopt.optim`'s registry)::

    def closure():                  # no zero_grad, no backward
        return residual_vector(model)   # 1-D tensor r with a graph to the parameters

    opt = ENGD(model.parameters())
    for _ in range(n_iter):
        loss = opt.step(closure)    # loss = ||r||^2 at the new iterate (sum of squares, no 1/2)
        if opt.status.finished:
            break

The loss is the plain sum of squares :math:`\|r\|^2`, so a residual vector scaled by
:math:`\sqrt{w_k/N_k}` per condition gives exactly the mean-square penalty loss the trainer reports.
A closure may also be a :class:`BlockedResiduals`, whose ``blocks(max_points)`` returns zero-argument
callables whose outputs, concatenated, equal ``closure()``, each evaluating only a slice of the points. The
Jacobian is then assembled block by block: a row of :math:`J` costs a backward pass through
its block's graph instead of the whole batch's (4×20 tanh MLP, Burgers residual, 2000 points,
one thread: 18.5 s of CPU from the full graph, 0.89 s from blocks of 16 points;
``OMP_NUM_THREADS=1 python benchmarks/engd_jacobian.py --block 16``). Without ``blocks`` each
row is one backward pass through the full graph (correct, :math:`O(N^2 P)`).

Decisions (not fixed by the paper):

* Damping :math:`\mu = \text{damping} \cdot \|J\|_F^2 / P` (relative to the mean diagonal of
  :math:`J^\top J`; default ``1e-6``), solved by Cholesky in the smaller of the parameter and
  residual spaces (the two forms are equal; the residual-space one is the "dual" form of Jnini &
  Vella, arXiv:2505.21404). If Cholesky fails, :math:`\mu` grows tenfold (at least to
  ``1e-14`` of the mean diagonal), up to 12 times. The paper uses a least-squares pseudo-inverse;
  ``damping=0`` with a full-rank :math:`J` is the exact Gauss–Newton step. The default ``1e-6``
  is measured (``OMP_NUM_THREADS=1 python benchmarks/engd_damping.py``): 30 ENGD steps on Burgers
  (4×20 net, 2000 points, after 1000 Adam steps) reached a loss of 8.1e-2 with
  ``1e-10``, 2.8e-7 with ``1e-6``, 1.9e-6 with ``1e-5``, 1.0e-5 with ``1e-4`` and 9.7e-5 with
  ``1e-3``; on ``tests/integration/poisson1d.py`` (50 steps after 150 Adam steps) the error was
  1.7e-6 with ``1e-10`` and 2.8e-6 with ``1e-6``.
* Line search: ``"armijo"`` (default) backtracks :math:`\alpha = \text{lr}\cdot 2^{-j}`,
  :math:`j = 0..\text{grid\_size}-1`, and takes the first step with
  :math:`f(\theta+\alpha d) \le f + c_1 \alpha \nabla f^\top d`; ``"grid"`` is the paper's
  choice: evaluate all :math:`\alpha = \text{lr}\cdot 2^{-j}` (31 values) and take the one with the
  smallest loss (it must be below :math:`f`). The paper evaluates its grid in parallel (JAX
  ``vmap``); on a CPU the grid costs 31 residual evaluations per step while backtracking usually
  accepts the first or second trial, hence the default.
* A trial with a non-finite loss counts as a failed trial (backtracking continues); a search
  without an acceptable step leaves the parameters unchanged and sets ``status = "no progress"``
  (the Gauss–Newton direction is a descent direction, so this only happens at numerical
  stationarity). ``opt.status`` is an :class:`~physopt.optim.OptimizerStatus`; the cached evaluation,
  counters, ``invalidate()`` and ``state_dict`` are :class:`~physopt.optim.ClosureOptimizer`'s.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable

import torch
from torch import Tensor

from ._closure import ClosureOptimizer, OptimizerStatus, check_counts, check_max_eval, check_step_length
from ._distributed_ns import active_world_size, sum_over_ranks

__all__ = ["ENGD", "BlockedResiduals", "gauss_newton_direction", "residual_jacobian"]

_LINE_SEARCHES = ("armijo", "grid")


def residual_jacobian(r: Tensor, params: list[Tensor], *, batched: bool = False) -> Tensor:
    """Dense ``(r.numel(), P)`` Jacobian of the residual vector ``r`` w.r.t. ``params``.

    ``batched=True`` pushes all rows through one vmapped backward (fast for small graphs, i.e.
    blocks of a few points); otherwise one backward pass per row (less memory on large graphs).
    Parameters ``r`` does not depend on get zero columns. ``r``'s graph is kept.
    """
    n = r.numel()
    flat = r.reshape(-1)
    eye = torch.eye(n, dtype=r.dtype, device=r.device)

    def as_row(grads: tuple[Tensor | None, ...], lead: tuple[int, ...]) -> Tensor:
        parts = [
            torch.zeros(*lead, p.numel(), dtype=r.dtype, device=r.device)
            if g is None
            else g.reshape(*lead, -1)
            for g, p in zip(grads, params, strict=True)
        ]
        return torch.cat(parts, dim=-1)

    if batched:
        grads = torch.autograd.grad(
            flat, params, grad_outputs=eye, is_grads_batched=True, retain_graph=True,
            allow_unused=True,
        )
        return as_row(grads, (n,))
    rows = [
        as_row(torch.autograd.grad(flat, params, eye[i], retain_graph=True, allow_unused=True), ())
        for i in range(n)
    ]
    return torch.stack(rows)


def gauss_newton_direction(J: Tensor, r: Tensor, *, damping: float) -> tuple[Tensor, float]:
    r"""``(d, mu)`` with :math:`d = -(J^\top J + \mu I)^{-1} J^\top r`.

    :math:`\mu = \text{damping}\cdot\|J\|_F^2/P`, raised tenfold (from at least ``1e-14`` of the
    mean diagonal) while the Cholesky factorization fails, at most 12 times. The system is solved
    in parameter space when ``P <= N`` and as :math:`-J^\top (J J^\top + \mu I)^{-1} r` otherwise.
    Returns a NaN direction if no factorization succeeds.
    """
    N, P = J.shape
    if P <= N:
        return gram_direction(J.T @ J, J.T @ r, damping=damping)
    scale = float(J.square().sum()) / P
    mu = damping * scale
    G = J @ J.T
    eye = torch.eye(G.shape[0], dtype=G.dtype, device=G.device)
    for _ in range(13):
        L, info = torch.linalg.cholesky_ex(G + mu * eye)
        if int(info) == 0:
            return -(J.T @ torch.cholesky_solve(r[:, None], L)[:, 0]), mu
        mu = max(10.0 * mu, 1e-14 * scale)
    return torch.full((P,), math.nan, dtype=J.dtype, device=J.device), mu


def gram_direction(G: Tensor, b: Tensor, *, damping: float) -> tuple[Tensor, float]:
    r"""``(d, mu)`` with :math:`d = -(G + \mu I)^{-1} b` for the Gram matrix :math:`G = J^	op J` and
    :math:`b = J^	op r` (the parameter-space form of :func:`gauss_newton_direction`, with the same
    damping rule; :math:`\|J\|_F^2 = \operatorname{tr} G`). Under ``torch.distributed`` ENGD sums
    the ranks' ``G`` and ``b``: the Gram matrix of the stacked Jacobian is the sum of the blocks'."""
    P = G.shape[0]
    scale = float(torch.diagonal(G).sum()) / P
    mu = damping * scale
    eye = torch.eye(P, dtype=G.dtype, device=G.device)
    for _ in range(13):
        L, info = torch.linalg.cholesky_ex(G + mu * eye)
        if int(info) == 0:
            return -torch.cholesky_solve(b[:, None], L)[:, 0], mu
        mu = max(10.0 * mu, 1e-14 * scale)
    return torch.full((P,), math.nan, dtype=G.dtype, device=G.device), mu



class BlockedResiduals(ABC):
    """A residual closure (``closure() -> r``, 1-D) that can also evaluate ``r`` in blocks of points.

    ``blocks(max_points)`` returns zero-argument callables whose outputs, concatenated, equal
    ``closure()``; :class:`ENGD` then builds the Jacobian block by block (the module docstring
    gives the measured speed-up).
    """

    @abstractmethod
    def __call__(self) -> Tensor:
        """The whole residual vector."""

    @abstractmethod
    def blocks(self, max_points: int) -> list[Callable[[], Tensor]]:
        """Callables evaluating at most ``max_points`` points each, in the order of ``__call__``."""


class ENGD(ClosureOptimizer):
    r"""Energy natural gradient descent: dense Gauss–Newton direction + line search.

    Update (Müller & Zeinhofer, ICML 2023): :math:`d = -(J^\top J + \mu I)^{+} J^\top r`,
    :math:`\theta \leftarrow \theta + \alpha d`, :math:`\alpha` from a backtracking Armijo search
    or the paper's grid :math:`\{\text{lr}\cdot 2^{-j}\}` (see the module docstring for the closure
    contract and every decision). The loss is :math:`\|r\|^2`.

    Args:
        params: parameters (one group; float64 recommended).
        lr: largest trial step (1.0: the full Gauss–Newton step).
        damping: relative damping :math:`\mu / (\|J\|_F^2/P)`; 0 = undamped Gauss–Newton.
        line_search: ``"armijo"`` (default) or ``"grid"``.
        grid_size: trial steps ``lr * 2**-j`` for ``j < grid_size`` (31, as in the paper).
        c1: Armijo constant.
        max_eval: lifetime budget of closure evaluations (None = unlimited).
        tolerance_grad: ``"converged: gradient tolerance"`` when ``max|grad f| <= tolerance_grad``.
        block_points: points per block when the closure offers ``blocks`` (16: of 8, 16 and 64,
            the fastest in ``benchmarks/engd_jacobian.py --points 1000 --block B``).
        max_params: refuse models above this size (the Gram matrix is dense).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        *,
        lr: float = 1.0,
        damping: float = 1e-6,
        line_search: str = "armijo",
        grid_size: int = 31,
        c1: float = 1e-4,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-11,
        block_points: int = 16,
        max_params: int = 10_000,
    ) -> None:
        check_step_length("lr", lr)
        if not 0.0 <= damping < math.inf:
            raise ValueError(f"damping must be a finite number >= 0, got {damping!r}")
        if line_search not in _LINE_SEARCHES:
            raise ValueError(f"line_search must be one of {_LINE_SEARCHES}, got {line_search!r}")
        if not 0.0 < c1 < 1.0:
            raise ValueError(f"c1 must be in (0, 1), got {c1!r}")
        check_counts(grid_size=grid_size, block_points=block_points)
        check_max_eval(max_eval)
        defaults = {
            "lr": lr, "damping": damping, "line_search": line_search, "grid_size": grid_size, "c1": c1,
            "max_eval": max_eval, "tolerance_grad": tolerance_grad, "block_points": block_points,
        }
        super().__init__(params, defaults)
        if self._numel > max_params:
            raise ValueError(
                f"ENGD builds a dense {self._numel}-parameter Gram matrix; raise max_params "
                f"(={max_params}) if that is intended"
            )
        # (flat parameters, residual with its graph) of the last evaluation: not part of the state,
        # a fresh optimizer simply re-evaluates.
        self._cache: tuple[Tensor, Tensor] | None = None

    # ---- state ----------------------------------------------------------------------
    _cached_keys = ()  # the cached evaluation is self._cache; the state keeps only f
    _closure_contract = " returning the residual vector"

    def invalidate(self) -> None:
        """Forget the cached residual (the objective changed) and set the status to running."""
        self._cache = None
        super().invalidate()

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a (deep-copied) state dict; the residual is re-evaluated at the next step."""
        super().load_state_dict(state_dict)
        self._cache = None

    # ---- helpers ----------------------------------------------------------------------
    def _evaluate(self, closure: Callable[[], Tensor]) -> tuple[float, Tensor]:
        with torch.enable_grad():
            r = closure()
        if not isinstance(r, Tensor) or r.dim() != 1:
            raise ValueError(
                f"ENGD's closure must return a 1-D residual tensor, got "
                f"{type(r).__name__}{'' if not isinstance(r, Tensor) else tuple(r.shape)}"
            )
        self._st["n_evals"] = self._st.get("n_evals", 0) + 1
        sq = r.detach().square().sum()
        if (world := active_world_size()) > 1:  # each rank's r holds its share: the global loss is the mean
            sq = sum_over_ranks(sq, world) / world
        return float(sq), r

    def _jacobian(self, closure: Callable[[], Tensor], r: Tensor) -> Tensor:
        with torch.enable_grad():
            if not isinstance(closure, BlockedResiduals):
                return residual_jacobian(r, self._params)
            rows = [
                residual_jacobian(piece().reshape(-1), self._params, batched=True)
                for piece in closure.blocks(self.param_groups[0]["block_points"])
            ]
        J = torch.cat(rows)
        if J.shape[0] != r.numel():
            raise ValueError(
                f"closure.blocks() produced {J.shape[0]} residuals, closure() {r.numel()}"
            )
        return J

    # ---- main loop ------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor]) -> Tensor:  # type: ignore[override]
        """One ENGD iteration; returns the loss ``||r||^2`` at the (new) iterate."""
        self._start(closure)
        group, st = self.param_groups[0], self._st
        x = self._flat()
        if self._cache is not None and torch.equal(self._cache[0], x):
            r = self._cache[1]
            f = float(st["f"])  # stored with the cache (under torch.distributed the global loss, not ||r||² here)
        else:
            f, r = self._evaluate(closure)
            self._cache = (x.clone(), r)
            st["f"] = torch.tensor(f, dtype=x.dtype, device=x.device)
        if self.status.finished:
            return st["f"].clone()
        if not math.isfinite(f):
            return self._stop(OptimizerStatus.NO_PROGRESS)
        if self._out_of_budget():
            return self._stop(OptimizerStatus.MAX_EVALUATIONS)

        J = self._jacobian(closure, r)
        rd = r.detach().reshape(-1)
        world = active_world_size()
        if world > 1:
            # The global residual stacks the ranks' r / sqrt(w): sum the Gram blocks (one all-reduce).
            P = J.shape[1]
            both = sum_over_ranks(torch.cat([(J.T @ J).reshape(-1), J.T @ rd]), world) / world
            G, b = both[: P * P].view(P, P), both[P * P:]
            grad = 2.0 * b
        else:
            grad = 2.0 * (J.T @ rd)
        if f == 0.0 or float(grad.abs().max()) <= group["tolerance_grad"]:
            return self._stop(OptimizerStatus.CONVERGED)
        if world > 1:
            d, mu = gram_direction(G, b, damping=group["damping"])
        else:
            d, mu = gauss_newton_direction(J, rd, damping=group["damping"])
        st["n_iter"] += 1
        st["last_damping"] = mu
        slope = float(grad.dot(d))
        if not (math.isfinite(slope) and slope < 0.0):
            return self._stop(OptimizerStatus.NO_PROGRESS)

        alpha, f_new, r_new = self._line_search(closure, x, d, f, slope)
        exhausted = self._out_of_budget()
        if alpha == 0.0:
            self._set_flat(x)
            self._cache = (x.clone(), r)
            if exhausted:
                return self._stop(OptimizerStatus.MAX_EVALUATIONS)
            # re-evaluate at x so that whatever the closure records (the trainer's history) is there
            self._evaluate(closure)
            self._set_status(OptimizerStatus.NO_PROGRESS)
        else:
            st["last_alpha"] = alpha
            st["f"] = torch.tensor(f_new, dtype=x.dtype, device=x.device)
            self._cache = (self._flat().clone(), r_new)
        if exhausted:
            self._set_status(OptimizerStatus.MAX_EVALUATIONS)
        return st["f"].clone()

    def _line_search(
        self, closure: Callable[[], Tensor], x: Tensor, d: Tensor, f0: float, slope: float
    ) -> tuple[float, float, Tensor]:
        """``(alpha, f, r)`` at the accepted step, parameters left there; alpha 0.0 = none."""
        group, st = self.param_groups[0], self._st
        steps = [group["lr"] * 0.5**j for j in range(group["grid_size"])]
        if group["max_eval"] is not None:
            # keep one evaluation for the grid's final re-evaluation
            left = group["max_eval"] - st["n_evals"] - (group["line_search"] == "grid")
            steps = steps[: max(left, 1)]
        best: tuple[float, float] = (0.0, f0)
        for alpha in steps:
            self._set_flat(x + alpha * d)
            f, r = self._evaluate(closure)
            if not math.isfinite(f):
                continue
            if group["line_search"] == "armijo":
                if f <= f0 + group["c1"] * alpha * slope:
                    return alpha, f, r
            elif f < best[1]:
                best = (alpha, f)
        if best[0] == 0.0:
            return 0.0, f0, torch.empty(0)
        self._set_flat(x + best[0] * d)
        f, r = self._evaluate(closure)  # re-evaluate: the cache and the caller's records sit here
        return best[0], f, r
