"""Input checks shared by every optimizer in :mod:`physopt.optim`, and the base that applies them.

Each check raises ``ValueError`` or ``TypeError`` with the offending value in the message, so a
user who passes ``lr=float("nan")`` or a complex parameter learns what was wrong and where.
:class:`CheckedOptimizer` runs the checks every first-order optimizer needs (parameters, ``lr``,
``weight_decay`` when a group is added; gradients in ``step``) and hands each param group with
gradients to the subclass; :func:`constructor_defaults` turns a constructor's keyword arguments
into its param-group defaults.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

__all__ = [
    "CheckedOptimizer",
    "check_betas",
    "check_coeffs",
    "check_finite",
    "check_grad",
    "check_int",
    "check_param",
    "check_range",
    "constructor_defaults",
]


def check_finite(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, Tensor) and value.numel() == 1 and not value.is_complex():
            value = float(value.item())
        else:
            raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_range(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check that ``value`` is finite and inside the interval described by the bounds."""
    value = check_finite(name, value)
    too_low = low is not None and (value < low or (low_open and value == low))
    too_high = high is not None and (value > high or (high_open and value == high))
    if too_low or too_high:
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be in {left}{lo}, {hi}{right}, got {value!r}")
    return value


def check_int(name: str, value: Any, *, low: int) -> int:
    """Check that ``value`` is an int (not a bool) ``>= low``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int ≥ {low}, got {value!r}")
    return value


def check_betas(name: str, betas: Any) -> tuple[float, float]:
    """Check an Adam-style ``(beta1, beta2)`` pair: both finite and in ``[0, 1)``."""
    if not isinstance(betas, Sequence) or isinstance(betas, str) or len(betas) != 2:
        raise TypeError(f"{name} must be a pair (beta1, beta2), got {betas!r}")
    b1 = check_range(f"{name}[0]", betas[0], low=0.0, high=1.0, high_open=True)
    b2 = check_range(f"{name}[1]", betas[1], low=0.0, high=1.0, high_open=True)
    return b1, b2


def check_coeffs(name: str, coeffs: Any) -> tuple[tuple[float, float, float], ...]:
    """Normalise Newton–Schulz coefficients to a non-empty tuple of finite ``(a, b, c)`` triples.

    Accepts one triple (used at every step) or a sequence of triples (one per step).
    """
    if not isinstance(coeffs, Sequence) or isinstance(coeffs, str) or len(coeffs) == 0:
        raise TypeError(
            f"{name} must be an (a, b, c) triple or a sequence of triples, got {coeffs!r}"
        )
    if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coeffs):
        triples: Iterable[Any] = (coeffs,)
    else:
        triples = coeffs
    out = []
    for i, t in enumerate(triples):
        if not isinstance(t, Sequence) or isinstance(t, str) or len(t) != 3:
            raise TypeError(f"{name}[{i}] must be an (a, b, c) triple, got {t!r}")
        a, b, c = (check_finite(f"{name}[{i}]", x) for x in t)
        out.append((a, b, c))
    return tuple(out)


def check_param(p: Any, *, where: str) -> None:
    """Reject non-tensors, non-floating and complex parameters."""
    if not isinstance(p, Tensor):
        raise TypeError(f"{where}: parameters must be tensors, got {type(p).__name__}")
    if p.is_complex():
        raise TypeError(
            f"{where}: complex parameters are not supported, got dtype={p.dtype} "
            f"shape={tuple(p.shape)}"
        )
    if not p.is_floating_point():
        raise TypeError(f"{where}: parameters must be floating point, got dtype={p.dtype}")


def check_grad(p: Tensor, *, where: str) -> Tensor:
    """Return ``p.grad`` after rejecting sparse and complex gradients."""
    grad = p.grad
    if grad is None:
        raise ValueError(f"{where}: parameter of shape {tuple(p.shape)} has no gradient")
    if grad.is_sparse:
        raise ValueError(
            f"{where}: sparse gradients are not supported (parameter shape "
            f"{tuple(p.shape)}, layout={grad.layout})"
        )
    if grad.is_complex() or p.is_complex():
        raise TypeError(
            f"{where}: complex parameters/gradients are not supported, got dtype={grad.dtype}"
        )
    if grad.shape != p.shape:
        raise ValueError(
            f"{where}: gradient shape {tuple(grad.shape)} != parameter shape {tuple(p.shape)}"
        )
    return grad


def is_float_dtype(dtype: torch.dtype) -> bool:
    """True for real floating dtypes."""
    return dtype.is_floating_point and not dtype.is_complex


def constructor_defaults(arguments: dict[str, Any]) -> dict[str, Any]:
    """A constructor's keyword arguments as param-group defaults.

    Call as ``constructor_defaults(locals())`` on the constructor's first line, so that the
    signature (typed, keyword-only, inspected by :func:`physopt.optim.build`) is the one list of
    hyperparameters; ``self``, ``params`` and ``__class__`` are dropped. Every registered
    optimizer's group keys are tested to be its signature's keyword names.
    """
    return {k: v for k, v in arguments.items() if k not in ("self", "params", "__class__")}


class CheckedOptimizer(Optimizer, ABC):
    """Base of the first-order optimizers: validated param groups, a checked step loop.

    ``add_param_group`` checks the parameters (real floating tensors), ``lr >= 0`` and
    ``weight_decay >= 0``, then calls ``_check_group(group, where)`` for the subclass's keys.
    ``step(closure=None)`` evaluates an optional closure under ``torch.enable_grad``, then calls
    ``_group_step(group, params, grads)`` for each group with the parameters that have a gradient
    (all gradients checked first: dense, real, of the parameter's shape). Subclasses implement
    ``_group_step`` and usually ``_check_group``.
    """

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (see :class:`torch.optim.Optimizer`) and validate its hyperparameters."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        where = f"{type(self).__name__} param group {len(self.param_groups) - 1}"
        for p in group["params"]:
            check_param(p, where=where)
        check_range(f"{where}: lr", group["lr"], low=0.0)
        check_range(f"{where}: weight_decay", group["weight_decay"], low=0.0)
        self._check_group(group, where)

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        """Subclass-specific checks (default: none)."""

    @abstractmethod
    def _group_step(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        """Update the parameters ``params`` (all with gradients ``grads``) of ``group``."""

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Perform one optimization step; parameters without a gradient are skipped."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for index, group in enumerate(self.param_groups):
            where = f"{type(self).__name__} param group {index}"
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                self._group_step(group, params, [check_grad(p, where=where) for p in params])
        return loss
