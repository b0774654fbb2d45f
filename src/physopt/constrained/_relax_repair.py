"""A Lagrangian heuristic for :func:`~physopt.constrained.relax`: repair ``x(λ)`` into a feasible point.

Lagrangian relaxation gives a bound and a point ``x(λ)`` that is often slightly infeasible — for the
assignment constraints of a TSP almost always, since the dual has many ties (Fisher, "The Lagrangian
relaxation method for solving integer programming problems", Management Sci. 27, 1981, §5: a greedy
primal heuristic started from ``x(λ)`` is the usual companion). This one is generic for
``A_eq x = b_eq, A_ub x ≤ b_ub`` over ``{0,1}ⁿ``:

1. *repair*: while the violation ``V(x) = ‖A_eq x − b_eq‖₁ + ‖(A_ub x − b_ub)₊‖₁`` is positive, apply the
   move — one flip, or a pair (one ``1 → 0`` and one ``0 → 1``) — with the smallest ``V``, ties broken by
   the smallest objective change; stop without a point when no move lowers ``V``;
2. *improve*: while a move keeps ``V = 0`` and lowers ``f = xᵀQx + cᵀx``, apply the best such move.

At most ``2n`` moves per phase; each move evaluates every flip and pair at once (``m × n₁ × n₀`` values).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["repair"]


def _violation(r: Tensor, n_eq: int) -> Tensor:
    """``V`` for residuals ``r = A x − b`` along the first axis (any trailing shape)."""
    return r[:n_eq].abs().sum(dim=0) + r[n_eq:].clamp(min=0.0).sum(dim=0)


def _best_move(x: Tensor, q: Tensor, c: Tensor, a: Tensor, b: Tensor, n_eq: int,
               feasible_only: bool) -> tuple[list[int], float, float]:
    """The move minimizing ``(V, Δf)`` (or, with ``feasible_only``, ``Δf`` among moves keeping ``V = 0``):
    its flipped indices, ``V`` after it and ``Δf``."""
    r = a @ x - b
    d = 1.0 - 2.0 * x  # the change of each bit when flipped
    df = d * (c + 2.0 * (q @ x)) + torch.diagonal(q) * d * d  # f(x + d_i e_i) − f(x), Q symmetric
    v_single = _violation(r[:, None] + a * d, n_eq)
    ones, zeros = (x > 0.5).nonzero()[:, 0], (x < 0.5).nonzero()[:, 0]
    moves: list[tuple[Tensor, Tensor, Tensor]] = [(v_single, df, torch.arange(x.numel(), device=x.device))]
    if ones.numel() and zeros.numel():  # pairs (i off, j on): r − a_i + a_j, Δf_i + Δf_j − 2 Q_ij
        v_pair = _violation(r[:, None, None] - a[:, ones, None] + a[:, None, zeros], n_eq).reshape(-1)
        df_pair = (df[ones, None] + df[None, zeros] - 2.0 * q[ones][:, zeros]).reshape(-1)
        moves.append((v_pair, df_pair, torch.arange(v_pair.numel(), device=x.device)))
    best: tuple[float, float, list[int]] = (float("inf"), float("inf"), [])
    for kind, (v, dfs, idx) in enumerate(moves):
        if feasible_only:
            keep = v <= 1e-9
            if not bool(keep.any()):
                continue
            v, dfs, idx = v[keep], dfs[keep], idx[keep]
        # lexicographic (V, Δf): V takes few values, so order by V first, then Δf among the smallest V
        v_min = float(v.min())
        tie = v <= v_min + 1e-9
        k = int(idx[tie][torch.argmin(dfs[tie])])
        cand = (v_min, float(dfs[tie].min()))
        if cand < best[:2]:
            flips = [k] if kind == 0 else [int(ones[k // zeros.numel()]), int(zeros[k % zeros.numel()])]
            best = (*cand, flips)
    return best[2], best[0], best[1]


def repair(x: Tensor, *, q: Tensor, c: Tensor, a: Tensor, b: Tensor, n_eq: int) -> Tensor | None:
    """A feasible point near ``x`` (see the module docstring), or ``None`` when the repair gets stuck.

    ``q`` must be symmetric; ``a, b`` stack the equality rows (the first ``n_eq``) over the inequality rows.
    """
    x = x.clone()
    n = x.numel()
    for _ in range(2 * n):
        if float(_violation(a @ x - b, n_eq)) <= 1e-9:
            break
        flips, v_after, _ = _best_move(x, q, c, a, b, n_eq, feasible_only=False)
        if not flips or v_after >= float(_violation(a @ x - b, n_eq)) - 1e-9:
            return None
        x[flips] = 1.0 - x[flips]
    if float(_violation(a @ x - b, n_eq)) > 1e-9:
        return None
    for _ in range(2 * n):
        flips, _, df = _best_move(x, q, c, a, b, n_eq, feasible_only=True)
        if not flips or df >= -1e-12:
            break
        x[flips] = 1.0 - x[flips]
    return x
