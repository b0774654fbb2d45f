"""Block-diagonal Schur-complement preconditioner for the Newton–KKT systems of ``method="newton"``.

For ``K = [[H, Jᵀ], [J, 0]]`` with ``H ≈ D`` diagonal, MINRES preconditioned by ``P = diag(D, S)``,
``S = J D⁻¹ Jᵀ``, sees at most three distinct eigenvalues when ``H = D`` exactly (Murphy, Golub &
Wathen, SIAM J. Sci. Comput. 21, 2000) — whatever ``‖J‖``: the cure for PDE constraints, whose
``κ(J) ~ 1/h²`` defeats a diagonal scaling. Matrix-free except for ``J``'s nonzeros:

- the sparsity pattern of ``J`` once per run from random column-class probes (:mod:`._sparsity`:
  ``3 · 64`` Jacobian-vector products per round, a few rounds; not ``m`` reverse passes), then kept;
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

from ._sparsity import probe_sparsity

__all__ = ["ColoredJacobian", "colored_jacobian", "schur_preconditioner"]

_MAX_BAND_ENTRIES = 1e8  # 2 m w doubles in the factor (0.8 GB; twice that while factorising): heat at 10⁵ needs 6.3e7
_MIN_BLOCK = 32  # smaller blocks only add Python-loop overhead


@dataclass(frozen=True)
class ColoredJacobian:
    """Pattern of ``J``'s sparse rows (``rows``, ``cols`` of the nonzeros), a column colouring of it,
    and the dense rows (more than 32 nonzeros, :mod:`._sparsity`; e.g. an integral constraint
    ``f₂(x) ≤ ε``), which are kept out of the colouring and read by one reverse pass each."""

    rows: Tensor
    cols: Tensor
    color: Tensor  # per column
    n_colors: int
    shape: tuple[int, int]
    dense: Tensor  # row indices

    def values(self, jvp: Callable[[Tensor], Tensor], vjp: Callable[[Tensor], Tensor],
               like: Tensor) -> tuple[Tensor, Tensor]:
        """``J[rows, cols]`` from ``n_colors`` products ``J v`` (``v`` the indicator of one colour), and
        the dense rows ``(k, n)`` from ``k`` products ``Jᵀ eᵢ``."""
        color = self.color.to(like.device)
        out = torch.stack([jvp((color == k).to(like)) for k in range(self.n_colors)])
        sparse = out[color[self.cols.to(like.device)], self.rows.to(like.device)]
        unit = torch.zeros(self.dense.numel(), self.shape[0], dtype=like.dtype, device=like.device)
        unit[torch.arange(self.dense.numel(), device=like.device), self.dense.to(like.device)] = 1.0
        dense = torch.stack([vjp(e) for e in unit]) if self.dense.numel() else like.new_zeros(0, self.shape[1])
        return sparse, dense


def colored_jacobian(jvp: Callable[[Tensor], Tensor], m: int, n: int, like: Tensor,
                     generator: torch.Generator) -> ColoredJacobian | None:
    """Pattern from random class probes (:mod:`._sparsity`, ``O(1)`` batches of products ``J v``), then a
    greedy colouring of its sparse rows; ``None`` if the probe leaves rows incomplete."""
    found = probe_sparsity(jvp, m, n, like, generator)
    if found is None:
        return None
    row_t, col_t, dense = found.rows, found.cols, found.dense
    # greedy colouring of the column intersection graph (sparse rows), columns in order
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
    return ColoredJacobian(row_t, col_t, torch.tensor(color, dtype=torch.long), n_colors, (m, n), dense)


def schur_preconditioner(pattern: ColoredJacobian, values: tuple[Tensor, Tensor],
                         d: Tensor) -> Callable[[Tensor], Tensor] | None:
    """``v ↦ (v_x / d, S⁻¹ v_c)`` with ``S = J diag(d)⁻¹ Jᵀ`` on the sparse rows, ``gᵢᵀ d⁻¹ gᵢ`` on each
    dense row (their coupling to the rest dropped: a low-rank change MINRES absorbs in a few extra
    steps); ``None``: band too wide or ``S`` singular."""
    m_all, n = pattern.shape
    dev = d.device
    dense_rows = pattern.dense.to(dev)
    is_sparse = torch.ones(m_all, dtype=torch.bool, device=dev)
    is_sparse[dense_rows] = False
    sparse_rows = is_sparse.nonzero().flatten()
    position = torch.cumsum(is_sparse.long(), 0) - 1  # index among the sparse rows
    m = sparse_rows.numel()
    sparse_values, dense_values = values
    dense_diag = (dense_values**2 / d).sum(1)
    if bool((dense_diag <= 0).any()):
        return None
    if m == 0:
        return lambda v: torch.cat([v[:n] / d, v[n:] / dense_diag])
    rows, cols = position[pattern.rows.to(dev)], pattern.cols.to(dev)
    values = sparse_values
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
        vx, vall = v[:n] / d, v[n:]
        vc = torch.nn.functional.pad(vall[sparse_rows], (0, pad)).reshape(nb, block, 1)
        y = []
        for k in range(nb):
            rhs = vc[k] if k == 0 else vc[k] - coupling[k - 1] @ y[-1]
            y.append(torch.linalg.solve_triangular(chol[k], rhs, upper=False))
        x = [None] * nb
        for k in range(nb - 1, -1, -1):
            rhs = y[k] if k == nb - 1 else y[k] - coupling[k].T @ x[k + 1]
            x[k] = torch.linalg.solve_triangular(chol[k].T, rhs, upper=True)
        out = torch.empty_like(vall)
        out[sparse_rows] = torch.cat(x).reshape(-1)[:m]
        out[dense_rows] = vall[dense_rows] / dense_diag
        return torch.cat([vx, out])

    return apply
