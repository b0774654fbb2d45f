"""Slack-free Lagrangian methods for binary programs with linear constraints: :func:`relax`.

For ``min xᵀQx + cᵀx`` over ``x ∈ {0,1}ⁿ`` with ``A_ub x ≤ b_ub`` and ``A_eq x = b_eq``, the constraints
are moved into the objective with multipliers (Sharma & Lau, "Cutting Slack: Quantum Optimization with
Slack-Free Methods for Combinatorial Benchmarks", arXiv:2507.12159, 2025), so the inner problem

    x(λ, μ) = argmin_{x ∈ {0,1}ⁿ}  xᵀQx + cᵀx + λᵀ(A_eq x − b_eq) + μᵀ(A_ub x − b_ub) [+ ρ/2 ‖A_eq x − b_eq‖²]

is an unconstrained binary quadratic program on the ``n`` original variables: no slack bits. Its value
is the dual function ``q(λ, μ)`` (a lower bound on the optimum when the inner solve is exact) and
``s = (A_eq x − b_eq, A_ub x − b_ub)`` a supergradient. Multiplier updates (``μ ≥ 0`` throughout):

- ``"subgradient"``: Polyak steps ``θ (UB − q)/‖s‖² · s`` (Polyak, 1969; Held, Wolfe & Crowder, 1974),
  target ``UB = min(best feasible value, q_best + 0.05 max(1, |q_best|))``, ``θ₀ = 1`` halved
  after 10 iterations without a better ``q``.
- ``"bundle"``: proximal bundle (Kiwiel, 1990): the cutting-plane model ``min_j q_j + s_jᵀ(λ − λ_j)`` of
  the last 20 cuts maximized with a proximal term ``1/(2t)‖λ − λ̂‖²`` around the stability center
  ``λ̂``, through its dual, a QP on the simplex solved by 200 projected-gradient steps; a serious step
  (``λ̂ ← λ``) when ``q`` rises by at least 10 % of the predicted rise, else a null step. ``t = 1/‖s₀‖``.
- ``"cutting-plane"``: Kelley (1960) stabilised by a box (the boxstep method, Marsten, Hogan &
  Blankenship 1975): every cut so far, the master LP ``max w s.t. w ≤ q_j + s_jᵀ(λ − λ_j)`` over
  ``‖λ − λ̂‖∞ ≤ Δ`` (and ``μ ≥ 0``, ``|λ| ≤ 1e3 max(1, ‖c‖∞, ‖Q‖∞)``) solved exactly by a dense
  interior-point LP (:mod:`._lp`); serious / null steps as for the bundle, ``Δ ← 2Δ`` after a serious
  step that reached the box with at least half the predicted rise, ``Δ ← Δ/2`` after a null step whose
  ``q`` fell below the center's, ``Δ₀ = max(1, ‖c‖∞, max_i Σ_j |Q_ij|) / max |A|``. Unstabilised
  Kelley (``Δ = ∞``) jumps between the vertices of the multiplier box.
- ``"alm"``: augmented Lagrangian for the equalities (the term ``ρ/2‖A_eq x − b_eq‖²`` keeps the inner
  problem quadratic), ``λ ← λ + ρ s_eq``, ``ρ ← 2ρ`` while the violation does not halve, ``ρ₀ = 1``;
  inequalities by the same step on ``μ`` then ``μ ← max(μ, 0)`` (no squared max term: it would not
  be quadratic).

Inner solvers: exact enumeration (``n ≤ 20``; vectorized over all ``2ⁿ`` points in chunks) or
simulated annealing (single flips, geometric temperature from ``max|Δ|`` to ``1e-3 max|Δ|``, 8 chains,
``30 n`` flips per chain; Kirkpatrick et al., Science 220, 1983). The best
feasible point seen at any iteration is returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from ._lp import solve_lp
from ._relax_repair import repair as repair_point

__all__ = ["RelaxResult", "binary_minimize", "relax"]

Update = Literal["subgradient", "bundle", "cutting-plane", "alm"]
Inner = Literal["auto", "exact", "anneal"]
_UPDATES = ("subgradient", "bundle", "cutting-plane", "alm")
_INNERS = ("auto", "exact", "anneal")
_EXACT_MAX_N = 20


@dataclass(frozen=True)
class RelaxResult:
    """Best feasible point of a :func:`relax` run and the dual information.

    Attributes:
        x: best feasible ``x`` found (``None`` if no iterate was feasible).
        fun: its objective value ``xᵀQx + cᵀx`` (``inf`` if none).
        feasible: a feasible point was found.
        lower_bound: best dual value ``q`` (a valid bound only if ``inner_exact``).
        inner_exact: the inner problems were solved by enumeration.
        multipliers: final ``(λ_eq, μ_ub)``.
        n_variables: binary variables of the inner problem (= ``n``: no slacks).
        nit: multiplier updates; feasible_iterations: iterations whose ``x(λ)`` was feasible.
        method: the multiplier update.
        repaired: the best point came from the repair heuristic (``repair=True``), not from an ``x(λ)``.
    """

    x: Tensor | None
    fun: float
    feasible: bool
    lower_bound: float
    inner_exact: bool
    multipliers: tuple[Tensor, Tensor]
    n_variables: int
    nit: int
    feasible_iterations: int
    method: str
    repaired: bool = False


def _qubo_values(q: Tensor, lin: Tensor, xs: Tensor) -> Tensor:
    return ((xs @ q) * xs).sum(dim=1) + xs @ lin


def binary_minimize(q: Tensor, lin: Tensor, *, inner: Inner, generator: torch.Generator) -> tuple[Tensor, bool]:
    """``argmin xᵀqx + linᵀx`` over ``{0,1}ⁿ``: enumeration (exact) or simulated annealing."""
    n = lin.numel()
    q = 0.5 * (q + q.T)
    if inner == "exact" or (inner == "auto" and n <= _EXACT_MAX_N):
        if n > 26:
            raise ValueError(f"inner='exact' enumerates 2^n points; n = {n} is too large (use 'anneal')")
        bits = torch.arange(n, device=lin.device)
        best, best_v = None, math.inf
        for start in range(0, 2**n, 1 << 16):
            idx = torch.arange(start, min(start + (1 << 16), 2**n), device=lin.device)
            xs = ((idx[:, None] >> bits) & 1).to(lin.dtype)
            v = _qubo_values(q, lin, xs)
            k = int(torch.argmin(v))
            if float(v[k]) < best_v:
                best, best_v = xs[k], float(v[k])
        return best, True  # type: ignore[return-value]
    chains = 8
    x = (torch.rand(chains, n, generator=generator, dtype=lin.dtype) < 0.5).to(lin.dtype)
    diag = torch.diagonal(q)
    field = x @ q  # (chains, n): (Qx)_i
    scale = float((lin.abs() + q.abs().sum(dim=1)).max()) + 1e-12
    steps = 30 * n
    temps = scale * torch.logspace(0, -3, steps, dtype=lin.dtype)
    best_x, best_v = x.clone(), _qubo_values(q, lin, x)
    for k in range(steps):
        i = torch.randint(0, n, (chains,), generator=generator)
        rows = torch.arange(chains)
        xi = x[rows, i]
        # flipping x_i changes the value by (1 − 2x_i)(lin_i + 2(Qx)_i − 2 q_ii x_i + q_ii)
        delta = (1 - 2 * xi) * (lin[i] + 2 * field[rows, i] - 2 * diag[i] * xi + diag[i])
        uniform = torch.rand(chains, generator=generator, dtype=lin.dtype)
        accept = (delta <= 0) | (uniform < torch.exp(-delta / temps[k]))
        change = torch.where(accept, 1 - 2 * xi, torch.zeros_like(xi))
        x[rows, i] = xi + change
        field += change[:, None] * q[i]
        if k % n == n - 1 or k == steps - 1:
            v = _qubo_values(q, lin, x)
            better = v < best_v
            best_x[better], best_v[better] = x[better], v[better]
    return best_x[int(torch.argmin(best_v))], False


def _simplex_projection(v: Tensor) -> Tensor:
    u, _ = torch.sort(v, descending=True)
    css = torch.cumsum(u, 0) - 1
    ind = torch.arange(1, v.numel() + 1, dtype=v.dtype)
    k = int((u - css / ind > 0).nonzero().max()) + 1
    return (v - css[k - 1] / k).clamp(min=0.0)


def _bundle_step(center: Tensor, cuts: list[tuple[float, Tensor, Tensor]], t: float, n_eq: int,
                 box: float) -> tuple[Tensor, float]:
    """Maximize ``min_j q_j + s_jᵀ(λ − λ_j) − ‖λ − λ̂‖²/(2t)`` via its simplex-QP dual."""
    s = torch.stack([c[1] for c in cuts])
    lin = torch.tensor([c[0] + float(c[1] @ (center - c[2])) for c in cuts], dtype=s.dtype)
    alpha = torch.full((len(cuts),), 1.0 / len(cuts), dtype=s.dtype)
    lip = t * float(torch.linalg.matrix_norm(s @ s.T, ord=2)) + 1e-12
    for _ in range(200):  # min_α t/2 ‖Σ α s‖² − Σ α lin over the simplex
        grad = t * (s @ (s.T @ alpha)) - lin
        alpha = _simplex_projection(alpha - grad / lip)
    lam = center + t * (s.T @ alpha)
    lam[n_eq:] = lam[n_eq:].clamp(min=0.0)
    lam = lam.clamp(-box, box)
    model = float(torch.min(lin + s @ (lam - center)))
    return lam, model


def _kelley_step(center: Tensor, radius: float, cuts: list[tuple[float, Tensor, Tensor]], n_eq: int,
                 box: float) -> tuple[Tensor, float]:
    """Maximize the cut model ``min_j q_j + s_jᵀ(λ − λ_j)`` over the box ``‖λ − λ̂‖∞ ≤ radius``: an LP in
    ``(λ, w)``; returns the maximizer and the model value there."""
    m = center.numel()
    s = torch.stack([cut[1] for cut in cuts])
    offsets = torch.tensor([cut[0] - float(cut[1] @ cut[2]) for cut in cuts], dtype=s.dtype, device=s.device)
    g = torch.cat([-s, torch.ones(len(cuts), 1, dtype=s.dtype, device=s.device)], dim=1)  # w − s_jᵀλ ≤ q_j − s_jᵀλ_j
    lower = torch.maximum(center - radius, torch.full_like(center, -box))
    lower[n_eq:] = lower[n_eq:].clamp(min=0.0)
    upper = torch.minimum(center + radius, torch.full_like(center, box))
    upper = torch.maximum(upper, lower)  # a center on the μ ≥ 0 face with a tiny radius: a point, not empty
    inf = torch.full((1,), float("inf"), dtype=s.dtype, device=s.device)
    cost = torch.zeros(m + 1, dtype=s.dtype, device=s.device)
    cost[m] = -1.0
    lp = solve_lp(cost, g, offsets, lower=torch.cat([lower, -inf]), upper=torch.cat([upper, inf]))
    lam = torch.minimum(torch.maximum(lp.x[:m], lower), upper)  # interior-point iterates sit inside to ~tol
    return lam, float(torch.min(offsets + s @ lam))


def relax(
    c: Tensor,
    *,
    Q: Tensor | None = None,
    A_ub: Tensor | None = None,
    b_ub: Tensor | None = None,
    A_eq: Tensor | None = None,
    b_eq: Tensor | None = None,
    method: Update = "subgradient",
    inner: Inner = "auto",
    max_iter: int = 100,
    seed: int = 0,
    repair: bool = False,
) -> RelaxResult:
    """Solve ``min xᵀQx + cᵀx, x ∈ {0,1}ⁿ, A_ub x ≤ b_ub, A_eq x = b_eq`` by Lagrangian relaxation.

    See the module docstring for the methods. Tensors are float64 on ``c``'s device. With
    ``repair=True`` every ``x(λ)`` is also passed through a greedy repair-and-improve heuristic
    (:mod:`._relax_repair`) and its feasible result competes for the best point.

    Raises:
        ValueError: shapes that do not match ``n = len(c)``, a missing right-hand side, NaN/Inf
            entries, an unknown ``method`` or ``inner``, or ``max_iter < 1``.
    """
    if method not in _UPDATES:
        raise ValueError(f"method must be one of {_UPDATES}; got {method!r}")
    if inner not in _INNERS:
        raise ValueError(f"inner must be one of {_INNERS}; got {inner!r}")
    if not isinstance(repair, bool):
        raise ValueError(f"repair must be True or False; got {repair!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}")
    c = torch.as_tensor(c, dtype=torch.float64).reshape(-1)
    n = c.numel()
    q = torch.zeros(n, n, dtype=c.dtype, device=c.device) if Q is None else torch.as_tensor(Q, dtype=c.dtype)
    a_eq, b_eq_t = _rows(A_eq, b_eq, n, "eq", c)
    a_ub, b_ub_t = _rows(A_ub, b_ub, n, "ub", c)
    for name, t in (("c", c), ("Q", q), ("A_eq", a_eq), ("A_ub", a_ub), ("b_eq", b_eq_t), ("b_ub", b_ub_t)):
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} contains NaN or Inf")
    if q.shape != (n, n):
        raise ValueError(f"Q has shape {tuple(q.shape)}, but c has {n} entries")
    a = torch.cat([a_eq, a_ub])
    b = torch.cat([b_eq_t, b_ub_t])
    me = a_eq.shape[0]
    gen = torch.Generator().manual_seed(seed)
    lam = torch.zeros(a.shape[0], dtype=c.dtype)
    rho = 1.0 if method == "alm" else 0.0
    best_x, best_f, best_q = None, math.inf, -math.inf
    theta, stall, feasible_its = 1.0, 0, 0
    exact = False
    cuts: list[tuple[float, Tensor, Tensor]] = []
    center, center_q, t_prox = lam.clone(), -math.inf, 0.0
    box = 1e3 * max(1.0, float(c.abs().max()), float(q.abs().max()))
    cost_scale = max(1.0, float(c.abs().max()), float(q.abs().sum(dim=1).max()) if n else 0.0)
    radius0 = cost_scale / max(float(a.abs().max()) if a.numel() else 1.0, 1e-12)  # a multiplier's natural size
    radius = radius0
    prev_viol, pred = math.inf, 0.0
    q_sym, repaired = 0.5 * (q + q.T), False
    for k in range(max_iter):
        lin = c + a.T @ lam
        quad = q.clone()
        if rho and me:
            quad = quad + 0.5 * rho * a_eq.T @ a_eq
            lin = lin - rho * a_eq.T @ b_eq_t
        x, exact = binary_minimize(quad, lin, inner=inner, generator=gen)
        s = a @ x - b
        f = float(x @ q @ x + c @ x)
        dual = f + float(lam @ s) + (0.5 * rho * float(s[:me] @ s[:me]) if rho else 0.0)
        if rho == 0.0:
            best_q = max(best_q, dual)
        viol = max([0.0, *s[:me].abs().tolist(), *s[me:].tolist()])
        if viol <= 1e-9:
            feasible_its += 1
            if f < best_f:
                best_x, best_f, repaired = x.clone(), f, False
        if repair:
            xr = repair_point(x, q=q_sym, c=c, a=a, b=b, n_eq=me)
            fr = math.inf if xr is None else float(xr @ q @ xr + c @ xr)
            if fr < best_f - 1e-12:
                best_x, best_f, repaired = xr, fr, True
        if not bool((s[:me].abs() > 1e-9).any() | (s[me:] > 1e-9).any()) and float(lam[me:] @ s[me:]) >= -1e-9:
            break  # x(λ) is feasible and complementary: optimal for the relaxed problem and the original
        if method == "subgradient":
            stall = 0 if dual > best_q - 1e-12 else stall + 1
            if stall >= 10:
                theta, stall = theta / 2, 0
            # target level: the incumbent, but at most 5 % above the best dual value (an incumbent far
            # above the optimum makes Polyak steps overshoot and the multipliers oscillate)
            target = min(best_f, best_q + 0.05 * max(1.0, abs(best_q)))
            step = theta * max(target - dual, 1e-9) / max(float(s @ s), 1e-12)
            lam = lam + step * s
        elif method == "alm":
            lam = lam + max(rho, 1.0) * s
            if viol > 0.5 * prev_viol:
                rho *= 2.0
            prev_viol = viol
        elif method == "cutting-plane":
            cuts.append((dual, s.clone(), lam.clone()))  # Kelley keeps every cut
            if k == 0:
                center, center_q, radius = lam.clone(), dual, radius0
            elif dual >= center_q + 0.1 * max(pred, 0.0):  # serious step
                at_box = float((lam - center).abs().max()) >= 0.99 * radius
                if at_box and dual >= center_q + 0.5 * pred:
                    radius *= 2.0
                center, center_q = lam.clone(), dual
            elif dual < center_q:  # null step to a worse point: the model is wrong that far out
                radius = max(0.5 * radius, 1e-9 * radius0)
            lam, model = _kelley_step(center, radius, cuts, me, box)
            pred = model - center_q
            if exact and pred <= 1e-9 * max(1.0, abs(center_q)):
                break  # the model's maximum is the center's value: λ̂ maximizes the dual function
        else:
            cuts = [*cuts, (dual, s.clone(), lam.clone())][-20:]
            if k == 0:
                t_prox = 1.0 / max(float(s.norm()), 1e-12)
                center, center_q = lam.clone(), dual
            elif dual >= center_q + 0.1 * max(pred, 0.0):
                center, center_q = lam.clone(), dual
            lam_new, model = _bundle_step(center, cuts, t_prox, me, box)
            pred = model - center_q
            lam = lam_new
        lam[me:] = lam[me:].clamp(min=0.0)
    return RelaxResult(best_x, best_f, best_x is not None, best_q, exact, (lam[:me].clone(), lam[me:].clone()),
                       n, k + 1, feasible_its, method, repaired)


def _rows(a: Tensor | None, b: Tensor | None, n: int, kind: str, like: Tensor) -> tuple[Tensor, Tensor]:
    if a is None and b is None:
        return like.new_zeros(0, n), like.new_zeros(0)
    if a is None or b is None:
        raise ValueError(f"A_{kind} and b_{kind} must be given together; got A_{kind}={a!r}, b_{kind}={b!r}")
    at = torch.as_tensor(a, dtype=like.dtype).reshape(-1, n) if torch.as_tensor(a).numel() % n == 0 else None
    bt = torch.as_tensor(b, dtype=like.dtype).reshape(-1)
    if at is None or at.shape[0] != bt.numel() or torch.as_tensor(a).dim() != 2:
        raise ValueError(f"A_{kind} must have shape (m, {n}) and b_{kind} shape (m,); got "
                         f"{tuple(torch.as_tensor(a).shape)} and {tuple(torch.as_tensor(b).shape)}")
    return at, bt
