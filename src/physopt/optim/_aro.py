"""ARO: adaptively rotated optimization — a base update rule applied in a learned rotated frame."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Literal

import torch
from torch import Tensor

from ._base import (
    ADJUST_LR_MODES,
    AdjustLR,
    MatrixOptimizer,
    as_matrix,
    check_momentum_group,
    constructor_defaults,
    wide_dtype,
)
from ._validation import check_range

__all__ = [
    "ARO",
    "ARO_BASES",
    "aro_direction",
    "aro_lr_ratio",
    "aro_rotation",
    "qr_rotation",
    "row_normalize",
    "sign_normalize",
    "sinkhorn_normalize",
]

AROBase = Literal["sinkhorn", "row_norm", "sign"]
ARO_BASES: tuple[str, ...] = ("sinkhorn", "row_norm", "sign")
_TINY = 1e-30  # only guards 0/0 on rows already zeroed by the null mask


def _null_mask(norms: Tensor, tol: float) -> Tensor:
    """1 where a row/column norm exceeds ``tol`` × the largest, else 0 (treated as exactly 0)."""
    return (norms > tol * norms.amax(dim=-1, keepdim=True)).to(norms.dtype)


def row_normalize(x: Tensor, *, tol: float) -> Tensor:
    """Rows scaled to ℓ2 norm ``sqrt(cols)`` (entry RMS 1); rows of norm ≤ ``tol``·max become 0.

    Why the relative null threshold: in the rotated frame a rank-deficient momentum has rows that
    are zero in exact arithmetic but ~1e-16·‖M‖ after the QR; normalising them would blow
    round-off up to full-size rows. Treating them as zeros is what the exact map does.
    """
    norms = x.norm(dim=-1)
    scale = _null_mask(norms, tol) * math.sqrt(x.shape[-1]) / norms.clamp(min=_TINY)
    return x * scale.unsqueeze(-1)


def sinkhorn_normalize(x: Tensor, *, iters: int = 5, tol: float) -> Tensor:
    r"""SR-Sinkhorn: ``iters`` rounds of rows to norm ``sqrt(n)``, then columns to ``sqrt(m)``.

    The square-root iterates of Sinkhorn's matrix scaling applied to ``X∘X`` (SinkGD, Scetbon
    et al., arXiv:2502.06742); the result ends column-normalised, so its entry RMS is exactly 1.
    Rows and columns of the input with norm ≤ ``tol``·max are zeroed first and stay zero (see
    :func:`row_normalize`; each Sinkhorn round would otherwise amplify them again).
    """
    m, n = x.shape[-2], x.shape[-1]
    x = x * _null_mask(x.norm(dim=-1), tol).unsqueeze(-1)
    x = x * _null_mask(x.norm(dim=-2), tol).unsqueeze(-2)
    for _ in range(iters):
        x = x * (math.sqrt(n) / x.norm(dim=-1, keepdim=True).clamp(min=_TINY))
        x = x * (math.sqrt(m) / x.norm(dim=-2, keepdim=True).clamp(min=_TINY))
    return x


def sign_normalize(x: Tensor, *, tol: float) -> Tensor:
    """``sign(X)`` with rows of norm ≤ ``tol``·max set to 0 (see :func:`row_normalize`)."""
    return torch.sign(x) * _null_mask(x.norm(dim=-1), tol).unsqueeze(-1)


def _base_fn(base: str, *, iters: int, tol: float) -> Callable[[Tensor], Tensor]:
    if base == "sinkhorn":
        return lambda x: sinkhorn_normalize(x, iters=iters, tol=tol)
    if base == "row_norm":
        return lambda x: row_normalize(x, tol=tol)
    if base == "sign":
        return lambda x: sign_normalize(x, tol=tol)
    raise ValueError(f"base must be one of {ARO_BASES}, got {base!r}")


def qr_rotation(c: Tensor) -> Tensor:
    """Orthogonal factor ``Q`` of ``C = QR`` with ``diag(R) ≥ 0`` (unique when ``C`` is invertible).

    Decision: Householder QR (``torch.linalg.qr``), not the paper's shifted Cholesky QR — the
    latter saves GPU workspace, which does not matter for the small CPU matrices we target, and
    Householder stays orthogonal to round-off for rank-deficient ``C``. The sign fix makes the
    stored rotation deterministic; the update itself does not depend on it, because every base
    map commutes with flipping the sign of a row (``f(DX) = D f(X)``).
    """
    q, r = torch.linalg.qr(c)
    signs = torch.where(r.diagonal(dim1=-2, dim2=-1) < 0, -1.0, 1.0).to(q.dtype)
    return q * signs.unsqueeze(-2)


def aro_rotation(m: Tensor, rotation: Tensor, base: Callable[[Tensor], Tensor]) -> Tensor:
    r"""The norm-informed rotation policy: ``R_t = QR(M f(R_{t-1}ᵀ M)ᵀ)``.

    ``R`` maximising ``⟨M, R f(RᵀM)⟩`` couples both occurrences of ``R``; fixing the inner one at
    ``R_{t-1}`` leaves an orthogonal-Procrustes-like problem whose Q factor is taken. With
    ``f`` = row normalisation this is subspace iteration on ``M Mᵀ`` (the column scaling by the
    row norms does not change the Q factor), so ``R`` converges to ``M``'s left singular vectors.
    """
    return qr_rotation(m @ base(rotation.mT @ m).mT)


def aro_direction(m: Tensor, rotation: Tensor, base: Callable[[Tensor], Tensor]) -> Tensor:
    """Rotate into the frame, apply the base rule, rotate back: ``R f(Rᵀ M)``."""
    return rotation @ base(rotation.mT @ m)


def aro_lr_ratio(rows: int, cols: int, mode: AdjustLR) -> float:
    """Factor multiplying the lr for a base direction of entry RMS 1, chosen so that each mode
    gives the update RMS of :func:`~physopt.optim.lr_ratio`'s mode for Muon: ``1/sqrt(cols)``
    (``"original"``), 0.2 (``"match_rms_adamw"``, the paper's controlled protocol), 1 (``"none"``).
    """
    if mode == "original":
        return 1.0 / math.sqrt(cols)
    if mode == "match_rms_adamw":
        return 0.2
    if mode == "none":
        return 1.0
    raise ValueError(f"adjust_lr must be one of {ADJUST_LR_MODES}, got {mode!r}")


class ARO(MatrixOptimizer):
    r"""ARO — Adaptively Rotated Optimization (normed steepest descent in a rotated frame).

    For each matrix ``W`` (``(m, n)`` after flattening, transposed first if tall so that
    ``m ≤ n``: the rotation acts on the shorter side), with a base map ``f`` and a rotation
    ``R ∈ O(m)`` (``R₀ = I``):

    .. math::
        M_t &= \beta M_{t-1} + (1-\beta) G_t,\qquad
        U_t = (1-\beta) G_t + \beta M_t \ \text{(nesterov) or } M_t

        R_t &= \mathrm{QR}\big(U_t\, f(R_{t-1}^\top U_t)^\top\big),\qquad
        W_t = W_{t-1}(1-\eta\lambda) - \eta\, s(m,n)\, R_t\, f(R_t^\top U_t)

    ``f`` is ``"sinkhorn"`` (SR-Sinkhorn, 5 rounds; the paper's recommended ARO-Sinkhorn),
    ``"row_norm"`` or ``"sign"``; every ``f`` has entry RMS ≈ 1 and ``s`` (:func:`aro_lr_ratio`)
    gives the same update RMS as :class:`Muon` with the same ``lr`` and ``adjust_lr``.

    Identities (tested): ``R`` stays orthogonal; with ``rotate=False`` (``R ≡ I``) the step is the
    base rule itself (SinkGD / normalised / sign momentum); the step is *left-rotation
    equivariant* — gradients ``V G_t`` with ``R₀ = V`` (``V`` orthogonal) give updates ``V ΔW_t``,
    the rotational symmetry the paper builds on; with ``f`` = row normalisation and a fixed
    momentum, repeated rotations converge to Muon's update ``sqrt(n)·U Vᵀ`` (Muon is the special
    case the paper describes).

    Decisions (paper hyperparameters not found; microsoft/dion branch ``dev/aro`` read for
    comparison, every line written here independently): Householder QR with a sign fix
    (:func:`qr_rotation`); the rotation acts on the *shorter* side (rows of a wide matrix, columns
    of a tall one): the cost is then cubic in ``min(m, n)`` like Muon's Newton–Schulz, a tall
    momentum has no shape-forced null rows in the rotated frame, and for transformer MLPs this is
    the paper's residual-stream side; rows (and Sinkhorn columns) of the rotated momentum with
    norm ≤ ``null_tol``·max are treated as exact zeros (see :func:`row_normalize`; without this a
    rank-deficient momentum made the base maps blow QR round-off up to full-size rows — found by
    the transcription test); rotation and base map run in ≥ float32
    (float64 for float64 models); Nesterov off by default (the paper's rule); ``lr`` in Muon's
    units (default 0.02 with ``adjust_lr="original"``; dion uses 0.2·sqrt(max(m, n)), which for
    an RMS-1 ``f`` is *not* RMS 0.2); decoupled weight decay with the unscaled ``lr``. Cost per
    step (m ≤ n): ~8m²n + an m×m QR + O(mn) per Sinkhorn round; state m² + mn.

    Args:
        params: parameters or param groups (``algorithm="adamw"`` groups use AdamW).
        base: the base map ``f``.
        sinkhorn_iters: rounds of :func:`sinkhorn_normalize`.
        rotate: ``False`` keeps ``R = I`` (the base optimizer alone; an ablation).
        null_tol: relative norm below which a row/column counts as zero; ``None``:
            ``sqrt(machine epsilon)`` of the compute dtype (1.5e-8 float64, 3.5e-4 float32).
        Others: as :class:`Muon`.

    References:
        Gong, Zazo, Luo, Wang, Hensman, Ma, "ARO: A New Lens On Matrix Optimization For Large
        Models", arXiv:2602.09006; Scetbon et al., "Gradient Multi-Normalization for Stateless
        and Scalable LLM Training" (SinkGD), arXiv:2502.06742.
    """

    algorithm = "aro"
    _wide_state_keys = ("rotation",)

    def __init__(
        self,
        params: Iterable[Any],
        *,
        lr: float = 0.02,
        momentum: float = 0.95,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        base: AROBase = "sinkhorn",
        sinkhorn_iters: int = 5,
        rotate: bool = True,
        null_tol: float | None = None,
        adjust_lr: AdjustLR = "original",
        adamw_betas: tuple[float, float] = (0.9, 0.95),
        adamw_eps: float = 1e-8,
    ) -> None:
        super().__init__(params, constructor_defaults(locals()))

    def _check_matrix_group(self, group: dict[str, Any], where: str) -> None:
        check_momentum_group(group, where)
        if group["base"] not in ARO_BASES:
            raise ValueError(f"{where}: base must be one of {ARO_BASES}, got {group['base']!r}")
        iters = group["sinkhorn_iters"]
        if isinstance(iters, bool) or not isinstance(iters, int) or not 1 <= iters <= 100:
            raise ValueError(f"{where}: sinkhorn_iters must be an int in [1, 100], got {iters!r}")
        if not isinstance(group["rotate"], bool):
            raise TypeError(f"{where}: rotate must be a bool, got {group['rotate']!r}")
        if group["null_tol"] is not None:
            check_range(f"{where}: null_tol", group["null_tol"], low=0.0, high=1.0, low_open=True)

    def _matrix_step(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]
    ) -> None:
        lr = group["lr"]
        for p, g in zip(params, grads, strict=True):
            state = self.state[p]
            rows, cols = as_matrix(p).shape
            dtype = wide_dtype(p.dtype)
            if group["rotate"] and "rotation" not in state:  # also if rotate was switched on
                state["rotation"] = torch.eye(min(rows, cols), dtype=dtype, device=p.device)
            tol = group["null_tol"]
            tol = math.sqrt(torch.finfo(dtype).eps) if tol is None else tol
            base = _base_fn(group["base"], iters=group["sinkhorn_iters"], tol=tol)
            u = self._momentum_input(group, p, g).to(dtype)
            tall = rows > cols
            if tall:
                u = u.mT
            if group["rotate"]:
                state["rotation"] = aro_rotation(u, state["rotation"], base)
                direction = aro_direction(u, state["rotation"], base)
            else:
                direction = base(u)
            if tall:
                direction = direction.mT
            p.mul_(1 - lr * group["weight_decay"])
            p.add_(
                direction.reshape(p.shape).to(p.dtype),
                alpha=-lr * aro_lr_ratio(rows, cols, group["adjust_lr"]),
            )
