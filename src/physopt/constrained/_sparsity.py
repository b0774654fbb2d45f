"""Sparsity pattern of a constraint Jacobian ``J (m × n)`` from ``O(1)`` batches of Jacobian-vector products.

Reading the pattern row by row (``m`` reverse passes of cost ``O(n)`` each) is ``O(m n)`` work and,
batched, ``O(batch · n)`` memory: at ``n = 10⁵`` that search alone did not finish. Instead, *random
column classes* (a compressed-sensing style probe; the idea of sparsity detection by grouped
products is Griewank & Mitev's, "Detecting Jacobian sparsity patterns by Bayesian probing", Math.
Prog. 93, 2002 — the tests below are ours):

- each round draws a random colouring of the columns into ``k`` classes (``k = 64``, or ``n`` classes
  of one column when ``n ≤ 64``) and random weights ``r, r' ∈ [1, 2]``, and forms per class ``c``

      S₀ = J (r ⊙ 1_c),   S₁ = J (r ⊙ q ⊙ 1_c),   S₀' = J (r' ⊙ 1_c),    q_j = j + 1;

- row ``i`` has exactly one nonzero ``a`` in class ``c`` (at column ``j``) iff ``S₁/S₀ = q_j`` for a ``j`` of
  that class and ``S₀'/S₀ = r'_j / r_j`` (two nonzeros pass both tests only on a set of weights of
  measure zero); then ``a = S₀ / r_j``;
- a row is *complete* once the entries found so far reproduce its ``S₀`` in every class of the
  current round (a missing entry would have to cancel against random weights); found entries
  accumulate over rounds, so a nonzero needs to be alone in its class in one round only (probability
  ``≈ (1 − 1/k)^(d−1)`` per round for a row of ``d`` nonzeros: 94 % for ``d = 5``).

Cost ``3k`` products per round, ``O(k m + nnz)`` memory; rows touching more than ``k/2`` classes (more
than 32 nonzeros) are *dense* (an integral constraint ``f₂(x) ≤ ε``): they are returned apart, for the
caller to read by one reverse pass each — unless more than ``max(1 % of m, 8)`` rows are, then ``k``
grows ×4.
A value ``J_ij`` that is zero at the probed point is not in the pattern (as with any numerical probe):
the pattern serves a preconditioner only, so a missed entry costs Krylov iterations, not accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["SparsityPattern", "probe_sparsity"]

_CLASSES = 64
_MAX_ROUNDS = 16  # a row of d = 8 nonzeros is left incomplete after 16 rounds with probability ~1e-12
_DENSE_SHARE, _DENSE_MIN = 0.01, 8  # more dense rows than max(1 % of m, 8): the classes were too few
_RTOL = 1e-9  # rounding of a few products per entry (~1e-15) with a wide margin; see _resolve


@dataclass(frozen=True)
class SparsityPattern:
    """Nonzeros ``(rows, cols)`` of the sparse rows (CPU, ``long``), and the indices of dense rows."""

    rows: Tensor
    cols: Tensor
    dense: Tensor
    products: int  # Jacobian-vector products spent


def _resolve(s0: Tensor, s1: Tensor, s0b: Tensor, color: Tensor, c: int, r: Tensor, rb: Tensor,
             q: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Rows with exactly one nonzero in class ``c``: ``(rows, cols, values)`` (module docstring)."""
    n = q.numel()
    hit = s0 != 0
    ratio = torch.where(hit, s1 / torch.where(hit, s0, 1.0), 0.0)
    j = torch.round(ratio).long() - 1
    ok = hit & (j >= 0) & (j < n)
    jc = j.clamp(0, n - 1)
    ok &= (color[jc] == c) & ((ratio - q[jc]).abs() <= _RTOL * q[jc])
    lhs, rhs = s0b * r[jc], s0 * rb[jc]
    ok &= (lhs - rhs).abs() <= _RTOL * (lhs.abs() + rhs.abs())
    rows = ok.nonzero().flatten()
    return rows, jc[rows], s0[rows] / r[jc[rows]]


def probe_sparsity(jvp: Callable[[Tensor], Tensor], m: int, n: int, like: Tensor,
                   generator: torch.Generator) -> SparsityPattern | None:
    """Pattern of ``J`` from products ``jvp(v) = J v`` (module docstring); ``None`` if rows stay
    incomplete after ``_MAX_ROUNDS`` rounds (the caller then keeps a diagonal preconditioner)."""
    dev, dt = like.device, like.dtype
    q = torch.arange(1, n + 1, device=dev, dtype=dt)
    k = min(_CLASSES, n)
    pending = torch.ones(m, dtype=torch.bool, device=dev)
    dense = torch.zeros(m, dtype=torch.bool, device=dev)
    known_r = torch.zeros(0, dtype=torch.long, device=dev)
    known_c = torch.zeros(0, dtype=torch.long, device=dev)
    known_v = torch.zeros(0, dtype=dt, device=dev)
    products = 0
    first = True
    for _ in range(_MAX_ROUNDS):
        if k >= n:
            color = torch.randperm(n, generator=generator).to(dev) % k
        else:
            color = torch.randint(0, k, (n,), generator=generator).to(dev)
        r = (1.0 + torch.rand(n, generator=generator, dtype=dt)).to(dev)
        rb = (1.0 + torch.rand(n, generator=generator, dtype=dt)).to(dev)
        s0_all = torch.empty(k, m, dtype=dt, device=dev)
        new_r, new_c, new_v = [], [], []
        for c in range(k):
            ind = (color == c).to(dt)
            s0 = jvp(r * ind)
            s0_all[c] = s0
            products += 1
            if not bool((pending & (s0 != 0)).any()):
                continue  # nothing left to find in this class
            s1, s0b = jvp(r * q * ind), jvp(rb * ind)
            products += 2
            rows, cols, vals = _resolve(s0, s1, s0b, color, c, r, rb, q)
            keep = pending[rows]
            new_r.append(rows[keep])
            new_c.append(cols[keep])
            new_v.append(vals[keep])
        if first and k < n:
            touched = (s0_all != 0).sum(0)
            wide = touched > k // 2
            if int(wide.sum()) > max(_DENSE_SHARE * m, _DENSE_MIN):
                k = min(4 * k, n)
                continue  # too few classes for these rows: start again with more
            dense, pending = wide, pending & ~wide
        first = False
        known_r = torch.cat([known_r, *new_r])
        known_c = torch.cat([known_c, *new_c])
        known_v = torch.cat([known_v, *new_v])
        # an entry may be found in several rounds: keep one copy
        key = torch.unique(known_r * n + known_c, return_inverse=True)[1]
        first_of = torch.full((int(key.max()) + 1 if key.numel() else 0,), key.numel(), dtype=torch.long, device=dev)
        first_of.scatter_reduce_(0, key, torch.arange(key.numel(), device=dev), reduce="amin")
        known_r, known_c, known_v = known_r[first_of], known_c[first_of], known_v[first_of]
        # completeness: the known entries reproduce S₀ in every class of this round
        pred = torch.zeros(k * m, dtype=dt, device=dev)
        pred.index_add_(0, color[known_c] * m + known_r, known_v * r[known_c])
        pred = pred.reshape(k, m)
        scale = s0_all.abs().amax(0)
        match = ((pred - s0_all).abs() <= _RTOL * scale).all(0)
        pending &= ~match
        if not bool(pending.any()):
            sparse = ~dense[known_r]
            return SparsityPattern(known_r[sparse].cpu(), known_c[sparse].cpu(), dense.nonzero().flatten().cpu(),
                                   products)
    return None
