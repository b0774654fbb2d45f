"""Block-diagonal Schur-complement preconditioner for the Newton–KKT systems of ``method="newton"``.

For ``K = [[H, Jᵀ], [J, 0]]`` with ``H ≈ D`` diagonal, MINRES preconditioned by ``P = diag(D, S)``,
``S = J D⁻¹ Jᵀ``, sees at most three distinct eigenvalues when ``H = D`` exactly (Murphy, Golub &
Wathen, SIAM J. Sci. Comput. 21, 2000) — whatever ``‖J‖``: the cure for PDE constraints, whose
``κ(J) ~ 1/h²`` defeats a diagonal scaling. Matrix-free except for ``J``'s nonzeros:

- the sparsity pattern of ``J`` once per run from ``m`` vector-Jacobian products (batched, then kept);
- a greedy column colouring of it (columns sharing no row get one colour: Curtis, Powell & Reid,
  IMA J. Appl. Math. 13, 1974; distance-2 colouring, Gebremedhin, Manne & Pothen, SIAM Rev. 47, 2005),
  so each Newton step recovers ``J``'s values from one Jacobian-vector product per colour;
- ``S`` in block-tridiagonal storage (blocks of the band's width ``w`` in the constraints' order) and
  its block Cholesky factor: memory ``2 m w`` (``w ~ 2·grid`` for 2-D stencils: ``O(n^1.5)``, 0.4 GB
  at ``n = 10⁵``), refused above ``_MAX_BAND_ENTRIES`` — the caller then uses a diagonal ``S``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["ColoredJacobian", "colored_jacobian", "schur_preconditioner"]

_MAX_BAND_ENTRIES = 6e7  # 2 m w doubles: 0.5 GB, what a "few GB" budget leaves to the factor
_MIN_BLOCK = 32  # smaller blocks only add Python-loop overhead
_BATCH_ENTRIES = 4e6  # a batch of VJPs holds batch × n doubles (32 MB)


@dataclass(frozen=True)
class ColoredJacobian:
    """Pattern of ``J`` (``rows``, ``cols`` of the nonzeros) and a column colouring of it."""

    rows: Tensor
    cols: Tensor
    color: Tensor  # per column
    n_colors: int
    shape: tuple[int, int]

    def values(self, jvp: Callable[[Tensor], Tensor], like: Tensor) -> Tensor:
        """``J[rows, cols]`` from ``n_colors`` products ``J v`` (``v`` the indicator of one colour)."""
        color = self.color.to(like.device)
        out = torch.stack([jvp((color == k).to(like)) for k in range(self.n_colors)])
        return out[color[self.cols.to(like.device)], self.rows.to(like.device)]


def colored_jacobian(vjp_batched: Callable[[Tensor], Tensor], m: int, n: int, like: Tensor) -> ColoredJacobian:
    """Pattern from ``vjp_batched(E) = E J`` on batches of unit rows, then a greedy colouring."""
    rows, cols = [], []
    batch = max(1, min(m, int(_BATCH_ENTRIES // max(n, 1))))
    for start in range(0, m, batch):
        idx = torch.arange(start, min(m, start + batch), device=like.device)
        e = torch.zeros(idx.numel(), m, dtype=like.dtype, device=like.device)
        e[torch.arange(idx.numel(), device=like.device), idx] = 1.0
        r, c = torch.nonzero(vjp_batched(e), as_tuple=True)
        rows.append((r + start).cpu())
        cols.append(c.cpu())
    row_t, col_t = torch.cat(rows), torch.cat(cols)
    # greedy colouring of the column intersection graph, columns in order
    by_row: list[list[int]] = [[] for _ in range(m)]
    by_col: list[list[int]] = [[] for _ in range(n)]
    for r, c in zip(row_t.tolist(), col_t.tolist(), strict=True):
        by_row[r].append(c)
        by_col[c].append(r)
    color = [-1] * n
    for c in range(n):
        taken = {color[o] for r in by_col[c] for o in by_row[r]}
        k = 0
        while k in taken:
            k += 1
        color[c] = k
    n_colors = max(color, default=-1) + 1
    return ColoredJacobian(row_t, col_t, torch.tensor(color, dtype=torch.long), n_colors, (m, n))


def schur_preconditioner(pattern: ColoredJacobian, values: Tensor, d: Tensor) -> Callable[[Tensor], Tensor] | None:
    """``v ↦ (v_x / d, S⁻¹ v_c)`` with ``S = J diag(d)⁻¹ Jᵀ`` (``None``: band too wide or ``S`` singular)."""
    m, n = pattern.shape
    dev = d.device
    rows, cols = pattern.rows.to(dev), pattern.cols.to(dev)
    with warnings.catch_warnings():  # torch's "sparse support is in beta" notices, once per product
        warnings.simplefilter("ignore", UserWarning)
        jmat = torch.sparse_coo_tensor(torch.stack([rows, cols]), values / d[cols], (m, n),
                                       check_invariants=False).coalesce()
        jt = torch.sparse_coo_tensor(torch.stack([cols, rows]), values, (n, m), check_invariants=False).coalesce()
        s = torch.sparse.mm(jmat, jt).coalesce()
    si, sj = s.indices()
    sv = s.values()
    width = int((si - sj).abs().max()) if sv.numel() else 0
    block = max(width, _MIN_BLOCK, 1)
    nb = math.ceil(m / block)
    if 2 * nb * block * block > _MAX_BAND_ENTRIES:
        return None
    diag_b = torch.zeros(nb, block, block, dtype=d.dtype, device=dev)
    sub_b = torch.zeros(max(nb - 1, 0), block, block, dtype=d.dtype, device=dev)
    bi, bj = si // block, sj // block
    here = bi == bj
    diag_b[bi[here], si[here] % block, sj[here] % block] = sv[here]
    below = bi == bj + 1
    if nb > 1:
        sub_b[bj[below], si[below] % block, sj[below] % block] = sv[below]
    pad = nb * block - m
    scale = float(sv.abs().max()) if sv.numel() else 1.0
    eye = torch.eye(block, dtype=d.dtype, device=dev)
    if pad:
        diag_b[-1, block - pad:, block - pad:] = eye[:pad, :pad] * max(scale, 1.0)
    # a relative shift keeps the factor defined for rank-deficient J (repeated constraints)
    diag_b += 1e-12 * max(scale, 1e-300) * eye
    chol, coupling = [], []
    for k in range(nb):
        dk = diag_b[k]
        if k:
            mk = torch.linalg.solve_triangular(chol[-1], sub_b[k - 1].T, upper=False).T  # C L⁻ᵀ
            coupling.append(mk)
            dk = dk - mk @ mk.T
        lk, info = torch.linalg.cholesky_ex(dk)
        if int(info):
            return None
        chol.append(lk)

    def apply(v: Tensor) -> Tensor:
        vx, vc = v[:n] / d, torch.nn.functional.pad(v[n:], (0, pad)).reshape(nb, block, 1)
        y = []
        for k in range(nb):
            rhs = vc[k] if k == 0 else vc[k] - coupling[k - 1] @ y[-1]
            y.append(torch.linalg.solve_triangular(chol[k], rhs, upper=False))
        x = [None] * nb
        for k in range(nb - 1, -1, -1):
            rhs = y[k] if k == nb - 1 else y[k] - coupling[k].T @ x[k + 1]
            x[k] = torch.linalg.solve_triangular(chol[k].T, rhs, upper=True)
        return torch.cat([vx, torch.cat(x).reshape(-1)[:m]])

    return apply
