"""Unknown scalars of inverse problems: an initial guess, an optional truth, and a parametrisation.

A trainable scalar θ is stored as an unconstrained raw number ρ and mapped through a
:class:`Transform` whenever a residual reads it, so the optimizer never leaves the admissible set:

- ``identity``: θ = ρ (no bounds);
- ``log``: θ = lower + exp(ρ) (positivity above ``lower``, default 0; steps are relative changes,
  which suits coefficients spanning decades such as a viscosity);
- ``softplus``: θ = lower + log(1 + exp(ρ)) (positivity, linear far from the bound);
- ``sigmoid``: θ = lower + (upper − lower) · σ(ρ) (both bounds).

Each transform declares which bounds it needs (:attr:`Transform.needs_lower`,
:attr:`Transform.needs_upper`); adding one is an entry in :data:`TRANSFORMS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import torch

__all__ = ["TRANSFORMS", "Transform", "Unknown"]


@dataclass(frozen=True)
class Transform:
    """θ = ``value(ρ, lower, upper)`` and its inverse ``raw(θ, lower, upper)`` (on floats)."""

    name: str
    value: Callable[[torch.Tensor, float, float], torch.Tensor]
    raw: Callable[[float, float, float], float]
    allows_lower: bool
    allows_upper: bool
    needs_upper: bool
    summary: str


def _softplus_inverse(y: float) -> float:
    # log(exp(y) - 1), written to stay finite for large y.
    return y + math.log(-math.expm1(-y))


TRANSFORMS: MappingProxyType[str, Transform] = MappingProxyType({
    t.name: t for t in (
        Transform("identity", lambda r, lo, hi: r, lambda v, lo, hi: v, False, False, False, "θ = ρ"),
        Transform("log", lambda r, lo, hi: lo + torch.exp(r), lambda v, lo, hi: math.log(v - lo),
                  True, False, False, "θ = lower + exp(ρ)"),
        Transform("softplus", lambda r, lo, hi: lo + torch.nn.functional.softplus(r),
                  lambda v, lo, hi: _softplus_inverse(v - lo), True, False, False, "θ = lower + softplus(ρ)"),
        Transform("sigmoid", lambda r, lo, hi: lo + (hi - lo) * torch.sigmoid(r),
                  lambda v, lo, hi: math.log((v - lo) / (hi - v)), True, True, True,
                  "θ = lower + (upper − lower)·σ(ρ)"),
    )
})


@dataclass(frozen=True)
class Unknown:
    """An unknown scalar of a problem (``Problem.trainable`` values may be a plain float too).

    Attributes:
        initial: the starting value θ₀ (inside the bounds).
        transform: a name in :data:`TRANSFORMS` (``identity``, ``log``, ``softplus``, ``sigmoid``).
        lower / upper: bounds used by the transform (``log``/``softplus``: ``lower``, default 0;
            ``sigmoid``: both); a bound the transform cannot keep raises ``ValueError``.
        lr: this unknown's own learning rate (its own optimizer param group under first-order
            optimizers, with the phase's schedule applied); ``None``: the phase's rate.
        truth: the true value, when known (reports give the relative error).
    """

    initial: float
    transform: str = "identity"
    lower: float | None = None
    upper: float | None = None
    lr: float | None = None
    truth: float | None = None

    def __post_init__(self) -> None:
        if self.transform not in TRANSFORMS:
            raise ValueError(f"unknown transform {self.transform!r}; choose from {', '.join(TRANSFORMS)}")
        t = TRANSFORMS[self.transform]
        if self.lower is not None and not t.allows_lower:
            raise ValueError(f"transform {self.transform!r} cannot keep a lower bound (got lower={self.lower}); "
                             "use 'log', 'softplus' or 'sigmoid'")
        if self.upper is not None and not t.allows_upper:
            raise ValueError(f"transform {self.transform!r} cannot keep an upper bound (got upper={self.upper}); "
                             "use 'sigmoid'")
        if t.needs_upper and (self.lower is None or self.upper is None):
            raise ValueError(f"transform {self.transform!r} needs both lower and upper, got "
                             f"lower={self.lower}, upper={self.upper}")
        for key in ("initial", "lower", "upper", "truth"):
            v = getattr(self, key)
            if v is not None and not (isinstance(v, int | float) and math.isfinite(v)):
                raise ValueError(f"Unknown.{key} must be a finite number, got {v!r}")
        if self.lr is not None and not (isinstance(self.lr, int | float) and 0 < self.lr < math.inf):
            raise ValueError(f"Unknown.lr must be a finite number > 0 or None, got {self.lr!r}")
        lo, hi = self.bounds
        if not lo < self.initial < hi and self.transform != "identity":
            raise ValueError(f"initial value {self.initial} must lie strictly inside ({lo}, {hi}) "
                             f"for transform {self.transform!r}")

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lower, upper)`` kept by the transform (``-inf`` / ``inf`` where there is none)."""
        t = TRANSFORMS[self.transform]
        lo = (0.0 if self.lower is None else float(self.lower)) if t.allows_lower else -math.inf
        hi = float(self.upper) if self.upper is not None else math.inf
        return lo, hi

    def raw_initial(self) -> float:
        """ρ₀ with ``value(ρ₀) = initial``."""
        lo, hi = self.bounds
        return TRANSFORMS[self.transform].raw(float(self.initial), lo, hi)

    def value(self, raw: torch.Tensor) -> torch.Tensor:
        """θ = transform(ρ) (differentiable)."""
        lo, hi = self.bounds
        return TRANSFORMS[self.transform].value(raw, lo, hi)

    def describe(self) -> str:
        """The parametrisation in words (for reports)."""
        lo, hi = self.bounds
        return TRANSFORMS[self.transform].summary.replace("lower", f"{lo:g}").replace("upper", f"{hi:g}")
