"""The bilevel problem as the solvers see it: flat iterates, gradients through autograd, counters.

Users write ``F(x, y)``, ``f(x, y)`` and ``g(x, y)`` on tensors shaped like ``x0`` and ``y0`` (or
``F(x, y, batch)`` ... when a ``sample`` function draws minibatches for the stochastic method). The solvers
work on flat vectors; :class:`BilevelProblem` reshapes, counts every reverse pass, projects onto the
boxes (and the user's projection onto ``{(x, y): g(x, y) <= 0}`` where given) and checks that values
are finite tensors of the right shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

__all__ = ["BilevelProblem", "Grads", "inf_norm"]

Projection = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def inf_norm(t: Tensor) -> float:
    return float(t.abs().max()) if t.numel() else 0.0


@dataclass(frozen=True)
class Grads:
    """A value and its gradients in ``x`` and ``y`` (flat, detached)."""

    value: float
    gx: Tensor
    gy: Tensor
    constraint: Tensor  # g(x, y) (flat; empty without g)


@dataclass
class BilevelProblem:
    upper: Callable[..., Tensor]
    lower: Callable[..., Tensor]
    lower_ineq: Callable[..., Tensor] | None
    x_shape: torch.Size
    y_shape: torch.Size
    x_lo: Tensor
    x_hi: Tensor
    y_lo: Tensor
    y_hi: Tensor
    project_c: Projection | None
    stochastic: bool
    batch: object = None
    nupper: int = 0
    nlower: int = 0
    m: int = field(default=0)

    def _call(self, fn: Callable[..., Tensor], x: Tensor, y: Tensor) -> Tensor:
        args = (x.reshape(self.x_shape), y.reshape(self.y_shape))
        return fn(*args, self.batch) if self.stochastic else fn(*args)

    def _scalar(self, name: str, value: object) -> Tensor:
        if not isinstance(value, Tensor) or value.numel() != 1:
            got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
            raise ValueError(f"{name} must return a scalar tensor; got {got}")
        return value.reshape(())

    def constraint_values(self, x: Tensor, y: Tensor) -> Tensor:
        if self.lower_ineq is None:
            return x.new_zeros(0)
        g = self._call(self.lower_ineq, x, y)
        if not isinstance(g, Tensor) or g.dim() > 1:
            got = tuple(g.shape) if isinstance(g, Tensor) else type(g).__name__
            raise ValueError(f"lower_ineq must return a scalar or 1-D tensor; got {got}")
        return g.reshape(-1)

    def upper_grads(self, x: Tensor, y: Tensor) -> Grads:
        """``F`` and ``(∇ₓF, ∇_yF)`` at ``(x, y)``: one reverse pass."""
        xv = x.detach().requires_grad_(True)
        yv = y.detach().requires_grad_(True)
        with torch.enable_grad():
            val = self._scalar("upper", self._call(self.upper, xv, yv))
            gx, gy = torch.autograd.grad(val, (xv, yv), allow_unused=True)
        self.nupper += 1
        return Grads(float(val.detach()), _dense(gx, x), _dense(gy, y), x.new_zeros(0))

    def lower_grads(self, x: Tensor, y: Tensor, lam: Tensor | None = None) -> Grads:
        """``f`` and the gradients of ``f + λᵀg`` at ``(x, y)`` (``λ = 0`` if None): one reverse pass."""
        xv = x.detach().requires_grad_(True)
        yv = y.detach().requires_grad_(True)
        with torch.enable_grad():
            val = self._scalar("lower", self._call(self.lower, xv, yv))
            g = self.constraint_values(xv, yv)
            total = val if lam is None or g.numel() == 0 else val + (lam * g).sum()
            gx, gy = torch.autograd.grad(total, (xv, yv), allow_unused=True)
        self.nlower += 1
        return Grads(float(val.detach()), _dense(gx, x), _dense(gy, y), g.detach())

    def project_y(self, y: Tensor) -> Tensor:
        return torch.minimum(torch.maximum(y, self.y_lo), self.y_hi)

    def project_xy(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """Boxes first, then the user's projection onto ``C = {g <= 0}`` (which should respect them)."""
        x = torch.minimum(torch.maximum(x, self.x_lo), self.x_hi)
        y = self.project_y(y)
        if self.project_c is None:
            return x, y
        px, py = self.project_c(x.reshape(self.x_shape), y.reshape(self.y_shape))
        return px.detach().reshape(-1), py.detach().reshape(-1)

    def lower_residual(self, y: Tensor, gy_lagrangian: Tensor, g: Tensor, lam: Tensor) -> float:
        """``max(‖y − P(y − ∇_y L)‖∞, ‖max(g, 0)‖∞, max|min(λ, −g)|)``; NaN is reported as inf."""
        stat = inf_norm(y - self.project_y(y - gy_lagrangian))
        viol = inf_norm(g.clamp(min=0.0)) if g.numel() else 0.0
        compl = inf_norm(torch.minimum(lam, -g)) if g.numel() else 0.0
        value = max(stat, viol, compl)
        return value if not math.isnan(value) else math.inf


def _dense(grad: Tensor | None, like: Tensor) -> Tensor:
    # a function that ignores x (or y) has a zero gradient, not None
    return torch.zeros_like(like) if grad is None else grad.detach().reshape(-1)


def finite(*values: object) -> bool:
    """True when every float / tensor given is finite (the NaN/Inf check after each step)."""
    for v in values:
        if isinstance(v, Tensor):
            if not bool(torch.isfinite(v).all()):
                return False
        elif not math.isfinite(float(v)):  # type: ignore[arg-type]
            return False
    return True
