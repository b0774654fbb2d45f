"""NAMO and NAMO-D: orthogonalised momentum with Adam-style adaptive step sizes."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from ._base import (
    AdjustLR,
    MatrixOptimizer,
    as_matrix,
    check_ns_group,
    constructor_defaults,
    lr_ratio,
    orthogonalize_group,
    wide_dtype,
)
from ._newton_schulz import KELLER_COEFFS, CoeffSpec, NSMethod
from ._validation import check_range

__all__ = ["NAMO", "NAMOD", "namo_scale", "namod_column_scales"]


def namo_scale(
    update_norm: Tensor, second_moment: Tensor, *, step: int, beta1: float, beta2: float, eps: float
) -> Tensor:
    r"""NAMO's adaptive factor ``α/η = sqrt(1−β₂ᵗ)/(1−β₁ᵗ) · ‖U‖_F / (sqrt(v) + ε)`` (0-d tensor).

    Adam's bias-corrected ratio of first to second moment, taken at the level of the whole
    matrix: about 1 when gradients are consistent, smaller when they are noisy.
    """
    correction = math.sqrt(1 - beta2**step) / (1 - beta1**step + 1e-12)
    return correction * update_norm / (second_moment.sqrt() + eps)


def namod_column_scales(
    update: Tensor,
    col_second_moment: Tensor,
    *,
    step: int,
    beta1: float,
    beta2: float,
    eps: float,
    clamp_c: float,
) -> Tensor:
    r"""NAMO-D's per-column factors ``s_j`` (shape ``(cols,)``), clamped around their mean.

    ``s_j = sqrt(1−β₂ᵗ)/(1−β₁ᵗ) · ‖U_{:,j}‖ / (sqrt(V_j) + ε)``, then, for ``0 < c ≤ 1``,
    ``s_j ← clip(s_j, c·mean(s), mean(s)/c)``: ``c = 1`` gives every column the mean (≈ NAMO),
    small ``c`` leaves them nearly free (``c = 0`` disables the clamp).
    """
    correction = math.sqrt(1 - beta2**step) / (1 - beta1**step + 1e-12)
    s = correction * update.norm(dim=0) / (col_second_moment.sqrt() + eps)
    if 0 < clamp_c <= 1:
        mean = s.nanmean()
        s = torch.minimum(torch.maximum(s, clamp_c * mean), mean / clamp_c)
    return s


class NAMO(MatrixOptimizer):
    r"""NAMO — orthogonalised momentum scaled by one Adam-style adaptive step size per matrix.

    .. math::
        M_t = \mu_1 M_{t-1} + (1-\mu_1) G_t,\quad U_t = (1-\mu_1)G_t + \mu_1 M_t
        \ \text{(nesterov) or } M_t,\quad
        v_t = \mu_2 v_{t-1} + (1-\mu_2)\lVert G_t\rVert_F^2

        \alpha_t = \eta\,\frac{\sqrt{1-\mu_2^t}}{1-\mu_1^t}\,
                   \frac{\lVert U_t\rVert_F}{\sqrt{v_t}+\epsilon},
        \qquad
        W_t = W_{t-1}\big(1-\lambda\min(\alpha_t, 1)\big) - \min\big(\alpha_t\, r(m,n), 1\big)\,
              \mathrm{NS}_k(U_t)

    with ``r = 0.2·sqrt(max(m, n))`` (``adjust_lr="match_rms_adamw"``, the reference's
    ``scale_coeff=0.2``), so the learning rate and weight decay are AdamW-like.

    Choices (paper vs code, see docs/optim.md): we follow the authors' code
    (minxin-zhg/namo ``NAMO``): the numerator is the norm of the Nesterov input ``U_t`` (the paper
    writes ``‖M_t‖``; identical when ``nesterov=False``); weight decay uses the adaptive step
    ``min(α_t, 1)`` rather than ``η``; the final step size is clamped to ≤ 1; ``v`` is a 0-d
    ≥float32 tensor. Defaults are the reference's: lr 1e-2, weight_decay 0.1, momentum 0.95,
    beta2 (μ₂) 0.99, eps 1e-8.

    References:
        Zhang, Liu, Schaeffer, "Adam Improves Muon: Adaptive Moment Estimation with Orthogonalized
        Momentum", arXiv:2602.17080; code https://github.com/minxin-zhg/namo.
    """

    algorithm = "namo"
    _wide_state_keys = ("second_moment",)

    def __init__(
        self,
        params: Iterable[Any],
        *,
        lr: float = 1e-2,
        momentum: float = 0.95,
        beta2: float = 0.99,
        eps: float = 1e-8,
        nesterov: bool = True,
        weight_decay: float = 0.1,
        ns_steps: int = 5,
        ns_coeffs: CoeffSpec = KELLER_COEFFS,
        ns_eps: float = 1e-7,
        ns_dtype: torch.dtype | str | None = "auto",
        adjust_lr: AdjustLR = "match_rms_adamw",
        batched: bool = True,
        ns_method: NSMethod = "standard",
        adamw_betas: tuple[float, float] = (0.9, 0.95),
        adamw_eps: float = 1e-8,
    ) -> None:
        super().__init__(params, constructor_defaults(locals()))

    def _check_matrix_group(self, group: dict[str, Any], where: str) -> None:
        check_ns_group(group, where)
        check_range(f"{where}: beta2", group["beta2"], low=0.0, high=1.0, high_open=True)
        check_range(f"{where}: eps", group["eps"], low=0.0, low_open=True)

    def _init_state(self, p: Tensor) -> None:
        state = self.state[p]
        state["step"] = 0
        state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["second_moment"] = torch.zeros((), dtype=wide_dtype(p.dtype), device=p.device)

    def _matrix_step(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]
    ) -> None:
        inputs = []
        for p, g in zip(params, grads, strict=True):
            if "momentum_buffer" not in self.state[p]:
                self._init_state(p)
            state = self.state[p]
            state["step"] += 1
            self._accumulate(state, as_matrix(g), group["beta2"])
            inputs.append(self._momentum_input(group, p, g))
        ortho = orthogonalize_group(inputs, group)
        for p, u, o in zip(params, inputs, ortho, strict=True):
            self._apply(group, p, u, o)

    def _accumulate(self, state: dict[str, Any], grad: Tensor, beta2: float) -> None:
        """Second moment of the gradient: ``v ← μ₂v + (1−μ₂)‖G‖_F²`` (scalar)."""
        v = state["second_moment"]
        v.mul_(beta2).add_((1 - beta2) * grad.to(v.dtype).square().sum())

    def _apply(self, group: dict[str, Any], p: Tensor, u: Tensor, o: Tensor) -> None:
        state = self.state[p]
        v = state["second_moment"]
        alpha = group["lr"] * namo_scale(
            u.to(v.dtype).norm(),
            v,
            step=state["step"],
            beta1=group["momentum"],
            beta2=group["beta2"],
            eps=group["eps"],
        )
        rows, cols = o.shape
        step_size = (alpha * lr_ratio(rows, cols, group["adjust_lr"])).clamp(max=1.0)
        p.mul_((1 - group["weight_decay"] * alpha.clamp(max=1.0)).to(p.dtype))
        p.sub_((o.to(v.dtype) * step_size).to(p.dtype).reshape(p.shape))


class NAMOD(NAMO):
    r"""NAMO-D — NAMO with one adaptive step size per *column* (right-multiplied diagonal).

    .. math::
        V_t = \mu_2 V_{t-1} + (1-\mu_2)\,\lVert G_{t,:,j}\rVert^2 \ \ (j = 1..n),\qquad
        s_j = \frac{\sqrt{1-\mu_2^t}}{1-\mu_1^t}
              \frac{\lVert U_{t,:,j}\rVert}{\sqrt{V_{t,j}}+\epsilon},
        \ \ s_j \leftarrow \mathrm{clip}(s_j,\ c\,\bar s,\ \bar s/c)

        W_{:,j} \leftarrow W_{:,j}\max\big(0, 1-\lambda\min(\eta s_j, 1)\big)
                         - \min\big(\eta s_j\, r(m,n), 1\big)\,\mathrm{NS}_k(U_t)_{:,j}

    Columns are the input features of ``nn.Linear`` (``(out, in)``) and of a flattened conv kernel
    (``in·kh·kw``). We follow the authors' code (minxin-zhg/namo ``NAMO_D``): the clamp is to
    ``[c·mean, mean/c]`` around the (NaN-ignoring) mean of the ``s_j``, weight decay is column-wise
    with the clamped adaptive step, and ``clamp_c`` defaults to the class default 0.75 (their
    hydra config uses 0.01). Other defaults as :class:`NAMO`. ``V`` is ≥float32, shape ``(cols,)``.

    References:
        Zhang, Liu, Schaeffer, arXiv:2602.17080; code https://github.com/minxin-zhg/namo.
    """

    algorithm = "namod"

    def __init__(
        self,
        params: Iterable[Any],
        *,
        lr: float = 1e-2,
        clamp_c: float = 0.75,
        momentum: float = 0.95,
        beta2: float = 0.99,
        eps: float = 1e-8,
        nesterov: bool = True,
        weight_decay: float = 0.1,
        ns_steps: int = 5,
        ns_coeffs: CoeffSpec = KELLER_COEFFS,
        ns_eps: float = 1e-7,
        ns_dtype: torch.dtype | str | None = "auto",
        adjust_lr: AdjustLR = "match_rms_adamw",
        batched: bool = True,
        ns_method: NSMethod = "standard",
        adamw_betas: tuple[float, float] = (0.9, 0.95),
        adamw_eps: float = 1e-8,
    ) -> None:
        MatrixOptimizer.__init__(self, params, constructor_defaults(locals()))

    def _check_matrix_group(self, group: dict[str, Any], where: str) -> None:
        super()._check_matrix_group(group, where)
        check_range(f"{where}: clamp_c", group["clamp_c"], low=0.0, high=1.0)

    def _init_state(self, p: Tensor) -> None:
        super()._init_state(p)
        cols = as_matrix(p).shape[1]
        self.state[p]["second_moment"] = torch.zeros(
            cols, dtype=wide_dtype(p.dtype), device=p.device
        )

    def _accumulate(self, state: dict[str, Any], grad: Tensor, beta2: float) -> None:
        v = state["second_moment"]
        v.mul_(beta2).add_((1 - beta2) * grad.to(v.dtype).square().sum(dim=0))

    def _apply(self, group: dict[str, Any], p: Tensor, u: Tensor, o: Tensor) -> None:
        state = self.state[p]
        v = state["second_moment"]
        s = group["lr"] * namod_column_scales(
            u.to(v.dtype),
            v,
            step=state["step"],
            beta1=group["momentum"],
            beta2=group["beta2"],
            eps=group["eps"],
            clamp_c=group["clamp_c"],
        )
        rows, cols = o.shape
        decay = (1 - group["weight_decay"] * s.clamp(max=1.0)).clamp(min=0.0)
        step_size = (s * lr_ratio(rows, cols, group["adjust_lr"])).clamp(max=1.0)
        w = as_matrix(p).to(v.dtype) * decay - o.to(v.dtype) * step_size
        p.copy_(w.reshape(p.shape))
