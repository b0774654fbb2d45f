"""Shared shell of the matrix optimizers: param-group routing, validation, AdamW groups, state I/O.

Every matrix optimizer (Muon, NorMuon, NAMO, ...) is one :class:`torch.optim.Optimizer` whose
param groups are tagged ``algorithm="<name>"`` (matrices, updated by the subclass) or
``algorithm="adamw"`` (everything else, updated by :func:`adamw_update`). One object therefore
steps, schedules, saves and loads both kinds of parameters, which is what
:func:`physopt.optim.build` returns.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor

from ._distributed_ns import active_world_size, distributed_orthogonalize
from ._newton_schulz import _MAX_STEPS, NS_METHODS, STACK_MAX_NUMEL, CoeffSpec, orthogonalize, resolve_ns_dtype
from ._validation import (
    CheckedOptimizer,
    check_betas,
    check_coeffs,
    check_range,
    constructor_defaults,
)

__all__ = [
    "ADJUST_LR_MODES",
    "AdjustLR",
    "MatrixOptimizer",
    "adam_denominator",
    "adam_second_moment",
    "adam_state",
    "adamw_update",
    "as_matrix",
    "check_momentum_group",
    "check_ns_group",
    "constructor_defaults",
    "ema_momentum",
    "lr_ratio",
    "muon_update",
    "orthogonalize_group",
    "sum_momentum",
    "wide_dtype",
]

MomentumRule = Callable[..., Tensor]  # ema_momentum or sum_momentum


def as_matrix(t: Tensor) -> Tensor:
    """View a ≥2-D tensor as the matrix ``(shape[0], prod(shape[1:]))``.

    For ``nn.Linear`` this is the weight itself ``(out, in)``; a conv kernel ``(out, in, kh, kw)``
    becomes ``(out, in·kh·kw)`` — each output channel's filter is one row, as in KellerJordan/Muon.
    """
    return t.reshape(t.shape[0], -1)


def ema_momentum(grad: Tensor, buf: Tensor, *, beta: float, nesterov: bool) -> Tensor:
    """EMA momentum ``M ← βM + (1−β)G`` (in place); returns the Nesterov input ``(1−β)G + βM`` or M.

    The convention of KellerJordan/Muon and torch.optim.Muon (``lerp``); ``grad`` is not modified.
    """
    buf.lerp_(grad, 1 - beta)
    return grad.lerp(buf, beta) if nesterov else buf


def sum_momentum(grad: Tensor, buf: Tensor, *, beta: float, nesterov: bool) -> Tensor:
    """Heavy-ball momentum ``M ← βM + G`` (in place); returns ``G + βM`` (Nesterov) or ``M``."""
    buf.mul_(beta).add_(grad)
    return grad.add(buf, alpha=beta) if nesterov else buf


def wide_dtype(dtype: torch.dtype) -> torch.dtype:
    """At least float32: the dtype of small statistics (second moments) for a parameter dtype."""
    return torch.promote_types(dtype, torch.float32)


# ---- shape-dependent step scaling -------------------------------------------------------
# An exactly orthogonal m×n matrix has RMS entry 1/sqrt(max(m, n)), so the raw Newton–Schulz
# output has a different per-entry size for every shape; each rule below multiplies the lr by
# a factor of the *flattened* shape (conv kernels: (out, in·kh·kw), never their 4-D shape —
# KellerJordan/Muon issue #63).

AdjustLR = Literal["original", "match_rms_adamw", "none"]
ADJUST_LR_MODES: tuple[str, ...] = ("original", "match_rms_adamw", "none")


def lr_ratio(rows: int, cols: int, mode: AdjustLR) -> float:
    """Factor multiplying the learning rate for an orthogonalised ``rows×cols`` update.

    - ``"original"`` (Keller Jordan; torch.optim.Muon default): ``sqrt(max(1, rows/cols))`` — update
      RMS ``1/sqrt(cols)`` for both tall and wide matrices; ``lr`` is in spectral-norm units.
    - ``"match_rms_adamw"`` (Moonlight, arXiv:2502.16982): ``0.2·sqrt(max(rows, cols))`` — update
      RMS 0.2, so the learning rate and weight decay tuned for AdamW carry over.
    - ``"none"``: 1.
    """
    if mode == "original":
        return math.sqrt(max(1, rows / cols))
    if mode == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    if mode == "none":
        return 1.0
    raise ValueError(f"adjust_lr must be one of {ADJUST_LR_MODES}, got {mode!r}")


def muon_update(
    param: Tensor,
    ortho: Tensor,
    *,
    lr: float,
    weight_decay: float,
    adjust_lr: AdjustLR,
) -> None:
    """Decoupled weight decay with the *unadjusted* lr, then ``W ← W − lr·ratio(shape)·O``.

    ``ortho`` is the orthogonalised update viewed as the ``(rows, cols)`` matrix of ``param``; the
    shape ratio uses that flattened shape. Same order of operations as torch.optim.Muon.
    """
    rows, cols = ortho.shape
    param.mul_(1 - lr * weight_decay)
    param.add_(ortho.reshape(param.shape), alpha=-(lr * lr_ratio(rows, cols, adjust_lr)))


def orthogonalize_group(
    inputs: list[Tensor], group: dict[str, Any], *, coeffs: CoeffSpec | None = None
) -> list[Tensor]:
    """:func:`~physopt.optim.orthogonalize` with a Muon-family group's ``ns_*`` and ``batched``
    settings (``coeffs`` replaces ``group["ns_coeffs"]``, e.g. ROOT's per-shape table).

    Inside a ``torch.distributed`` group of more than one process the matrices are shared out
    over the ranks by cost and the results exchanged (:mod:`._distributed_ns`): every rank must
    then call this with the same inputs, as it does when gradients are all-reduced."""

    def local(mats: list[Tensor]) -> list[Tensor]:
        return orthogonalize(
            mats,
            steps=group["ns_steps"],
            coeffs=group["ns_coeffs"] if coeffs is None else coeffs,
            eps=group["ns_eps"],
            ns_dtype=group["ns_dtype"],
            batched=group["batched"],
            method=group["ns_method"],
        )

    return distributed_orthogonalize(inputs, local, lambda x: resolve_ns_dtype(group["ns_dtype"], x.dtype),
                                     active_world_size())


def adam_second_moment(exp_avg_sq: Tensor, grad: Tensor, *, beta2: float) -> None:
    r"""Adam's second moment in place: :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`."""
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)


def adam_state(state: dict[str, Any], p: Tensor) -> dict[str, Any]:
    """``p``'s Adam state with this step counted: ``step`` (1-based), ``exp_avg``, ``exp_avg_sq``
    (zeros in ``p``'s layout on first use)."""
    if "step" not in state:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
    state["step"] += 1
    return state


def adam_denominator(exp_avg_sq: Tensor, *, step: int, beta2: float, eps: float) -> Tensor:
    r"""Adam's denominator :math:`\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon` (torch's eps placement),
    a new tensor; ``step`` is the 1-based count including this step."""
    return (exp_avg_sq.sqrt() / math.sqrt(1 - beta2**step)).add_(eps)


def adamw_update(
    param: Tensor,
    grad: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    *,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
) -> None:
    r"""One AdamW step in place (Loshchilov & Hutter, arXiv:1711.05101), as torch.optim.AdamW.

    .. math::
        \theta \leftarrow \theta(1-\eta\lambda);\quad m \leftarrow \beta_1 m + (1-\beta_1) g;\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2;\quad
        \theta \leftarrow \theta - \frac{\eta}{1-\beta_1^t}\,
            \frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}

    ``step`` is the 1-based count including this step; ``exp_avg`` and ``exp_avg_sq`` are updated.
    """
    beta1, beta2 = betas
    param.mul_(1 - lr * weight_decay)
    exp_avg.lerp_(grad, 1 - beta1)
    adam_second_moment(exp_avg_sq, grad, beta2=beta2)
    denom = adam_denominator(exp_avg_sq, step=step, beta2=beta2, eps=eps)
    param.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1**step))


def _chunks(params: list[Tensor], *, batched: bool) -> list[list[int]]:
    """Index lists processed together by one ``_matrix_step`` call.

    Large matrices (> ``STACK_MAX_NUMEL`` entries) go one at a time, so the temporaries of a step
    (Nesterov input, Newton–Schulz iterate) exist for one matrix at a time, as in
    torch.optim.Muon: holding them for all 72 matrices of a 12-block transformer cost ~10 % of the
    step in allocation and page faults. With ``batched=True`` all small matrices form one chunk,
    so that :func:`orthogonalize` can stack them.
    """
    if not batched:
        return [[i] for i in range(len(params))]
    small = [i for i, p in enumerate(params) if p.numel() <= STACK_MAX_NUMEL]
    large = [[i] for i, p in enumerate(params) if p.numel() > STACK_MAX_NUMEL]
    return ([small] if small else []) + large


class MatrixOptimizer(CheckedOptimizer, metaclass=abc.ABCMeta):
    """Base class: routes ``algorithm="adamw"`` groups to AdamW and the rest to ``_matrix_step``.

    Subclasses set :attr:`algorithm`, pass their hyperparameters as ``defaults``, and implement
    ``_check_matrix_group`` and ``_matrix_step``. Parameters in a matrix group must be ≥2-D.
    """

    algorithm: ClassVar[str] = ""
    #: State keys kept in at least float32 (restored to that dtype by ``load_state_dict``).
    _wide_state_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        super().__init__(params, {"algorithm": self.algorithm, **defaults})

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        """Route the group's checks by its tag (``lr``, ``weight_decay``, parameters: the base's)."""
        algorithm = group["algorithm"]
        if algorithm not in (self.algorithm, "adamw"):
            raise ValueError(
                f"{where}: algorithm must be {self.algorithm!r} or 'adamw', got {algorithm!r}"
            )
        if algorithm == "adamw":
            check_betas(f"{where}: adamw_betas", group["adamw_betas"])
            check_range(f"{where}: adamw_eps", group["adamw_eps"], low=0.0, low_open=True)
            return
        for p in group["params"]:
            if p.ndim < 2:
                raise ValueError(
                    f"{where}: {type(self).__name__} updates matrices (≥2-D parameters), got a "
                    f"parameter of shape {tuple(p.shape)}; put 0-/1-D parameters in a group with "
                    f"algorithm='adamw' or use physopt.optim.build(), which splits them for you"
                )
        self._check_matrix_group(group, where)

    @abc.abstractmethod
    def _check_matrix_group(self, group: dict[str, Any], where: str) -> None:
        """Validate the subclass's hyperparameters in a matrix group."""

    @abc.abstractmethod
    def _matrix_step(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]
    ) -> None:
        """Update the matrix parameters ``params`` (all with gradients) of ``group``."""

    def _group_step(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        if group["algorithm"] == "adamw":
            self._adamw_step(group, params, grads)
            return
        # Under torch.distributed every matrix goes in one call, so that the Newton–Schulz work can be
        # shared out over the ranks (one matrix per call would leave all of it to rank 0); the price is
        # the temporaries of all matrices at once, which _chunks avoids for one process.
        whole = active_world_size() > 1
        chunks = [list(range(len(params)))] if whole else _chunks(params, batched=group.get("batched", False))
        for chunk in chunks:
            self._matrix_step(group, [params[i] for i in chunk], [grads[i] for i in chunk])

    def _momentum_input(
        self, group: dict[str, Any], p: Tensor, grad: Tensor, *, rule: MomentumRule = ema_momentum
    ) -> Tensor:
        """Update ``p``'s momentum buffer with ``grad`` (created on first use) by ``rule`` and
        return the orthogonaliser's input (Nesterov blend or buffer) as a ``(rows, cols)`` matrix."""
        state = self.state[p]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        u = rule(grad, state["momentum_buffer"], beta=group["momentum"], nesterov=group["nesterov"])
        return as_matrix(u)

    def _muon_updates(
        self, group: dict[str, Any], params: list[Tensor], updates: list[Tensor | None]
    ) -> None:
        """:func:`muon_update` of each parameter with its update (``None``: no step, no decay)."""
        for p, o in zip(params, updates, strict=True):
            if o is not None:
                muon_update(
                    p, o, lr=group["lr"], weight_decay=group["weight_decay"], adjust_lr=group["adjust_lr"]
                )

    def _adamw_step(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        for p, g in zip(params, grads, strict=True):
            state = adam_state(self.state[p], p)
            adamw_update(
                p,
                g,
                state["exp_avg"],
                state["exp_avg_sq"],
                step=state["step"],
                lr=group["lr"],
                betas=group["adamw_betas"],
                eps=group["adamw_eps"],
                weight_decay=group["weight_decay"],
            )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load state; statistics in ``_wide_state_keys`` stay in ≥float32 (torch casts all
        floating state to the parameter dtype, which would round them to bf16 for bf16 models)."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state.get(p, {})
                for key in self._wide_state_keys:
                    if isinstance(state.get(key), Tensor):
                        state[key] = state[key].to(wide_dtype(p.dtype))


def check_momentum_group(group: dict[str, Any], where: str) -> None:
    """Validate the momentum and step-scaling keys shared by every matrix optimizer."""
    check_range(f"{where}: momentum", group["momentum"], low=0.0, high=1.0, high_open=True)
    if not isinstance(group["nesterov"], bool):
        raise TypeError(f"{where}: nesterov must be a bool, got {group['nesterov']!r}")
    if group["adjust_lr"] not in ADJUST_LR_MODES:
        raise ValueError(
            f"{where}: adjust_lr must be one of {ADJUST_LR_MODES}, got {group['adjust_lr']!r}"
        )


def check_ns_group(group: dict[str, Any], where: str) -> None:
    """Validate momentum, scaling and the Newton–Schulz keys shared by the Muon family."""
    check_momentum_group(group, where)
    steps = group["ns_steps"]
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps < _MAX_STEPS:
        raise ValueError(f"{where}: ns_steps must be an int in [0, {_MAX_STEPS}), got {steps!r}")
    if not callable(group["ns_coeffs"]):
        check_coeffs(f"{where}: ns_coeffs", group["ns_coeffs"])
    check_range(f"{where}: ns_eps", group["ns_eps"], low=0.0, low_open=True)
    resolve_ns_dtype(group["ns_dtype"], torch.float32)  # raises on a bad value
    if group["ns_method"] not in NS_METHODS:
        raise ValueError(
            f"{where}: ns_method must be one of {NS_METHODS}, got {group['ns_method']!r}"
        )
    if not isinstance(group["batched"], bool):
        raise TypeError(f"{where}: batched must be a bool, got {group['batched']!r}")
