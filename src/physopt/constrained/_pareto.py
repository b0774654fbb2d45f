"""Pareto fronts of constrained multiobjective programs by scalarization: :func:`pareto`.

For objectives ``F = (f_1, ..., f_k)`` and the constraints of :func:`minimize`, three scalarizations
(Ehrgott, *Multicriteria Optimization*, 2nd ed., 2005, ch. 3-4; Eichfelder, *Adaptive Scalarization
Methods in Multiobjective Optimization*, 2008; the survey of Banholzer, Gebken, Peitz, Volkwein et al.,
"Multiobjective optimization of non-smooth PDE-constrained problems", 2023):

- ``"weighted"``: ``min Σ wᵢ f̂ᵢ`` with ``f̂ᵢ = (fᵢ − zᵢ*)/(zᵢᴺ − zᵢ*)`` normalized by the ideal ``z*``
  and nadir ``zᴺ`` of the anchor points; finds only the convex part of a front.
- ``"epsilon"``: ``min f_1 s.t. fᵢ ≤ εᵢ`` (``i ≥ 2``), ``ε`` spread between the anchors' values.
- ``"pascoletti-serafini"``: ``min_{x,t} t s.t. F(x) ≤ a + t r``, reference points ``a`` on the segment
  between the anchors' images, direction ``r = zᴺ − z*``; reaches non-convex parts of a front too.

``"epsilon"`` and ``"pascoletti-serafini"`` are solved in the normalized objectives ``f̂ᵢ`` too (the
same minimizers; constraints of size ``O(1)`` whatever the objectives' ranges); each point's ``fun`` is
``f_1(x)`` and its multipliers are in the user's units, its KKT residual that of the normalized problem.

Anchors are the minimizers of each ``fᵢ`` alone (2 objectives: ``n_points`` points including both
anchors). Each point starts from the previous point's ``x`` and multipliers (``warm_start``), walking
along the front (for ``"epsilon"`` from ``f_2``'s anchor, loosening ``ε``, so that each start is
feasible; the points are returned in the same order as for the other methods). Non-smooth terms such
as an L1 control cost ``‖u‖₁`` are not smoothed here: write them
with the exact split ``u = u⁺ − u⁻``, ``u± ≥ 0``, ``‖u‖₁ = Σ(u⁺ + u⁻)`` (smooth, same minimizers; the
docs show it) — every point then carries a true KKT residual.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import torch
from torch import Tensor

from ._bounds import Bounds, read_bounds
from ._minimize import minimize
from ._result import MinimizeResult

__all__ = ["ParetoFront", "hypervolume", "pareto"]

Fn = Callable[[Tensor], Tensor]
Scalarization = Literal["weighted", "epsilon", "pascoletti-serafini"]
_SCALARIZATIONS = ("weighted", "epsilon", "pascoletti-serafini")


@dataclass(frozen=True)
class ParetoFront:
    """Points of a Pareto front, ordered from the minimizer of ``f_1`` to that of ``f_2``.

    Attributes:
        points: one :class:`MinimizeResult` per point (its ``x`` has ``x0``'s shape; for
            ``"pascoletti-serafini"`` the auxiliary ``t`` is dropped, its multipliers are those of the
            scalarized problem).
        values: ``(n_points, k)`` objective values ``F(x)`` of the points.
        parameters: ``(n_points, k − 1)`` the weight ``w₂``, the bounds ``ε`` or the position of ``a``.
        method: the scalarization used.
    """

    points: tuple[MinimizeResult, ...]
    values: Tensor
    parameters: Tensor
    method: str

    @property
    def success(self) -> bool:
        return all(p.success for p in self.points)


def hypervolume(values: Tensor, reference: Sequence[float] | Tensor) -> float:
    """Area dominated by 2-objective ``values (n, 2)`` and bounded by ``reference`` (minimization)."""
    v = torch.as_tensor(values, dtype=torch.float64)
    ref = torch.as_tensor(reference, dtype=torch.float64)
    if v.dim() != 2 or v.shape[1] != 2 or ref.shape != (2,):
        raise ValueError(f"hypervolume takes (n, 2) values and a 2-vector reference; got {tuple(v.shape)}, "
                         f"{tuple(ref.shape)}")
    pts = v[(v < ref).all(dim=1)]
    pts = pts[torch.argsort(pts[:, 0])]
    area, best_f2 = 0.0, float(ref[1])
    for f1, f2 in pts.tolist():
        if f2 < best_f2:
            area += (float(ref[0]) - f1) * (best_f2 - f2)
            best_f2 = f2
    return area


def pareto(
    objectives: Sequence[Fn],
    x0: Tensor | Sequence[float],
    *,
    eq: Sequence[Fn] | None = None,
    ineq: Sequence[Fn] | None = None,
    bounds: Bounds | Sequence[object] | None = None,
    method: Scalarization = "weighted",
    n_points: int = 11,
    tol: float = 1e-8,
    solver: Literal["auto", "alm", "newton"] = "auto",
    dtype: torch.dtype = torch.float64,
) -> ParetoFront:
    """Approximate the Pareto front of two objectives under the constraints of :func:`minimize`.

    Args:
        objectives: two callables ``f_i(x)`` returning scalar tensors.
        x0: start of the first anchor solve (any shape, as for :func:`minimize`).
        eq, ineq, bounds: constraints, as for :func:`minimize`.
        method: ``"weighted"``, ``"epsilon"`` or ``"pascoletti-serafini"`` (module docstring).
        n_points: number of front points, anchors included (≥ 2).
        tol: KKT tolerance of every scalarized solve.
        solver: the :func:`minimize` method for each point.
        dtype: floating dtype of the computation.

    Raises:
        ValueError: fewer or more than two objectives, a non-callable one, an unknown method or a bad
            ``n_points``; everything :func:`minimize` rejects.
    """
    fs = list(objectives) if isinstance(objectives, Sequence) else []
    if len(fs) != 2 or not all(callable(f) for f in fs):
        raise ValueError(f"objectives must be a sequence of two callables; got {objectives!r}")
    if method not in _SCALARIZATIONS:
        raise ValueError(f"method must be one of {_SCALARIZATIONS}; got {method!r}")
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 2:
        raise ValueError(f"n_points must be an integer ≥ 2; got {n_points!r}")
    eq, ineq = list(eq or []), list(ineq or [])
    start = torch.as_tensor(x0, dtype=dtype)
    opts = {"bounds": bounds, "tol": tol, "method": solver, "dtype": dtype}
    anchors = [minimize(f, start, eq=eq, ineq=ineq, **opts) for f in fs]  # type: ignore[arg-type]
    images = torch.tensor([[float(f(a.x)) for f in fs] for a in anchors], dtype=torch.float64)
    ideal, nadir = images.min(dim=0).values, images.max(dim=0).values
    span = torch.where(nadir - ideal > 0, nadir - ideal, torch.ones_like(ideal))
    ts = torch.linspace(0.0, 1.0, n_points, dtype=torch.float64)
    points, params = [anchors[0]], [0.0]
    prev = anchors[0]
    inner = ts[1:-1].tolist()
    if method == "epsilon":
        # walk from f₂'s minimizer, loosening ε, so that every start point is feasible for the next
        # bound (from f₁'s side each start violates f₂ ≤ ε: on the 2-D Poisson fronts Newton stalled
        # there at barrier τ = 2e-2 and "auto"'s ALM fallback diverged)
        inner, prev = inner[::-1], anchors[1]
    walked: list[tuple[MinimizeResult, float]] = []
    for t in inner:
        if method == "weighted":
            res = _weighted(fs, prev, t, ideal, span, eq, ineq, opts)
        elif method == "epsilon":
            eps = float(images[0, 1] + t * (images[1, 1] - images[0, 1]))
            res = _epsilon(fs, prev, eps, ideal, span, eq, ineq, opts)
        else:
            a = images[0] + t * (images[1] - images[0])
            res = _pascoletti_serafini(fs, prev, a, ideal, span, eq, ineq, opts, start.shape)
        walked.append((res, eps if method == "epsilon" else t))
        prev = res
    if method == "epsilon":
        walked = walked[::-1]
    points += [w[0] for w in walked]
    params += [w[1] for w in walked]
    points.append(anchors[1])
    params.append(1.0 if method != "epsilon" else float(images[1, 1]))
    values = torch.tensor([[float(f(p.x)) for f in fs] for p in points], dtype=torch.float64)
    return ParetoFront(tuple(points), values, torch.tensor(params, dtype=torch.float64).reshape(-1, 1), method)


def _warm(prev: MinimizeResult, m_eq: int, m_ineq: int) -> MinimizeResult | None:
    same = prev.multipliers.eq.numel() == m_eq and prev.multipliers.ineq.numel() == m_ineq
    return prev if same else None


def _sizes(fns: list[Fn], x: Tensor) -> int:
    return sum(int(fn(x).numel()) for fn in fns)


def _weighted(fs: list[Fn], prev: MinimizeResult, t: float, ideal: Tensor, span: Tensor, eq: list[Fn],
              ineq: list[Fn], opts: dict) -> MinimizeResult:
    w = (1.0 - t, t)

    def scalar(x: Tensor) -> Tensor:
        return sum(wi * (f(x) - float(z)) / float(s) for wi, f, z, s in zip(w, fs, ideal, span, strict=True))  # type: ignore[return-value]

    warm = _warm(prev, _sizes(eq, prev.x), _sizes(ineq, prev.x))
    return minimize(scalar, prev.x, eq=eq, ineq=ineq, warm_start=warm, **opts)


def _normalized(f: Fn, z: Tensor, s: Tensor) -> Fn:
    return lambda x: (f(x) - float(z)) / float(s)


def _epsilon(fs: list[Fn], prev: MinimizeResult, eps: float, ideal: Tensor, span: Tensor, eq: list[Fn],
             ineq: list[Fn], opts: dict) -> MinimizeResult:
    # both objectives in the anchors' units (f̂ = (f − z*)/(zᴺ − z*)), as for "weighted": for the PDE
    # control fronts ½‖u‖² spans 0..7e7, and f₂ ≤ ε in raw units left 2 of 5 points unsolved
    g1, g2 = (_normalized(f, z, s) for f, z, s in zip(fs, ideal, span, strict=True))
    eps_hat = (eps - float(ideal[1])) / float(span[1])
    cons = [*ineq, lambda x: g2(x) - eps_hat]
    warm = _warm(prev, _sizes(eq, prev.x), _sizes(cons, prev.x))
    res = minimize(g1, prev.x, eq=eq, ineq=cons, warm_start=warm, **opts)
    return _unscale(res, fs[0], float(span[0]), float(span[1]))


def _unscale(res: MinimizeResult, f1: Fn, s1: float, s2: float) -> MinimizeResult:
    """Report the point in the user's units: ``fun = f₁(x)``, multipliers of the scalarized problem
    times ``s₁`` (those of ``f₂ ≤ ε`` in f₂'s units: ``× s₁/s₂``). The KKT residual is the scaled one."""
    m = res.multipliers
    ineq = m.ineq * s1
    if ineq.numel():
        ineq = torch.cat([ineq[:-1], ineq[-1:] / s2])
    mult = type(m)(eq=m.eq * s1, ineq=ineq, lower=m.lower * s1, upper=m.upper * s1)
    return replace(res, fun=float(f1(res.x)), multipliers=mult)


def _pascoletti_serafini(fs: list[Fn], prev: MinimizeResult, a: Tensor, ideal: Tensor, span: Tensor,
                         eq: list[Fn], ineq: list[Fn], opts: dict, shape: torch.Size) -> MinimizeResult:
    # min t s.t. f̂ᵢ(x) ≤ âᵢ + t in the anchors' units (f̂ = (f − z*)/(zᴺ − z*), â likewise, r = (1, 1)):
    # the same problem as with r = zᴺ − z* in raw units, but constraints of size O(1)
    n = prev.x.numel()
    gs = [_normalized(f, z, s) for f, z, s in zip(fs, ideal, span, strict=True)]
    a_hat = (a - ideal) / span

    def x_of(z: Tensor) -> Tensor:
        return z[:n].reshape(shape)

    t0 = max(float(torch.tensor([float(g(prev.x)) for g in gs]).sub(a_hat).max()), 0.0)
    z0 = torch.cat([prev.x.reshape(-1), torch.tensor([t0], dtype=prev.x.dtype)])
    cons = [*(lambda z, g=g: g(x_of(z)) for g in ineq),
            *(lambda z, g=g, ai=float(ai): g(x_of(z)) - ai - z[n] for g, ai in zip(gs, a_hat, strict=True))]
    eqs = [lambda z, h=h: h(x_of(z)) for h in eq]
    opts = dict(opts)
    bounds = opts.pop("bounds")
    if bounds is not None:
        lo, hi = read_bounds(bounds, prev.x.reshape(-1), prev.x.shape)
        inf = torch.tensor([math.inf], dtype=lo.dtype)
        bounds = Bounds(lower=torch.cat([lo, -inf]), upper=torch.cat([hi, inf]))
    res = minimize(lambda z: z[n], z0, eq=eqs, ineq=cons, bounds=bounds, **opts)
    return _drop_t(res, n, shape)


def _drop_t(res: MinimizeResult, n: int, shape: torch.Size) -> MinimizeResult:
    m = res.multipliers
    mult = type(m)(eq=m.eq, ineq=m.ineq, lower=m.lower[:n], upper=m.upper[:n])
    return replace(res, x=res.x[:n].reshape(shape), multipliers=mult)
