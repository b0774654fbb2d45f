"""Conditions: named pieces of a problem that each produce a residual that should vanish.

A condition knows two things: how to draw its points from a domain (:meth:`Condition.sample`) and
how to turn a model into a residual on those points (:meth:`Condition.residual`). Residual functions
supplied by users always take ``(x, u, params)``: the points (with ``requires_grad``), the model
output at those points, and a mapping of named parameters (problem constants and trainable scalars).
Nothing dispatches on how many arguments a function takes.

How a condition is *used* (weighted penalty, Lagrangian constraint, or exact through the model)
is its role, chosen by the training configuration, not here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from ._domain import Box, Domain, SpaceTime
from ._points import Points

__all__ = [
    "Batch",
    "Condition",
    "Data",
    "Dirichlet",
    "Initial",
    "Neumann",
    "Periodic",
    "Residual",
    "Value",
    "value_at",
]


Model = Callable[[torch.Tensor], torch.Tensor]
ResidualFn = Callable[[torch.Tensor, torch.Tensor, Mapping[str, torch.Tensor]], torch.Tensor]
Value = float | Callable[[torch.Tensor], torch.Tensor]
Batch = Points


def _as_2d(r: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(r, torch.Tensor):
        raise ValueError(f"condition {name!r}: residual must be a torch.Tensor, got {type(r).__name__}")
    if r.ndim == 1:
        return r[:, None]
    if r.ndim != 2:
        raise ValueError(f"condition {name!r}: residual must be (n,) or (n, k), got {tuple(r.shape)}")
    return r


def value_at(value: Value, x: torch.Tensor) -> torch.Tensor:
    """A condition's ``value`` (a number or ``value(x) -> (n,) | (n, k)``) at the points ``x``, as ``(n, k)``."""
    if callable(value):
        v = value(x)
        return v[:, None] if v.ndim == 1 else v
    return torch.full((x.shape[0], 1), float(value), dtype=x.dtype, device=x.device)


_value = value_at  # the short name used throughout this package


def _filter(
    draw: Callable[[int], Batch], on: Callable[[torch.Tensor], torch.Tensor] | None, n: int
) -> Batch:
    """Draw until ``n`` points satisfy ``on`` (rejection keeps the distribution uniform on the part)."""
    if on is None:
        return draw(n)
    parts: list[Batch] = []
    have, tries = 0, 0
    while have < n:
        b = draw(max(2 * (n - have), 16))
        b = b.take(on(b.x).bool())
        parts.append(b)
        have += b.n
        tries += 1
        if tries > 200 and have == 0:
            raise ValueError("the boundary selector `on` rejected every sampled point")
    return Points.cat(parts).prefix(n)


class Condition(ABC):
    """Base class. ``kind`` names the region the points come from (for reports and roles)."""

    kind: str = "interior"

    @abstractmethod
    def sample(self, domain: Domain | SpaceTime, n: int, *, generator: torch.Generator, dtype: torch.dtype) -> Batch:
        """Draw ``n`` points on ``generator.device`` as :class:`Points` (``x`` of shape ``(n, dim)``)."""

    @abstractmethod
    def residual(self, model: Model, batch: Batch, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Residual ``(n, k)`` of ``model`` on ``batch``; zero when the condition holds."""


@dataclass(frozen=True)
class Residual(Condition):
    """A PDE residual ``fn(x, u, params)`` on interior points."""

    fn: ResidualFn
    kind: str = "interior"

    def sample(self, domain, n, *, generator, dtype):  # type: ignore[override]
        return Points(domain.sample_interior(n, generator=generator, dtype=dtype))

    def residual(self, model, batch, params):  # type: ignore[override]
        x = batch["x"].detach().requires_grad_(True)
        return _as_2d(self.fn(x, model(x), params), "residual")


@dataclass(frozen=True)
class Dirichlet(Condition):
    """``u = value`` on the boundary (or on the part where ``on(x)`` is true)."""

    value: Value = 0.0
    on: Callable[[torch.Tensor], torch.Tensor] | None = None
    components: tuple[int, ...] | None = None
    kind: str = "boundary"

    def sample(self, domain, n, *, generator, dtype):  # type: ignore[override]
        def draw(m: int) -> Batch:
            x, normal = domain.sample_boundary(m, generator=generator, dtype=dtype)
            return Points(x, {"normal": normal})

        return _filter(draw, self.on, n)

    def residual(self, model, batch, params):  # type: ignore[override]
        x = batch["x"]
        u = model(x)
        if self.components is not None:
            u = u[:, list(self.components)]
        return u - _value(self.value, x)


@dataclass(frozen=True)
class Neumann(Condition):
    """``∂u/∂n = value`` (outward normal derivative) on the boundary or its part ``on``."""

    value: Value = 0.0
    on: Callable[[torch.Tensor], torch.Tensor] | None = None
    component: int = 0
    kind: str = "boundary"

    sample = Dirichlet.sample

    def residual(self, model, batch, params):  # type: ignore[override]
        x = batch["x"].detach().requires_grad_(True)
        u = model(x)[:, self.component]
        (g,) = torch.autograd.grad(u, x, torch.ones_like(u), create_graph=True)
        dudn = (g * batch["normal"]).sum(dim=1, keepdim=True)
        return dudn - _value(self.value, x)


@dataclass(frozen=True)
class Periodic(Condition):
    """``u`` (and its first ``derivatives`` derivatives along ``axis``) equal on both faces of ``axis``.

    Needs a box-shaped space (:class:`Box`, possibly times a time interval).
    """

    axis: int = 0
    derivatives: int = 0
    kind: str = "boundary"

    def sample(self, domain, n, *, generator, dtype):  # type: ignore[override]
        space = domain.space if isinstance(domain, SpaceTime) else domain
        if not isinstance(space, Box):
            raise ValueError(f"Periodic needs a Box-shaped domain, got {type(space).__name__}")
        if not 0 <= self.axis < space.dim:
            raise ValueError(f"Periodic axis {self.axis} out of range for a {space.dim}-D domain")
        x = domain.sample_interior(n, generator=generator, dtype=dtype)
        lo, hi = x.clone(), x.clone()
        lo[:, self.axis], hi[:, self.axis] = space.lo[self.axis], space.hi[self.axis]
        return Points(lo, {"x_pair": hi})

    def residual(self, model, batch, params):  # type: ignore[override]
        a = batch["x"].detach().requires_grad_(self.derivatives > 0)
        b = batch["x_pair"].detach().requires_grad_(self.derivatives > 0)
        ua, ub = model(a), model(b)
        out = [ua - ub]
        for _ in range(self.derivatives):
            ga = torch.autograd.grad(ua.sum(), a, create_graph=True)[0][:, self.axis : self.axis + 1]
            gb = torch.autograd.grad(ub.sum(), b, create_graph=True)[0][:, self.axis : self.axis + 1]
            out.append(ga - gb)
            ua, ub = ga, gb
        return torch.cat(out, dim=1)


@dataclass(frozen=True)
class Initial(Condition):
    """``u(x, t0) = value(x)``; with ``order=1``, ``u_t(x, t0) = value(x)`` (second-order in time)."""

    value: Value = 0.0
    order: int = 0
    kind: str = "initial"

    def sample(self, domain, n, *, generator, dtype):  # type: ignore[override]
        if not isinstance(domain, SpaceTime):
            raise ValueError(f"Initial needs a space-time domain, got {type(domain).__name__}")
        return Points(domain.sample_initial(n, generator=generator, dtype=dtype))

    def residual(self, model, batch, params):  # type: ignore[override]
        x = batch["x"].detach().requires_grad_(self.order > 0)
        u = model(x)
        if self.order == 1:
            u = torch.autograd.grad(u.sum(), x, create_graph=True)[0][:, -1:]
        elif self.order != 0:
            raise ValueError(f"Initial supports order 0 or 1, got {self.order}")
        return u - _value(self.value, x)


@dataclass(frozen=True, eq=False)
class Data(Condition):
    """Observations: ``u(points) = values``. ``sample`` returns all points (``n`` is ignored)."""

    points: torch.Tensor
    values: torch.Tensor
    kind: str = "data"

    def __post_init__(self) -> None:
        if self.points.ndim != 2 or self.values.ndim != 2 or self.points.shape[0] != self.values.shape[0]:
            raise ValueError(
                f"Data needs points (n, dim) and values (n, k), got {tuple(self.points.shape)} "
                f"and {tuple(self.values.shape)}"
            )

    def sample(self, domain, n, *, generator, dtype):  # type: ignore[override]
        device = generator.device
        return Points(self.points.to(device=device, dtype=dtype),
                      {"values": self.values.to(device=device, dtype=dtype)})

    def residual(self, model, batch, params):  # type: ignore[override]
        return model(batch["x"]) - batch["values"]
