"""Adaptive memory momentum: AM-SGD and AM-AdamW (Topollai & Choromanska, AISTATS 2026).

The momentum coefficient β_t is not a constant but the solution of a proximal step on a two-plane
model of the loss. Derivation (ours, written out because the paper body and code were not
retrievable; it reproduces the published update ``d_{t+1} = ((β_t+λ)d_t + (1−β_t)g_t)/(1+λ)``):

With ``y = x − x_t``, gradient ``g = g_t``, memory direction ``d = d_t`` and a diagonal metric
``P`` (``P = I`` for SGD), take the model and proximal objective

.. math::
    m(y) = \\max\\{a + \\langle g, y\\rangle,\\; b + \\langle d, y\\rangle\\},\\qquad
    \\min_y\\; m(y) + \\tfrac{1}{2\\eta}\\,y^\\top P y + \\tfrac{\\lambda}{2\\eta}\\lVert P y + \\eta d\\rVert^2,

where ``a = f(x_t)``, ``b`` is the memory plane's value at ``x_t`` and the λ-term pulls the step
toward the pure memory step ``y = −ηP⁻¹d``. Writing the max as ``max_{β∈[0,1]}`` of the convex
combination with weights ``(1−β, β)`` and minimising over ``y`` first:
``y* = −η P⁻¹ d_{t+1}``, ``d_{t+1} = (I+λP)⁻¹[(1−β)g + (βI + λP)d]``, and the concave dual in β
is maximised at

.. math::
    \\beta_t = \\operatorname{clip}_{[0,\\beta_{\\max}]}
    \\frac{(b-a)/\\eta - \\langle d-g,\\; M(g+\\lambda P d)\\rangle}{\\langle d-g,\\; M(d-g)\\rangle},
    \\qquad M = P^{-1}(I+\\lambda P)^{-1}.

The memory plane's offset is taken as the loss at the previous iterate, linearised at the current
one: ``b − a ≈ f(x_{t−1}) − f(x_t) ≈ ⟨g_t, x_{t−1} − x_t⟩ = η_{t−1}⟨g_t, P⁻¹d_t⟩`` (no extra loss
evaluation). For SGD (``P = I``) this gives
``β_t = clip(((1+λ)ρ⟨g,d⟩ − ⟨d−g, g+λd⟩)/‖d−g‖², 0, β_max)`` with ``ρ = η_{t−1}/η_t``; if
``d = g`` the denominator vanishes and β_t = 0 (the step is ``g`` for any β).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from ._base import adam_denominator, adam_second_moment
from ._validation import CheckedOptimizer, check_betas, check_range, constructor_defaults

__all__ = ["AMSGD", "AMAdamW", "am_beta", "am_terms"]

SCOPES: tuple[str, ...] = ("group", "tensor")


def am_terms(
    grad: Tensor,
    direction: Tensor,
    *,
    model_lambda: float,
    gap_ratio: float,
    precond: Tensor | None = None,
) -> tuple[float, float]:
    """Numerator and denominator of the β_t rule (module docstring) contributed by one tensor.

    ``precond`` is the diagonal metric ``P`` (``None``: the identity, AM-SGD) and ``gap_ratio``
    is ``η_{t−1}/η_t``. Sums of these over tensors give the rule over their concatenation.
    """
    diff = direction - grad
    if precond is None:
        num = gap_ratio * torch.dot(grad.flatten(), direction.flatten()) - torch.dot(
            diff.flatten(), (grad + model_lambda * direction).flatten()
        ) / (1 + model_lambda)
        den = diff.square().sum() / (1 + model_lambda)
        return float(num), float(den)
    metric = 1.0 / (precond * (1 + model_lambda * precond))
    num = gap_ratio * (grad * direction / precond).sum() - (
        diff * metric * (grad + model_lambda * precond * direction)
    ).sum()
    den = (diff.square() * metric).sum()
    return float(num), float(den)


def am_beta(num: float, den: float, *, beta_max: float) -> float:
    """``clip(num/den, 0, beta_max)``; 0 when ``den`` is 0 (then ``d = g`` and β is irrelevant)."""
    if not den > 0.0 or not math.isfinite(num / den):
        return 0.0
    return min(max(num / den, 0.0), beta_max)


class _AdaptiveMemory(CheckedOptimizer):
    """Validation and the two-pass step (β from inner products, then the update) of both."""

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        check_range(f"{where}: model_lambda", group["model_lambda"], low=0.0)
        if not isinstance(group["adaptive"], bool):
            raise TypeError(f"{where}: adaptive must be a bool, got {group['adaptive']!r}")
        if group["scope"] not in SCOPES:
            raise ValueError(f"{where}: scope must be one of {SCOPES}, got {group['scope']!r}")

    @staticmethod
    def _chunks(group: dict[str, Any], n: int) -> list[list[int]]:
        """Index lists over which β_t's inner products run: the whole group, or one tensor each."""
        return [list(range(n))] if group["scope"] == "group" else [[i] for i in range(n)]

    def _adaptive_beta(
        self,
        params: list[Tensor],
        grads: list[Tensor],
        indices: list[int],
        *,
        lr: float,
        lam: float,
        beta_max: float,
        metrics: list[Tensor] | None = None,
    ) -> float:
        """β_t from the inner products over ``indices`` (:func:`am_terms` summed, :func:`am_beta`);
        ``metrics`` are the diagonal metrics ``P`` (``None``: the identity)."""
        num = den = 0.0
        for i in indices:
            state = self.state[params[i]]
            n, d = am_terms(
                grads[i],
                state["direction"],
                model_lambda=lam,
                gap_ratio=self._gap_ratio(state, lr),
                precond=None if metrics is None else metrics[i],
            )
            num, den = num + n, den + d
        return am_beta(num, den, beta_max=beta_max)

    @staticmethod
    def _gap_ratio(state: dict[str, Any], lr: float) -> float:
        # ρ = η_{t−1}/η_t; at η_t = 0 the step is a no-op and ρ = 1 keeps β finite.
        return state["prev_lr"] / lr if lr > 0 else 1.0


class AMSGD(_AdaptiveMemory):
    r"""AM-SGD: SGD with adaptive memory momentum (model-based β_t).

    .. math::
        g \leftarrow \nabla f(x_t) + \mu x_t,\qquad
        \beta_t = \operatorname{clip}_{[0,\beta_{\max}]}
            \frac{(1+\lambda)\rho\langle g,d\rangle - \langle d-g,\, g+\lambda d\rangle}
                 {\lVert d-g\rVert^2},\quad \rho = \eta_{t-1}/\eta_t

        d \leftarrow \frac{\beta_t+\lambda}{1+\lambda}\,d + \frac{1-\beta_t}{1+\lambda}\,g,
        \qquad x \leftarrow x - \eta\,d

    with ``d = g`` at the first step (see the module docstring for the derivation). Inner products
    run over all parameters of a param group (``scope="group"``, the model-wide rule when
    :func:`physopt.optim.build` puts the model in one group) or per tensor (``scope="tensor"``).
    Weight decay is coupled (L2, added to the gradient) as in ``torch.optim.SGD``.

    **Fixed momentum** (``adaptive=False``): β_t = ``momentum`` every step; then
    ``d ← μ' d + (1−μ') g`` with ``μ' = (β+λ)/(1+λ)``, which is exactly
    ``torch.optim.SGD(momentum=μ', dampening=μ')`` (tested to 1e-12 in float64; torch also starts
    its buffer at ``g``).

    Defaults ``beta_max=0.9`` and ``model_lambda=0.1`` are the settings reported for the paper's
    deep-learning experiments (via a third-party reimplementation; the paper body was not
    retrievable — see the module docstring for what is ours).

    Args:
        params: parameters or param groups.
        lr: learning rate η.
        beta_max: upper clip of β_t, in [0, 1).
        model_lambda: λ ≥ 0, weight of the proximal pull toward the memory step.
        weight_decay: coupled L2 weight decay μ.
        adaptive: use the model-based β_t (``False``: the fixed ``momentum``).
        momentum: the fixed β when ``adaptive=False``.
        scope: ``"group"`` or ``"tensor"``: over which parameters β_t's inner products run.

    References:
        Topollai & Choromanska, "Adaptive Memory Momentum via a Model-Based Framework for Deep
        Learning Optimization", AISTATS 2026, arXiv:2510.04988.
    """

    def __init__(
        self,
        params: Iterable[Any],
        *,
        lr: float = 0.1,
        beta_max: float = 0.9,
        model_lambda: float = 0.1,
        weight_decay: float = 0.0,
        adaptive: bool = True,
        momentum: float = 0.9,
        scope: str = "group",
    ) -> None:
        super().__init__(params, constructor_defaults(locals()))

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        super()._check_group(group, where)
        for key in ("beta_max", "momentum"):
            check_range(f"{where}: {key}", group[key], low=0.0, high=1.0, high_open=True)

    def _group_step(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        lr, lam, wd = group["lr"], group["model_lambda"], group["weight_decay"]
        grads = [g.add(p, alpha=wd) if wd != 0 else g for p, g in zip(params, grads, strict=True)]
        for chunk in self._chunks(group, len(params)):
            started = [i for i in chunk if "direction" in self.state[params[i]]]
            beta = group["momentum"]
            if group["adaptive"]:
                beta = self._adaptive_beta(params, grads, started, lr=lr, lam=lam, beta_max=group["beta_max"])
            for i in chunk:
                p, g, state = params[i], grads[i], self.state[params[i]]
                if "direction" not in state:
                    state["direction"] = g.clone(memory_format=torch.preserve_format)
                    state["beta"] = 0.0
                else:
                    keep = (beta + lam) / (1 + lam)
                    state["direction"].mul_(keep).add_(g, alpha=1 - keep)
                    state["beta"] = beta
                state["prev_lr"] = lr
                p.add_(state["direction"], alpha=-lr)


class AMAdamW(_AdaptiveMemory):
    r"""AM-AdamW: AdamW whose first-moment coefficient is the model-based β_t.

    Per step ``t`` (1-based), with the diagonal metric (Adam's preconditioner including the
    first-moment bias correction, the current β bounded by β_max):

    .. math::
        v &\leftarrow \beta_2 v + (1-\beta_2) g^2,\qquad
        P = \big(1 - \beta_{\max}\textstyle\prod_{i<t}\beta_i\big)
            \big(\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon\big)

        \beta_t &= \operatorname{clip}_{[0,\beta_{\max}]}
            \frac{\rho\langle g, P^{-1}d\rangle - \langle d-g,\, M(g+\lambda P d)\rangle}
                 {\langle d-g,\, M(d-g)\rangle},\quad M = P^{-1}(I+\lambda P)^{-1}

        d &\leftarrow (I+\lambda P)^{-1}\big[(1-\beta_t) g + (\beta_t I + \lambda P) d\big],\qquad
        x \leftarrow x(1-\eta\mu) - \eta P^{-1} d

    (``d₀ = 0``; β₁ = β_max, as there is no memory yet). Weight decay μ is decoupled and outside
    the model. β_t is computed per tensor by default (``scope="tensor"``, the per-layer variant
    the third-party reimplementation attributes to the paper's main experiments) or per group.

    **Fixed momentum** (``adaptive=False``, β_t = ``betas[0]``) **with** ``model_lambda=0``:
    ``d`` is Adam's ``exp_avg`` and ``P = (1−β₁ᵗ)(sqrt(v̂)+ε)``, i.e. exactly
    ``torch.optim.AdamW`` (tested to 1e-12 in float64).

    Decisions: the memory plane offset is ``η_{t−1}⟨g_t, P_t⁻¹ d_t⟩`` (the previous step's
    displacement without its weight-decay part, in the current metric); the default
    ``betas=(0.9, 0.999)``: ``betas[0]`` is β_max (adaptive) or the fixed β₁; λ = 0.1.

    Args:
        params: parameters or param groups.
        lr: learning rate η.
        betas: ``(β_max or fixed β₁, β₂)``.
        eps: Adam's ε.
        weight_decay: decoupled weight decay μ.
        model_lambda: λ ≥ 0.
        adaptive: model-based β_t (``False``: ``betas[0]`` every step).
        scope: ``"tensor"`` or ``"group"``.

    References:
        Topollai & Choromanska, AISTATS 2026, arXiv:2510.04988; Loshchilov & Hutter,
        arXiv:1711.05101.
    """

    def __init__(
        self,
        params: Iterable[Any],
        *,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        model_lambda: float = 0.1,
        adaptive: bool = True,
        scope: str = "tensor",
    ) -> None:
        super().__init__(params, constructor_defaults(locals()))

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        super()._check_group(group, where)
        check_betas(f"{where}: betas", group["betas"])
        check_range(f"{where}: eps", group["eps"], low=0.0, low_open=True)

    def _group_step(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        lr, lam, wd, eps = group["lr"], group["model_lambda"], group["weight_decay"], group["eps"]
        beta_cap, beta2 = group["betas"]
        metrics = []
        for p, g in zip(params, grads, strict=True):
            state = self.state[p]
            if "step" not in state:
                state["step"] = 0
                state["direction"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["beta_product"] = 1.0
                state["prev_lr"] = lr
            state["step"] += 1
            step = state["step"]
            adam_second_moment(state["exp_avg_sq"], g, beta2=beta2)
            correction = 1 - beta_cap * state["beta_product"]
            denom = adam_denominator(state["exp_avg_sq"], step=step, beta2=beta2, eps=eps)
            metrics.append(denom.mul_(correction))
        for chunk in self._chunks(group, len(params)):
            beta = beta_cap
            started = [i for i in chunk if self.state[params[i]]["step"] > 1]
            if group["adaptive"] and started:
                beta = self._adaptive_beta(
                    params, grads, started, lr=lr, lam=lam, beta_max=beta_cap, metrics=metrics
                )
            for i in chunk:
                p, g, state, metric = params[i], grads[i], self.state[params[i]], metrics[i]
                d = state["direction"]
                if lam == 0:
                    d.lerp_(g, 1 - beta)
                else:
                    pull = metric * lam
                    d.mul_(pull + beta).add_(g, alpha=1 - beta).div_(pull.add_(1))
                p.mul_(1 - lr * wd)
                p.addcdiv_(d, metric, value=-lr)
                state["beta_product"] *= beta
                state["beta"] = beta
                state["prev_lr"] = lr
