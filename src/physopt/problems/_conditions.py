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
    "ConstraintForm",
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


def _derivative(u: torch.Tensor, x: torch.Tensor, axis: int) -> torch.Tensor:
    """``∂u_i/∂x_axis`` for every output column ``i`` (the gradient of their sum would mix them)."""
    return torch.cat([torch.autograd.grad(u[:, i].sum(), x, create_graph=True)[0][:, axis:][:, :1]
                      for i in range(u.shape[1])], dim=1)


def _identity(r: torch.Tensor) -> torch.Tensor:
    return r


@dataclass(frozen=True)
class ConstraintForm:
    """What a condition's residual ``r`` becomes under a constraint role (``lagrangian``/``alm``).

    ``kind`` is ``"eq"`` (h = 0) or ``"ineq"`` (g ≤ 0); ``multiplier`` is ``"pointwise"`` (one λ
    per point) or ``"scalar"``; ``values(r)`` gives h or g. The default is ``r = 0`` pointwise.
    """

    kind: str = "eq"
    multiplier: str = "pointwise"
    values: Callable[[torch.Tensor], torch.Tensor] = _identity


POINTWISE = ConstraintForm()


class Condition(ABC):
    """Base class. ``kind`` names the region the points come from (for reports and roles)."""

    kind: str = "interior"

    @property
    def constraint(self) -> ConstraintForm:
        """How a constraint role imposes this condition (default: ``r = 0`` at every point)."""
        return POINTWISE

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
            ga, gb = _derivative(ua, a, self.axis), _derivative(ub, b, self.axis)
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
            u = _derivative(u, x, -1)
        elif self.order != 0:
            raise ValueError(f"Initial supports order 0 or 1, got {self.order}")
        return u - _value(self.value, x)


@dataclass(frozen=True, eq=False)
class Data(Condition):
    """Observations ``y_i ≈ u(x_i)[components]`` at sensor points.

    Attributes:
        points: sensor locations ``(n, dim)``; values: observations ``(n, k)``.
        components: the output columns observed (``None``: all, then ``k`` = output dim).
        noise: the noise standard deviation σ of the observations (absolute), when known.
        discrepancy: under a constraint role, impose the discrepancy principle (Morozov)
            ``mean_i ‖u(x_i) − y_i‖² / (k σ²) − 1 ≤ 0`` — fit the data to the noise level, not
            below it — as one inequality with a scalar multiplier, instead of ``u(x_i) = y_i``
            pointwise. Needs ``noise``.
        batch: draw this many observations (uniformly, without replacement) at each sampling
            (``sampler.resample_every`` steps) instead of all of them, for large observation sets.

    :meth:`noisy` builds observations from clean values with seeded Gaussian noise.
    """

    points: torch.Tensor
    values: torch.Tensor
    components: tuple[int, ...] | None = None
    noise: float | None = None
    discrepancy: bool = False
    batch: int | None = None
    kind: str = "data"

    def __post_init__(self) -> None:
        if self.points.ndim != 2 or self.values.ndim != 2 or self.points.shape[0] != self.values.shape[0]:
            raise ValueError(
                f"Data needs points (n, dim) and values (n, k), got {tuple(self.points.shape)} "
                f"and {tuple(self.values.shape)}"
            )
        if self.components is not None and len(self.components) != self.values.shape[1]:
            raise ValueError(f"Data observes components {self.components} but values have "
                             f"{self.values.shape[1]} columns")
        if self.noise is not None and not (isinstance(self.noise, int | float) and 0 <= self.noise < float("inf")):
            raise ValueError(f"Data.noise must be a finite number >= 0 or None, got {self.noise!r}")
        if self.discrepancy and not self.noise:
            raise ValueError(f"Data(discrepancy=True) needs a noise level > 0, got noise={self.noise!r}")
        if self.batch is not None and not (isinstance(self.batch, int) and 1 <= self.batch):
            raise ValueError(f"Data.batch must be an int >= 1 or None, got {self.batch!r}")

    @classmethod
    def noisy(cls, points: torch.Tensor, clean: torch.Tensor, *, level: float, generator: torch.Generator,
              components: tuple[int, ...] | None = None, discrepancy: bool = False,
              batch: int | None = None) -> Data:
        """Observations ``y = clean + σ ε`` with ε ~ N(0, 1) from ``generator`` and σ = ``level`` ·
        RMS(clean) (``level=0.01``: 1 % noise); ``noise`` is set to σ."""
        if not (isinstance(level, int | float) and 0 <= level < float("inf")):
            raise ValueError(f"noise level must be a finite number >= 0, got {level!r}")
        sigma = float(level) * float(clean.pow(2).mean().sqrt())
        eps = torch.randn(clean.shape, generator=generator, dtype=clean.dtype, device=generator.device)
        return cls(points, clean + sigma * eps.to(clean.device), components=components, noise=sigma,
                   discrepancy=discrepancy, batch=batch)

    @property
    def constraint(self) -> ConstraintForm:
        if not self.discrepancy:
            return POINTWISE
        sigma2 = float(self.noise) ** 2  # type: ignore[arg-type]  # checked in __post_init__
        return ConstraintForm("ineq", "scalar", lambda r: (r.pow(2).mean() / sigma2 - 1.0).reshape(1))

    def sample(self, domain, n, *, generator, dtype):  # type: ignore[override]
        device = generator.device
        x, y = self.points.to(device=device, dtype=dtype), self.values.to(device=device, dtype=dtype)
        if self.batch is not None and self.batch < x.shape[0]:
            pick = torch.randperm(x.shape[0], generator=generator, device=device)[: self.batch]
            x, y = x[pick], y[pick]
        return Points(x, {"values": y})

    def residual(self, model, batch, params):  # type: ignore[override]
        u = model(batch["x"])
        if self.components is not None:
            u = u[:, list(self.components)]
        return u - batch["values"]
